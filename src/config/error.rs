//! The errors `load` reports: every problem in `convex.json` at once, each with its JSON path.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// One problem in `convex.json`.
///
/// `path` is a JSON path such as `authKit.dev.configure.redirectUris[1]`, or empty when the
/// problem concerns the file as a whole (a syntax error, a top level that is not an object).
/// `line` and `column` are 1-based and present whenever the position could be found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl ConfigError {
    /// A problem at a JSON path; its position is filled in later if it can be found.
    pub(crate) fn at(path: impl fmt::Display, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_string(),
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// A problem with the file as a whole, at a known position.
    pub(crate) fn whole_file(message: impl Into<String>, line: usize, column: usize) -> Self {
        ConfigError {
            path: String::new(),
            message: message.into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one file. Displayed one line per problem, each starting with the file
/// (and `:line:column` when known) so that editors and terminals can jump to it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ConfigErrors {
    pub file: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}", self.file.display())?;
            if let (Some(line), Some(column)) = (error.line, error.column) {
                write!(f, ":{line}:{column}")?;
            }
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_error_with_file_and_position() {
        let errors = ConfigErrors {
            file: PathBuf::from("app/convex.json"),
            errors: vec![
                ConfigError::at("authKit.dev", "first"),
                ConfigError {
                    line: Some(3),
                    column: Some(9),
                    ..ConfigError::at("authKit", "x")
                },
                ConfigError::whole_file("invalid JSON: oops", 2, 5),
            ],
        };

        assert_eq!(
            errors.to_string(),
            "app/convex.json: `authKit.dev`: first\n\
             app/convex.json:3:9: `authKit`: x\n\
             app/convex.json:2:5: invalid JSON: oops"
        );
    }
}
