//! `wildcard-unsupported`: a `*` where WorkOS does not honour it.
//!
//! WorkOS documents wildcards for redirect URIs only, and only in one shape: a single `*` in
//! the leftmost label of the host, standing for part of that one label, under a registrable
//! domain (`https://*.example.com/callback`, `https://pr-*.example.com/callback`). Other
//! shapes are stored but never match. The default redirect URI may not be a wildcard, which
//! matters when apply fills an empty environment: WorkOS makes the first URI created its
//! default.

use crate::state::{Address, ResourceKind};

use super::{CheckId, Finding, Input};

/// What is wrong with the wildcard in a redirect URI, if anything.
fn redirect_problem(uri: &str) -> Option<&'static str> {
    let count = uri.matches('*').count();
    if count == 0 {
        return None;
    }
    let url = url::Url::parse(uri).ok()?;
    let host = url.host_str().unwrap_or_default();
    if !host.contains('*') {
        return Some("WorkOS matches a wildcard only in the host name, not in the path or query");
    }
    if count > 1 {
        return Some("WorkOS allows one wildcard per redirect URI");
    }
    let labels: Vec<&str> = host.split('.').collect();
    if !labels[0].contains('*') {
        return Some(
            "the wildcard must be in the leftmost label of the host (`https://*.example.com` \
             works, `https://app.*.example.com` does not)",
        );
    }
    if labels.len() < 3 {
        return Some(
            "a wildcard directly under a top-level domain matches nothing; WorkOS needs a \
             domain of your own after it (`https://*.example.com`)",
        );
    }
    None
}

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    let declared = &input.declared;
    let mut push = |address: Address, message: String, advice: String| {
        findings.push(Finding::new(
            CheckId::WildcardUnsupported,
            vec![address],
            message,
            advice,
        ))
    };

    for d in &declared.redirect_uris {
        if let Some(problem) = redirect_problem(&d.value) {
            push(
                Address::new(ResourceKind::RedirectUri, &d.value),
                format!("`{}` (`{}`) will never match: {problem}", d.value, d.path),
                "write the wildcard as the leftmost host label, or list the URIs one by one"
                    .to_owned(),
            );
        }
    }
    for d in declared
        .cors_origins
        .iter()
        .filter(|d| d.value.contains('*'))
    {
        push(
            Address::new(ResourceKind::CorsOrigin, &d.value),
            format!(
                "`{}` (`{}`) has a wildcard, but WorkOS documents wildcards for redirect URIs \
                 only; browsers send exact origins",
                d.value, d.path
            ),
            "list each origin the app is served from".to_owned(),
        );
    }
    if let Some(d) = declared
        .app_homepage_url
        .as_ref()
        .filter(|d| d.value.contains('*'))
    {
        push(
            Address::singleton(ResourceKind::AppHomepageUrl),
            format!(
                "`{}` (`{}`) has a wildcard, but the homepage URL is a link WorkOS sends users \
                 to and must name one page",
                d.value, d.path
            ),
            "use the URL of the app's home page".to_owned(),
        );
    }

    let Some(live) = input.live.filter(|l| l.is_read(ResourceKind::RedirectUri)) else {
        return;
    };
    let mut live_uris = live.of_kind(ResourceKind::RedirectUri).peekable();
    let default = live
        .of_kind(ResourceKind::RedirectUri)
        .find(|(_, item)| item.is_default);
    match default {
        Some((address, _)) if address.name().is_some_and(|n| n.contains('*')) => push(
            address.clone(),
            format!(
                "the environment's default redirect URI `{}` has a wildcard, which WorkOS does \
                 not allow for the default",
                address.name().unwrap_or_default()
            ),
            "make a redirect URI without a wildcard the default in the WorkOS dashboard".to_owned(),
        ),
        None if live_uris.peek().is_none() => {
            let first_wildcard = declared
                .redirect_uris
                .iter()
                .find(|d| d.value.contains('*'));
            if let Some(d) = first_wildcard {
                push(
                    Address::new(ResourceKind::RedirectUri, &d.value),
                    format!(
                        "the environment has no redirect URI yet, and WorkOS makes the first \
                         one created its default; apply creates them concurrently, so `{}` \
                         (`{}`) may be picked, and a default may not have a wildcard",
                        d.value, d.path
                    ),
                    "apply first with only URIs without a wildcard, or register one in the \
                     WorkOS dashboard and make it the default"
                        .to_owned(),
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    const ID: CheckId = CheckId::WildcardUnsupported;

    #[test]
    fn misplaced_wildcards() {
        for uri in [
            "https://app.*.example.com/cb",
            "https://*.*.example.com/cb",
            "https://app.example.com/*",
            "http://*.com/cb",
        ] {
            assert!(redirect_problem(uri).is_some(), "{uri}");
        }
        for uri in [
            "https://*.example.com/cb",
            "https://pr-*-shop.example.com/cb",
            "https://app.example.com/cb",
        ] {
            assert_eq!(redirect_problem(uri), None, "{uri}");
        }
    }

    #[test]
    fn fires_for_misplaced_redirect_wildcards_origins_and_homepages() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/cb", "https://app.*.example.com/cb"])
            .cors_origins(&["https://*.example.com"])
            .homepage("https://*.example.com");
        fixture.live_redirect("http://localhost:3000/cb", true);
        let findings = fixture.of(ID);
        let addresses: Vec<String> = findings
            .iter()
            .map(|f| f.addresses[0].to_string())
            .collect();
        assert_eq!(
            addresses,
            [
                r#"workos.redirect_uri["https://app.*.example.com/cb"]"#,
                r#"workos.cors_origin["https://*.example.com"]"#,
                "workos.app_homepage_url",
            ]
        );
    }

    #[test]
    fn a_wildcard_default_fires() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["https://*.example.com/cb"])
            .live_redirect("https://*.example.com/cb", true);
        assert_eq!(fixture.of(ID).len(), 1);
    }

    #[test]
    fn a_wildcard_in_an_empty_environment_may_become_the_default() {
        let mut fixture = Fixture::dev();
        fixture.redirect_uris(&["https://app.example.com/cb", "https://*.example.com/cb"]);
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("first one created"));

        fixture.live_redirect("https://app.example.com/cb", true);
        assert!(fixture.of(ID).is_empty());
    }

    #[test]
    fn well_placed_wildcards_are_silent() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/cb", "https://pr-*.example.com/cb"])
            .live_redirect("http://localhost:3000/cb", true);
        assert!(fixture.run().is_empty());
    }
}
