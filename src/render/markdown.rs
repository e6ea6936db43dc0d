//! Markdown for pull-request comments: the verdict and any deletions visible at the top, the
//! change table folded in a `<details>` block, never more than GitHub's comment limit, no ANSI,
//! secrets masked.

use std::fmt::Write as _;

use crate::checks::Finding;
use crate::plan::drift::Drift;
use crate::plan::{Action, Plan};

use super::mask;
use super::table::NO_CHANGES;

/// GitHub refuses comments over 65,536 characters; the rest is headroom for a CI job's own
/// additions (a link to the run, a heading).
pub const MAX_CHARS: usize = 65_000;

/// A hidden marker so a CI job can find and update its earlier comment instead of adding one.
pub fn marker(target: crate::target::Target) -> String {
    format!("<!-- authkit-sync:{target} -->")
}

/// A code span that survives any content: backticks fence it, pipes are escaped for tables.
fn code(text: &str) -> String {
    let text = mask::one_line(text).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn summary_line(plan: &Plan) -> String {
    let summary = plan.summary();
    if summary.has_changes(false) {
        format!(
            "**Plan: {} to create, {} to update, {} to delete, {} unverified.**",
            summary.create, summary.update, summary.delete, summary.unverified
        )
    } else {
        format!("**{NO_CHANGES}**")
    }
}

/// Renders `plan` and the findings of the checks; with `drift`, as a drift report.
pub fn render(plan: &Plan, findings: &[Finding], drift: Option<&Drift>) -> String {
    render_within(plan, findings, drift, MAX_CHARS)
}

/// Like [`render`], in at most about `limit` characters (one project's share of a comment
/// that covers several).
pub fn render_within(
    plan: &Plan,
    findings: &[Finding],
    drift: Option<&Drift>,
    limit: usize,
) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "{}", marker(plan.target));
    match drift {
        None => {
            let _ = writeln!(head, "### authkit-sync plan for `{}`\n", plan.target);
            let _ = writeln!(head, "{}\n", summary_line(plan));
        }
        Some(drift) => {
            let _ = writeln!(head, "### authkit-sync drift check for `{}`\n", plan.target);
            let verdict = if drift.in_sync(false) {
                "**In sync:** the live state matches convex.json.".to_owned()
            } else {
                format!(
                    "**Drift:** {} item(s) differ from convex.json.",
                    drift.drifted.len()
                )
            };
            let _ = writeln!(head, "{verdict}\n");
        }
    }

    let deletions: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .collect();
    if !deletions.is_empty() {
        let _ = writeln!(head, "> [!CAUTION]");
        let _ = writeln!(head, "> **This plan deletes {} item(s):**", deletions.len());
        for change in deletions.iter().take(50) {
            let _ = writeln!(head, "> - {}", code(&change.address.to_string()));
        }
        if deletions.len() > 50 {
            let _ = writeln!(head, "> - and {} more", deletions.len() - 50);
        }
        let _ = writeln!(head);
    }

    if !findings.is_empty() {
        let _ = writeln!(head, "**Checks**\n");
        for finding in findings.iter().take(50) {
            let _ = writeln!(
                head,
                "- **{}** {}: {}\n  - fix: {}",
                finding.severity,
                code(finding.id.as_str()),
                mask::one_line(&finding.message).replace('|', "\\|"),
                mask::one_line(&finding.advice).replace('|', "\\|"),
            );
        }
        if findings.len() > 50 {
            let _ = writeln!(head, "- and {} more", findings.len() - 50);
        }
        let _ = writeln!(head);
    }

    let rows: Vec<String> = plan
        .actionable()
        .map(|change| {
            format!(
                "| {} | {} | {} | {} | {} |\n",
                code(change.action.symbol()),
                change.action.word(),
                code(&change.address.to_string()),
                code(&mask::show_before(change)),
                code(&mask::show_after(change)),
            )
        })
        .collect();

    let mut tail = String::new();
    for (kind, capability) in &plan.capabilities {
        if let Some(limit) = capability.limit() {
            let _ = writeln!(
                tail,
                "- {}: {}",
                code(kind.as_str()),
                limit.replace('|', "\\|")
            );
        }
    }
    if !tail.is_empty() {
        tail.insert_str(0, "\n**Cannot be verified**\n\n");
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            tail,
            "\n**Unmanaged** (not in convex.json; left alone unless pruned)\n"
        );
        for item in &plan.unmanaged {
            let _ = writeln!(tail, "- {}", code(&item.address.to_string()));
        }
    }

    let open = format!("<details><summary>Changes ({})</summary>\n\n", rows.len());
    let header = "| | action | address | current | desired |\n|:-:|---|---|---|---|\n";
    let close = "\n</details>\n";
    let mut out = head;
    out.push_str(&open);
    if !rows.is_empty() {
        out.push_str(header);
    }
    // Room kept for the closing tag and the truncation note.
    let reserve = close.len() + 300;
    let shown = rows
        .iter()
        .take_while(|row| {
            let fits = out.len() + row.len() + reserve <= limit;
            if fits {
                out.push_str(row);
            }
            fits
        })
        .count();
    if shown < rows.len() || out.len() + tail.len() + reserve > limit {
        let _ = writeln!(
            out,
            "\n*Cut here: {} more change(s) and the notes are not shown, as a comment is \
             limited to {limit} characters. Run `authkit-sync show PLAN_FILE` for the whole \
             plan.*",
            rows.len() - shown
        );
    } else {
        out.push_str(&tail);
    }
    out.push_str(close);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`start"), "`` `start ``");
    }
}
