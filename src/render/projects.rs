//! The output of a run over several projects: a section per project (a heading with the
//! project's directory, then what a run over that project alone prints) and one combined
//! summary, in each output format.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::plan::Summary;

use super::json::{FORMAT_VERSION, PlanDocument};
use super::markdown;

/// The command whose results are combined; it chooses the words of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Plan,
    Drift,
    Apply,
}

/// How one project's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Nothing to change, in sync, or nothing to apply.
    Unchanged,
    /// Changes planned, drift found, or changes applied.
    Changed,
    /// The run failed; the section says why.
    Failed,
}

impl Status {
    fn word(self, verb: Verb) -> &'static str {
        match (verb, self) {
            (_, Status::Failed) => "error",
            (Verb::Plan, Status::Unchanged) => "no changes",
            (Verb::Plan, Status::Changed) => "changes",
            (Verb::Drift, Status::Unchanged) => "in sync",
            (Verb::Drift, Status::Changed) => "drift",
            (Verb::Apply, Status::Unchanged) => "nothing to apply",
            (Verb::Apply, Status::Changed) => "applied",
        }
    }
}

/// One project's part of the output.
#[derive(Debug, Clone)]
pub struct Section {
    /// The project directory as given on the command line or matched by a glob.
    pub dir: String,
    /// What a run over this project alone prints, in the run's format.
    pub text: String,
    /// The project's plan, for JSON output.
    pub document: Option<PlanDocument>,
    /// The plan's counts, when it was made.
    pub summary: Option<Summary>,
    pub status: Status,
    /// The error that ended the project's run.
    pub error: Option<String>,
    /// The exit code the project's run alone would have had.
    pub exit_code: u8,
}

/// The combined JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectsDocument {
    /// `"1"`, as in the plan documents it holds.
    pub format_version: String,
    pub tool_version: String,
    /// One entry per project, in the order of the command line (a glob's matches sorted).
    pub projects: Vec<ProjectDocument>,
    pub summary: ProjectsSummary,
}

/// One project in the combined JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDocument {
    pub dir: String,
    pub status: Status,
    /// The exit code a run over this project alone would have had.
    pub exit_code: u8,
    /// Why the project's run failed; `null` otherwise.
    pub error: Option<String>,
    /// The project's plan document, as `plan --format json` prints it for the project alone;
    /// `null` when the run failed before planning or the project has no section for the
    /// target.
    pub plan: Option<PlanDocument>,
}

/// The counts over every project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectsSummary {
    pub projects: usize,
    /// Projects with changes (for drift: with drift).
    pub changed: usize,
    /// Projects without changes (for drift: in sync).
    pub unchanged: usize,
    /// Projects whose run failed.
    pub failed: usize,
    /// The run's exit code: 1 if any project failed, else 2 if any has changes (with
    /// `--detailed-exitcode` for plan) or drift, else 0.
    pub exit_code: u8,
    /// The changes of every project that was planned, added up.
    pub changes: Summary,
}

fn count(sections: &[Section], status: Status) -> usize {
    sections.iter().filter(|s| s.status == status).count()
}

fn total(sections: &[Section]) -> Summary {
    let mut sum = Summary::default();
    for summary in sections.iter().filter_map(|s| s.summary) {
        sum.create += summary.create;
        sum.update += summary.update;
        sum.delete += summary.delete;
        sum.unverified += summary.unverified;
        sum.unchanged += summary.unchanged;
    }
    sum
}

fn counts(summary: &Summary) -> String {
    format!(
        "{} to create, {} to update, {} to delete, {} unverified",
        summary.create, summary.update, summary.delete, summary.unverified
    )
}

fn projects(n: usize) -> String {
    format!("{n} project{}", if n == 1 { "" } else { "s" })
}

/// The table format: sections under `=== DIR ===` headings, then the summary.
pub fn table(sections: &[Section], verb: Verb) -> String {
    let mut out = self::sections(sections);
    out.push_str(&summary(sections, verb));
    out
}

/// Each project's output under a heading with its directory, and its error, if any.
pub fn sections(sections: &[Section]) -> String {
    let mut out = String::new();
    let n = sections.len();
    for (i, section) in sections.iter().enumerate() {
        // Under --quiet a project may have printed nothing; its heading alone says nothing.
        let text = section.text.trim_start_matches('\n');
        if text.is_empty() && section.error.is_none() {
            continue;
        }
        let _ = writeln!(out, "=== {} ({} of {n}) ===\n", section.dir, i + 1);
        out.push_str(text);
        if let Some(error) = &section.error {
            if !text.is_empty() && !text.ends_with("\n\n") {
                out.push('\n');
            }
            let _ = writeln!(out, "error: {error}");
        }
        out.push('\n');
    }
    out
}

/// One line per project with its result, then the counts over all of them.
pub fn summary(sections: &[Section], verb: Verb) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "=== Summary: {} ===\n", projects(sections.len()));
    let width = sections.iter().map(|s| s.dir.len()).max().unwrap_or(0);
    for section in sections {
        let detail = match (section.status, &section.summary) {
            (Status::Failed, _) | (_, None) => String::new(),
            (_, Some(summary)) => format!(" ({})", counts(summary)),
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {}{detail}",
            section.dir,
            section.status.word(verb)
        );
    }
    let _ = writeln!(out, "\n{}", tally(sections, verb));
    out
}

/// One line of counts over every project.
fn tally(sections: &[Section], verb: Verb) -> String {
    let n = projects(sections.len());
    let changed = count(sections, Status::Changed);
    let unchanged = count(sections, Status::Unchanged);
    let failed = count(sections, Status::Failed);
    match verb {
        Verb::Plan => format!(
            "{n}: {changed} with changes, {unchanged} without, {failed} failed. Total: {}.",
            counts(&total(sections))
        ),
        Verb::Drift => format!("{n}: {changed} with drift, {unchanged} in sync, {failed} failed."),
        Verb::Apply => {
            format!("{n}: {changed} applied, {unchanged} with nothing to apply, {failed} failed.")
        }
    }
}

/// The JSON format: the plan documents of every project and the combined summary.
pub fn json(sections: Vec<Section>, exit_code: u8) -> String {
    let summary = ProjectsSummary {
        projects: sections.len(),
        changed: count(&sections, Status::Changed),
        unchanged: count(&sections, Status::Unchanged),
        failed: count(&sections, Status::Failed),
        exit_code,
        changes: total(&sections),
    };
    let document = ProjectsDocument {
        format_version: FORMAT_VERSION.to_owned(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        projects: sections
            .into_iter()
            .map(|s| ProjectDocument {
                dir: s.dir,
                status: s.status,
                exit_code: s.exit_code,
                error: s.error,
                plan: s.document,
            })
            .collect(),
        summary,
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// How many characters each project's Markdown may take so that the whole comment stays
/// within GitHub's limit; the summary table above the sections takes the rest.
pub fn markdown_budget(projects: usize) -> usize {
    let summary = 2_000 + 200 * projects;
    markdown::MAX_CHARS.saturating_sub(summary) / projects.max(1)
}

/// The Markdown format: the summary table first (a reviewer reads it before anything else),
/// then a section per project. `sections` hold Markdown rendered within [`markdown_budget`].
pub fn markdown(sections: &[Section], verb: Verb) -> String {
    let mut out = String::new();
    let n = sections.len();
    let title = match verb {
        Verb::Plan => "plan",
        Verb::Drift => "drift check",
        Verb::Apply => "apply",
    };
    let _ = writeln!(out, "<!-- authkit-sync:projects -->");
    let _ = writeln!(out, "## authkit-sync {title} of {}\n", projects(n));
    let _ = writeln!(
        out,
        "| project | result | create | update | delete | unverified |\n|---|---|--:|--:|--:|--:|"
    );
    for section in sections {
        let numbers = match (&section.summary, section.status) {
            (Some(s), Status::Changed | Status::Unchanged) => {
                format!(
                    "{} | {} | {} | {}",
                    s.create, s.update, s.delete, s.unverified
                )
            }
            _ => " |  |  | ".to_owned(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {numbers} |",
            section.dir.replace('`', "'").replace('|', "\\|"),
            section.status.word(verb)
        );
    }
    let _ = writeln!(out, "\n{}\n", tally(sections, verb));
    for section in sections {
        let _ = writeln!(
            out,
            "## `{}`\n",
            section.dir.replace('`', "'").replace('|', "\\|")
        );
        out.push_str(&section.text);
        if let Some(error) = &section.error {
            if !section.text.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "**Error**\n\n```text\n{}\n```",
                error.replace("```", "'''")
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(dir: &str, status: Status, create: usize) -> Section {
        Section {
            dir: dir.to_owned(),
            text: format!("plan of {dir}\n"),
            document: None,
            summary: (status != Status::Failed).then_some(Summary {
                create,
                ..Summary::default()
            }),
            status,
            error: (status == Status::Failed).then(|| "it broke".to_owned()),
            exit_code: match status {
                Status::Failed => 1,
                _ => 0,
            },
        }
    }

    fn sections() -> Vec<Section> {
        vec![
            section("apps/web", Status::Changed, 2),
            section("apps/admin", Status::Unchanged, 0),
            section("apps/broken", Status::Failed, 0),
        ]
    }

    #[test]
    fn tables_have_a_heading_per_project_and_one_summary() {
        let text = table(&sections(), Verb::Plan);
        assert!(
            text.starts_with("=== apps/web (1 of 3) ===\n\nplan of apps/web\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "=== apps/broken (3 of 3) ===\n\nplan of apps/broken\n\nerror: it broke\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  apps/web     changes (2 to create, 0 to update"),
            "{text}"
        );
        assert!(text.contains("  apps/broken  error\n"), "{text}");
        assert!(
            text.contains(
                "3 projects: 1 with changes, 1 without, 1 failed. Total: 2 to create, 0 to \
                 update, 0 to delete, 0 unverified."
            ),
            "{text}"
        );
        let drift = table(&sections(), Verb::Drift);
        assert!(
            drift.contains("1 with drift, 1 in sync, 1 failed"),
            "{drift}"
        );
    }

    #[test]
    fn json_holds_every_project_and_the_totals() {
        let value: serde_json::Value = serde_json::from_str(&json(sections(), 1)).unwrap();
        assert_eq!(value["projects"].as_array().unwrap().len(), 3);
        assert_eq!(value["projects"][0]["dir"], "apps/web");
        assert_eq!(value["projects"][0]["status"], "changed");
        assert_eq!(value["projects"][2]["error"], "it broke");
        assert_eq!(value["summary"]["failed"], 1);
        assert_eq!(value["summary"]["exit_code"], 1);
        assert_eq!(value["summary"]["changes"]["create"], 2);
    }

    #[test]
    fn markdown_puts_the_summary_first() {
        let text = markdown(&sections(), Verb::Plan);
        let table_at = text
            .find("| `apps/web` | changes | 2 | 0 | 0 | 0 |")
            .unwrap();
        let section_at = text.find("## `apps/web`").unwrap();
        assert!(table_at < section_at, "{text}");
        assert!(
            text.contains("**Error**\n\n```text\nit broke\n```"),
            "{text}"
        );
        assert!(markdown_budget(50) * 50 < markdown::MAX_CHARS);
    }
}
