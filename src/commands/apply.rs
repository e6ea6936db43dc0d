//! `apply`: make the live state match, from a fresh plan (after confirmation) or from a saved
//! plan file (which is the approval, and is refused when stale).

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use crate::apply::{self, Writers};
use crate::checks;
use crate::cli::ApplyArgs;
use crate::emulator::Emulator;
use crate::plan::report::{Entry, Report, Status};
use crate::plan::saved::{Salt, stale_reasons};
use crate::plan::{Action, Plan};
use crate::provider::convex::ConvexWriter;
use crate::provider::env_file::{EnvFileWriter, OnChange};
use crate::provider::workos::{self, WorkosWriter};
use crate::render::json::PlanDocument;
use crate::render::{self, table};
use crate::state::ResourceKind;
use crate::target::Target;

use super::checks::{CheckOptions, stop_on_errors};
use super::observe::{Connections, Observation, Outcome, Request, observe_for_apply};
use super::{Exit, Session, emit, no_section};

pub async fn apply(
    session: &Session,
    emulator: Option<&Emulator>,
    args: ApplyArgs,
) -> anyhow::Result<Exit> {
    match &args.plan_file {
        Some(path) => apply_saved(session, emulator, path, &args).await,
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
    let request = Request {
        target,
        prune: args.prune,
        salt: &salt,
        provisioned: None,
    };
    let (observation, connections) = match observe_for_apply(session, emulator, request).await? {
        Outcome::Observed(observed) => observed,
        Outcome::NoSection(target) => return no_section(target),
    };
    let findings = CheckOptions::new(session, &args.checks, args.strict, false)
        .settle(observation.findings.clone());
    if !session.global.quiet || !args.auto_approve {
        emit(&table::plan(&observation.plan, &findings, session.style))?;
    } else if !checks::failed(&findings).is_empty() {
        emit(&render::findings::findings(&findings, session.style))?;
    }
    // Before the prompt and before any writer exists: a failed check writes nothing.
    stop_on_errors(&findings, ", so nothing was applied")?;
    if observation.plan.is_empty() {
        return Ok(Exit::Ok);
    }
    if !args.auto_approve && !confirm()? {
        eprintln!("Apply cancelled.");
        return Ok(Exit::Error);
    }
    let again = Again {
        emulator,
        target,
        prune: args.prune,
        salt: &salt,
        env_file_changed: OnChange::Replan,
    };
    execute(session, observation, connections, again).await
}

async fn apply_saved(
    session: &Session,
    emulator: Option<&Emulator>,
    path: &Path,
    args: &ApplyArgs,
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
    let request = Request {
        target,
        prune: options.prune,
        salt,
        provisioned: None,
    };
    let (observation, connections) = match observe_for_apply(session, emulator, request).await? {
        Outcome::Observed(observed) => observed,
        Outcome::NoSection(target) => anyhow::bail!(
            "{} is stale: convex.json no longer has an authKit.{target} section; nothing was \
             applied",
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

    let strict = args.strict || options.strict;
    let findings = CheckOptions::new(session, &args.checks, strict, false)
        .settle(observation.findings.clone());
    if !session.global.quiet {
        emit(&table::plan(&observation.plan, &findings, session.style))?;
    }
    stop_on_errors(&findings, ", so nothing was applied")?;
    if observation.plan.is_empty() {
        return Ok(Exit::Ok);
    }
    let again = Again {
        emulator,
        target,
        prune: options.prune,
        salt,
        env_file_changed: OnChange::Refuse,
    };
    execute(session, observation, connections, again).await
}

/// What is needed to plan again after provisioning, and how much the plan may adapt.
struct Again<'a> {
    emulator: Option<&'a Emulator>,
    target: Target,
    prune: bool,
    salt: &'a Salt,
    /// A saved plan refuses a `.env.local` changed since; a fresh one plans it again.
    env_file_changed: OnChange,
}

async fn execute(
    session: &Session,
    observation: Observation,
    connections: Connections,
    again: Again<'_>,
) -> anyhow::Result<Exit> {
    let mut report = Report::default();
    let (observation, connections) = match &connections.provisioning {
        None => (observation, connections),
        Some((management, name)) => {
            let address = environment_address(&observation.plan);
            match management.provision(name, false).await {
                Err(error) => {
                    report.entries.push(Entry {
                        address,
                        status: Status::Failed {
                            message: format!("{error:#}"),
                        },
                    });
                    not_attempted(&observation.plan, &mut report);
                    emit(&format!("\n{}", table::report(&report, session.style)))?;
                    return Ok(Exit::Error);
                }
                Ok(provisioned) => {
                    let note = format!(
                        "{} environment {} ({})",
                        if provisioned.newly_provisioned {
                            "new"
                        } else {
                            "existing"
                        },
                        provisioned.environment_name,
                        provisioned.client_id
                    );
                    report.entries.push(Entry {
                        address,
                        status: Status::Applied {
                            action: Action::Provision,
                            note: Some(note),
                        },
                    });
                    // The rest of the plan depended on credentials that exist only now: plan
                    // it again with them, in the same run.
                    let request = Request {
                        target: again.target,
                        prune: again.prune,
                        salt: again.salt,
                        provisioned: Some(&provisioned),
                    };
                    match observe_for_apply(session, again.emulator, request).await? {
                        Outcome::Observed(observed) => observed,
                        Outcome::NoSection(target) => return no_section(target),
                    }
                }
            }
        }
    };

    let plan = &observation.plan;
    let convex = connections.deployment.map(ConvexWriter::new);
    let workos = connections
        .workos
        .map(|api| WorkosWriter::new(api, workos::DEFAULT_CONCURRENCY));
    let env_file = plan.target.is_local().then(|| {
        EnvFileWriter::new(
            observation.project.env_local.clone(),
            again.env_file_changed,
        )
    });
    let writers = Writers {
        convex: convex.as_ref(),
        workos: workos.as_ref(),
        env_file: env_file.as_ref(),
    };
    report
        .entries
        .extend(apply::apply(plan, &writers).await.entries);

    emit(&format!("\n{}", table::report(&report, session.style)))?;
    Ok(if report.is_success() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

fn environment_address(plan: &Plan) -> crate::state::Address {
    plan.changes
        .iter()
        .find(|c| c.kind() == ResourceKind::Environment)
        .map(|c| c.address.clone())
        .unwrap_or_else(|| crate::state::Address::singleton(ResourceKind::Environment))
}

fn not_attempted(plan: &Plan, report: &mut Report) {
    for change in plan
        .actionable()
        .filter(|c| c.kind() != ResourceKind::Environment)
    {
        report.entries.push(Entry {
            address: change.address.clone(),
            status: Status::NotAttempted,
        });
    }
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
