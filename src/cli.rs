//! Command-line definitions, and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::checks::IgnoreRule;
use crate::emulator::Faults;
use crate::target::Target;

#[derive(Debug, Parser)]
#[command(
    name = "authkit-sync",
    version,
    about = "Plan and apply WorkOS AuthKit configuration declared in convex.json",
    long_about = "Plan and apply WorkOS AuthKit configuration declared in convex.json.\n\n\
        Exit codes: 0 success (no changes), 1 error, 2 changes present \
        (plan --detailed-exitcode, drift)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Project directory holding convex.json [default: .]. Repeat it, or give a glob such as
    /// 'apps/*' (quoted; it stands for the matching directories that hold a convex.json), to
    /// plan, apply or check drift of several projects in one run
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Vec<PathBuf>,

    /// Section of authKit to work on [default: from CONVEX_DEPLOY_KEY's prefix, else dev]
    #[arg(long, global = true, value_parser = parse_target)]
    pub target: Option<Target>,

    /// When to colour output; NO_COLOR also turns colour off
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log more to stderr (repeat for more detail)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print only errors and the essential result
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Run against an embedded emulator started on a free loopback port, with its credentials.
    /// With =STATE_FILE its state is loaded from and saved to that file.
    #[arg(
        long,
        global = true,
        value_name = "STATE_FILE",
        num_args = 0..=1,
        require_equals = true
    )]
    pub emulator: Option<Option<PathBuf>>,

    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Faults and latency for the embedded emulator, with `emulate` or `--emulator`; they let
/// anyone see how the tool copes with a flaky network and a rate-limited API.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Emulator faults (with `emulate` or --emulator)")]
pub struct FaultArgs {
    /// Faults to inject, each with its chance per request, e.g.
    /// `429=0.2,500=0.1,reset=0.05,slow=0.1`; the faults are 429, 500, 502, 503, 504, reset
    /// (connection reset, request not carried out), lost (carried out, answer lost) and slow
    /// (answer after 60 s)
    #[arg(
        long,
        global = true,
        value_name = "SPEC",
        env = "AUTHKIT_SYNC_EMULATOR_FAULTS",
        value_parser = parse_faults
    )]
    pub faults: Option<Faults>,

    /// Milliseconds added to every WorkOS and Convex answer
    #[arg(
        long,
        global = true,
        value_name = "MS",
        env = "AUTHKIT_SYNC_EMULATOR_LATENCY_MS"
    )]
    pub latency_ms: Option<u64>,

    /// Seed of the fault sequence: the same seed gives the same faults in the same order
    /// [default: 0]
    #[arg(
        long,
        global = true,
        value_name = "N",
        env = "AUTHKIT_SYNC_EMULATOR_SEED"
    )]
    pub seed: Option<u64>,
}

impl FaultArgs {
    pub fn is_set(&self) -> bool {
        self.faults.is_some() || self.latency_ms.is_some() || self.seed.is_some()
    }
}

fn parse_faults(text: &str) -> Result<Faults, String> {
    text.parse()
        .map_err(|e: crate::emulator::FaultsError| e.to_string())
}

fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change (read-only)
    Plan(PlanArgs),
    /// Change the WorkOS environment and .env.local to match convex.json
    Apply(ApplyArgs),
    /// Check whether the live state still matches convex.json (read-only; exit 2 on drift)
    Drift(DriftArgs),
    /// Render a saved plan file without network access
    Show(ShowArgs),
    /// Check convex.json and its templates without network access
    Validate(ValidateArgs),
    /// Print the JSON Schema of the authKit section of convex.json
    Schema,
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Run the WorkOS API emulator on 127.0.0.1 until stopped
    Emulate(EmulateArgs),
}

/// Output formats for plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people
    Table,
    /// The documented JSON plan format (docs/plan-format.md)
    Json,
    /// A pull-request comment
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 2 when there are changes, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also save the plan to FILE (JSON, mode 0600) for `apply FILE` and `show FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Delete redirect URIs and CORS origins that convex.json does not name
    #[arg(long)]
    pub prune: bool,

    /// Count unverified items as changes, and fail on check warnings as on errors
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub checks: CheckArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan --out`: applies exactly that plan (it is the approval), and
    /// refuses it if any input changed since
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,

    /// Apply without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,

    /// Delete redirect URIs and CORS origins that convex.json does not name
    #[arg(long, conflicts_with = "plan_file")]
    pub prune: bool,

    /// Fail on check warnings as on errors, before anything is written
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub checks: CheckArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Count unverified items as drift, and fail on check warnings as on errors
    #[arg(long)]
    pub strict: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub checks: CheckArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved by `plan --out`
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: PathBuf,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Fail on check warnings as on errors
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub checks: CheckArgs,
}

/// The flags every command that runs the checks shares.
#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    /// Accept the findings of a check by id (the ids are in docs/checks.md), or, for drift,
    /// leave addresses matching a pattern out of the verdict (`*` matches any text, e.g.
    /// 'workos.redirect_uri["http://localhost:*"]'); repeatable
    #[arg(long = "ignore", value_name = "ID|PATTERN", value_parser = parse_ignore)]
    pub ignore: Vec<IgnoreRule>,
}

fn parse_ignore(text: &str) -> Result<IgnoreRule, String> {
    text.parse()
}

#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Print one JSON line {"url", "apiKey", "clientId"} once listening
    #[arg(long)]
    pub json: bool,

    /// Load state from this file if it exists, and save every change to it
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}
