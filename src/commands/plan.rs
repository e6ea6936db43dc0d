//! `plan`, `drift` and `show`: the read-only commands, and the plan file they write and read.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::checks::Finding;
use crate::cli::{DriftArgs, Format, PlanArgs, ShowArgs};
use crate::emulator::Emulator;
use crate::plan::Plan;
use crate::plan::drift::Drift;
use crate::plan::saved::Salt;
use crate::render::json::{DriftDocument, FORMAT_VERSION, FindingDocument, Options, PlanDocument};
use crate::render::projects::Verb;
use crate::render::{self, Style, markdown, table};
use crate::target::Target;

use super::checks::{CheckOptions, stop_on_errors};
use super::observe::{Observation, Outcome, Request, observe};
use super::projects::{Selection, for_each};
use super::{Exit, ProjectRun, Session, emit, finish, no_section};

/// What every project of a read-only command shares.
struct Job<'a> {
    session: &'a Session,
    emulator: Option<&'a Emulator>,
    target: Target,
    checks: CheckOptions<'a>,
    /// The characters a project's Markdown may take.
    markdown_limit: usize,
}

impl<'a> Job<'a> {
    fn new(
        session: &'a Session,
        emulator: Option<&'a Emulator>,
        selection: &Selection,
        checks: CheckOptions<'a>,
    ) -> anyhow::Result<Job<'a>> {
        let markdown_limit = if selection.several {
            render::projects::markdown_budget(selection.dirs.len())
        } else {
            markdown::MAX_CHARS
        };
        Ok(Job {
            session,
            emulator,
            target: session.target()?,
            checks,
            markdown_limit,
        })
    }

    /// Observes one project, read-only; `None` when its config has no section for the
    /// target, which `run` then says.
    async fn observe(
        &self,
        dir: &Path,
        prune: bool,
        salt: &Salt,
        run: &mut ProjectRun,
    ) -> anyhow::Result<Option<Observation>> {
        let request = Request {
            dir,
            target: self.target,
            prune,
            salt,
            provisioned: None,
        };
        match observe(self.session, self.emulator, request).await? {
            Outcome::Observed(observation) => {
                run.text.push_str(&observation.header);
                run.summary = Some(observation.plan.summary());
                Ok(Some(observation))
            }
            Outcome::NoSection(target) => {
                run.text.push_str(&no_section(target));
                Ok(None)
            }
        }
    }
}

pub async fn plan(
    session: &Session,
    emulator: Option<&Emulator>,
    selection: &Selection,
    args: PlanArgs,
) -> anyhow::Result<Exit> {
    if selection.several && args.out.is_some() {
        anyhow::bail!(
            "--out saves the plan of one project, and this run covers several; save each \
             project's plan with its own --dir and --out"
        );
    }
    let checks = CheckOptions::new(session, &args.checks, args.strict, false);
    let job = Job::new(session, emulator, selection, checks)?;
    let (job, args) = (&job, &args);
    let runs = for_each(&selection.dirs, |dir| async move {
        let mut run = ProjectRun::default();
        run.result = plan_project(job, dir, args, &mut run).await;
        run
    })
    .await;
    finish(selection, runs, args.format, Verb::Plan)
}

async fn plan_project(
    job: &Job<'_>,
    dir: &Path,
    args: &PlanArgs,
    run: &mut ProjectRun,
) -> anyhow::Result<Exit> {
    let salt = Salt::random()?;
    let Some(observation) = job.observe(dir, args.prune, &salt, run).await? else {
        return Ok(Exit::Ok);
    };
    let options = Options {
        prune: args.prune,
        strict: args.strict,
    };
    let findings = job.checks.settle(observation.findings.clone());

    if let Some(path) = &args.out {
        save(path, &observation, &findings, options, &salt)?;
    }
    let (text, document) = render(
        &observation.plan,
        &findings,
        args.format,
        options,
        None,
        job,
    );
    run.text.push_str(&text);
    run.document = document;
    run.changed = observation.plan.summary().has_changes(args.strict);
    stop_on_errors(&findings, "")?;
    if let (Some(path), Format::Table) = (&args.out, args.format) {
        run.text.push_str(&format!(
            "\nSaved this plan to {}. Apply exactly these changes with:\n  authkit-sync apply {}\n",
            path.display(),
            path.display()
        ));
    }

    Ok(if args.detailed_exitcode && run.changed {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

/// Renders a plan and the findings of the checks in the chosen format; for JSON, the
/// document too.
fn render(
    plan: &Plan,
    findings: &[Finding],
    format: Format,
    options: Options,
    drift: Option<&Drift>,
    job: &Job<'_>,
) -> (String, Option<PlanDocument>) {
    match format {
        Format::Json => {
            let mut document = PlanDocument::new(plan, options, None);
            document.findings = findings.iter().map(FindingDocument::new).collect();
            document.drift = drift.map(|d| drift_document(d, options.strict));
            (document.to_json(), Some(document))
        }
        _ => (
            render_text(
                plan,
                findings,
                format,
                options,
                drift,
                job.session.style,
                job.markdown_limit,
            ),
            None,
        ),
    }
}

/// Renders a plan for people: a table, or Markdown within `markdown_limit` characters.
fn render_text(
    plan: &Plan,
    findings: &[Finding],
    format: Format,
    options: Options,
    drift: Option<&Drift>,
    style: Style,
    markdown_limit: usize,
) -> String {
    match format {
        Format::Markdown => markdown::render_within(plan, findings, drift, markdown_limit),
        _ => {
            let mut text = table::plan(plan, findings, style);
            if let Some(drift) = drift {
                text.push_str(&table::drift(drift, options.strict));
            }
            text
        }
    }
}

fn drift_document(drift: &Drift, strict: bool) -> DriftDocument {
    let strings = |list: &[crate::state::Address]| list.iter().map(|a| a.to_string()).collect();
    DriftDocument {
        in_sync: drift.in_sync(strict),
        drifted: strings(&drift.drifted),
        unverifiable: strings(&drift.unverifiable),
        ignored: strings(&drift.ignored),
    }
}

/// Writes the plan file: JSON, created with mode 0600, replaced atomically.
fn save(
    path: &Path,
    observation: &Observation,
    findings: &[Finding],
    options: Options,
    salt: &Salt,
) -> anyhow::Result<()> {
    let mut document = PlanDocument::new(&observation.plan, options, Some(salt));
    document.findings = findings.iter().map(FindingDocument::new).collect();
    document.fingerprints = Some(observation.inputs.fingerprints(salt));
    document.salt = Some(salt.clone());
    document.inputs = Some(observation.inputs.clone());

    let context = || format!("{}: cannot write the plan file", path.display());
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => Path::new(".").to_owned(),
    };
    if path.is_dir() {
        anyhow::bail!("{}: is a directory; give --out a file name", path.display());
    }
    // tempfile creates the file with mode 0600, which the rename keeps.
    let mut file = tempfile::NamedTempFile::new_in(&directory).with_context(context)?;
    file.write_all(document.to_json().as_bytes())
        .with_context(context)?;
    file.as_file().sync_all().with_context(context)?;
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(context)?;
    Ok(())
}

/// Reads a plan file written by `plan --out`.
pub fn load(path: &Path) -> anyhow::Result<PlanDocument> {
    let bytes =
        fs::read(path).with_context(|| format!("{}: cannot read the plan file", path.display()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: is not a plan file (not JSON); write one with `plan --out`",
            path.display()
        )
    })?;
    let version = value
        .get("format_version")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if version.split('.').next() != Some(FORMAT_VERSION) {
        anyhow::bail!(
            "{}: plan format version `{version}` is not supported (this authkit-sync reads \
             version {FORMAT_VERSION}); make the plan again with this version",
            path.display()
        );
    }
    serde_json::from_value(value)
        .with_context(|| format!("{}: is not a valid plan file", path.display()))
}

pub async fn drift(
    session: &Session,
    emulator: Option<&Emulator>,
    selection: &Selection,
    args: DriftArgs,
) -> anyhow::Result<Exit> {
    let checks = CheckOptions::new(session, &args.checks, args.strict, true);
    let job = Job::new(session, emulator, selection, checks)?;
    let (job, args) = (&job, &args);
    let runs = for_each(&selection.dirs, |dir| async move {
        let mut run = ProjectRun::default();
        run.result = drift_project(job, dir, args, &mut run).await;
        run
    })
    .await;
    finish(selection, runs, args.format, Verb::Drift)
}

async fn drift_project(
    job: &Job<'_>,
    dir: &Path,
    args: &DriftArgs,
    run: &mut ProjectRun,
) -> anyhow::Result<Exit> {
    let salt = Salt::random()?;
    let Some(observation) = job.observe(dir, false, &salt, run).await? else {
        return Ok(Exit::Ok);
    };
    let findings = job.checks.settle(observation.findings.clone());
    let drift = Drift::assess(&observation.plan, &job.checks.address_patterns());
    let options = Options {
        prune: false,
        strict: args.strict,
    };
    let (text, document) = render(
        &observation.plan,
        &findings,
        args.format,
        options,
        Some(&drift),
        job,
    );
    run.text.push_str(&text);
    run.document = document;
    run.changed = !drift.in_sync(args.strict);
    stop_on_errors(&findings, "")?;
    Ok(if run.changed { Exit::Changes } else { Exit::Ok })
}

pub fn show(session: &Session, args: ShowArgs) -> anyhow::Result<Exit> {
    let document = load(&args.plan_file)?;
    let plan = document
        .to_plan()
        .with_context(|| format!("{}: is not a valid plan file", args.plan_file.display()))?;
    let findings: Vec<Finding> = document
        .findings
        .iter()
        .filter_map(FindingDocument::to_finding)
        .collect();
    let text = match args.format {
        Format::Json => {
            let mut copy = PlanDocument::new(&plan, document.options, None);
            copy.findings = findings.iter().map(FindingDocument::new).collect();
            copy.to_json()
        }
        format => render_text(
            &plan,
            &findings,
            format,
            document.options,
            None,
            session.style,
            markdown::MAX_CHARS,
        ),
    };
    emit(&text)?;
    Ok(Exit::Ok)
}
