//! Consistency checks: set-ups that apply cleanly and then fail at sign-in.
//!
//! The plan says what apply will change; the checks say whether the result will work. They
//! look at the declared values (order, repetitions and JSON paths, which the desired state has
//! lost), the live state as read for the plan, and the variables the app reads its redirect URI
//! from. Everything arrives in [`Input`] and [`run`] performs no I/O, so each check is tested
//! as a function.
//!
//! Each check has a stable id ([`CheckId`]) that `--ignore` accepts and docs/checks.md
//! documents. A check's findings are warnings unless the set-up cannot work or leaks a secret;
//! the commands decide what stops a run (errors, and with `--strict` warnings too).

mod app_redirect;
mod default_redirect;
mod duplicates;
mod expected;
mod id;
mod origins;
mod production;
mod secrets;
mod variables;
mod wildcard;

use std::collections::BTreeMap;
use std::fmt;

use crate::desired::Declared;
use crate::framework::Framework;
use crate::state::{Address, State};
use crate::target::Target;

pub use id::{CheckId, IgnoreRule, UnknownCheck};
pub use variables::{PUBLIC_PREFIXES, REDIRECT_VARIABLES, public_prefix, redirect_variables};

/// How serious a finding is. Errors stop `plan`, `apply` and `drift`; warnings do so only
/// under `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: CheckId,
    pub severity: Severity,
    /// The resources involved: the ones that are wrong and the ones that would put it right.
    pub addresses: Vec<Address>,
    /// What is wrong, naming the values and where they are written.
    pub message: String,
    /// What to change.
    pub advice: String,
}

impl Finding {
    fn new(id: CheckId, addresses: Vec<Address>, message: String, advice: String) -> Finding {
        Finding {
            id,
            severity: id.severity(),
            addresses,
            message,
            advice,
        }
    }
}

/// Where the app's own variables (those outside `convex.json`) were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnvSource {
    /// `.env.local`, which the dev server reads (dev target).
    EnvLocal,
    /// The process environment of this run, which a hosted build inherits (preview, prod).
    BuildEnvironment,
}

impl AppEnvSource {
    fn describe(self) -> &'static str {
        match self {
            AppEnvSource::EnvLocal => ".env.local",
            AppEnvSource::BuildEnvironment => "the build environment",
        }
    }
}

/// The redirect-URI variables the app will see apart from what `localEnvVars` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEnv {
    pub source: AppEnvSource,
    /// Non-empty values by variable name; only the names in [`REDIRECT_VARIABLES`] matter.
    pub values: BTreeMap<String, String>,
}

/// Everything the checks look at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub target: Target,
    pub framework: Option<Framework>,
    /// Whether WORKOS_API_KEY is a production (`sk_live_`) key.
    pub live_key: bool,
    pub declared: &'a Declared,
    /// The live state as read for the plan; `None` when nothing was read (`validate`).
    pub live: Option<&'a State>,
    /// Whether apply deletes the live items that `convex.json` does not name.
    pub prune: bool,
    pub app_env: &'a AppEnv,
}

impl Input<'_> {
    /// The JSON path of a key in this target's `configure` object.
    fn configure_path(&self, key: &str) -> String {
        format!("authKit.{}.configure.{key}", self.target)
    }
}

/// Runs every check. Findings come errors first, then in the order of [`CheckId::ALL`].
pub fn run(input: &Input<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    app_redirect::check(input, &mut findings);
    default_redirect::check(input, &mut findings);
    production::check(input, &mut findings);
    wildcard::check(input, &mut findings);
    origins::check(input, &mut findings);
    duplicates::check(input, &mut findings);
    secrets::check(input, &mut findings);
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    findings
}

/// Drops the findings of ignored checks and, under `strict`, raises warnings to errors.
pub fn settle(findings: Vec<Finding>, ignore: &[IgnoreRule], strict: bool) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| !ignore.contains(&IgnoreRule::Check(f.id)))
        .map(|mut f| {
            if strict {
                f.severity = Severity::Error;
            }
            f
        })
        .collect()
}

/// The ids of the checks that found errors, each once, in order.
pub fn failed(findings: &[Finding]) -> Vec<CheckId> {
    let mut ids: Vec<CheckId> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Quotes a list of values for a message: `a`, `b` and 2 more.
fn quoted_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 3;
    let values: Vec<&str> = values.into_iter().collect();
    let mut parts: Vec<String> = values
        .iter()
        .take(SHOWN)
        .map(|v| format!("`{v}`"))
        .collect();
    if values.len() > SHOWN {
        parts.push(format!("{} more", values.len() - SHOWN));
    }
    match parts.len() {
        0 => String::new(),
        1 => parts.remove(0),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::fixture::Fixture;
    use super::*;

    #[test]
    fn strict_raises_warnings_and_ignore_drops_checks() {
        let mut fixture = Fixture::dev();
        fixture.redirect_uris(&["http://a/cb", "http://a/cb"]);
        fixture.var("NEXT_PUBLIC_KEY", "${authEnv.WORKOS_API_KEY}", "sk_test_x");
        let findings = fixture.run();
        let ids: Vec<_> = findings.iter().map(|f| (f.id, f.severity)).collect();
        assert_eq!(
            ids,
            [
                (CheckId::SecretInPublicVariable, Severity::Error),
                (CheckId::DuplicateUri, Severity::Warning),
            ]
        );

        let strict = settle(findings.clone(), &[], true);
        assert!(strict.iter().all(|f| f.severity == Severity::Error));
        assert_eq!(
            failed(&strict),
            [CheckId::DuplicateUri, CheckId::SecretInPublicVariable]
        );

        let ignore = [
            IgnoreRule::Check(CheckId::SecretInPublicVariable),
            IgnoreRule::Address("workos.redirect_uri[\"http://a/cb\"]".to_owned()),
        ];
        let kept = settle(findings, &ignore, false);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, CheckId::DuplicateUri);
        assert!(failed(&kept).is_empty());
    }

    #[test]
    fn quoted_lists_stay_short() {
        assert_eq!(quoted_list([]), "");
        assert_eq!(quoted_list(["a"]), "`a`");
        assert_eq!(quoted_list(["a", "b"]), "`a` and `b`");
        assert_eq!(
            quoted_list(["a", "b", "c", "d"]),
            "`a`, `b`, `c` and 1 more"
        );
    }
}
