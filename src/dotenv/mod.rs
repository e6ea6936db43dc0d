//! Lossless `.env` documents.
//!
//! A [`Document`] keeps the file's bytes as they are and reads them exactly as the JavaScript
//! `dotenv` package (v16.6.1, `dotenv.parse`) does, which is what Vite, the Convex CLI and,
//! with variable expansion on top, Next.js see. Edits replace only the bytes of one value or
//! append a line, so comments, blank lines, order, quoting, `export `, CRLF, a BOM, a missing
//! final newline, duplicates and lines dotenv ignores all survive a round trip.

mod encode;
mod matcher;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::ops::Range;

pub use encode::{EncodeError, EncodeErrorKind, encode_value, is_valid_key};

use matcher::{QUOTES, RawMatch, Text, is_js_space};

/// JavaScript's dotenv stores entries with `obj[key] = value`; for this key that assignment
/// sets the object's prototype instead (and does nothing for a string), so it never appears.
const PROTO_KEY: &str = "__proto__";

/// A `.env` file: its original bytes plus what dotenv reads from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    diagnostics: Vec<Diagnostic>,
}

/// One assignment as dotenv reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The variable name.
    pub key: String,
    /// The value exactly as dotenv reads it.
    pub value: String,
    /// 1-based line of the key (a line ends at LF, CRLF or a lone CR).
    pub line: usize,
    /// How dotenv read the value's quoting.
    pub quote: Quote,
    /// Bytes of the value as written (quotes included, surrounding whitespace not); empty,
    /// at the place a value would go, when the value is empty and unquoted.
    value_span: Range<usize>,
    /// Bytes of the whole regex match, from the start of its line to the end of the entry.
    span: Range<usize>,
}

impl Entry {
    /// Byte range of the value as written in the document (what [`Document::set`] replaces).
    pub fn value_span(&self) -> Range<usize> {
        self.value_span.clone()
    }

    /// Byte range that dotenv's match for this entry covers (it may include blank lines
    /// before the key and comments after the value).
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

/// How dotenv read an entry's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Unquoted, or quoted in a way dotenv does not honour (see [`Diagnostic`]).
    None,
    Single,
    Double,
    Backtick,
}

/// Something in the file that dotenv reads differently from what its author likely meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnostic {
    /// a non-blank, non-comment line that no entry covers (dotenv silently ignores it)
    NotAnAssignment { line: usize },
    /// an entry whose value starts with a quote that is never closed (dotenv reads it literally)
    UnterminatedQuote { line: usize, key: String },
    /// an entry whose value starts with a closed quoted part followed by more text, so dotenv
    /// does not read it as a quoted value
    TextAfterQuote { line: usize, key: String },
}

impl Document {
    /// Reads any bytes; never fails.
    pub fn parse(bytes: &[u8]) -> Document {
        let text = Text::decode(bytes);
        let matches = matcher::scan(&text.chars);
        let entries = build_entries(&text, &matches);
        let diagnostics = diagnose(&text.chars, &matches, &entries);
        Document {
            bytes: bytes.to_vec(),
            entries,
            diagnostics,
        }
    }

    /// The document's bytes; exactly the parsed input until it is edited.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Every entry in file order, duplicates included.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The effective entry for `key`: the last one, as dotenv lets the last duplicate win.
    /// `__proto__` has none, since dotenv drops it (it still shows in [`Document::entries`]).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        if key == PROTO_KEY {
            return None;
        }
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Effective key/value pairs, in order of each key's first appearance.
    ///
    /// This is the map `dotenv.parse` returns (so without `__proto__`), except that a
    /// JavaScript object lists integer-like keys (such as `10`) first; here the file order is
    /// kept for all keys.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for e in self.entries.iter().filter(|e| e.key != PROTO_KEY) {
            match index.get(e.key.as_str()) {
                Some(&i) => {
                    if let Some(slot) = out.get_mut(i) {
                        slot.1.clone_from(&e.value);
                    }
                }
                None => {
                    index.insert(&e.key, out.len());
                    out.push((e.key.clone(), e.value.clone()));
                }
            }
        }
        out
    }

    /// Lines dotenv ignores and quotes it does not honour, in line order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.diagnostics.clone()
    }

    /// Whether `needle` occurs anywhere in the raw bytes (comments and ignored lines too).
    pub fn contains_text(&self, needle: &str) -> bool {
        let needle = needle.as_bytes();
        needle.is_empty() || self.bytes.windows(needle.len()).any(|w| w == needle)
    }

    /// `"\r\n"` if the file's first line break is CRLF, else `"\n"`.
    pub fn line_ending(&self) -> &'static str {
        let first = self.bytes.iter().position(|&b| b == b'\n' || b == b'\r');
        match first {
            Some(i) if self.bytes.get(i..i + 2) == Some(b"\r\n") => "\r\n",
            _ => "\n",
        }
    }

    /// Sets `key` to `value`: rewrites only the value of the effective (last) entry, keeping
    /// its `export ` prefix, separator and trailing comment; or, when absent, appends
    /// `KEY=value` as a new line (using [`Document::line_ending`], first adding a line break if
    /// the file lacks a final one). Chooses quoting with [`encode_value`]. Afterwards re-parses
    /// and checks that every key reads back as before except `key`, which reads back as
    /// `value`; if not, leaves the document unchanged and returns an error.
    ///
    /// When the preferred quoting fails that check because of the text around it (say, an
    /// empty value followed by a line that starts with a quote), the other quotings that
    /// [`encode_value`] would accept are tried in turn before giving up.
    ///
    /// # Errors
    ///
    /// An invalid or reserved key, a value [`encode_value`] refuses, or an edit that would
    /// change how dotenv reads the rest of the file; the document is then left unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), EncodeError> {
        check_key(key)?;
        let candidates = encode::encodings(value)?;
        let mut expected: HashMap<String, String> = self.vars().into_iter().collect();
        expected.insert(key.to_owned(), value.to_owned());
        let mut last_diff = Vec::new();
        for encoded in candidates {
            // Raw line breaks inside single quotes or backticks follow the file's style; both
            // read back as LF.
            let encoded = match self.line_ending() {
                "\r\n" => encoded.replace('\n', "\r\n"),
                _ => encoded,
            };
            let bytes = match self.get(key) {
                Some(entry) => splice(&self.bytes, entry.value_span.clone(), encoded.as_bytes()),
                None => self.appended(format!("{key}={encoded}").as_bytes()),
            };
            let edited = Document::parse(&bytes);
            last_diff = changed_keys(&expected, &edited.vars());
            if last_diff.is_empty() {
                *self = edited;
                return Ok(());
            }
        }
        Err(EncodeError::new(
            EncodeErrorKind::WouldChangeOtherEntries,
            format!(
                "writing `{key}` here would change how dotenv reads {}: the text around it \
                 (such as an unclosed quote elsewhere in the file) would take the new value \
                 in; fix the file by hand first",
                describe_keys(&last_diff)
            ),
        ))
    }

    /// Appends a `# text` comment line (same line-ending rules as [`Document::set`]).
    /// Rejects text containing line breaks, and comments that would change what dotenv reads
    /// (a quote in the comment can close a quote left open earlier in the file).
    ///
    /// # Errors
    ///
    /// A line break in `text`, or a comment that would change any value; the document is then
    /// left unchanged.
    pub fn append_comment(&mut self, text: &str) -> Result<(), EncodeError> {
        if text.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
            return Err(EncodeError::new(
                EncodeErrorKind::LineBreakInComment,
                "the comment contains a line break (LF, CR, U+2028 or U+2029), after which \
                 dotenv would read the rest as entries; append one comment per line instead"
                    .to_owned(),
            ));
        }
        let line = if text.is_empty() {
            "#".to_owned()
        } else {
            format!("# {text}")
        };
        let edited = Document::parse(&self.appended(line.as_bytes()));
        let expected: HashMap<String, String> = self.vars().into_iter().collect();
        let diff = changed_keys(&expected, &edited.vars());
        if !diff.is_empty() {
            return Err(EncodeError::new(
                EncodeErrorKind::WouldChangeOtherEntries,
                format!(
                    "appending this comment would change how dotenv reads {}: the text before \
                     it (such as a quote left open, or a `KEY:` with nothing after it) would \
                     take it in; fix that line by hand, or leave quotes out of the comment",
                    describe_keys(&diff)
                ),
            ));
        }
        *self = edited;
        Ok(())
    }

    /// The bytes with `line` added as a new last line.
    fn appended(&self, line: &[u8]) -> Vec<u8> {
        let eol = self.line_ending().as_bytes();
        let mut bytes = Vec::with_capacity(self.bytes.len() + line.len() + 2 * eol.len());
        bytes.extend_from_slice(&self.bytes);
        if !matches!(self.bytes.last(), None | Some(b'\n' | b'\r')) {
            bytes.extend_from_slice(eol);
        }
        bytes.extend_from_slice(line);
        bytes.extend_from_slice(eol);
        bytes
    }
}

fn check_key(key: &str) -> Result<(), EncodeError> {
    if !is_valid_key(key) {
        return Err(EncodeError::new(
            EncodeErrorKind::InvalidKey,
            format!(
                "`{}` is not a variable name this tool writes: use ASCII letters, digits and \
                 `_`, not starting with a digit",
                key.escape_debug()
            ),
        ));
    }
    if key == PROTO_KEY {
        return Err(EncodeError::new(
            EncodeErrorKind::ReservedKey,
            "`__proto__` cannot be set: JavaScript's dotenv silently drops it; pick another name"
                .to_owned(),
        ));
    }
    Ok(())
}

fn splice(bytes: &[u8], range: Range<usize>, with: &[u8]) -> Vec<u8> {
    let before = bytes.get(..range.start).unwrap_or(bytes);
    let after = bytes.get(range.end..).unwrap_or(&[]);
    [before, with, after].concat()
}

/// Keys whose value differs between `expected` and `actual`, sorted.
fn changed_keys(expected: &HashMap<String, String>, actual: &[(String, String)]) -> Vec<String> {
    let actual: HashMap<&str, &str> = actual.iter().map(|(k, v)| (&**k, &**v)).collect();
    let mut changed: Vec<String> = expected
        .iter()
        .filter(|(k, v)| actual.get(k.as_str()) != Some(&v.as_str()))
        .map(|(k, _)| k.clone())
        .chain(
            actual
                .keys()
                .filter(|k| !expected.contains_key(**k))
                .map(|k| (*k).to_owned()),
        )
        .collect();
    changed.sort();
    changed
}

fn describe_keys(keys: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = keys.iter().take(SHOWN).map(|k| format!("`{k}`")).collect();
    if keys.len() > SHOWN {
        names.push(format!("and {} more", keys.len() - SHOWN));
    }
    if names.is_empty() {
        "the file".to_owned()
    } else {
        names.join(", ")
    }
}

fn build_entries(text: &Text, matches: &[RawMatch]) -> Vec<Entry> {
    let s = text.chars.as_slice();
    let mut entries = Vec::with_capacity(matches.len());
    // Lines are counted incrementally: matches come in order and never overlap.
    let mut line = 1;
    let mut counted = 0;
    for m in matches {
        let newlines = s.get(counted..m.key.start).unwrap_or(&[]);
        line += newlines.iter().filter(|&&c| c == '\n').count();
        counted = m.key.start;
        let quote = match m.quote {
            Some('\'') => Quote::Single,
            Some('"') => Quote::Double,
            Some('`') => Quote::Backtick,
            _ => Quote::None,
        };
        entries.push(Entry {
            key: s.get(m.key.clone()).unwrap_or(&[]).iter().collect(),
            value: matcher::read_value(s, m.value.clone()),
            line,
            quote,
            value_span: text.byte_range(matcher::trim_range(s, m.value.clone())),
            span: text.byte_range(m.span.clone()),
        });
    }
    entries
}

fn diagnose(s: &[char], matches: &[RawMatch], entries: &[Entry]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    // A line is ignored text when its first non-blank character outside every match is not
    // the `#` of a comment.
    let mut spans = matches.iter().map(|m| m.span.clone()).peekable();
    let mut line = 1;
    let mut decided = false;
    for (i, &c) in s.iter().enumerate() {
        if c == '\n' {
            line += 1;
            decided = false;
            continue;
        }
        if decided || is_js_space(c) {
            continue;
        }
        while spans.peek().is_some_and(|span| span.end <= i) {
            spans.next();
        }
        if spans.peek().is_some_and(|span| span.start <= i) {
            continue;
        }
        decided = true;
        if c != '#' {
            found.push(Diagnostic::NotAnAssignment { line });
        }
    }
    for (m, entry) in matches.iter().zip(entries) {
        if entry.quote != Quote::None {
            continue;
        }
        let trimmed = s
            .get(matcher::trim_range(s, m.value.clone()))
            .unwrap_or(&[]);
        let Some((&open, rest)) = trimmed.split_first() else {
            continue;
        };
        if !QUOTES.contains(&open) {
            continue;
        }
        // A quote preceded by a backslash does not close (that is what the regex allows).
        let closed = rest
            .iter()
            .enumerate()
            .any(|(i, &c)| c == open && (i == 0 || rest.get(i - 1) != Some(&'\\')));
        let (line, key) = (entry.line, entry.key.clone());
        found.push(if closed {
            Diagnostic::TextAfterQuote { line, key }
        } else {
            Diagnostic::UnterminatedQuote { line, key }
        });
    }
    found.sort_by_key(|d| match d {
        Diagnostic::NotAnAssignment { line }
        | Diagnostic::UnterminatedQuote { line, .. }
        | Diagnostic::TextAfterQuote { line, .. } => *line,
    });
    found
}
