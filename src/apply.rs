//! Executing a plan: stage by stage, each stage only after the previous one fully succeeded.
//!
//! Within a stage the owning writer decides how to run its changes (WorkOS writes run
//! concurrently; `.env.local` is one atomic write). A failed stage stops the run: later stages
//! are reported as not applied, so `.env.local` is never written after a failed WorkOS step
//! and nothing is pruned unless every create succeeded. Every operation is idempotent, so
//! running apply again converges.

use crate::plan::report::{Entry, Report, Status};
use crate::plan::{Change, Plan, Stage};
use crate::provider::convex::ConvexWriter;
use crate::provider::env_file::EnvFileWriter;
use crate::provider::workos::WorkosWriter;
use crate::provider::{Outcome, Writer};

/// The writers a run has; a kind without a writer cannot be applied.
#[derive(Default)]
pub struct Writers<'a> {
    pub convex: Option<&'a ConvexWriter>,
    pub workos: Option<&'a WorkosWriter>,
    pub env_file: Option<&'a EnvFileWriter>,
}

impl Writers<'_> {
    async fn run(&self, changes: Vec<Change>) -> Vec<Outcome> {
        let mut rest = changes;
        let mut outcomes = Vec::new();
        hand_to(self.convex, &mut rest, &mut outcomes).await;
        hand_to(self.workos, &mut rest, &mut outcomes).await;
        hand_to(self.env_file, &mut rest, &mut outcomes).await;
        outcomes.extend(rest.into_iter().map(|change| {
            let message = format!(
                "{}: no writer for this resource in this run",
                change.address
            );
            Outcome {
                change,
                result: Err(anyhow::anyhow!(message)),
            }
        }));
        outcomes
    }
}

/// Gives `writer` the changes it owns, leaving the others in `rest`.
async fn hand_to<W: Writer>(writer: Option<&W>, rest: &mut Vec<Change>, out: &mut Vec<Outcome>) {
    let Some(writer) = writer else { return };
    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(rest)
        .into_iter()
        .partition(|c| writer.owns(c.kind()));
    *rest = others;
    if !mine.is_empty() {
        out.extend(writer.apply(mine).await);
    }
}

/// Applies the actionable changes of `plan`, reporting each one's fate.
pub async fn apply(plan: &Plan, writers: &Writers<'_>) -> Report {
    let mut report = Report::default();
    let mut stages: Vec<(Stage, Vec<Change>)> = Vec::new();
    for change in plan.actionable() {
        match stages.last_mut() {
            Some((stage, changes)) if *stage == change.stage() => changes.push(change.clone()),
            _ => stages.push((change.stage(), vec![change.clone()])),
        }
    }

    let mut failed = false;
    for (stage, changes) in stages {
        if failed {
            report.entries.extend(changes.into_iter().map(|c| Entry {
                address: c.address,
                status: Status::NotAttempted,
            }));
            continue;
        }
        tracing::debug!(?stage, count = changes.len(), "applying stage");
        for outcome in writers.run(changes).await {
            let status = match outcome.result {
                Ok(done) => {
                    tracing::info!(address = %outcome.change.address, action = %done.action,
                        "applied");
                    Status::Applied {
                        action: done.action,
                        note: done.note,
                    }
                }
                Err(error) => {
                    failed = true;
                    Status::Failed {
                        message: format!("{error:#}"),
                    }
                }
            };
            report.entries.push(Entry {
                address: outcome.change.address,
                status,
            });
        }
    }
    report
}
