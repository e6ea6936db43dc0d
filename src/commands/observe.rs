//! The read-only half of every pipeline command: load the project, find the Convex
//! deployment, resolve credentials, compile the desired state, read the live state, diff, and
//! record what the plan was made from. Nothing here writes: readers only, and the connections
//! stay inside unless apply asks for them through [`observe_for_apply`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::checks::{self, Finding};
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
use crate::provider::convex::{self, Deployment, Location, Management, Provisioned};
use crate::provider::env_file::EnvFileReader;
use crate::provider::workos::{Api, WorkosReader};
use crate::state::{ResourceKind, Secret, State, Value};
use crate::target::Target;
use crate::template::AuthVar;

use super::Session;

pub const DEFAULT_WORKOS_API_URL: &str = "https://api.workos.com";

/// What a read-only run saw.
pub struct Observation {
    /// The line saying where the credentials came from, printed above the plan (empty when the
    /// output is not for people, or under `--quiet`).
    pub header: String,
    pub plan: Plan,
    /// The findings of the consistency checks, before `--ignore` and `--strict`.
    pub findings: Vec<Finding>,
    pub project: Project,
    /// What the plan was made from, hashed with the run's salt.
    pub inputs: Inputs,
}

/// The connections apply writes through.
#[derive(Default)]
pub struct Connections {
    pub workos: Option<Arc<Api>>,
    pub deployment: Option<Arc<Deployment>>,
    /// Set when the plan provisions: the management API and the deployment to provision for.
    pub provisioning: Option<(Arc<Management>, String)>,
}

pub enum Outcome<T> {
    Observed(T),
    /// The config has no section for the target: nothing is managed.
    NoSection(Target),
}

/// How to observe.
pub struct Request<'a> {
    /// The project directory.
    pub dir: &'a Path,
    pub target: Target,
    pub prune: bool,
    pub salt: &'a Salt,
    /// Credentials of an environment apply has just provisioned.
    pub provisioned: Option<&'a Provisioned>,
}

/// Reads and plans; holds no way to write.
pub async fn observe(
    session: &Session,
    emulator: Option<&Emulator>,
    request: Request<'_>,
) -> anyhow::Result<Outcome<Observation>> {
    Ok(match observe_for_apply(session, emulator, request).await? {
        Outcome::Observed((observation, _connections)) => Outcome::Observed(observation),
        Outcome::NoSection(target) => Outcome::NoSection(target),
    })
}

/// Like [`observe`], and hands back the connections that apply's writers need.
pub async fn observe_for_apply(
    session: &Session,
    emulator: Option<&Emulator>,
    request: Request<'_>,
) -> anyhow::Result<Outcome<(Observation, Connections)>> {
    let target = request.target;
    let project = Project::load(request.dir)?;
    let Some(section) = project.auth_kit.as_ref().and_then(|a| a.section(target)) else {
        return Ok(Outcome::NoSection(target));
    };
    project.env_local.check()?;
    // Values that cannot work stop the run before its first request.
    desired::check_offline(section, project.framework, &|name| {
        build_env(session, &project, name)
    })
    .map_err(|problems| anyhow::anyhow!("{}: {problems}", project.config_path.display()))?;
    Endpoint::parse("WORKOS_API_URL", &workos_url(session, emulator))?;
    let client = session.client.clone();

    let location = locate(session, &project, emulator, target)?;
    let deployment = deployment(&location, &client)?;
    // An API key from the shell or .env.local comes before the deployment in the chain, so the
    // deployment cannot change it: WorkOS is then read at the same time as the deployment, one
    // round trip instead of two. The read is used only if the chain resolves the same key.
    let early_key = early_api_key(session, &project, emulator);
    let early_kinds = desired::managed_lists(&section);
    let early = async {
        let key = early_key.filter(|_| !early_kinds.is_empty())?;
        let api = match workos_api(session, emulator, &client, key.clone()) {
            Ok(api) => Arc::new(api),
            Err(error) => return Some((key, Err(error))),
        };
        Some((key, read_workos(&api, &early_kinds).await))
    };
    let deployment_read = async {
        match &deployment {
            Some(deployment) => deployment.workos_vars().await.map(Some),
            None => Ok(None),
        }
    };
    // A failed deployment read ends the run at once; the WorkOS read keeps its own error for
    // later, in case the deployment's answer makes it irrelevant.
    let (deployment_vars, early) =
        tokio::try_join!(deployment_read, async { anyhow::Ok(early.await) })?;

    let credentials = chain(
        session,
        &project,
        emulator,
        target,
        &deployment,
        &deployment_vars,
        &request,
    )
    .resolve()
    .await?;
    check_conflict(&credentials, &deployment_vars, target)?;

    let required = desired::required_credentials(&section);
    let missing: Vec<AuthVar> = required
        .iter()
        .copied()
        .filter(|&var| credentials.get(var).is_none())
        .collect();
    let nothing_found = AuthVar::ALL
        .iter()
        .all(|&var| credentials.get(var).is_none());
    let provision_for = match (&location.deployment_name, &location.management_token) {
        (Some(name), Some(_)) if target.is_local() && nothing_found && !missing.is_empty() => {
            Some(name.clone())
        }
        _ => None,
    };
    if !missing.is_empty() && provision_for.is_none() {
        return Err(missing_error(
            &credentials,
            &missing,
            session,
            target,
            &location,
        ));
    }
    check_key_kind(&credentials, target, section.environment_type)?;

    let build_env = |name: &str| build_env(session, &project, name);
    let auth = |var: AuthVar| credentials.get(var).map(str::to_owned);
    let inputs = desired::Inputs {
        section,
        framework: project.framework,
        auth: &auth,
        build_env: &build_env,
        auth_pending: provision_for.is_some(),
    };
    let mut desired = desired::compile(&inputs)
        .map_err(|problems| anyhow::anyhow!("{}: {problems}", project.config_path.display()))?;
    if let Some(name) = &provision_for {
        desired::add_environment(&mut desired, &format!("{target}:{name}"));
    }
    if deployment.is_some() {
        desired::add_deployment_vars(&mut desired, |var| {
            if provision_for.is_some() {
                return Some(Value::Pending);
            }
            let value = credentials.get(var)?.to_owned();
            Some(if var == AuthVar::ApiKey {
                Value::Secret(Secret::new(value))
            } else {
                Value::Text(value)
            })
        });
    }

    let workos = match &credentials.api_key {
        Some(key) if desired.needs_workos() => Some(Arc::new(workos_api(
            session,
            emulator,
            &client,
            key.value.clone(),
        )?)),
        _ => None,
    };

    let same_kinds = desired
        .managed
        .iter()
        .copied()
        .filter(|k| k.is_set_member())
        .eq(early_kinds.iter().copied());
    let early = early.filter(|(key, _)| {
        same_kinds
            && credentials
                .api_key
                .as_ref()
                .is_some_and(|found| found.value.expose() == key.expose())
    });
    let mut live = read_live(
        &desired,
        workos.as_ref(),
        &project,
        early.map(|(_, read)| read),
    )
    .await?;
    if provision_for.is_some() {
        for &kind in desired.managed.iter().filter(|k| k.is_set_member()) {
            live.mark_pending(kind, "the WorkOS environment is provisioned first");
        }
    }
    if let Some(vars) = &deployment_vars {
        live.merge(convex::live_state(vars));
    }
    let plan = plan::diff(
        target,
        &desired.managed,
        &desired.state,
        &live,
        DiffOptions {
            prune: request.prune,
        },
    );

    let app_env = super::checks::app_env(session, &project, target);
    let live_key = credentials
        .api_key
        .as_ref()
        .is_some_and(|found| desired::is_live_key(found.value.expose()));
    let findings = checks::run(&checks::Input {
        target,
        framework: project.framework,
        live_key,
        declared: &desired.declared,
        live: Some(&live),
        prune: request.prune,
        app_env: &app_env,
    });

    let mut endpoints = BTreeMap::new();
    if workos.is_some() {
        endpoints.insert(
            "WORKOS_API_URL".to_owned(),
            endpoint_label(session, emulator),
        );
    }
    if let (Some((url, _)), Some(_)) = (&location.deployment_url, &deployment) {
        let label = if emulator.is_some() {
            "the embedded emulator".to_owned()
        } else {
            url.clone()
        };
        endpoints.insert("CONVEX_URL".to_owned(), label);
    }
    let inputs = record_inputs(
        request.salt,
        target,
        &project,
        &credentials,
        &desired,
        &live,
        endpoints,
        deployment_vars.as_ref(),
    );
    let header = describe_sources(session, &credentials, provision_for.as_deref());

    let management = match (&provision_for, &location.management_token) {
        (Some(name), Some(token)) => {
            let endpoint = Endpoint::parse("CONVEX_PROVISION_HOST", &location.management_url)?;
            let management = Management::new(client.clone(), endpoint, token.clone());
            Some((Arc::new(management), name.clone()))
        }
        _ => None,
    };
    let connections = Connections {
        workos,
        deployment,
        provisioning: management,
    };
    Ok(Outcome::Observed((
        Observation {
            header,
            plan,
            findings,
            project,
            inputs,
        },
        connections,
    )))
}

/// Where the Convex deployment is: the emulator stands in for it under `--emulator`.
fn locate(
    session: &Session,
    project: &Project,
    emulator: Option<&Emulator>,
    target: Target,
) -> anyhow::Result<Location> {
    if let Some(emulator) = emulator {
        let (name, admin_key) = match target {
            Target::Prod => (emulator.prod_deployment_name(), emulator.prod_admin_key()),
            _ => (emulator.deployment_name(), emulator.admin_key()),
        };
        return Ok(Location {
            deployment_name: Some(name.to_owned()),
            deployment_url: Some((format!("{}/d/{name}", emulator.url()), "CONVEX_URL")),
            admin_key: Some(Secret::new(admin_key)),
            management_url: emulator.url().to_owned(),
            management_token: Some(Secret::new(emulator.access_token())),
        });
    }
    let get = |name: &str| {
        session
            .env
            .get(name)
            .or_else(|| project.env_local.get(name))
            .map(str::to_owned)
    };
    Location::from_vars(&get, stored_access_token(session)).map_err(anyhow::Error::msg)
}

/// The token `npx convex login` stores in `~/.convex/config.json`, used for provisioning when
/// no token is set in the environment. A missing or unreadable file just means none.
fn stored_access_token(session: &Session) -> Option<String> {
    let home = session.env.non_empty("HOME")?;
    let bytes = std::fs::read(std::path::Path::new(home).join(".convex/config.json")).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    config.get("accessToken")?.as_str().map(str::to_owned)
}

fn deployment(
    location: &Location,
    client: &Arc<http::Client>,
) -> anyhow::Result<Option<Arc<Deployment>>> {
    let (Some((url, variable)), Some(key)) = (&location.deployment_url, &location.admin_key) else {
        return Ok(None);
    };
    let endpoint = Endpoint::parse(variable, url)?;
    let name = location
        .deployment_name
        .clone()
        .unwrap_or_else(|| url.clone());
    Ok(Some(Arc::new(Deployment::new(
        client.clone(),
        name,
        endpoint,
        key.clone(),
    ))))
}

#[allow(clippy::too_many_arguments)]
fn chain(
    session: &Session,
    project: &Project,
    emulator: Option<&Emulator>,
    target: Target,
    deployment: &Option<Arc<Deployment>>,
    deployment_vars: &Option<BTreeMap<String, String>>,
    request: &Request<'_>,
) -> Chain {
    let mut chain = Chain::new();
    // Under --emulator, WORKOS_* in the shell belong to the real WorkOS, not to the emulator.
    if emulator.is_none() {
        chain.push(ProcessEnvStep(session.env.clone()));
    }
    chain.push(EnvFileStep(project.env_local.clone()));
    if let (Some(deployment), Some(vars)) = (deployment, deployment_vars) {
        let get = |var: AuthVar| vars.get(var.env_name()).filter(|v| !v.is_empty()).cloned();
        chain.push(FixedStep {
            source: Source::ConvexDeployment(deployment.name().to_owned()),
            partial: Partial {
                client_id: get(AuthVar::ClientId),
                api_key: get(AuthVar::ApiKey).map(Secret::new),
                environment_id: get(AuthVar::EnvironmentId),
            },
        });
    }
    if let Some(provisioned) = request.provisioned {
        let name = deployment.as_ref().map_or("", |d| d.name()).to_owned();
        chain.push(FixedStep {
            source: Source::Provisioned(name),
            partial: Partial {
                client_id: Some(provisioned.client_id.clone()),
                api_key: Some(provisioned.api_key.clone()),
                environment_id: Some(provisioned.environment_id.clone()),
            },
        });
    }
    // Preview and prod cannot provision; the emulator's own environment stands in for theirs.
    if let (Some(emulator), false) = (emulator, target.is_local()) {
        chain.push(FixedStep {
            source: Source::Emulator,
            partial: Partial {
                client_id: Some(emulator.client_id().to_owned()),
                api_key: Some(Secret::new(emulator.api_key())),
                environment_id: Some(emulator.environment_id().to_owned()),
            },
        });
    }
    chain
}

/// A dev client id in `.env.local` (or the shell) that differs from the deployment's means the
/// app and its backend would talk to different WorkOS environments. Client ids are not secret
/// and are shown; API keys are not.
fn check_conflict(
    credentials: &Credentials,
    deployment_vars: &Option<BTreeMap<String, String>>,
    target: Target,
) -> anyhow::Result<()> {
    let (Some(vars), true) = (deployment_vars, target.is_local()) else {
        return Ok(());
    };
    let Some(found) = &credentials.client_id else {
        return Ok(());
    };
    if matches!(found.source, Source::ConvexDeployment(_)) {
        return Ok(());
    }
    match vars
        .get(AuthVar::ClientId.env_name())
        .filter(|v| !v.is_empty())
    {
        Some(deployed) if deployed != &found.value => anyhow::bail!(
            "conflict: WORKOS_CLIENT_ID is {} in {}, but {} on the Convex deployment; the app and \
             its backend would use different WorkOS environments. Remove the stale value (from \
             {} or with `npx convex env remove WORKOS_CLIENT_ID`) so that both agree, then run \
             again",
            found.value,
            found.source,
            deployed,
            found.source
        ),
        _ => Ok(()),
    }
}

fn missing_error(
    credentials: &Credentials,
    missing: &[AuthVar],
    session: &Session,
    target: Target,
    location: &Location,
) -> anyhow::Error {
    let remote = session.env.is_ci() || !target.is_local();
    let mut error = credentials.missing(missing, remote);
    if target.is_local() && location.deployment_name.is_none() {
        error = error.context(
            "no Convex deployment is configured either (CONVEX_DEPLOYMENT, CONVEX_DEPLOY_KEY or \
             CONVEX_URL), so an environment cannot be provisioned",
        );
    }
    error
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

fn workos_api(
    session: &Session,
    emulator: Option<&Emulator>,
    client: &Arc<http::Client>,
    key: Secret,
) -> anyhow::Result<Api> {
    let endpoint = Endpoint::parse("WORKOS_API_URL", &workos_url(session, emulator))?;
    Ok(Api::new(client.clone(), endpoint, key))
}

/// The API key the first steps of the chain (the shell, unless under `--emulator`, then
/// `.env.local`) give, if any: later steps cannot override it.
fn early_api_key(
    session: &Session,
    project: &Project,
    emulator: Option<&Emulator>,
) -> Option<Secret> {
    let var = AuthVar::ApiKey.env_name();
    let shell = emulator
        .is_none()
        .then(|| session.env.non_empty(var))
        .flatten();
    let file = || project.env_local.get(var).filter(|v| !v.is_empty());
    shell.or_else(file).map(Secret::new)
}

/// Reads the WorkOS lists of `kinds`, all at once.
async fn read_workos(api: &Arc<Api>, kinds: &[ResourceKind]) -> anyhow::Result<State> {
    WorkosReader::new(api.clone(), kinds.to_vec()).read().await
}

/// Reads WorkOS and `.env.local` at the same time. `early` is a WorkOS read already made with
/// the same key, for the same kinds.
async fn read_live(
    desired: &Desired,
    api: Option<&Arc<Api>>,
    project: &Project,
    early: Option<anyhow::Result<State>>,
) -> anyhow::Result<State> {
    let workos_kinds: Vec<ResourceKind> = desired
        .managed
        .iter()
        .copied()
        .filter(|k| k.is_set_member())
        .collect();
    let workos = async {
        match (api, early) {
            (Some(_), Some(read)) if !workos_kinds.is_empty() => read,
            (Some(api), _) if !workos_kinds.is_empty() => read_workos(api, &workos_kinds).await,
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

#[allow(clippy::too_many_arguments)]
fn record_inputs(
    salt: &Salt,
    target: Target,
    project: &Project,
    credentials: &Credentials,
    desired: &Desired,
    live: &State,
    endpoints: BTreeMap<String, String>,
    deployment_vars: Option<&BTreeMap<String, String>>,
) -> Inputs {
    let value_hash = |value: &Value| match value.text() {
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
        endpoints,
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
        convex: deployment_vars
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.clone(), salt.hash(value.as_bytes())))
            .collect(),
    }
}

/// One line saying where the run's credentials came from: reviewers of a plan need to know
/// which environment it was made against. Only sources are shown, never values.
fn describe_sources(
    session: &Session,
    credentials: &Credentials,
    provision_for: Option<&str>,
) -> String {
    if session.global.quiet || !session.human_output {
        return String::new();
    }
    if let Some(name) = provision_for {
        format!(
            "No WorkOS credentials found; apply provisions an environment for deployment \
             {name} first.\n\n"
        )
    } else if let Some(source) = credentials.source(AuthVar::ApiKey) {
        // The other credentials are named only where they came from somewhere else: a client
        // id from one place and a key from another is worth a reviewer's attention.
        let others: Vec<String> = [AuthVar::ClientId, AuthVar::EnvironmentId]
            .into_iter()
            .filter_map(|var| {
                let other = credentials.source(var)?;
                (other != source).then(|| format!("{} from {other}", var.env_name()))
            })
            .collect();
        let mut text = format!("Using WORKOS_API_KEY from {source}.\n");
        if !others.is_empty() {
            text.push_str(&format!("Using {}.\n", others.join(", ")));
        }
        text.push('\n');
        text
    } else {
        String::new()
    }
}
