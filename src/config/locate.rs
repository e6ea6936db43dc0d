//! Finds where a JSON path points in the source text, so errors can carry a line and column.
//!
//! `serde_json::Value` keeps no positions, and a span-keeping parser would be a second JSON
//! parser to trust. Instead this scanner runs only on text that serde_json has already accepted,
//! and only when there is an error to report: it skips values without interpreting them and
//! follows one path. Anything unexpected yields `None`, never a panic; a missing position only
//! makes a message less precise.

use super::path::Step;

/// Where a path's value (and, for object members, its key) starts: byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) key: Option<usize>,
    pub(crate) value: usize,
}

/// Follows `steps` from the top-level value of `text`.
///
/// With a duplicated key the last occurrence wins, because that is the one serde_json keeps.
pub(crate) fn locate(text: &str, steps: &[Step]) -> Option<Located> {
    let mut scanner = Scanner { text, pos: 0 };
    scanner.skip_ws();
    let mut here = Located {
        key: None,
        value: scanner.pos,
    };

    for step in steps {
        scanner.pos = here.value;
        here = match step {
            Step::Key(key) => scanner.member(key)?,
            Step::Index(index) => Located {
                key: None,
                value: scanner.element(*index)?,
            },
        };
    }
    Some(here)
}

/// The 1-based line and column (in characters) of byte `offset`.
pub(crate) fn line_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..)?.chars().count() + 1;
    Some((line, column))
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

    /// At an object, finds the last member named `key`.
    fn member(&mut self, key: &str) -> Option<Located> {
        self.expect(b'{')?;
        let mut found = None;
        self.skip_ws();
        if self.peek()? == b'}' {
            return None;
        }
        loop {
            self.skip_ws();
            let key_start = self.pos;
            let name = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            if name == key {
                found = Some(Located {
                    key: Some(key_start),
                    value: self.pos,
                });
            }
            self.skip_value()?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                _ => return found,
            }
        }
    }

    /// At an array, finds element `index`.
    fn element(&mut self, index: usize) -> Option<usize> {
        self.expect(b'[')?;
        for _ in 0..index {
            self.skip_value()?;
            self.expect(b',')?;
        }
        self.skip_ws();
        (self.peek()? != b']').then_some(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::path::JsonPath;

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
}
