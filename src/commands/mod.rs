//! Wiring: each command runs the pipeline stages it needs, in order. Exit codes are decided
//! here and nowhere else.

mod apply;
mod checks;
mod emulate;
mod observe;
mod plan;
mod projects;
mod validate;

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::{Cli, ColorChoice, Command, FaultArgs, Format, Global};
use crate::config;
use crate::credentials::ProcessEnv;
use crate::emulator::{self, Emulator};
use crate::http;
use crate::plan::Summary;
use crate::render::json::PlanDocument;
use crate::render::projects::{Section, Status, Verb};
use crate::render::{self, Style};
use crate::target::{self, Target};

use self::projects::Selection;

/// Exit codes, in one place. 2 always means "changes present", never a usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Changes = 2,
}

impl Exit {
    fn from_code(code: u8) -> Exit {
        match code {
            0 => Exit::Ok,
            2 => Exit::Changes,
            _ => Exit::Error,
        }
    }
}

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
    let format = match &command {
        Command::Plan(args) => args.format,
        Command::Drift(args) => args.format,
        _ => Format::Table,
    };
    if global.faults.is_set()
        && global.emulator.is_none()
        && !matches!(command, Command::Emulate(_))
    {
        anyhow::bail!(
            "--faults, --latency-ms and --seed (or AUTHKIT_SYNC_EMULATOR_*) act on the embedded \
             emulator only: add --emulator, or run `authkit-sync emulate`"
        );
    }
    let session = Session::new(global, format == Format::Table)?;
    let pipeline = match command {
        Command::Plan(args) => Pipeline::Plan(args),
        Command::Apply(args) => Pipeline::Apply(args),
        Command::Drift(args) => Pipeline::Drift(args),
        Command::Show(args) => return plan::show(&session, args),
        Command::Validate(args) => {
            let selection = projects::select(&session.global.dir)?;
            return validate::validate(&session, selection.only("validate")?, args);
        }
        Command::Emulate(args) => return emulate::emulate(args, &session.global.faults).await,
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

    let selection = projects::select(&session.global.dir)?;
    let emulator = match &session.global.emulator {
        Some(state_file) => Some(start_emulator(state_file.clone(), &session.global.faults).await?),
        None => None,
    };
    let result = match pipeline {
        Pipeline::Plan(args) => plan::plan(&session, emulator.as_ref(), &selection, args).await,
        Pipeline::Apply(args) => apply::apply(&session, emulator.as_ref(), &selection, args).await,
        Pipeline::Drift(args) => plan::drift(&session, emulator.as_ref(), &selection, args).await,
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
    Plan(crate::cli::PlanArgs),
    Apply(crate::cli::ApplyArgs),
    Drift(crate::cli::DriftArgs),
}

/// What every command shares: flags, the environment snapshot, the output style.
pub struct Session {
    pub global: Global,
    pub env: Arc<ProcessEnv>,
    /// The one HTTP client of the run: every request, to every endpoint, goes through it.
    pub client: Arc<http::Client>,
    pub style: Style,
    /// Whether stdout carries the table for people (rather than JSON or Markdown), so that
    /// notes may be printed there too.
    pub human_output: bool,
}

impl Session {
    fn new(global: Global, human_output: bool) -> anyhow::Result<Session> {
        let env = Arc::new(ProcessEnv::capture());
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => io::stdout().is_terminal() && env.non_empty("NO_COLOR").is_none(),
        };
        let policy = http::Policy::from_env(|name| env.non_empty(name).map(str::to_owned))?;
        let client = Arc::new(http::Client::new(policy)?);
        Ok(Session {
            global,
            env,
            client,
            style: Style { color },
            human_output,
        })
    }

    /// `--target`, else `CONVEX_DEPLOY_KEY`'s prefix, else dev.
    pub fn target(&self) -> anyhow::Result<Target> {
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
    // Warnings reach pipeline logs too: colour only on a terminal, as for the plan.
    let ansi = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

/// Writes product output to stdout; a closed pipe (`| head`) ends output quietly.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

async fn start_emulator(
    state_file: Option<PathBuf>,
    faults: &FaultArgs,
) -> anyhow::Result<Emulator> {
    let config = emulator_config(0, state_file, faults);
    Emulator::start(config)
        .await
        .context("cannot start the embedded emulator")
}

/// The emulator's configuration, faults and latency included.
fn emulator_config(port: u16, state_file: Option<PathBuf>, faults: &FaultArgs) -> emulator::Config {
    emulator::Config {
        port,
        state_file,
        faults: faults.faults.clone().unwrap_or_default(),
        seed: faults.seed.unwrap_or(0),
        latency: std::time::Duration::from_millis(faults.latency_ms.unwrap_or(0)),
        ..Default::default()
    }
}

/// What a run over a project whose `convex.json` has no section for the target prints.
fn no_section(target: Target) -> String {
    format!(
        "convex.json has no authKit.{target} section, so there is nothing to manage for target \
         {target}.\n"
    )
}

/// What one project's part of a command produced.
pub struct ProjectRun {
    /// Its output, as a run over this project alone prints it.
    pub text: String,
    /// Its plan document, for JSON output.
    pub document: Option<PlanDocument>,
    /// The counts of its plan, once planned.
    pub summary: Option<Summary>,
    /// Whether it has changes (plan and apply) or drift, whatever the exit code says.
    pub changed: bool,
    pub result: anyhow::Result<Exit>,
}

impl Default for ProjectRun {
    fn default() -> ProjectRun {
        ProjectRun {
            text: String::new(),
            document: None,
            summary: None,
            changed: false,
            result: Ok(Exit::Ok),
        }
    }
}

impl ProjectRun {
    fn exit(&self) -> Exit {
        match &self.result {
            Ok(exit) => *exit,
            Err(_) => Exit::Error,
        }
    }

    fn into_section(self, dir: &Path) -> Section {
        let exit = self.exit();
        let status = match (exit, self.changed) {
            (Exit::Error, _) => Status::Failed,
            (_, true) => Status::Changed,
            (_, false) => Status::Unchanged,
        };
        Section {
            dir: dir.display().to_string(),
            text: self.text,
            document: self.document,
            summary: self.summary,
            status,
            error: self.result.err().map(|error| format!("{error:#}")),
            exit_code: exit as u8,
        }
    }
}

/// The exit code of several projects: any error wins over any change, which wins over none.
pub fn combine(exits: impl IntoIterator<Item = Exit>) -> Exit {
    exits
        .into_iter()
        .fold(Exit::Ok, |worst, exit| match (worst, exit) {
            (Exit::Error, _) | (_, Exit::Error) => Exit::Error,
            (Exit::Changes, _) | (_, Exit::Changes) => Exit::Changes,
            (Exit::Ok, Exit::Ok) => Exit::Ok,
        })
}

/// Prints what a read-only command produced and decides its exit code. A single project
/// prints exactly what it always did, and its error is the command's error; several projects
/// print a section each and a summary, and their exit codes combine.
fn finish(
    selection: &Selection,
    runs: Vec<ProjectRun>,
    format: Format,
    verb: Verb,
) -> anyhow::Result<Exit> {
    if !selection.several {
        let Some(run) = runs.into_iter().next() else {
            return Ok(Exit::Ok);
        };
        emit(&run.text)?;
        return run.result;
    }
    let exit = combine(runs.iter().map(ProjectRun::exit));
    let sections: Vec<Section> = selection
        .dirs
        .iter()
        .zip(runs)
        .map(|(dir, run)| run.into_section(dir))
        .collect();
    let text = match format {
        Format::Table => render::projects::table(&sections, verb),
        Format::Markdown => render::projects::markdown(&sections, verb),
        Format::Json => render::projects::json(sections, exit as u8),
    };
    emit(&text)?;
    Ok(exit)
}
