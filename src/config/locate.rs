//! Finds where a JSON path points in the source text, so errors can carry a line and column.
//!
//! `serde_json::Value` keeps no positions, and a span-keeping parser would be a second JSON
//! parser to trust. Instead this scanner runs only on text that serde_json has already accepted,
//! and only when there is an error to report: it skips values without interpreting them and
//! follows one path. Anything unexpected yields `None`, never a panic; a missing position only
//! makes a message less precise.
//!
//! A file can have thousands of errors (a list of 20,000 objects where strings belong). Finding
//! each one from the top would scan the text once per error, and counting lines and columns
//! from the start once more: quadratic, minutes for a file of a few hundred kilobytes. A
//! [`Locator`] therefore scans each container it passes through once, remembering where its
//! members start, and counts lines from a table of line starts, so that all the errors of a
//! file are placed in time proportional to its size.

use std::cell::RefCell;
use std::collections::HashMap;

use super::path::Step;

/// Where a path's value (and, for object members, its key) starts: byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) key: Option<usize>,
    pub(crate) value: usize,
}

/// The 1-based line and column (in characters) of byte `offset`.
pub(crate) fn line_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..)?.chars().count() + 1;
    Some((line, column))
}

/// Places many paths in one text, scanning each container once.
pub(crate) struct Locator<'a> {
    text: &'a str,
    /// The children of each container visited, by the offset where the container starts.
    children: RefCell<HashMap<usize, Children>>,
    /// Where each line starts.
    line_starts: Vec<usize>,
    /// The last position computed: (line start, offset, column), to count the next column
    /// from there when it is further along the same line, as the next error usually is.
    last: RefCell<Option<(usize, usize, usize)>>,
}

/// Where the members of a container start.
enum Children {
    Array(Vec<usize>),
    /// The last occurrence of a duplicated key wins, as in serde_json.
    Object(HashMap<String, Located>),
    /// Not a container, or not one the scanner could read.
    Unreadable,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Locator<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator {
            text,
            children: RefCell::new(HashMap::new()),
            line_starts,
            last: RefCell::new(None),
        }
    }

    /// Follows `steps` from the top-level value of the text. With a duplicated key the last
    /// occurrence wins, because that is the one serde_json keeps.
    pub(crate) fn locate(&self, steps: &[Step]) -> Option<Located> {
        let mut scanner = Scanner {
            text: self.text,
            pos: 0,
        };
        scanner.skip_ws();
        let mut here = Located {
            key: None,
            value: scanner.pos,
        };
        for step in steps {
            let mut children = self.children.borrow_mut();
            let found = children
                .entry(here.value)
                .or_insert_with(|| Children::scan(self.text, here.value));
            here = match (step, &*found) {
                (Step::Key(key), Children::Object(members)) => *members.get(key)?,
                (Step::Index(index), Children::Array(elements)) => Located {
                    key: None,
                    value: *elements.get(*index)?,
                },
                _ => return None,
            };
        }
        Some(here)
    }

    /// The 1-based line and column (in characters) of byte `offset`, as [`line_column`].
    pub(crate) fn line_column(&self, offset: usize) -> Option<(usize, usize)> {
        self.text.get(..offset)?;
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = *self.line_starts.get(line.checked_sub(1)?)?;
        let mut last = self.last.borrow_mut();
        let (from, column_there) = match *last {
            Some((start, at, column)) if start == line_start && at <= offset => (at, column),
            _ => (line_start, 1),
        };
        let column = column_there + self.text.get(from..offset)?.chars().count();
        *last = Some((line_start, offset, column));
        Some((line, column))
    }
}

impl Children {
    fn scan(text: &str, at: usize) -> Children {
        let mut scanner = Scanner { text, pos: at };
        let scanned = match scanner.peek() {
            Some(b'[') => scanner.elements().map(Children::Array),
            Some(b'{') => scanner.members().map(Children::Object),
            _ => None,
        };
        scanned.unwrap_or(Children::Unreadable)
    }
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or fails.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Skips a string starting at the current `"` and returns its decoded contents.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.skip_string()?;
        // Keys rarely contain escapes, but `"redirect\u0055ris"` must still match its path.
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        (self.peek()? == b'"').then_some(())?;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips any value. Containers are skipped by counting brackets outside strings, which is
    /// iterative and so needs no recursion budget.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => self.skip_string()?,
                        b'{' | b'[' => {
                            depth += 1;
                            self.pos += 1;
                        }
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            self.pos += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.pos += 1,
                    }
                }
            }
            _ => {
                // A number or a literal: it runs to the next delimiter.
                while let Some(byte) = self.peek() {
                    if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    /// At an object, where every member starts (the last of a duplicated key).
    fn members(&mut self) -> Option<HashMap<String, Located>> {
        self.expect(b'{')?;
        let mut found = HashMap::new();
        self.skip_ws();
        if self.peek()? == b'}' {
            return Some(found);
        }
        loop {
            self.skip_ws();
            let key_start = self.pos;
            let name = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            let located = Located {
                key: Some(key_start),
                value: self.pos,
            };
            found.insert(name, located);
            self.skip_value()?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                _ => return Some(found),
            }
        }
    }

    /// At an array, where every element starts.
    fn elements(&mut self) -> Option<Vec<usize>> {
        self.expect(b'[')?;
        let mut found = Vec::new();
        self.skip_ws();
        if self.peek()? == b']' {
            return Some(found);
        }
        loop {
            self.skip_ws();
            found.push(self.pos);
            self.skip_value()?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                _ => return Some(found),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::path::JsonPath;

    fn locate(text: &str, steps: &[Step]) -> Option<Located> {
        Locator::new(text).locate(steps)
    }

    fn at(text: &str, path: &JsonPath) -> Option<(usize, usize)> {
        let found = locate(text, path.steps())?;
        line_column(text, found.value)
    }

    #[test]
    fn follows_keys_and_indices() {
        let text = "{\n  \"other\": [1, {\"a\": \"}\"}],\n  \"authKit\": {\"dev\": {\n    \
                    \"configure\": {\"redirectUris\": [\"a\", \"b\"]}}}\n}";
        let uris = JsonPath::root("authKit")
            .key("dev")
            .key("configure")
            .key("redirectUris");

        assert_eq!(at(text, &uris.index(1)), Some((4, 41)));
        assert_eq!(at(text, &uris.index(0)), Some((4, 36)));
        assert_eq!(at(text, &uris.index(2)), None);
        assert_eq!(at(text, &JsonPath::root("authKit")), Some((3, 14)));
        assert_eq!(at(text, &JsonPath::root("missing")), None);
    }

    #[test]
    fn finds_keys_for_unknown_members() {
        let text = r#"{"authKit": {"dev": {}, "stagin\u0067": {}}}"#;
        let found = locate(text, JsonPath::root("authKit").key("staging").steps()).unwrap();
        assert_eq!(found.key, Some(24));
        assert_eq!(found.value, 40);
    }

    #[test]
    fn duplicate_keys_resolve_to_the_last() {
        let text = r#"{"authKit": 1, "authKit": [true, null, "x"]}"#;
        let found = locate(text, JsonPath::root("authKit").index(2).steps()).unwrap();
        assert_eq!(&text[found.value..found.value + 3], "\"x\"");
    }

    #[test]
    fn columns_count_characters() {
        let text = "{\"é\": 1, \"authKit\": 2}";
        let found = locate(text, JsonPath::root("authKit").steps()).unwrap();
        assert_eq!(line_column(text, found.value), Some((1, 21)));
    }

    #[test]
    fn never_panics_on_truncated_text() {
        let text = r#"{"authKit": {"dev": {"configure": {"redirectUris": ["a\"", 1e5, "#;
        let path = JsonPath::root("authKit")
            .key("dev")
            .key("configure")
            .key("redirectUris");
        for end in 0..=text.len() {
            if let Some(prefix) = text.get(..end) {
                let _ = locate(prefix, path.index(3).steps());
            }
        }
    }

    #[test]
    fn many_errors_in_a_large_file_are_placed_in_linear_time() {
        let mut text =
            String::from("{\"authKit\": {\"dev\": {\"configure\": {\"redirectUris\": [\n");
        let count = 20_000;
        for i in 0..count {
            let comma = if i + 1 < count { "," } else { "" };
            text.push_str(&format!("  {{\"bad\": {i}}}{comma}\n"));
        }
        text.push_str("]}}}}\n");
        let uris = JsonPath::root("authKit")
            .key("dev")
            .key("configure")
            .key("redirectUris");

        let started = std::time::Instant::now();
        let locator = Locator::new(&text);
        for i in 0..count {
            let found = locator.locate(uris.index(i).steps()).unwrap();
            assert_eq!(locator.line_column(found.value), Some((i + 2, 3)));
        }
        // Quadratic placing took minutes here; linear takes milliseconds, even unoptimised.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    proptest! {
        #[test]
        fn the_locator_counts_as_the_plain_count_does(
            text in "(a|\u{e9}|\n|\r\n|x{1,5}){0,30}",
            offsets in prop::collection::vec(0usize..80, 1..8),
        ) {
            let locator = Locator::new(&text);
            for offset in offsets {
                prop_assert_eq!(locator.line_column(offset), line_column(&text, offset));
            }
        }
    }
}
