//! The human rendering: a table of changes, notes, unmanaged items and a summary line.

use std::fmt::Write as _;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use crate::checks::Finding;
use crate::plan::report::{Report, Status};
use crate::plan::{Action, Plan};

use super::Style;
use super::mask;

pub const NO_CHANGES: &str =
    "No changes. The WorkOS environment, .env.local and deployment match convex.json.";

fn color(action: Action) -> Option<Color> {
    match action {
        Action::Create | Action::Provision => Some(Color::Green),
        Action::Update => Some(Color::Yellow),
        Action::Delete => Some(Color::Red),
        Action::Set | Action::Unverified => Some(Color::Cyan),
        Action::NoOp => None,
    }
}

fn new_table(style: Style) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

fn action_cell(action: Action, word: &str, style: Style) -> Cell {
    let cell = Cell::new(format!("{} {word}", action.symbol()));
    match color(action) {
        Some(c) if style.color => cell.fg(c),
        _ => cell,
    }
}

/// Renders a plan the way `plan` prints it, with the findings of the checks under it.
pub fn plan(plan: &Plan, findings: &[Finding], style: Style) -> String {
    let mut out = String::new();
    let shown: Vec<_> = plan.actionable().collect();

    if !shown.is_empty() {
        let heading = if plan.summary().has_changes(false) {
            "authkit-sync will perform these actions"
        } else {
            "Nothing to change, but these items cannot be read back and apply sends them again"
        };
        let _ = writeln!(out, "{heading} (target {}):\n", plan.target);
        let mut table = new_table(style);
        table.set_header(vec!["action", "address", "current", "desired"]);
        for change in &shown {
            table.add_row(vec![
                action_cell(change.action, change.action.word(), style),
                Cell::new(change.address.to_string()),
                Cell::new(mask::show_before(change)),
                Cell::new(mask::show_after(change)),
            ]);
        }
        let _ = writeln!(out, "{}", trim_lines(&table.to_string()));
    }

    let diffs: Vec<_> = shown
        .iter()
        .filter(|c| c.action == Action::Update)
        .filter_map(|c| Some((c, mask::inline_diff(c)?)))
        .collect();
    if !diffs.is_empty() {
        let _ = writeln!(out, "\nChanged values:");
        for (change, diff) in diffs {
            let _ = writeln!(out, "  {}: {diff}", change.address);
        }
    }

    let limited: Vec<_> = plan
        .capabilities
        .iter()
        .filter_map(|(kind, capability)| Some(format!("  {kind}: {}", capability.limit()?)))
        .filter(|_| !shown.is_empty())
        .collect();
    if !limited.is_empty() {
        let _ = writeln!(out, "\nCannot be verified:\n{}", limited.join("\n"));
    }

    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "\nUnmanaged (on the server but not in convex.json; left alone, --prune deletes them):"
        );
        for item in &plan.unmanaged {
            match &item.note {
                Some(note) => writeln!(out, "  {} ({note})", item.address),
                None => writeln!(out, "  {}", item.address),
            }
            .ok();
        }
    }

    out.push_str(&super::findings::findings(findings, style));

    let summary = plan.summary();
    let _ = writeln!(out);
    if summary.has_changes(false) {
        let _ = writeln!(
            out,
            "Plan: {} to create, {} to update, {} to delete, {} unverified.",
            summary.create, summary.update, summary.delete, summary.unverified
        );
    } else {
        let _ = writeln!(out, "{NO_CHANGES}");
        if summary.unverified > 0 {
            let _ = writeln!(
                out,
                "{} unverified item(s) cannot be read back; apply sends them again.",
                summary.unverified
            );
        }
    }
    out
}

/// Renders what apply did.
pub fn report(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let mut table = new_table(style);
    for entry in &report.entries {
        let (cell, detail) = match &entry.status {
            Status::Applied { action, note } => (
                action_cell(*action, past_tense(*action), style),
                note.clone(),
            ),
            Status::Failed { message } => {
                let cell = Cell::new("! failed");
                let cell = if style.color {
                    cell.fg(Color::Red)
                } else {
                    cell
                };
                (cell, Some(message.clone()))
            }
            Status::NotAttempted => (Cell::new("  not applied"), None),
        };
        let address = entry.address.to_string();
        let detail = detail
            .map(|d| d.replace('\n', "\n    "))
            .unwrap_or_default();
        table.add_row(vec![cell, Cell::new(address), Cell::new(detail)]);
    }
    if !report.entries.is_empty() {
        let _ = writeln!(out, "{}\n", trim_lines(&table.to_string()));
    }
    let mut counts = format!(
        "{} created, {} updated, {} deleted, {} set",
        report.applied(Action::Create) + report.applied(Action::Provision),
        report.applied(Action::Update),
        report.applied(Action::Delete),
        report.applied(Action::Set),
    );
    let in_place = report.applied(Action::NoOp);
    if in_place > 0 {
        counts.push_str(&format!(", {in_place} already in place"));
    }
    if report.is_success() {
        let _ = writeln!(out, "Apply complete! {counts}.");
    } else {
        let _ = writeln!(
            out,
            "Apply failed: {counts}; {} failed, {} not applied. Fix the error and run apply \
             again: applied changes are kept and will show as done.",
            report.failed(),
            report.not_attempted()
        );
    }
    out
}

fn past_tense(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Provision => "provisioned",
        Action::Update => "updated",
        Action::Delete => "deleted",
        Action::Set => "set",
        Action::Unverified => "sent",
        Action::NoOp => "unchanged",
    }
}

/// comfy-table pads every cell; trailing blanks make golden files and terminals noisy.
fn trim_lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The drift verdict under the plan table.
pub fn drift(drift: &crate::plan::drift::Drift, strict: bool) -> String {
    let mut out = String::from("\n");
    if drift.in_sync(strict) {
        let _ = writeln!(out, "Drift check: in sync.");
    } else {
        let count = drift.drifted.len() + if strict { drift.unverifiable.len() } else { 0 };
        let _ = writeln!(out, "Drift check: {count} item(s) differ from convex.json:");
        for address in &drift.drifted {
            let _ = writeln!(out, "  {address}");
        }
    }
    if !drift.unverifiable.is_empty() {
        let _ = writeln!(
            out,
            "{} item(s) cannot be verified{}.",
            drift.unverifiable.len(),
            if strict {
                " (counted as drift with --strict)"
            } else {
                ""
            }
        );
    }
    if !drift.ignored.is_empty() {
        let _ = writeln!(out, "{} item(s) ignored by --ignore.", drift.ignored.len());
    }
    out
}
