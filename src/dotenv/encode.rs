//! Writing values: which quoting makes dotenv 16.6.1 and Next.js read a value back exactly,
//! which keys the writer accepts, and the errors it reports when it cannot write something.

use std::fmt;

use super::matcher::is_js_space;

/// What kind of problem an [`EncodeError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// The value contains `$`, which Next.js would expand.
    Dollar,
    /// The value contains U+0000, which cannot live in an environment variable.
    NulCharacter,
    /// No quoting style reads the value back exactly.
    Unquotable,
    /// The key is not `^[A-Za-z_][A-Za-z0-9_]*$`.
    InvalidKey,
    /// The key is valid but JavaScript's dotenv cannot set it (`__proto__`).
    ReservedKey,
    /// A comment would span several lines.
    LineBreakInComment,
    /// The edit would change how other entries of the file are read.
    WouldChangeOtherEntries,
}

/// Why a value, key or comment cannot be written; the message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    kind: EncodeErrorKind,
    message: String,
}

impl EncodeError {
    pub(super) fn new(kind: EncodeErrorKind, message: String) -> Self {
        EncodeError { kind, message }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> EncodeErrorKind {
        self.kind
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EncodeError {}

/// Whether `key` is a name this writer accepts: `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The text to put after `KEY=` so that both dotenv 16.6.1 and Next.js (`@next/env`, which
/// adds dotenv-expand) read back exactly `value`, or an error when no quoting can do that.
///
/// Tries, in order: unquoted, single quotes, double quotes, backticks.
///
/// # Errors
///
/// When the value contains `$` or NUL, or when no quoting reads it back exactly (for example
/// a value with all three quote characters); the error says which and why.
pub fn encode_value(value: &str) -> Result<String, EncodeError> {
    encodings(value)?
        .into_iter()
        .next()
        .ok_or_else(|| unquotable(value))
}

/// Every encoding of `value` that reads back exactly, best first; an error if there is none.
pub(super) fn encodings(value: &str) -> Result<Vec<String>, EncodeError> {
    if value.contains('$') {
        return Err(EncodeError::new(
            EncodeErrorKind::Dollar,
            "the value contains `$`, which Next.js (dotenv-expand) would expand as a variable \
             reference even inside quotes, and a `\\$` escape would not read back the same \
             under plain dotenv; set this value by hand in the file"
                .to_owned(),
        ));
    }
    if value.contains('\0') {
        // dotenv itself keeps it, but Next.js copies values into `process.env`, and the
        // operating system's environment strings end at the first NUL.
        return Err(EncodeError::new(
            EncodeErrorKind::NulCharacter,
            "the value contains a NUL character (U+0000); Next.js would cut the value there, \
             because environment variables cannot hold NUL; remove it from the value"
                .to_owned(),
        ));
    }
    let found: Vec<String> = FORMS
        .iter()
        .filter(|form| form.problem(value).is_none())
        .map(|form| form.write(value))
        .collect();
    if found.is_empty() {
        return Err(unquotable(value));
    }
    Ok(found)
}

/// The ways a value can be written, in order of preference.
#[derive(Debug, Clone, Copy)]
enum Form {
    Unquoted,
    Single,
    Double,
    Backtick,
}

const FORMS: [Form; 4] = [Form::Unquoted, Form::Single, Form::Double, Form::Backtick];

impl Form {
    fn problem(self, value: &str) -> Option<&'static str> {
        match self {
            Form::Unquoted => unquoted_problem(value),
            Form::Single => literal_problem(value, '\'', "it contains `'`"),
            Form::Double => double_problem(value),
            Form::Backtick => literal_problem(value, '`', "it contains a backtick"),
        }
    }

    fn write(self, value: &str) -> String {
        match self {
            Form::Unquoted => value.to_owned(),
            Form::Single => format!("'{value}'"),
            // Double quotes are the only form dotenv unescapes, and only `\n` and `\r`.
            Form::Double => format!("\"{}\"", value.replace('\n', "\\n").replace('\r', "\\r")),
            Form::Backtick => format!("`{value}`"),
        }
    }
}

/// Unquoted: the value is the text up to `#` or the line end, trimmed of JavaScript
/// whitespace, and a leading quote would make dotenv look for a closing one.
fn unquoted_problem(value: &str) -> Option<&'static str> {
    if value.contains('#') {
        Some("`#` starts a comment")
    } else if value.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        // U+2028/U+2029 end a line for the regex, and a quote after one would be stripped.
        Some("it contains a line break")
    } else if value.starts_with(is_js_space) || value.ends_with(is_js_space) {
        Some("dotenv trims leading and trailing whitespace")
    } else if value.starts_with(['\'', '"', '`']) {
        Some("a leading quote would be read as quoting")
    } else {
        None
    }
}

/// Literal quoting is shared by single quotes and backticks: no escapes exist inside, a CR
/// would be normalised to LF, and a backslash before the closing quote makes it an escaped
/// quote that a later quote in the file could take over.
fn literal_problem(value: &str, quote: char, what: &'static str) -> Option<&'static str> {
    if value.contains(quote) {
        Some(what)
    } else if value.contains('\r') {
        Some("a carriage return would be read as a line feed")
    } else if value.ends_with('\\') {
        Some("a final backslash would escape the closing quote")
    } else {
        None
    }
}

/// Double quotes: line breaks are written as `\n`/`\r`, so text that already reads like one
/// of those escapes cannot be told apart.
fn double_problem(value: &str) -> Option<&'static str> {
    if value.contains('"') {
        Some("it contains `\"`")
    } else if value.contains("\\n") || value.contains("\\r") {
        Some("dotenv would turn the text `\\n` or `\\r` into a line break")
    } else if value.ends_with('\\') {
        Some("a final backslash would escape the closing quote")
    } else {
        None
    }
}

fn unquotable(value: &str) -> EncodeError {
    let reason = |form: Form| {
        form.problem(value)
            .unwrap_or("it would not read back exactly")
    };
    EncodeError::new(
        EncodeErrorKind::Unquotable,
        format!(
            "no quoting makes dotenv read this value back exactly: unquoted, {}; in single \
             quotes, {}; in double quotes, {}; in backticks, {}; change the value or set it by \
             hand in the file",
            reason(Form::Unquoted),
            reason(Form::Single),
            reason(Form::Double),
            reason(Form::Backtick),
        ),
    )
}
