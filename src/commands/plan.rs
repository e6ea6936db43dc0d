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
use crate::render::{Style, markdown, table};

use super::checks::{CheckOptions, stop_on_errors};
use super::observe::{Observation, Outcome, Request, observe};
use super::{Exit, Session, emit, no_section};

pub async fn plan(
    session: &Session,
    emulator: Option<&Emulator>,
    args: PlanArgs,
) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict, false);
    let target = session.target()?;
    let salt = Salt::random()?;
    let request = Request {
        target,
        prune: args.prune,
        salt: &salt,
        provisioned: None,
    };
    let observation = match observe(session, emulator, request).await? {
        Outcome::Observed(observation) => observation,
        Outcome::NoSection(target) => return no_section(target),
    };
    let options = Options {
        prune: args.prune,
        strict: args.strict,
    };
    let findings = check_options.settle(observation.findings.clone());

    if let Some(path) = &args.out {
        save(path, &observation, &findings, options, &salt)?;
    }
    let text = render(
        &observation.plan,
        &findings,
        args.format,
        options,
        None,
        session.style,
    );
    emit(&text)?;
    stop_on_errors(&findings, "")?;
    if let (Some(path), Format::Table) = (&args.out, args.format) {
        emit(&format!(
            "\nSaved this plan to {}. Apply exactly these changes with:\n  authkit-sync apply {}\n",
            path.display(),
            path.display()
        ))?;
    }

    let changed = observation.plan.summary().has_changes(args.strict);
    Ok(if args.detailed_exitcode && changed {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

/// Renders a plan and the findings of the checks in the chosen format.
fn render(
    plan: &Plan,
    findings: &[Finding],
    format: Format,
    options: Options,
    drift: Option<&Drift>,
    style: Style,
) -> String {
    match format {
        Format::Table => {
            let mut text = table::plan(plan, findings, style);
            if let Some(drift) = drift {
                text.push_str(&table::drift(drift, options.strict));
            }
            text
        }
        Format::Markdown => markdown::render(plan, findings, drift),
        Format::Json => {
            let mut document = PlanDocument::new(plan, options, None);
            document.findings = findings.iter().map(FindingDocument::new).collect();
            document.drift = drift.map(|d| drift_document(d, options.strict));
            document.to_json()
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
    args: DriftArgs,
) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict, true);
    let target = session.target()?;
    let salt = Salt::random()?;
    let request = Request {
        target,
        prune: false,
        salt: &salt,
        provisioned: None,
    };
    let observation = match observe(session, emulator, request).await? {
        Outcome::Observed(observation) => observation,
        Outcome::NoSection(target) => return no_section(target),
    };
    let findings = check_options.settle(observation.findings.clone());
    let drift = Drift::assess(&observation.plan, &check_options.address_patterns());
    let options = Options {
        prune: false,
        strict: args.strict,
    };
    let text = render(
        &observation.plan,
        &findings,
        args.format,
        options,
        Some(&drift),
        session.style,
    );
    emit(&text)?;
    stop_on_errors(&findings, "")?;
    Ok(if drift.in_sync(args.strict) {
        Exit::Ok
    } else {
        Exit::Changes
    })
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
    emit(&render(
        &plan,
        &findings,
        args.format,
        document.options,
        None,
        session.style,
    ))?;
    Ok(Exit::Ok)
}
