//! `duplicate-uri`: a redirect URI or CORS origin listed twice, or two spellings of one.
//!
//! An exact repeat is harmless but hides in long lists. Two entries that differ only by a
//! trailing slash or letter case are worse: WorkOS compares exactly, so both are registered
//! and only one of them is what the app sends.

use crate::desired::DeclaredValue;
use crate::state::{Address, ResourceKind};

use super::app_redirect::loose_key;
use super::{CheckId, Finding, Input};

/// Entries grouped by their loose spelling, in first-seen order.
fn groups(values: &[DeclaredValue]) -> Vec<Vec<&DeclaredValue>> {
    let mut groups: Vec<(String, Vec<&DeclaredValue>)> = Vec::new();
    for value in values {
        let key = loose_key(&value.value);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups
        .into_iter()
        .map(|(_, group)| group)
        .filter(|group| group.len() > 1)
        .collect()
}

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    let lists = [
        (ResourceKind::RedirectUri, &input.declared.redirect_uris),
        (ResourceKind::CorsOrigin, &input.declared.cors_origins),
    ];
    for (kind, values) in lists {
        for group in groups(values) {
            let paths: Vec<&str> = group.iter().map(|d| d.path.as_str()).collect();
            let mut spellings: Vec<&str> = group.iter().map(|d| d.value.as_str()).collect();
            spellings.dedup();
            let addresses = spellings.iter().map(|s| Address::new(kind, *s)).collect();

            let (message, advice) = if spellings.len() == 1 {
                (
                    format!(
                        "`{}` is declared {} times ({})",
                        spellings[0],
                        group.len(),
                        paths.join(", ")
                    ),
                    "remove the repeats; WorkOS keeps one entry either way".to_owned(),
                )
            } else {
                let listed: Vec<String> = group
                    .iter()
                    .map(|d| format!("`{}` (`{}`)", d.value, d.path))
                    .collect();
                let keep = match kind {
                    ResourceKind::CorsOrigin => {
                        "browsers send origins in lower case without a trailing slash: keep that \
                         spelling and remove the others"
                    }
                    _ => "keep the spelling the app sends and remove the others",
                };
                (
                    format!(
                        "{} differ only by a trailing slash or letter case; WorkOS compares them \
                         exactly and registers each",
                        listed.join(" and ")
                    ),
                    keep.to_owned(),
                )
            };
            findings.push(Finding::new(
                CheckId::DuplicateUri,
                addresses,
                message,
                advice,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    const ID: CheckId = CheckId::DuplicateUri;

    #[test]
    fn exact_repeats_fire_once_with_every_path() {
        let mut fixture = Fixture::dev();
        fixture.redirect_uris(&["http://a/cb", "http://b/cb", "http://a/cb"]);
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("declared 2 times"));
        assert!(findings[0].message.contains("redirectUris[0], "));
        assert!(findings[0].message.contains("redirectUris[2]"));
        assert_eq!(findings[0].addresses.len(), 1);
    }

    #[test]
    fn near_duplicates_fire_for_uris_and_origins() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://a/Callback", "http://a/callback/"])
            .cors_origins(&["http://localhost:3000", "http://LOCALHOST:3000"]);
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].addresses.len(), 2);
        assert!(findings[1].advice.contains("lower case"));
    }

    #[test]
    fn distinct_values_are_silent() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://a/cb", "http://a/cb2", "http://b/cb"])
            .cors_origins(&["http://localhost:3000", "http://localhost:3001"]);
        assert!(fixture.of(ID).is_empty());
    }
}
