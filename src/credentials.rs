//! Where WorkOS credentials come from: an ordered chain of sources, first found wins.
//!
//! Each source is a [`Step`]. The chain asks the steps in order for the variables still
//! missing and stops as soon as all are known, so a later, costlier step (a network read of the
//! Convex deployment, provisioning) only runs when the earlier ones could not answer.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::provider::env_file::EnvFile;
use crate::state::Secret;
use crate::template::AuthVar;

/// A snapshot of the process environment, taken once so every stage sees the same values.
#[derive(Debug, Clone, Default)]
pub struct ProcessEnv {
    vars: BTreeMap<String, String>,
}

impl ProcessEnv {
    pub fn capture() -> ProcessEnv {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        ProcessEnv { vars }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> ProcessEnv
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        ProcessEnv {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A set, non-empty value.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Whether this run is a remote build (CI systems and hosting providers set `CI`).
    pub fn is_ci(&self) -> bool {
        self.non_empty("CI")
            .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }
}

/// Where a credential was found, for the plan header and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    ProcessEnv,
    EnvFile(PathBuf),
    /// The environment variables of a Convex deployment, by name.
    ConvexDeployment(String),
    /// An environment provisioned for a deployment through the Convex management API.
    Provisioned(String),
    Emulator,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::ProcessEnv => f.write_str("the process environment"),
            Source::EnvFile(path) => write!(f, "{}", path.display()),
            Source::ConvexDeployment(name) => write!(f, "the Convex deployment {name}"),
            Source::Provisioned(name) => {
                write!(
                    f,
                    "the WorkOS environment provisioned for deployment {name}"
                )
            }
            Source::Emulator => f.write_str("the embedded emulator"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub value: T,
    pub source: Source,
}

/// What one step knows; any field may be missing.
#[derive(Debug, Clone, Default)]
pub struct Partial {
    pub client_id: Option<String>,
    pub api_key: Option<Secret>,
    pub environment_id: Option<String>,
}

impl Partial {
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Partial {
        let non_empty = |var: AuthVar| get(var.env_name()).filter(|v| !v.is_empty());
        Partial {
            client_id: non_empty(AuthVar::ClientId),
            api_key: non_empty(AuthVar::ApiKey).map(Secret::new),
            environment_id: non_empty(AuthVar::EnvironmentId),
        }
    }
}

/// One source of credentials.
pub trait Step: Send + Sync {
    fn source(&self) -> Source;

    fn lookup(&self) -> BoxFuture<'_, anyhow::Result<Partial>>;
}

pub struct ProcessEnvStep(pub Arc<ProcessEnv>);

impl Step for ProcessEnvStep {
    fn source(&self) -> Source {
        Source::ProcessEnv
    }

    fn lookup(&self) -> BoxFuture<'_, anyhow::Result<Partial>> {
        let partial = Partial::from_lookup(|name| self.0.get(name).map(str::to_owned));
        Box::pin(async move { Ok(partial) })
    }
}

pub struct EnvFileStep(pub Arc<EnvFile>);

impl Step for EnvFileStep {
    fn source(&self) -> Source {
        Source::EnvFile(self.0.path().to_owned())
    }

    fn lookup(&self) -> BoxFuture<'_, anyhow::Result<Partial>> {
        let partial = Partial::from_lookup(|name| self.0.get(name).map(str::to_owned));
        Box::pin(async move { Ok(partial) })
    }
}

/// Fixed credentials, as the embedded emulator hands them out.
pub struct FixedStep {
    pub source: Source,
    pub partial: Partial,
}

impl Step for FixedStep {
    fn source(&self) -> Source {
        self.source.clone()
    }

    fn lookup(&self) -> BoxFuture<'_, anyhow::Result<Partial>> {
        let partial = self.partial.clone();
        Box::pin(async move { Ok(partial) })
    }
}

/// The resolved credentials.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub client_id: Option<Found<String>>,
    pub api_key: Option<Found<Secret>>,
    pub environment_id: Option<Found<String>>,
    /// Every source asked, in order, for messages about what is missing.
    pub searched: Vec<Source>,
}

impl Credentials {
    pub fn get(&self, var: AuthVar) -> Option<&str> {
        match var {
            AuthVar::ClientId => self.client_id.as_ref().map(|f| f.value.as_str()),
            AuthVar::ApiKey => self.api_key.as_ref().map(|f| f.value.expose()),
            AuthVar::EnvironmentId => self.environment_id.as_ref().map(|f| f.value.as_str()),
        }
    }

    pub fn source(&self, var: AuthVar) -> Option<&Source> {
        match var {
            AuthVar::ClientId => self.client_id.as_ref().map(|f| &f.source),
            AuthVar::ApiKey => self.api_key.as_ref().map(|f| &f.source),
            AuthVar::EnvironmentId => self.environment_id.as_ref().map(|f| &f.source),
        }
    }

    fn is_complete(&self) -> bool {
        self.client_id.is_some() && self.api_key.is_some() && self.environment_id.is_some()
    }

    /// The error for credentials the run needs but no source had.
    pub fn missing(&self, vars: &[AuthVar], remote_build: bool) -> anyhow::Error {
        let names: Vec<&str> = vars.iter().map(|v| v.env_name()).collect();
        let names = names.join(" and ");
        let places: Vec<String> = self.searched.iter().map(|s| format!("  - {s}")).collect();
        let advice = if remote_build {
            format!(
                "this is a remote build: set {names} in your hosting provider's environment \
                 variables (or on the Convex deployment)"
            )
        } else {
            format!("set {names} in the environment or in .env.local")
        };
        let verb = if vars.len() == 1 { "is" } else { "are" };
        anyhow::anyhow!(
            "{names} {verb} needed but not found. Looked in:\n{}\n{advice}",
            places.join("\n")
        )
    }
}

/// The ordered chain.
#[derive(Default)]
pub struct Chain {
    steps: Vec<Box<dyn Step>>,
}

impl Chain {
    pub fn new() -> Chain {
        Chain::default()
    }

    pub fn push(&mut self, step: impl Step + 'static) {
        self.steps.push(Box::new(step));
    }

    pub async fn resolve(&self) -> anyhow::Result<Credentials> {
        let mut credentials = Credentials::default();
        for step in &self.steps {
            if credentials.is_complete() {
                break;
            }
            let source = step.source();
            credentials.searched.push(source.clone());
            let partial = step.lookup().await?;
            fill(&mut credentials.client_id, partial.client_id, &source);
            fill(&mut credentials.api_key, partial.api_key, &source);
            fill(
                &mut credentials.environment_id,
                partial.environment_id,
                &source,
            );
        }
        Ok(credentials)
    }
}

fn fill<T>(slot: &mut Option<Found<T>>, value: Option<T>, source: &Source) {
    if slot.is_none() {
        *slot = value.map(|value| Found {
            value,
            source: source.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(source: Source, client_id: Option<&str>, key: Option<&str>) -> FixedStep {
        FixedStep {
            source,
            partial: Partial {
                client_id: client_id.map(str::to_owned),
                api_key: key.map(Secret::new),
                environment_id: None,
            },
        }
    }

    #[tokio::test]
    async fn first_found_wins_per_variable() {
        let mut chain = Chain::new();
        chain.push(fixed(Source::ProcessEnv, None, Some("sk_test_env")));
        chain.push(fixed(
            Source::EnvFile(".env.local".into()),
            Some("client_file"),
            Some("x"),
        ));
        let credentials = chain.resolve().await.unwrap();
        assert_eq!(credentials.get(AuthVar::ApiKey), Some("sk_test_env"));
        assert_eq!(
            credentials.source(AuthVar::ApiKey),
            Some(&Source::ProcessEnv)
        );
        assert_eq!(credentials.get(AuthVar::ClientId), Some("client_file"));
        assert!(matches!(
            credentials.source(AuthVar::ClientId),
            Some(Source::EnvFile(_))
        ));
        assert_eq!(credentials.searched.len(), 2);
    }

    #[test]
    fn empty_values_count_as_missing() {
        let env = ProcessEnv::from_pairs([("WORKOS_CLIENT_ID", ""), ("WORKOS_API_KEY", "k")]);
        let partial = Partial::from_lookup(|n| env.get(n).map(str::to_owned));
        assert!(partial.client_id.is_none());
        assert!(partial.api_key.is_some());
    }

    #[test]
    fn missing_credentials_say_where_they_were_looked_for() {
        let credentials = Credentials {
            searched: vec![Source::ProcessEnv, Source::EnvFile("/p/.env.local".into())],
            ..Credentials::default()
        };
        let text = credentials.missing(&[AuthVar::ApiKey], true).to_string();
        assert!(text.contains("WORKOS_API_KEY"), "{text}");
        assert!(text.contains("the process environment"), "{text}");
        assert!(text.contains("/p/.env.local"), "{text}");
        assert!(text.contains("hosting provider"), "{text}");
    }

    #[test]
    fn ci_detection() {
        assert!(ProcessEnv::from_pairs([("CI", "true")]).is_ci());
        assert!(ProcessEnv::from_pairs([("CI", "1")]).is_ci());
        assert!(!ProcessEnv::from_pairs([("CI", "false")]).is_ci());
        assert!(!ProcessEnv::from_pairs([("X", "1")]).is_ci());
    }
}
