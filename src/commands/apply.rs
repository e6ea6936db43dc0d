//! `apply`: make the live state match, from a fresh plan (after confirmation) or from a saved
//! plan file (which is the approval, and is refused when stale).

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

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
use crate::render::projects::{Section, Verb};
use crate::render::{self, table};
use crate::state::ResourceKind;
use crate::target::Target;

use super::checks::{CheckOptions, stop_on_errors};
use super::observe::{Connections, Observation, Outcome, Request, observe_for_apply};
use super::projects::{Selection, for_each};
use super::{Exit, ProjectRun, Session, emit, no_section};

pub async fn apply(
    session: &Session,
    emulator: Option<&Emulator>,
    selection: &Selection,
    args: ApplyArgs,
) -> anyhow::Result<Exit> {
    match &args.plan_file {
        Some(path) => {
            let dir = selection.only("apply PLAN_FILE")?;
            apply_saved(session, emulator, dir, path, &args).await
        }
        None if selection.several => apply_many(session, emulator, selection, &args).await,
        None => apply_one(session, emulator, selection.only("apply")?, &args).await,
    }
}

/// A project whose plan is made, shown and waiting for approval.
struct Pending {
    observation: Observation,
    connections: Connections,
    again: Again,
}

/// What every project of `apply` shares.
struct Job<'a> {
    session: &'a Session,
    emulator: Option<&'a Emulator>,
    target: Target,
    args: &'a ApplyArgs,
    checks: CheckOptions<'a>,
}

impl<'a> Job<'a> {
    fn new(
        session: &'a Session,
        emulator: Option<&'a Emulator>,
        args: &'a ApplyArgs,
    ) -> anyhow::Result<Job<'a>> {
        Ok(Job {
            session,
            emulator,
            target: session.target()?,
            args,
            checks: CheckOptions::new(session, &args.checks, args.strict, false),
        })
    }

    /// Plans one project and renders its plan into `out`; `None` when there is nothing to
    /// apply. Nothing is written: a failed check stops the project here.
    async fn prepare(&self, dir: &Path, out: &mut String) -> anyhow::Result<Option<Pending>> {
        let (session, args) = (self.session, self.args);
        let salt = Salt::random()?;
        let request = Request {
            dir,
            target: self.target,
            prune: args.prune,
            salt: &salt,
            provisioned: None,
        };
        let (observation, connections) =
            match observe_for_apply(session, self.emulator, request).await? {
                Outcome::Observed(observed) => observed,
                Outcome::NoSection(target) => {
                    out.push_str(&no_section(target));
                    return Ok(None);
                }
            };
        out.push_str(&observation.header);
        let findings = self.checks.settle(observation.findings.clone());
        if !session.global.quiet || !args.auto_approve {
            out.push_str(&table::plan(&observation.plan, &findings, session.style));
        } else if !checks::failed(&findings).is_empty() {
            out.push_str(&render::findings::findings(&findings, session.style));
        }
        // Before the prompt and before any writer exists: a failed check writes nothing.
        stop_on_errors(&findings, ", so nothing was applied")?;
        if observation.plan.is_empty() {
            return Ok(None);
        }
        let again = Again {
            dir: dir.to_owned(),
            target: self.target,
            prune: args.prune,
            salt,
            env_file_changed: OnChange::Replan,
        };
        Ok(Some(Pending {
            observation,
            connections,
            again,
        }))
    }
}

async fn apply_one(
    session: &Session,
    emulator: Option<&Emulator>,
    dir: &Path,
    args: &ApplyArgs,
) -> anyhow::Result<Exit> {
    let job = Job::new(session, emulator, args)?;
    let mut out = String::new();
    let prepared = job.prepare(dir, &mut out).await;
    emit(&out)?;
    let Some(pending) = prepared? else {
        return Ok(Exit::Ok);
    };
    if !args.auto_approve && !confirm("Do you want to perform these actions?")? {
        eprintln!("Apply cancelled.");
        return Ok(Exit::Error);
    }
    let mut out = String::new();
    let exit = execute(session, emulator, pending, &mut out).await;
    emit(&out)?;
    exit
}

/// Several projects: every plan first, one approval for all of them, then every project
/// applies, and one summary. A project whose plan failed is reported and left out; the others
/// go on.
async fn apply_many(
    session: &Session,
    emulator: Option<&Emulator>,
    selection: &Selection,
    args: &ApplyArgs,
) -> anyhow::Result<Exit> {
    let job = Job::new(session, emulator, args)?;
    let job = &job;
    let dirs = &selection.dirs;
    let planned = for_each(dirs, |dir| async move {
        let mut run = ProjectRun::default();
        let pending = match job.prepare(dir, &mut run.text).await {
            Ok(pending) => pending,
            Err(error) => {
                run.result = Err(error);
                None
            }
        };
        run.summary = pending.as_ref().map(|p| p.observation.plan.summary());
        run.changed = pending.is_some();
        (run, pending)
    })
    .await;
    let (plans, pending): (Vec<ProjectRun>, Vec<Option<Pending>>) = planned.into_iter().unzip();
    let plans: Vec<Section> = plans
        .into_iter()
        .zip(dirs)
        .map(|(run, dir)| run.into_section(dir))
        .collect();
    emit(&render::projects::sections(&plans))?;

    let ready = pending.iter().flatten().count();
    if ready > 0 && !args.auto_approve {
        let question = format!(
            "Do you want to perform these actions in {ready} project{}?",
            if ready == 1 { "" } else { "s" }
        );
        if !confirm(&question)? {
            eprintln!("Apply cancelled.");
            return Ok(Exit::Error);
        }
    }

    let applied = for_each(pending, |pending| async move {
        let pending = pending?;
        let mut run = ProjectRun {
            summary: Some(pending.observation.plan.summary()),
            changed: true,
            ..ProjectRun::default()
        };
        run.result = execute(session, emulator, pending, &mut run.text).await;
        Some(run)
    })
    .await;
    // The reports of the projects that applied, then a summary over all of them, where a
    // project that did not get to apply is represented by its plan.
    let mut reports = Vec::new();
    let mut outcomes = Vec::new();
    for ((plan, applied), dir) in plans.into_iter().zip(applied).zip(dirs) {
        match applied {
            Some(run) => {
                let report = run.into_section(dir);
                outcomes.push(report.clone());
                reports.push(report);
            }
            None => outcomes.push(plan),
        }
    }
    emit(&render::projects::sections(&reports))?;
    emit(&render::projects::summary(&outcomes, Verb::Apply))?;
    Ok(super::combine(
        outcomes.iter().map(|s| Exit::from_code(s.exit_code)),
    ))
}

async fn apply_saved(
    session: &Session,
    emulator: Option<&Emulator>,
    dir: &Path,
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
        dir,
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
    emit(&observation.header)?;

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
    let pending = Pending {
        observation,
        connections,
        again: Again {
            dir: dir.to_owned(),
            target,
            prune: options.prune,
            salt: salt.clone(),
            env_file_changed: OnChange::Refuse,
        },
    };
    let mut out = String::new();
    let exit = execute(session, emulator, pending, &mut out).await;
    emit(&out)?;
    exit
}

/// What is needed to plan again after provisioning, and how much the plan may adapt.
struct Again {
    dir: PathBuf,
    target: Target,
    prune: bool,
    salt: Salt,
    /// A saved plan refuses a `.env.local` changed since; a fresh one plans it again.
    env_file_changed: OnChange,
}

/// Applies an approved plan and renders the report into `out`.
async fn execute(
    session: &Session,
    emulator: Option<&Emulator>,
    pending: Pending,
    out: &mut String,
) -> anyhow::Result<Exit> {
    let Pending {
        observation,
        connections,
        again,
    } = pending;
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
                    out.push_str(&format!("\n{}", table::report(&report, session.style)));
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
                        dir: &again.dir,
                        target: again.target,
                        prune: again.prune,
                        salt: &again.salt,
                        provisioned: Some(&provisioned),
                    };
                    match observe_for_apply(session, emulator, request).await? {
                        Outcome::Observed(observed) => {
                            out.push_str(&observed.0.header);
                            observed
                        }
                        Outcome::NoSection(target) => {
                            out.push_str(&no_section(target));
                            return Ok(Exit::Ok);
                        }
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

    out.push_str(&format!("\n{}", table::report(&report, session.style)));
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
fn confirm(question: &str) -> anyhow::Result<bool> {
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
        "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim_end_matches(['\r', '\n']) == "yes")
}
