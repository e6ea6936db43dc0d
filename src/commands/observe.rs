//! The read-only half of every pipeline command: load the project, resolve credentials,
//! compile the desired state, read the live state, diff, and record what the plan was made
//! from. Nothing here can write: readers only, and the WorkOS connection stays inside unless
//! apply asks for it through [`observe_for_apply`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{self, AuthKit};
use crate::credentials::{
    Chain, Credentials, EnvFileStep, FixedStep, Partial, ProcessEnvStep, Source,
};
use crate::desired::{self, Desired};
use crate::emulator::Emulator;
use crate::http::{self, Endpoint};
use crate::plan::saved::{EnvFileInput, Inputs, Salt};
use crate::plan::{self, DiffOptions, Plan};
use crate::project::Project;
use crate::provider::Reader;
use crate::provider::env_file::EnvFileReader;
use crate::provider::workos::{Api, WorkosReader};
use crate::state::{ResourceKind, Secret, State};
use crate::target::Target;
use crate::template::AuthVar;

use super::{Session, emit};

pub const DEFAULT_WORKOS_API_URL: &str = "https://api.workos.com";

/// What a read-only run saw.
pub struct Observation {
    pub plan: Plan,
    pub project: Project,
    /// What the plan was made from, hashed with the run's salt.
    pub inputs: Inputs,
}

pub enum Outcome<T> {
    Observed(T),
    /// The config has no section for the target: nothing is managed.
    NoSection(Target),
}

/// Reads and plans; holds no way to write.
pub async fn observe(
    session: &Session,
    emulator: Option<&Emulator>,
    target: Target,
    prune: bool,
    salt: &Salt,
) -> anyhow::Result<Outcome<Observation>> {
    Ok(
        match observe_for_apply(session, emulator, target, prune, salt).await? {
            Outcome::Observed((observation, _api)) => Outcome::Observed(observation),
            Outcome::NoSection(target) => Outcome::NoSection(target),
        },
    )
}

/// Like [`observe`], and hands back the WorkOS connection that apply's writer needs.
pub async fn observe_for_apply(
    session: &Session,
    emulator: Option<&Emulator>,
    target: Target,
    prune: bool,
    salt: &Salt,
) -> anyhow::Result<Outcome<(Observation, Option<Arc<Api>>)>> {
    let project = Project::load(&session.global.dir)?;
    let Some(section) = project.auth_kit.as_ref().and_then(|a| a.section(target)) else {
        return Ok(Outcome::NoSection(target));
    };
    project.env_local.check()?;

    let credentials = chain(session, &project, emulator).resolve().await?;
    let missing: Vec<AuthVar> = desired::required_credentials(&section)
        .into_iter()
        .filter(|&var| credentials.get(var).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(credentials.missing(&missing, is_remote(session, target)));
    }
    check_key_kind(&credentials, target, section.environment_type)?;

    let build_env = |name: &str| build_env(session, &project, name);
    let auth = |var: AuthVar| credentials.get(var).map(str::to_owned);
    let inputs = desired::Inputs {
        section,
        framework: project.framework,
        auth: &auth,
        build_env: &build_env,
    };
    let desired = desired::compile(&inputs)
        .map_err(|problems| anyhow::anyhow!("{}: {problems}", project.config_path.display()))?;

    let api = match &credentials.api_key {
        Some(key) if desired.needs_workos() => {
            Some(Arc::new(workos_api(session, emulator, key.value.clone())?))
        }
        _ => None,
    };

    let live = read_live(&desired, api.as_ref(), &project).await?;
    let plan = plan::diff(
        target,
        &desired.managed,
        &desired.state,
        &live,
        DiffOptions { prune },
    );
    let endpoint = api.as_ref().map(|_| endpoint_label(session, emulator));
    let inputs = record_inputs(
        salt,
        target,
        &project,
        &credentials,
        &desired,
        &live,
        endpoint,
    );
    describe_sources(session, &credentials, api.is_some())?;
    Ok(Outcome::Observed((
        Observation {
            plan,
            project,
            inputs,
        },
        api,
    )))
}

/// A remote build (CI, or a preview/prod target) has no one to ask and no `.env.local`.
fn is_remote(session: &Session, target: Target) -> bool {
    session.env.is_ci() || !target.is_local()
}

fn chain(session: &Session, project: &Project, emulator: Option<&Emulator>) -> Chain {
    let mut chain = Chain::new();
    if let Some(emulator) = emulator {
        chain.push(FixedStep {
            source: Source::Emulator,
            partial: Partial {
                client_id: Some(emulator.client_id().to_owned()),
                api_key: Some(Secret::new(emulator.api_key())),
                environment_id: Some(emulator.environment_id().to_owned()),
            },
        });
    }
    chain.push(ProcessEnvStep(session.env.clone()));
    chain.push(EnvFileStep(project.env_local.clone()));
    chain
}

/// `${buildEnv.NAME}`: the process environment, then `.env.local`, then `.env`; the first
/// place that sets the variable wins, even with an empty value (which is then an error).
pub fn build_env(session: &Session, project: &Project, name: &str) -> Option<String> {
    session
        .env
        .get(name)
        .or_else(|| project.env_local.get(name))
        .or_else(|| project.env.get(name))
        .map(str::to_owned)
}

/// A prod section names the kind of WorkOS environment it must use; a key of the other kind
/// means the deployment points at the wrong environment.
fn check_key_kind(
    credentials: &Credentials,
    target: Target,
    environment_type: Option<config::EnvironmentType>,
) -> anyhow::Result<()> {
    let Some(found) = &credentials.api_key else {
        return Ok(());
    };
    if target != Target::Prod {
        return Ok(());
    }
    let wants_production = environment_type.is_none_or(|t| t.is_production());
    let key = found.value.expose();
    let wanted = environment_type.map_or("production", |t| t.as_str());
    if wants_production && key.starts_with("sk_test_") {
        anyhow::bail!(
            "authKit.prod wants a {wanted} WorkOS environment, but WORKOS_API_KEY (from {}) is a \
             sandbox key (sk_test_); use the production environment's key, or set \
             authKit.prod.environmentType to `development` or `staging`",
            found.source
        );
    }
    if !wants_production && key.starts_with("sk_live_") {
        anyhow::bail!(
            "authKit.prod.environmentType is `{wanted}`, but WORKOS_API_KEY (from {}) is a \
             production key (sk_live_); use the {wanted} environment's key",
            found.source
        );
    }
    Ok(())
}

fn workos_url(session: &Session, emulator: Option<&Emulator>) -> String {
    match emulator {
        Some(emulator) => emulator.url().to_owned(),
        None => session
            .env
            .non_empty("WORKOS_API_URL")
            .unwrap_or(DEFAULT_WORKOS_API_URL)
            .to_owned(),
    }
}

/// How the endpoint is recorded in a plan file. The embedded emulator listens on a new port
/// each run, so its URL would make every saved plan stale.
fn endpoint_label(session: &Session, emulator: Option<&Emulator>) -> String {
    match emulator {
        Some(_) => "the embedded emulator".to_owned(),
        None => workos_url(session, None),
    }
}

fn workos_api(session: &Session, emulator: Option<&Emulator>, key: Secret) -> anyhow::Result<Api> {
    let endpoint = Endpoint::parse("WORKOS_API_URL", &workos_url(session, emulator))?;
    let client = http::Client::new(http::Policy::default())?;
    Ok(Api::new(Arc::new(client), endpoint, key))
}

/// Reads WorkOS and `.env.local` at the same time.
async fn read_live(
    desired: &Desired,
    api: Option<&Arc<Api>>,
    project: &Project,
) -> anyhow::Result<State> {
    let workos_kinds: Vec<ResourceKind> = desired
        .managed
        .iter()
        .copied()
        .filter(|k| k.is_set_member())
        .collect();
    let workos = async {
        match api {
            Some(api) if !workos_kinds.is_empty() => {
                WorkosReader::new(api.clone(), workos_kinds.clone())
                    .read()
                    .await
            }
            _ => Ok(State::new()),
        }
    };
    let env_file = async {
        if desired.manages(ResourceKind::EnvFileVar) {
            EnvFileReader::new(project.env_local.clone()).read().await
        } else {
            Ok(State::new())
        }
    };
    let (workos, env_file) = tokio::try_join!(workos, env_file)?;
    let mut live = workos;
    live.merge(env_file);
    Ok(live)
}

fn section_json(auth_kit: Option<&AuthKit>, target: Target) -> String {
    let section = auth_kit.map(|a| match target {
        Target::Dev => serde_json::to_value(&a.dev),
        Target::Preview => serde_json::to_value(&a.preview),
        Target::Prod => serde_json::to_value(&a.prod),
    });
    section
        .and_then(Result::ok)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn record_inputs(
    salt: &Salt,
    target: Target,
    project: &Project,
    credentials: &Credentials,
    desired: &Desired,
    live: &State,
    endpoint: Option<String>,
) -> Inputs {
    let value_hash = |value: &crate::state::Value| match value.text() {
        Some(text) => salt.hash(text.as_bytes()),
        None => format!("{value:?}"),
    };
    let identity = AuthVar::ALL
        .map(|var| credentials.get(var).unwrap_or_default())
        .join("\0");

    let mut workos = BTreeMap::new();
    for &kind in desired.managed.iter().filter(|k| k.is_set_member()) {
        let items = live.is_read(kind).then(|| {
            live.of_kind(kind)
                .map(|(address, item)| {
                    let name = address.name().unwrap_or_default();
                    if item.is_default {
                        format!("{name} (default)")
                    } else {
                        name.to_owned()
                    }
                })
                .collect()
        });
        workos.insert(kind.to_string(), items);
    }

    let env_file = &project.env_local;
    Inputs {
        target,
        endpoints: endpoint
            .map(|url| ("WORKOS_API_URL".to_owned(), url))
            .into_iter()
            .collect(),
        credentials: salt.hash(identity.as_bytes()),
        config_section: salt.hash(section_json(project.auth_kit.as_ref(), target).as_bytes()),
        desired: desired
            .state
            .items()
            .map(|(address, item)| (address.to_string(), value_hash(&item.value)))
            .collect(),
        env_local: EnvFileInput {
            exists: env_file.exists(),
            bytes: salt.hash(env_file.bytes()),
            vars: env_file
                .document()
                .vars()
                .into_iter()
                .map(|(name, value)| (name, salt.hash(value.as_bytes())))
                .collect(),
        },
        workos,
        convex: BTreeMap::new(),
    }
}

/// One line saying where the run's credentials came from: reviewers of a plan need to know
/// which environment it was made against. Only sources are shown, never values.
fn describe_sources(
    session: &Session,
    credentials: &Credentials,
    uses_workos: bool,
) -> anyhow::Result<()> {
    if session.global.quiet || !uses_workos || !session.human_output {
        return Ok(());
    }
    if let Some(source) = credentials.source(AuthVar::ApiKey) {
        emit(&format!("Using WORKOS_API_KEY from {source}.\n\n"))?;
    }
    Ok(())
}
