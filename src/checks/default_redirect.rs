//! `default-redirect-uri-undeclared` and `default-redirect-uri-missing`: the environment's
//! default redirect URI is not this deploy's, or there is none.
//!
//! WorkOS sends users to the default when a sign-in names no redirect URI, and the API cannot
//! change which one it is. A default left over from another deploy sends users there. Judged
//! only when the list was read: without the `default` flags there is nothing to go on.

use crate::state::{Address, ResourceKind};

use super::{CheckId, Finding, Input, quoted_list};

/// "`a`" or "one of `a` and `b`": the declared URIs, as candidates for the default.
fn candidates(input: &Input<'_>) -> String {
    let declared = &input.declared.redirect_uris;
    let list = quoted_list(declared.iter().map(|d| d.value.as_str()));
    match declared.len() {
        1 => list,
        _ => format!("one of {list}"),
    }
}

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    let Some(live) = input.live else {
        return;
    };
    if !live.is_read(ResourceKind::RedirectUri) {
        return;
    }
    let list = input.configure_path("redirectUris");
    let declared = &input.declared.redirect_uris;
    let live_uris: Vec<&Address> = live
        .of_kind(ResourceKind::RedirectUri)
        .map(|(address, _)| address)
        .collect();
    let default = live
        .of_kind(ResourceKind::RedirectUri)
        .find(|(_, item)| item.is_default)
        .map(|(address, _)| address);

    match default {
        Some(address) => {
            let uri = address.name().unwrap_or_default();
            if declared.iter().any(|d| d.value == uri) {
                return;
            }
            findings.push(Finding::new(
                CheckId::DefaultRedirectUriUndeclared,
                vec![address.clone()],
                format!(
                    "the environment's default redirect URI is `{uri}`, which `{list}` does not \
                     declare for target {}; sign-ins that name no redirect URI land there",
                    input.target
                ),
                format!(
                    "make {} the default on the Redirects page of the WorkOS dashboard (the API \
                     cannot choose the default), or add `{uri}` to `{list}` if it belongs to \
                     this deploy",
                    candidates(input)
                ),
            ));
        }
        // An empty environment is not reported: WorkOS makes the first redirect URI created
        // its default, and the next plan judges that one.
        None if live_uris.is_empty() => {}
        None => findings.push(Finding::new(
            CheckId::DefaultRedirectUriMissing,
            declared
                .iter()
                .map(|d| Address::new(ResourceKind::RedirectUri, &d.value))
                .collect(),
            format!(
                "the environment has {} redirect URI(s) but no default one; sign-ins that name \
                 no redirect URI fail",
                live_uris.len()
            ),
            format!(
                "make {} the default on the Redirects page of the WorkOS dashboard (the API \
                 cannot choose the default)",
                candidates(input)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    #[test]
    fn an_undeclared_default_fires() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/callback"])
            .live_redirect("https://preview-old.example.com/callback", true);
        let findings = fixture.of(CheckId::DefaultRedirectUriUndeclared);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].addresses,
            [Address::new(
                ResourceKind::RedirectUri,
                "https://preview-old.example.com/callback"
            )]
        );
        assert!(
            findings[0]
                .advice
                .contains("`http://localhost:3000/callback`")
        );
    }

    #[test]
    fn a_declared_default_is_silent() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/callback"])
            .live_redirect("http://localhost:3000/callback", true)
            .live_redirect("http://localhost:4000/other", false);
        assert!(fixture.run().is_empty());
    }

    #[test]
    fn no_default_fires_unless_the_environment_is_empty() {
        let mut fixture = Fixture::dev();
        fixture.redirect_uris(&["http://localhost:3000/callback"]);
        assert!(
            fixture.run().is_empty(),
            "the first URI created becomes the default"
        );

        fixture.live_redirect("http://localhost:4000/other", false);
        assert_eq!(fixture.ids(), [CheckId::DefaultRedirectUriMissing]);
    }

    #[test]
    fn unread_lists_are_not_judged() {
        let mut unreadable = Fixture::dev();
        unreadable
            .redirect_uris(&["http://localhost:3000/callback"])
            .live_redirect("http://elsewhere/callback", true)
            .unreadable(ResourceKind::RedirectUri);
        assert!(unreadable.run().is_empty());

        let mut unmanaged = Fixture::dev();
        unmanaged.live_redirect("http://elsewhere/callback", true);
        assert!(unmanaged.run().is_empty());
    }
}
