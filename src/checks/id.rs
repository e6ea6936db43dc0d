//! The stable ids of the checks, and the `--ignore` values that name them.

use std::fmt;
use std::str::FromStr;

use crate::state::ResourceKind;

use super::Severity;

/// One check. The kebab-case id is part of the interface: `--ignore` takes it, docs/checks.md
/// documents it, and scripts match on it, so an id never changes meaning once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    RedirectUriUnregistered,
    DefaultRedirectUriUndeclared,
    DefaultRedirectUriMissing,
    InsecureProductionUrl,
    WildcardUnsupported,
    CorsOriginNotOrigin,
    HomepageOriginNotAllowed,
    DuplicateUri,
    SecretInPublicVariable,
}

impl CheckId {
    pub const ALL: [CheckId; 9] = [
        CheckId::RedirectUriUnregistered,
        CheckId::DefaultRedirectUriUndeclared,
        CheckId::DefaultRedirectUriMissing,
        CheckId::InsecureProductionUrl,
        CheckId::WildcardUnsupported,
        CheckId::CorsOriginNotOrigin,
        CheckId::HomepageOriginNotAllowed,
        CheckId::DuplicateUri,
        CheckId::SecretInPublicVariable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::RedirectUriUnregistered => "redirect-uri-unregistered",
            CheckId::DefaultRedirectUriUndeclared => "default-redirect-uri-undeclared",
            CheckId::DefaultRedirectUriMissing => "default-redirect-uri-missing",
            CheckId::InsecureProductionUrl => "insecure-production-url",
            CheckId::WildcardUnsupported => "wildcard-unsupported",
            CheckId::CorsOriginNotOrigin => "cors-origin-not-origin",
            CheckId::HomepageOriginNotAllowed => "homepage-origin-not-allowed",
            CheckId::DuplicateUri => "duplicate-uri",
            CheckId::SecretInPublicVariable => "secret-in-public-variable",
        }
    }

    /// How serious the check's findings are without `--strict`. Errors are set-ups that cannot
    /// work or that leak a secret; everything else is a warning.
    pub fn severity(self) -> Severity {
        match self {
            CheckId::CorsOriginNotOrigin | CheckId::SecretInPublicVariable => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// Every id, comma-separated, for messages.
    pub fn list() -> String {
        CheckId::ALL.map(CheckId::as_str).join(", ")
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a check id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheck(pub String);

impl fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown check id `{}`; the checks are: {}",
            self.0,
            CheckId::list()
        )
    }
}

impl std::error::Error for UnknownCheck {}

impl FromStr for CheckId {
    type Err = UnknownCheck;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownCheck(s.to_owned()))
    }
}

/// One `--ignore` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreRule {
    /// Drop every finding of this check.
    Check(CheckId),
    /// A resource address pattern such as `workos.redirect_uri["http://x/*"]`, which leaves
    /// matching addresses out of a drift report.
    Address(String),
}

impl IgnoreRule {
    /// Whether `text` is meant as an address pattern: it starts with a resource kind's
    /// namespace (`workos.`, `env_file.`, `convex.`).
    fn is_address_pattern(text: &str) -> bool {
        ResourceKind::ALL.into_iter().any(|kind| {
            let namespace = kind.as_str().split('.').next().unwrap_or_default();
            text.strip_prefix(namespace)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

impl FromStr for IgnoreRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if IgnoreRule::is_address_pattern(s) {
            return Ok(IgnoreRule::Address(s.to_owned()));
        }
        s.parse().map(IgnoreRule::Check).map_err(|e: UnknownCheck| {
            format!(
                "{e} (or give a resource address pattern starting with workos., env_file. or \
                 convex.)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_kebab_case() {
        for id in CheckId::ALL {
            assert_eq!(id.as_str().parse::<CheckId>(), Ok(id));
            assert!(
                id.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
        let mut sorted = CheckId::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), CheckId::ALL.len());
    }

    #[test]
    fn unknown_ids_list_the_valid_ones() {
        let error = "redirect-uri".parse::<IgnoreRule>().unwrap_err();
        assert!(error.contains("unknown check id `redirect-uri`"), "{error}");
        assert!(error.contains("redirect-uri-unregistered"), "{error}");
        assert!(error.contains("secret-in-public-variable"), "{error}");
    }

    #[test]
    fn address_patterns_are_accepted_without_validation() {
        for text in [
            r#"workos.redirect_uri["http://x/*"]"#,
            "env_file.var",
            "convex.env_var[\"X\"]",
        ] {
            assert_eq!(
                text.parse::<IgnoreRule>(),
                Ok(IgnoreRule::Address(text.to_owned()))
            );
        }
        assert_eq!(
            "duplicate-uri".parse::<IgnoreRule>(),
            Ok(IgnoreRule::Check(CheckId::DuplicateUri))
        );
        assert!("workosx.thing".parse::<IgnoreRule>().is_err());
    }
}
