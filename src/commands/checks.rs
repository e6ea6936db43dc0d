//! How commands treat the findings of the consistency checks: which are ignored, which stop
//! the run, and what the app will see of its redirect-URI variables.

use crate::checks::{self, Finding, IgnoreRule};
use crate::cli::CheckArgs;
use crate::plan::drift::AddressPattern;
use crate::project::Project;
use crate::target::Target;

use super::Session;

/// `--ignore` and `--strict`, as one command applies them.
pub struct CheckOptions<'a> {
    ignore: &'a [IgnoreRule],
    strict: bool,
}

impl<'a> CheckOptions<'a> {
    /// `filters_addresses` says whether the command uses address patterns (drift does); other
    /// commands note that such a pattern changes nothing for them.
    pub fn new(
        session: &Session,
        args: &'a CheckArgs,
        strict: bool,
        filters_addresses: bool,
    ) -> CheckOptions<'a> {
        let patterns: Vec<&str> = args
            .ignore
            .iter()
            .filter_map(|rule| match rule {
                IgnoreRule::Address(pattern) => Some(pattern.as_str()),
                IgnoreRule::Check(_) => None,
            })
            .collect();
        if !patterns.is_empty() && !filters_addresses && !session.global.quiet {
            eprintln!(
                "note: --ignore {}: address patterns only filter drift reports; give a check \
                 id to accept its findings",
                patterns.join(", ")
            );
        }
        CheckOptions {
            ignore: &args.ignore,
            strict,
        }
    }

    pub fn settle(&self, findings: Vec<Finding>) -> Vec<Finding> {
        checks::settle(findings, self.ignore, self.strict)
    }

    /// The address patterns among the `--ignore` values.
    pub fn address_patterns(&self) -> Vec<AddressPattern> {
        self.ignore
            .iter()
            .filter_map(|rule| match rule {
                IgnoreRule::Address(pattern) => Some(AddressPattern::new(pattern.clone())),
                IgnoreRule::Check(_) => None,
            })
            .collect()
    }
}

/// Stops the run when a check found an error (or, under `--strict`, a warning). Called after
/// the findings are printed and before anything is written.
pub fn stop_on_errors(findings: &[Finding], consequence: &str) -> anyhow::Result<()> {
    let failed = checks::failed(findings);
    if failed.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = failed.iter().map(|id| id.as_str()).collect();
    anyhow::bail!(
        "the checks found errors ({}){consequence}; fix them, or pass --ignore ID for a check \
         whose findings you accept",
        ids.join(", ")
    )
}

/// The redirect-URI variables the app sees apart from what `localEnvVars` writes: the dev
/// server reads `.env.local`; a preview or production build inherits this run's environment.
pub fn app_env(session: &Session, project: &Project, target: Target) -> checks::AppEnv {
    let source = if target.is_local() {
        checks::AppEnvSource::EnvLocal
    } else {
        checks::AppEnvSource::BuildEnvironment
    };
    let values = checks::REDIRECT_VARIABLES
        .iter()
        .filter_map(|&name| {
            let value = match source {
                checks::AppEnvSource::EnvLocal => project.env_local.get(name),
                checks::AppEnvSource::BuildEnvironment => session.env.get(name),
            };
            let value = value.filter(|v| !v.is_empty())?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    checks::AppEnv { source, values }
}
