//! How values appear in output: secrets masked, absent and unknown values named, control
//! characters escaped so that one value stays on one line.

use similar::{ChangeTag, TextDiff};

use crate::plan::Change;
use crate::state::Value;

pub const SENSITIVE: &str = "(sensitive)";
pub const PENDING: &str = "(known after apply)";

/// The text shown for one side of a change.
pub fn show(value: Option<&Value>, sensitive: bool) -> String {
    match value {
        None => "(absent)".to_owned(),
        Some(Value::Present) => "present".to_owned(),
        Some(Value::Generated) => "(sensitive, generated on apply)".to_owned(),
        Some(Value::Pending) => PENDING.to_owned(),
        Some(_) if sensitive => SENSITIVE.to_owned(),
        Some(value) => one_line(value.text().unwrap_or_default()),
    }
}

/// The "current" side; a value that cannot be read is unknown rather than absent.
pub fn show_before(change: &Change) -> String {
    match (&change.before, change.action) {
        (None, crate::plan::Action::Unverified) => "(unknown)".to_owned(),
        (before, _) => show(before.as_ref(), change.is_sensitive()),
    }
}

pub fn show_after(change: &Change) -> String {
    show(change.after.as_ref(), change.is_sensitive())
}

/// Escapes control characters so a value cannot break a table row or fake another line.
pub fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A one-line diff of an updated value: `[-removed-]{+added+}` inside the unchanged text, or
/// only the fact of the change for a secret.
pub fn inline_diff(change: &Change) -> Option<String> {
    let before = change.before.as_ref()?.text()?;
    let after = change.after.as_ref()?;
    if change.is_sensitive() {
        return Some(format!("{SENSITIVE} value changed"));
    }
    let after = after.text()?;
    let diff = TextDiff::from_chars(before, after);
    let mut out = String::new();
    for group in diff
        .iter_all_changes()
        .collect::<Vec<_>>()
        .chunk_by(|a, b| a.tag() == b.tag())
    {
        let text: String = group.iter().map(|c| c.value()).collect();
        let text = one_line(&text);
        match group[0].tag() {
            ChangeTag::Equal => out.push_str(&text),
            ChangeTag::Delete => out.push_str(&format!("[-{text}-]")),
            ChangeTag::Insert => out.push_str(&format!("{{+{text}+}}")),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;
    use crate::state::{Address, ResourceKind, Secret};

    fn update(name: &str, before: Value, after: Value) -> Change {
        Change {
            address: Address::new(ResourceKind::EnvFileVar, name),
            action: Action::Update,
            before: Some(before),
            after: Some(after),
            reason: None,
            remote_id: None,
        }
    }

    #[test]
    fn diffs_mark_what_changed() {
        let change = update(
            "WORKOS_CLIENT_ID",
            Value::Text("client_01ABC".into()),
            Value::Text("client_01XYZ".into()),
        );
        assert_eq!(inline_diff(&change).unwrap(), "client_01[-ABC-]{+XYZ+}");
    }

    #[test]
    fn secrets_are_masked_on_both_sides() {
        let change = update(
            "MY_VAR",
            Value::Text("sk_test_old".into()),
            Value::Secret(Secret::new("sk_test_new")),
        );
        assert_eq!(show_before(&change), SENSITIVE);
        assert_eq!(show_after(&change), SENSITIVE);
        let diff = inline_diff(&change).unwrap();
        assert!(!diff.contains("sk_test"), "{diff}");
    }

    #[test]
    fn control_characters_stay_on_one_line() {
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
    }
}
