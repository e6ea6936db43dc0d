//! JSON paths such as `authKit.dev.configure.redirectUris[1]`, the address every config error
//! carries.
//!
//! The path is kept as steps rather than a string so that the source scanner in `locate.rs` can
//! follow it; it is rendered the way a JavaScript reader would write the access, with keys that
//! are not identifiers in brackets (`authKit.dev.localEnvVars["1BAD"]`).

use std::fmt;

/// One step from a JSON value into a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// A path from the top of `convex.json` to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonPath(Vec<Step>);

impl JsonPath {
    /// The path of a top-level key of `convex.json`.
    pub(crate) fn root(key: &str) -> Self {
        JsonPath(vec![Step::Key(key.to_owned())])
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        self.with(Step::Key(key.to_owned()))
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        self.with(Step::Index(index))
    }

    fn with(&self, step: Step) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        JsonPath(steps)
    }

    pub(crate) fn steps(&self) -> &[Step] {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if is_identifier(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                // JSON string syntax escapes quotes and control characters, so the bracketed
                // form always reads back as the exact key.
                Step::Key(key) => write!(f, "[{}]", serde_json::Value::from(key.as_str()))?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Whether `key` can be written after a dot. Deliberately ASCII-only: a reader should never have
/// to wonder whether an accented or invisible character is part of a key.
fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_dots_indices_and_brackets() {
        let path = JsonPath::root("authKit")
            .key("dev")
            .key("configure")
            .key("redirectUris");
        assert_eq!(
            path.index(1).to_string(),
            "authKit.dev.configure.redirectUris[1]"
        );

        let vars = JsonPath::root("authKit").key("dev").key("localEnvVars");
        assert_eq!(
            vars.key("odd key").to_string(),
            r#"authKit.dev.localEnvVars["odd key"]"#
        );
        assert_eq!(
            vars.key("1A").to_string(),
            r#"authKit.dev.localEnvVars["1A"]"#
        );
        assert_eq!(vars.key("").to_string(), r#"authKit.dev.localEnvVars[""]"#);
        assert_eq!(
            vars.key("a\"b\n").to_string(),
            r#"authKit.dev.localEnvVars["a\"b\n"]"#
        );
        assert_eq!(
            vars.key("é").to_string(),
            r#"authKit.dev.localEnvVars["é"]"#
        );
    }
}
