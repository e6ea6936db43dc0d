//! Wiring: each command runs the pipeline stages it needs, in order.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::apply::{self, Writers};
use crate::checks::{self, Finding, IgnoreRule};
use crate::cli::{
    ApplyArgs, CheckArgs, Cli, ColorChoice, Command, DriftArgs, EmulateArgs, Global, PlanArgs,
    ValidateArgs,
};
use crate::config;
use crate::credentials::{
    Chain, Credentials, EnvFileStep, FixedStep, Partial, ProcessEnv, ProcessEnvStep, Source,
};
use crate::desired::{self, Desired};
use crate::emulator::{self, Emulator};
use crate::http::{self, Endpoint};
use crate::plan::{self, DiffOptions, Plan};
use crate::project::Project;
use crate::provider::Reader;
use crate::provider::env_file::{EnvFileReader, EnvFileWriter};
use crate::provider::workos::{self, Api, WorkosReader, WorkosWriter};
use crate::render::{self, Style};
use crate::state::{ResourceKind, Secret, State};
use crate::target::{self, Target};
use crate::template::AuthVar;

/// Exit codes, in one place. 2 always means "changes present", never a usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Changes = 2,
}

pub const DEFAULT_WORKOS_API_URL: &str = "https://api.workos.com";

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    init_logging(&cli.global);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(cli.global, cli.command))
}

async fn run_async(global: Global, command: Command) -> anyhow::Result<Exit> {
    let session = Session::new(global);
    let pipeline = match command {
        Command::Plan(args) => Pipeline::Plan(args),
        Command::Apply(args) => Pipeline::Apply(args),
        Command::Drift(args) => Pipeline::Drift(args),
        Command::Validate(args) => return validate(&session, args),
        Command::Emulate(args) => return emulate(args).await,
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&config::json_schema())?;
            emit(&format!("{schema}\n"))?;
            return Ok(Exit::Ok);
        }
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "authkit-sync", &mut buffer);
            emit(&String::from_utf8_lossy(&buffer))?;
            return Ok(Exit::Ok);
        }
    };

    let emulator = match &session.global.emulator {
        Some(state_file) => Some(start_emulator(state_file.clone()).await?),
        None => None,
    };
    let result = match pipeline {
        Pipeline::Plan(args) => plan_command(&session, emulator.as_ref(), args).await,
        Pipeline::Apply(args) => apply_command(&session, emulator.as_ref(), args).await,
        Pipeline::Drift(args) => drift_command(&session, emulator.as_ref(), args).await,
    };
    // Stopped even after an error, so that its state file is saved.
    if let Some(emulator) = emulator {
        emulator
            .shutdown()
            .await
            .context("the embedded emulator could not stop")?;
    }
    result
}

/// The commands that run the whole pipeline and may use the embedded emulator.
enum Pipeline {
    Plan(PlanArgs),
    Apply(ApplyArgs),
    Drift(DriftArgs),
}

/// What every command shares: flags, the environment snapshot, the output style.
struct Session {
    global: Global,
    env: Arc<ProcessEnv>,
    style: Style,
}

impl Session {
    fn new(global: Global) -> Session {
        let env = Arc::new(ProcessEnv::capture());
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => io::stdout().is_terminal() && env.non_empty("NO_COLOR").is_none(),
        };
        Session {
            global,
            env,
            style: Style { color },
        }
    }

    fn target(&self) -> anyhow::Result<Target> {
        target::select(self.global.target, self.env.get("CONVEX_DEPLOY_KEY"))
            .map_err(anyhow::Error::msg)
    }
}

fn init_logging(global: &Global) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // Only this crate's events: dependencies log request details we do not control.
    let filter = tracing_subscriber::EnvFilter::new(format!("authkit_sync={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_target(false)
        .try_init();
}

/// Writes product output to stdout; a closed pipe (`| head`) ends output quietly.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

async fn start_emulator(state_file: Option<PathBuf>) -> anyhow::Result<Emulator> {
    let config = emulator::Config {
        port: 0,
        state_file,
        ..Default::default()
    };
    Emulator::start(config)
        .await
        .context("cannot start the embedded emulator")
}

/// Everything a plan was made from, kept for apply.
struct Prepared {
    plan: Plan,
    /// The findings of the checks, with `--ignore` and `--strict` already applied.
    findings: Vec<Finding>,
    api: Option<Arc<Api>>,
    project: Project,
}

/// How a command treats the findings of the checks.
struct CheckOptions<'a> {
    ignore: &'a [IgnoreRule],
    strict: bool,
}

impl<'a> CheckOptions<'a> {
    fn new(session: &Session, args: &'a CheckArgs, strict: bool) -> CheckOptions<'a> {
        let patterns: Vec<&str> = args
            .ignore
            .iter()
            .filter_map(|rule| match rule {
                IgnoreRule::Address(pattern) => Some(pattern.as_str()),
                IgnoreRule::Check(_) => None,
            })
            .collect();
        if !patterns.is_empty() && !session.global.quiet {
            eprintln!(
                "note: --ignore {}: resource address patterns are accepted but do not filter \
                 anything yet; give a check id to accept its findings",
                patterns.join(", ")
            );
        }
        CheckOptions {
            ignore: &args.ignore,
            strict,
        }
    }

    fn settle(&self, findings: Vec<Finding>) -> Vec<Finding> {
        checks::settle(findings, self.ignore, self.strict)
    }
}

/// Stops the run when a check found an error (or, under `--strict`, a warning). Called after
/// the findings are printed and before anything is written.
fn stop_on_errors(findings: &[Finding], consequence: &str) -> anyhow::Result<()> {
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
fn app_env(session: &Session, project: &Project, target: Target) -> checks::AppEnv {
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

enum Preparation {
    Ready(Box<Prepared>),
    /// The config has no section for the target: nothing is managed.
    NoSection(Target),
}

/// Loads the project, resolves credentials, compiles the desired state, reads the live state
/// and diffs the two. Reads only.
async fn prepare(
    session: &Session,
    emulator: Option<&Emulator>,
    prune: bool,
    check_options: &CheckOptions<'_>,
) -> anyhow::Result<Preparation> {
    let project = Project::load(&session.global.dir)?;
    let target = session.target()?;
    let Some(section) = project.auth_kit.as_ref().and_then(|a| a.section(target)) else {
        return Ok(Preparation::NoSection(target));
    };
    project.env_local.check()?;

    let credentials = chain(session, &project, emulator).resolve().await?;
    let missing: Vec<AuthVar> = desired::required_credentials(&section)
        .into_iter()
        .filter(|&var| credentials.get(var).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(credentials.missing(&missing, is_remote(session)));
    }
    check_key_kind(&credentials, section.target, section.environment_type)?;

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

    let api = if desired.needs_workos() {
        let key = credentials
            .api_key
            .as_ref()
            .map(|found| found.value.clone());
        let key = key.ok_or_else(|| credentials.missing(&[AuthVar::ApiKey], is_remote(session)))?;
        Some(Arc::new(workos_api(session, emulator, key)?))
    } else {
        None
    };

    let live = read_live(&desired, api.as_ref(), &project).await?;
    let options = DiffOptions { prune };
    let plan = plan::diff(target, &desired.managed, &desired.state, &live, options);

    let app_env = app_env(session, &project, target);
    let live_key = credentials
        .api_key
        .as_ref()
        .is_some_and(|found| desired::is_live_key(found.value.expose()));
    let input = checks::Input {
        target,
        framework: project.framework,
        live_key,
        declared: &desired.declared,
        live: Some(&live),
        prune,
        app_env: &app_env,
    };
    let findings = check_options.settle(checks::run(&input));

    describe_sources(session, &credentials, api.is_some())?;
    Ok(Preparation::Ready(Box::new(Prepared {
        plan,
        findings,
        api,
        project,
    })))
}

fn is_remote(session: &Session) -> bool {
    session.env.is_ci() || session.target().is_ok_and(|t| !t.is_local())
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
fn build_env(session: &Session, project: &Project, name: &str) -> Option<String> {
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
    let is_live = key.starts_with("sk_live_");
    let is_test = key.starts_with("sk_test_");
    let wanted = environment_type.map_or("production", |t| t.as_str());
    if wants_production && is_test {
        anyhow::bail!(
            "authKit.prod wants a {wanted} WorkOS environment, but WORKOS_API_KEY (from {}) is a \
             sandbox key (sk_test_); use the production environment's key, or set \
             authKit.prod.environmentType to `development` or `staging`",
            found.source
        );
    }
    if !wants_production && is_live {
        anyhow::bail!(
            "authKit.prod.environmentType is `{wanted}`, but WORKOS_API_KEY (from {}) is a \
             production key (sk_live_); use the {wanted} environment's key",
            found.source
        );
    }
    Ok(())
}

fn workos_api(session: &Session, emulator: Option<&Emulator>, key: Secret) -> anyhow::Result<Api> {
    let url = match emulator {
        Some(emulator) => emulator.url().to_owned(),
        None => session
            .env
            .non_empty("WORKOS_API_URL")
            .unwrap_or(DEFAULT_WORKOS_API_URL)
            .to_owned(),
    };
    let endpoint = Endpoint::parse("WORKOS_API_URL", &url)?;
    let client = http::Client::new(http::Policy::default())?;
    Ok(Api::new(Arc::new(client), endpoint, key))
}

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

/// One line saying where the run's credentials came from: reviewers of a plan need to know
/// which environment it was made against. Only sources are shown, never values.
fn describe_sources(
    session: &Session,
    credentials: &Credentials,
    uses_workos: bool,
) -> anyhow::Result<()> {
    if session.global.quiet || !uses_workos {
        return Ok(());
    }
    if let Some(source) = credentials.source(AuthVar::ApiKey) {
        emit(&format!("Using WORKOS_API_KEY from {source}.\n\n"))?;
    }
    Ok(())
}

fn no_section(target: Target) -> anyhow::Result<Exit> {
    emit(&format!(
        "convex.json has no authKit.{target} section, so there is nothing to manage for \
         target {target}.\n"
    ))?;
    Ok(Exit::Ok)
}

async fn plan_command(
    session: &Session,
    emulator: Option<&Emulator>,
    args: PlanArgs,
) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict);
    let prepared = match prepare(session, emulator, args.prune, &check_options).await? {
        Preparation::Ready(prepared) => prepared,
        Preparation::NoSection(target) => return no_section(target),
    };
    let findings = &prepared.findings;
    emit(&render::table::plan(
        &prepared.plan,
        findings,
        session.style,
    ))?;
    stop_on_errors(findings, "")?;
    let changed = prepared.plan.summary().has_changes(args.strict);
    Ok(if args.detailed_exitcode && changed {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

async fn drift_command(
    session: &Session,
    emulator: Option<&Emulator>,
    args: DriftArgs,
) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict);
    let prepared = match prepare(session, emulator, false, &check_options).await? {
        Preparation::Ready(prepared) => prepared,
        Preparation::NoSection(target) => return no_section(target),
    };
    let findings = &prepared.findings;
    emit(&render::table::plan(
        &prepared.plan,
        findings,
        session.style,
    ))?;
    stop_on_errors(findings, "")?;
    let drifted = prepared.plan.summary().has_changes(args.strict);
    Ok(if drifted { Exit::Changes } else { Exit::Ok })
}

async fn apply_command(
    session: &Session,
    emulator: Option<&Emulator>,
    args: ApplyArgs,
) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict);
    let prepared = match prepare(session, emulator, args.prune, &check_options).await? {
        Preparation::Ready(prepared) => prepared,
        Preparation::NoSection(target) => return no_section(target),
    };
    let plan = &prepared.plan;
    let findings = &prepared.findings;
    if !session.global.quiet || !args.auto_approve {
        emit(&render::table::plan(plan, findings, session.style))?;
    } else if !checks::failed(findings).is_empty() {
        emit(&render::findings::findings(findings, session.style))?;
    }
    // Before the prompt and before any writer exists: a failed check writes nothing.
    stop_on_errors(findings, ", so nothing was applied")?;
    if plan.is_empty() {
        return Ok(Exit::Ok);
    }
    if !args.auto_approve && !confirm()? {
        eprintln!("Apply cancelled.");
        return Ok(Exit::Error);
    }

    let workos_writer = prepared
        .api
        .as_ref()
        .map(|api| WorkosWriter::new(api.clone(), workos::DEFAULT_CONCURRENCY));
    let env_writer =
        (plan.target.is_local()).then(|| EnvFileWriter::new(prepared.project.env_local.clone()));
    let writers = Writers {
        workos: workos_writer.as_ref(),
        env_file: env_writer.as_ref(),
    };
    let report = apply::apply(plan, &writers).await;

    emit(&format!(
        "\n{}",
        render::table::report(&report, session.style)
    ))?;
    Ok(if report.is_success() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

/// Asks on the terminal; only `yes` approves. Without a terminal there is no one to ask.
fn confirm() -> anyhow::Result<bool> {
    if !io::stdin().is_terminal() {
        anyhow::bail!(
            "apply needs approval, and there is no terminal to ask on: pass --auto-approve \
             (for example in a deploy pipeline) or run apply in a terminal"
        );
    }
    let mut stderr = io::stderr().lock();
    write!(
        stderr,
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  \
         Enter a value: "
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim_end_matches(['\r', '\n']) == "yes")
}

fn validate(session: &Session, args: ValidateArgs) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict);
    let project = Project::load(&session.global.dir)?;
    let target = session.target()?;
    let Some(section) = project.auth_kit.as_ref().and_then(|a| a.section(target)) else {
        emit(&format!(
            "{} is valid; it has no authKit.{target} section.\n",
            project.config_path.display()
        ))?;
        return Ok(Exit::Ok);
    };
    project.env_local.check()?;

    // Credentials are not looked up offline: stand-ins let every other part of the templates
    // be resolved and checked.
    let auth = |var: AuthVar| Some(format!("placeholder_{}", var.env_name().to_lowercase()));
    let build_env = |name: &str| build_env(session, &project, name);
    let inputs = desired::Inputs {
        section,
        framework: project.framework,
        auth: &auth,
        build_env: &build_env,
    };
    let desired = desired::compile(&inputs)
        .map_err(|problems| anyhow::anyhow!("{}: {problems}", project.config_path.display()))?;

    // Offline: the checks see the declarations and .env.local, not WorkOS.
    let app_env = app_env(session, &project, target);
    let input = checks::Input {
        target,
        framework: project.framework,
        live_key: false,
        declared: &desired.declared,
        live: None,
        prune: false,
        app_env: &app_env,
    };
    let findings = check_options.settle(checks::run(&input));

    let count = |kind| desired.state.of_kind(kind).count();
    let verdict = if checks::failed(&findings).is_empty() {
        "is valid"
    } else {
        "compiles"
    };
    emit(&format!(
        "{} {verdict} for target {target}: {} redirect URIs, {} CORS origins, {} homepage URL, \
         {} .env.local variables.\n",
        project.config_path.display(),
        count(ResourceKind::RedirectUri),
        count(ResourceKind::CorsOrigin),
        count(ResourceKind::AppHomepageUrl),
        count(ResourceKind::EnvFileVar),
    ))?;
    emit(&render::findings::findings(&findings, session.style))?;
    stop_on_errors(&findings, "")?;
    Ok(Exit::Ok)
}

async fn emulate(args: EmulateArgs) -> anyhow::Result<Exit> {
    let config = emulator::Config {
        port: args.port,
        state_file: args.state,
        ..Default::default()
    };
    let emulator = Emulator::start(config).await?;
    if args.json {
        let line = serde_json::json!({
            "url": emulator.url(),
            "apiKey": emulator.api_key(),
            "clientId": emulator.client_id(),
        });
        emit(&format!("{line}\n"))?;
    } else {
        emit(&format!(
            "WorkOS emulator listening on {}\n  WORKOS_API_URL={}\n  WORKOS_CLIENT_ID={}\n  \
             API key: {}\nStop with Ctrl-C.\n",
            emulator.url(),
            emulator.url(),
            emulator.client_id(),
            emulator.api_key(),
        ))?;
    }
    wait_for_stop().await;
    emulator.shutdown().await?;
    Ok(Exit::Ok)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
