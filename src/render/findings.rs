//! The findings of the consistency checks, as printed under the plan table.

use std::fmt::Write as _;

use crate::checks::{Finding, Severity};

use super::Style;
use super::mask::one_line;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

fn label(severity: Severity, style: Style) -> String {
    if !style.color {
        return severity.as_str().to_owned();
    }
    let color = match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    };
    format!("{color}{severity}{RESET}")
}

/// Renders the findings, or nothing when there are none.
///
/// Each finding reads like a compiler diagnostic: `severity[id]: message`, the addresses
/// involved, then what to change. Messages may quote values from `.env.local`; they are kept on
/// one line each so that a value cannot fake another finding.
pub fn findings(findings: &[Finding], style: Style) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nChecks:\n");
    for finding in findings {
        let _ = writeln!(
            out,
            "  {}[{}]: {}",
            label(finding.severity, style),
            finding.id,
            one_line(&finding.message)
        );
        for address in &finding.addresses {
            let _ = writeln!(out, "    at {address}");
        }
        let _ = writeln!(out, "    fix: {}", one_line(&finding.advice));
    }

    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let plural = |n: usize, word: &str| match n {
        1 => format!("1 {word}"),
        n => format!("{n} {word}s"),
    };
    let _ = writeln!(
        out,
        "  {}, {}. `--ignore ID` accepts a check's findings; `--strict` makes warnings errors.",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckId;
    use crate::state::{Address, ResourceKind};

    fn finding(severity: Severity) -> Finding {
        Finding {
            id: CheckId::DuplicateUri,
            severity,
            addresses: vec![Address::new(ResourceKind::RedirectUri, "http://a/cb")],
            message: "`http://a/cb` is declared 2 times\n  error[fake]: injected".to_owned(),
            advice: "remove the repeats".to_owned(),
        }
    }

    #[test]
    fn each_finding_shows_id_addresses_and_fix() {
        let text = findings(
            &[finding(Severity::Error), finding(Severity::Warning)],
            Style::PLAIN,
        );
        let expected = "\nChecks:\n  error[duplicate-uri]: `http://a/cb` is declared 2 times\\n  \
            error[fake]: injected\n    at workos.redirect_uri[\"http://a/cb\"]\n    fix: remove \
            the repeats\n  warning[duplicate-uri]: `http://a/cb` is declared 2 \
            times\\n  error[fake]: injected\n    at workos.redirect_uri[\"http://a/cb\"]\n    \
            fix: remove the repeats\n  1 error, 1 warning. `--ignore ID` accepts a check's \
            findings; `--strict` makes warnings errors.\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn nothing_when_there_are_no_findings_and_colour_only_when_asked() {
        assert_eq!(findings(&[], Style::PLAIN), "");
        let coloured = findings(&[finding(Severity::Warning)], Style { color: true });
        assert!(coloured.contains("\x1b[33mwarning\x1b[0m[duplicate-uri]"));
    }
}
