//! `apply`: make the live state match, from a fresh plan (after confirmation) or from a saved
//! plan file (which is the approval, and is refused when stale).

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::Arc;

use crate::apply::{self, Writers};
use crate::cli::ApplyArgs;
use crate::emulator::Emulator;
use crate::plan::saved::{Salt, stale_reasons};
use crate::provider::env_file::EnvFileWriter;
use crate::provider::workos::{self, Api, WorkosWriter};
use crate::render::json::PlanDocument;
use crate::render::table;

use super::observe::{Observation, Outcome, observe_for_apply};
use super::{Exit, Session, emit, no_section};

pub async fn apply(
    session: &Session,
    emulator: Option<&Emulator>,
    args: ApplyArgs,
) -> anyhow::Result<Exit> {
    match &args.plan_file {
        Some(path) => apply_saved(session, emulator, path).await,
        None => apply_fresh(session, emulator, &args).await,
    }
}

async fn apply_fresh(
    session: &Session,
    emulator: Option<&Emulator>,
    args: &ApplyArgs,
) -> anyhow::Result<Exit> {
    let target = session.target()?;
    let salt = Salt::random()?;
    let (observation, api) =
        match observe_for_apply(session, emulator, target, args.prune, &salt).await? {
            Outcome::Observed(observed) => observed,
            Outcome::NoSection(target) => return no_section(target),
        };
    if !session.global.quiet || !args.auto_approve {
        emit(&table::plan(&observation.plan, session.style))?;
    }
    if observation.plan.is_empty() {
        return Ok(Exit::Ok);
    }
    if !args.auto_approve && !confirm()? {
        eprintln!("Apply cancelled.");
        return Ok(Exit::Error);
    }
    execute(session, &observation, api).await
}

async fn apply_saved(
    session: &Session,
    emulator: Option<&Emulator>,
    path: &Path,
) -> anyhow::Result<Exit> {
    let saved = super::plan::load(path)?;
    let (Some(salt), Some(saved_inputs)) = (&saved.salt, &saved.inputs) else {
        anyhow::bail!(
            "{}: has no fingerprints, so it cannot be checked for staleness; save plans with \
             `plan --out FILE`",
            path.display()
        );
    };
    let target = session.global.target.unwrap_or(saved.target);
    let options = saved.options;
    let (observation, api) =
        match observe_for_apply(session, emulator, target, options.prune, salt).await? {
            Outcome::Observed(observed) => observed,
            Outcome::NoSection(target) => anyhow::bail!(
                "{}: the plan is stale: convex.json no longer has an authKit.{target} section; \
                 nothing was applied",
                path.display()
            ),
        };

    let reasons = stale_reasons(saved_inputs, &observation.inputs);
    if !reasons.is_empty() {
        anyhow::bail!(
            "{} is stale, so nothing was applied. Since the plan was made:\n{}\nRun `plan --out` \
             again and review the new plan.",
            path.display(),
            reasons
                .iter()
                .map(|r| format!("  - {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // The inputs are the same, so the plan is too; compared anyway, because applying anything
    // but the reviewed changes would break the promise the file stands for.
    let fresh = PlanDocument::new(&observation.plan, options, Some(salt));
    if fresh.changes != saved.changes || fresh.unmanaged != saved.unmanaged {
        anyhow::bail!(
            "{}: the changes planned now differ from the saved ones although no input changed; \
             nothing was applied. Run `plan --out` again",
            path.display()
        );
    }

    if !session.global.quiet {
        emit(&table::plan(&observation.plan, session.style))?;
    }
    if observation.plan.is_empty() {
        return Ok(Exit::Ok);
    }
    execute(session, &observation, api).await
}

async fn execute(
    session: &Session,
    observation: &Observation,
    api: Option<Arc<Api>>,
) -> anyhow::Result<Exit> {
    let plan = &observation.plan;
    let workos = api.map(|api| WorkosWriter::new(api, workos::DEFAULT_CONCURRENCY));
    let env_file = plan
        .target
        .is_local()
        .then(|| EnvFileWriter::new(observation.project.env_local.clone()));
    let writers = Writers {
        workos: workos.as_ref(),
        env_file: env_file.as_ref(),
    };
    let report = apply::apply(plan, &writers).await;

    emit(&format!("\n{}", table::report(&report, session.style)))?;
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
             (for example in a deploy pipeline), apply a reviewed plan file, or run apply in a \
             terminal"
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
