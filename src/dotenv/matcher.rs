//! How dotenv 16.6.1 finds entries: decoding, and a hand-written equivalent of its line regex.
//!
//! `dotenv.parse` decodes the bytes as UTF-8, rewrites `\r\n?` to `\n`, then runs
//!
//! ```text
//! /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"
//!  |\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/mg
//! ```
//!
//! (one line in the source) in an `exec` loop. The matcher here is written by hand rather than
//! with a regex crate because:
//! - JavaScript's `m` mode treats U+2028 and U+2029 as line terminators for `^`, `$` and `.`,
//!   and its `\s` is its own Unicode set (with U+FEFF, so a BOM is eaten as whitespace);
//! - we need every span as byte offsets into the *original* input (CRLF, invalid UTF-8), so
//!   that edits keep the rest of the file byte for byte, while dotenv matches normalised text;
//! - the backtracking order decides which quote closes a value (an escaped `\'` can be handed
//!   back to close it), and naively replaying that backtracking is quadratic or worse.
//!
//! The regex is matched piece by piece below. Most pieces turn out to have only one viable
//! choice, and each step states why; the one real search, for the closing quote, is answered
//! from per-quote position lists built in one pass, so a whole file scans in near-linear time.

use std::ops::Range;

/// Decoded text as dotenv sees it, with the byte offset each character came from.
#[derive(Debug)]
pub(super) struct Text {
    /// The characters after lossy UTF-8 decoding and CRLF/CR to LF normalisation.
    pub chars: Vec<char>,
    /// Byte offset of each character in the original input, plus one entry for the end, so
    /// that character `i` came from `starts[i]..starts[i + 1]`.
    pub starts: Vec<usize>,
}

impl Text {
    /// Decodes like Node's `Buffer#toString()` followed by dotenv's `replace(/\r\n?/mg, '\n')`.
    pub fn decode(bytes: &[u8]) -> Text {
        let mut chars = Vec::with_capacity(bytes.len());
        let mut starts = Vec::with_capacity(bytes.len() + 1);
        // Set right after a CR, so that a following LF folds into the same '\n' character.
        let mut after_cr = false;
        let mut offset = 0;
        for chunk in bytes.utf8_chunks() {
            for (i, c) in chunk.valid().char_indices() {
                if c == '\n' && after_cr {
                    after_cr = false;
                    continue;
                }
                after_cr = c == '\r';
                chars.push(if after_cr { '\n' } else { c });
                starts.push(offset + i);
            }
            offset += chunk.valid().len();
            if !chunk.invalid().is_empty() {
                // One U+FFFD per maximal invalid subpart, as both Node and Rust decode it.
                chars.push('\u{FFFD}');
                starts.push(offset);
                offset += chunk.invalid().len();
                after_cr = false;
            }
        }
        starts.push(offset);
        Text { chars, starts }
    }

    /// The original bytes behind a range of characters.
    pub fn byte_range(&self, chars: Range<usize>) -> Range<usize> {
        let end_of_input = self.starts.last().copied().unwrap_or(0);
        let at = |i: usize| self.starts.get(i).copied().unwrap_or(end_of_input);
        at(chars.start)..at(chars.end)
    }
}

/// JavaScript's `\s`, which is also what `String.prototype.trim` removes.
pub(super) fn is_js_space(c: char) -> bool {
    // '\t'..='\r' is TAB, LF, VT, FF and CR; the rest are Unicode space separators, the two
    // Unicode line terminators and the BOM.
    matches!(c, '\t'..='\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}')
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
        )
}

/// Where JavaScript's multiline `^` and `$` match, and what `.` refuses.
pub(super) fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// JavaScript's `[\w.-]`; `\w` is ASCII-only without the `u` flag.
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The three quote characters, in the order the regex tries its quoted alternatives.
pub(super) const QUOTES: [char; 3] = ['\'', '"', '`'];

fn quote_kind(c: char) -> Option<usize> {
    QUOTES.iter().position(|&q| q == c)
}

/// `JS String.prototype.trim` over characters: the range left after removing `\s` at both ends.
pub(super) fn trim_range(s: &[char], range: Range<usize>) -> Range<usize> {
    let non_space = |i: &usize| s.get(*i).is_some_and(|&c| !is_js_space(c));
    match range.clone().find(non_space) {
        Some(start) => {
            let end = range.clone().rev().find(non_space).map_or(start, |i| i + 1);
            start..end
        }
        None => range.start..range.start,
    }
}

/// One successful `exec` of the line regex, in character positions of [`Text::chars`].
#[derive(Debug, Clone)]
pub(super) struct RawMatch {
    /// The whole match, which may begin with blank lines and end with a comment.
    pub span: Range<usize>,
    /// Capture group 1.
    pub key: Range<usize>,
    /// Capture group 2; empty (at the position it would start) when it did not take part.
    pub value: Range<usize>,
    /// The quote character when one of the quoted alternatives of group 2 matched.
    pub quote: Option<char>,
}

/// Runs the regex's `exec` loop over `s` and returns every match in order.
pub(super) fn scan(s: &[char]) -> Vec<RawMatch> {
    let matcher = Matcher::new(s);
    let mut found = Vec::new();
    // JavaScript's `lastIndex`: each search starts where the previous match ended.
    let mut from = 0;
    while let Some(start) = matcher.line_start_from(from) {
        match matcher.match_at(start) {
            Ok(m) => {
                // Never empty (a key and a separator are required), so this always advances.
                from = m.span.end.max(start + 1);
                found.push(m);
            }
            // Every line start up to `skipped_to` would skip the same whitespace and fail the
            // same way, so the next one worth trying lies beyond it.
            Err(skipped_to) => from = skipped_to + 1,
        }
    }
    found
}

/// Where the `\s*(?:#.*)?(?:$|$)` tail of the regex can end.
enum Tail {
    /// The match ends here (a line terminator or the end of input).
    At(usize),
    /// A `#` comment starts here and runs to the end of its line.
    Comment(usize),
}

struct Matcher<'a> {
    s: &'a [char],
    /// Per quote kind: positions of that quote not preceded by a backslash, ascending.
    unescaped: [Vec<usize>; 3],
    /// Per quote kind: positions of that quote after which the regex tail succeeds, ascending.
    closable: [Vec<usize>; 3],
}

impl<'a> Matcher<'a> {
    fn new(s: &'a [char]) -> Self {
        let mut m = Matcher {
            s,
            unescaped: Default::default(),
            closable: Default::default(),
        };
        let mut prev = None;
        for (i, &c) in s.iter().enumerate() {
            if let Some(kind) = quote_kind(c) {
                if prev != Some('\\')
                    && let Some(list) = m.unescaped.get_mut(kind)
                {
                    list.push(i);
                }
                // The whitespace run checked here stops at the next non-space character, and a
                // quote is not a space, so these checks never overlap: one linear pass overall.
                if m.tail(i + 1).is_some()
                    && let Some(list) = m.closable.get_mut(kind)
                {
                    list.push(i);
                }
            }
            prev = Some(c);
        }
        m
    }

    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    /// End of the greedy `\s*` starting at `i`.
    fn skip_space(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(is_js_space) {
            i += 1;
        }
        i
    }

    /// The first position at or after `from` where `^` holds and a match could start.
    fn line_start_from(&self, from: usize) -> Option<usize> {
        let len = self.s.len();
        let mut i = from;
        while i < len {
            let starts_line = match i.checked_sub(1) {
                None => true,
                Some(prev) => self.at(prev).is_some_and(is_line_terminator),
            };
            if starts_line {
                return Some(i);
            }
            i += 1;
        }
        // A match needs at least a key character, so none can start at the very end.
        None
    }

    /// Tries the whole regex at a line start. On failure returns where the leading `\s*`
    /// ended, since every start up to there fails the same way.
    fn match_at(&self, start: usize) -> Result<RawMatch, usize> {
        // Leading `\s*`: giving back whitespace cannot help, since what follows (`export` or a
        // key character) is never whitespace, so only the longest run is viable.
        let first = self.skip_space(start);
        // `(?:export\s+)?` is greedy: try it first, and fall back to reading `export` as a key.
        if self.starts_with_export(first) {
            let key = self.skip_space(first + "export".len());
            if let Some(m) = self.match_from_key(start, key) {
                return Ok(m);
            }
        }
        self.match_from_key(start, first).ok_or(first)
    }

    /// `export` followed by at least one whitespace character (which may be a line break).
    fn starts_with_export(&self, i: usize) -> bool {
        let word = "export"
            .chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c));
        word && self.at(i + "export".len()).is_some_and(is_js_space)
    }

    /// Everything from capture group 1 onwards.
    fn match_from_key(&self, start: usize, key_start: usize) -> Option<RawMatch> {
        // `[\w.-]+` can only give back key characters, and neither separator starts with one,
        // so only the longest run is viable.
        let mut key_end = key_start;
        while self.at(key_end).is_some_and(is_key_char) {
            key_end += 1;
        }
        if key_end == key_start {
            return None;
        }
        // `\s*=\s*?` or `:\s+?`. The lazy whitespace after the separator never grows: the
        // value part below always succeeds at its first position (see `match_value`).
        let before_equals = self.skip_space(key_end);
        let value_start = if self.at(before_equals) == Some('=') {
            before_equals + 1
        } else if self.at(key_end) == Some(':') && self.at(key_end + 1).is_some_and(is_js_space) {
            key_end + 2
        } else {
            return None;
        };
        let (value, quote, end) = self.match_value(value_start)?;
        Some(RawMatch {
            span: start..end,
            key: key_start..key_end,
            value,
            quote,
        })
    }

    /// `(group 2)?` followed by the tail, from `v`. Returns group 2, the quote used and the end
    /// of the whole match. Always succeeds: the unquoted alternative runs to `#`, a line break
    /// or the end, where the tail succeeds; if it cannot even start, `v` itself is at one of
    /// those, where the tail succeeds with group 2 left out.
    fn match_value(&self, v: usize) -> Option<(Range<usize>, Option<char>, usize)> {
        // Each quoted alternative starts with a greedy `\s*` that must be followed by the
        // quote, so all three look at the same character after the whitespace run.
        let open = self.skip_space(v);
        if let Some(kind) = self.at(open).and_then(quote_kind)
            && let Some(close) = self.closing_quote(kind, open)
            && let Some(end) = self.tail_end(close + 1)
        {
            return Some((v..close + 1, QUOTES.get(kind).copied(), end));
        }
        // `[^#\r\n]+`, greedy; the longest run always leaves the tail at `#`, `\n` or the end.
        let mut run_end = v;
        while self
            .at(run_end)
            .is_some_and(|c| !matches!(c, '#' | '\r' | '\n'))
        {
            run_end += 1;
        }
        if run_end > v
            && let Some(end) = self.tail_end(run_end)
        {
            return Some((v..run_end, None, end));
        }
        let end = self.tail_end(v)?;
        Some((v..v, None, end))
    }

    /// The quote that closes a quoted value opened at `open`, as backtracking would pick it.
    ///
    /// The body `(?:\\'|[^'])*` walks forward taking `\'` as a pair whenever it meets one, so
    /// it passes every quote preceded by a backslash and must stop at the first quote that is
    /// not. That quote is tried first; if the tail fails after it, backtracking hands back the
    /// pairs one at a time, latest first, each time trying to close at the pair's quote.
    fn closing_quote(&self, kind: usize, open: usize) -> Option<usize> {
        let unescaped = self.unescaped.get(kind)?;
        let closable = self.closable.get(kind)?;
        let first = unescaped
            .get(unescaped.partition_point(|&i| i <= open))
            .copied();
        if let Some(q) = first
            && closable.binary_search(&q).is_ok()
        {
            return Some(q);
        }
        // Every quote of this kind strictly between `open` and `first` is an escaped one.
        let limit = first.unwrap_or(self.s.len());
        let below = closable.partition_point(|&i| i < limit);
        let last = *closable.get(below.checked_sub(1)?)?;
        (last > open).then_some(last)
    }

    /// `\s*(?:#.*)?(?:$|$)` from `e`.
    ///
    /// The greedy `\s*` first takes the whole whitespace run: there the tail succeeds on a
    /// `#` or at the end of input (a line terminator would have been taken as whitespace).
    /// Otherwise it gives back whitespace until `$` holds, i.e. just before the *last* line
    /// terminator inside the run. That `\s*` crosses blank lines matters: a comment several
    /// lines below can belong to this match, and the match can end on a later line.
    fn tail(&self, e: usize) -> Option<Tail> {
        let t = self.skip_space(e);
        match self.at(t) {
            None => Some(Tail::At(t)),
            Some('#') => Some(Tail::Comment(t)),
            Some(_) => (e..t)
                .rev()
                .find(|&i| self.at(i).is_some_and(is_line_terminator))
                .map(Tail::At),
        }
    }

    /// Where the whole match ends if the tail starts at `e`.
    fn tail_end(&self, e: usize) -> Option<usize> {
        match self.tail(e)? {
            Tail::At(end) => Some(end),
            // `.*` is greedy and stops only at a line terminator or the end of input.
            Tail::Comment(hash) => Some(
                (hash..self.s.len())
                    .find(|&i| self.at(i).is_some_and(is_line_terminator))
                    .unwrap_or(self.s.len()),
            ),
        }
    }
}

/// dotenv's post-processing of group 2: trim, strip matching outer quotes, expand `\n`/`\r`.
pub(super) fn read_value(s: &[char], group: Range<usize>) -> String {
    let trimmed = s.get(trim_range(s, group)).unwrap_or(&[]);
    let stripped = strip_quotes(trimmed);
    if trimmed.first() == Some(&'"') {
        expand_newlines(&stripped)
    } else {
        stripped.into_iter().collect()
    }
}

/// ``value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2')``.
///
/// In `m` mode a match may start at any line start inside the value and must end with the
/// same quote right before a line terminator or the end. `[\s\S]*` is greedy, so a match
/// opened at `i` closes at the *last* such quote in the whole value, if that lies after `i`;
/// later matches (the `g` flag) can only come from the other quote kinds.
fn strip_quotes(v: &[char]) -> Vec<char> {
    let mut last_close = [None; 3];
    for (i, &c) in v.iter().enumerate() {
        let before_end = v.get(i + 1).is_none_or(|&n| is_line_terminator(n));
        if let Some(kind) = quote_kind(c)
            && before_end
            && let Some(slot) = last_close.get_mut(kind)
        {
            *slot = Some(i);
        }
    }
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        let line_start = i == 0 || v.get(i - 1).is_some_and(|&p| is_line_terminator(p));
        let close = quote_kind(c)
            .filter(|_| line_start)
            .and_then(|kind| last_close.get(kind).copied().flatten())
            .filter(|&close| close > i);
        match close {
            Some(close) => {
                out.extend_from_slice(v.get(i + 1..close).unwrap_or(&[]));
                i = close + 1;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `replace(/\\n/g, '\n')` then `replace(/\\r/g, '\r')`. One left-to-right pass is the same:
/// a backslash taken by one pair cannot start the other, and a replacement never forms a new
/// pair because the inserted character sits between its neighbours.
fn expand_newlines(v: &[char]) -> String {
    let mut out = String::with_capacity(v.len());
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        let replaced = match (c, v.get(i + 1)) {
            ('\\', Some('n')) => Some('\n'),
            ('\\', Some('r')) => Some('\r'),
            _ => None,
        };
        match replaced {
            Some(r) => {
                out.push(r);
                i += 2;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}
