//! `redirect-uri-unregistered`: the redirect URI the app sends is not one WorkOS will have.
//!
//! This is the failure users meet most: everything applies, and then the login page answers
//! `redirect-uri-invalid` because the callback the app was configured with was never
//! registered (a port or path differs, or the variable still holds another deploy's URL).

use crate::state::{Address, ResourceKind, Value};

use super::expected::{Knowledge, expected};
use super::{AppEnvSource, CheckId, Finding, Input, quoted_list, redirect_variables};

/// Where the app's redirect URI comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source<'a> {
    /// A `localEnvVars` entry at this JSON path, which apply writes to `.env.local`.
    ConvexJson(&'a str),
    /// The app's environment outside `convex.json`.
    AppEnv(AppEnvSource),
}

/// One redirect URI the app will use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AppRedirect<'a> {
    variable: &'static str,
    value: &'a str,
    source: Source<'a>,
}

impl AppRedirect<'_> {
    fn describe(&self) -> String {
        match self.source {
            Source::ConvexJson(path) => format!("{} from `{path}`", self.variable),
            Source::AppEnv(env) => format!("{} in {}", self.variable, env.describe()),
        }
    }
}

/// The framework's redirect variables that have a value. A `localEnvVars` entry wins over the
/// file, since apply writes it there.
fn app_redirects<'a>(input: &Input<'a>) -> Vec<AppRedirect<'a>> {
    let mut found = Vec::new();
    for &variable in redirect_variables(input.framework) {
        let declared = input
            .declared
            .local_env_vars
            .iter()
            .find(|v| v.name == variable);
        if let Some(var) = declared {
            // A redirect URI is no secret; a variable that the name marks as one is not shown.
            if let Value::Text(value) = &var.value {
                found.push(AppRedirect {
                    variable,
                    value,
                    source: Source::ConvexJson(&var.path),
                });
            }
            continue;
        }
        if let Some(value) = input.app_env.values.get(variable).filter(|v| !v.is_empty()) {
            found.push(AppRedirect {
                variable,
                value,
                source: Source::AppEnv(input.app_env.source),
            });
        }
    }
    found
}

/// Whether a registered redirect URI accepts the one the app sends: the same string, or a
/// wildcard entry whose `*` (in the leftmost host label, standing for part of one label)
/// covers it.
pub(super) fn accepts(registered: &str, used: &str) -> bool {
    if registered == used {
        return true;
    }
    if !registered.contains('*') {
        return false;
    }
    let (Ok(pattern), Ok(url)) = (url::Url::parse(registered), url::Url::parse(used)) else {
        return false;
    };
    let same_rest = pattern.scheme() == url.scheme()
        && pattern.port_or_known_default() == url.port_or_known_default()
        && pattern.path() == url.path()
        && pattern.query() == url.query();
    let (Some(pattern_host), Some(host)) = (pattern.host_str(), url.host_str()) else {
        return false;
    };
    let mut pattern_labels = pattern_host.split('.');
    let mut labels = host.split('.');
    let (Some(first_pattern), Some(first)) = (pattern_labels.next(), labels.next()) else {
        return false;
    };
    let first_matches = match first_pattern.split_once('*') {
        Some((prefix, suffix)) => {
            !suffix.contains('*')
                && first.len() > prefix.len() + suffix.len()
                && first.starts_with(prefix)
                && first.ends_with(suffix)
        }
        None => first_pattern == first,
    };
    same_rest && first_matches && pattern_labels.eq(labels)
}

/// The spelling used for "differs only by a trailing slash or letter case".
pub(super) fn loose_key(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    lower.strip_suffix('/').map(str::to_owned).unwrap_or(lower)
}

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    let apps = app_redirects(input);
    if apps.is_empty() {
        return;
    }
    let expected = expected(input, ResourceKind::RedirectUri);
    let list = input.configure_path("redirectUris");

    for app in apps {
        if expected.members.iter().any(|m| accepts(m, app.value)) {
            continue;
        }

        let uses = format!("the app redirects to `{}` ({})", app.value, app.describe());
        let message = match expected.knowledge {
            Knowledge::Complete => format!(
                "{uses}, which is not among the redirect URIs WorkOS will have after apply; \
                 sign-in will fail with redirect-uri-invalid"
            ),
            Knowledge::Unreadable(reason) => format!(
                "{uses}, which `{list}` does not declare; WorkOS's list cannot be read ({reason}), \
                 so whether WorkOS already has it cannot be verified"
            ),
            Knowledge::Unmanaged => format!(
                "{uses}, but convex.json declares no redirect URIs for target {}, so the list is \
                 not read and whether WorkOS has it cannot be verified",
                input.target
            ),
            Knowledge::Offline => format!(
                "{uses}, which `{list}` does not declare; validate does not read WorkOS, so \
                 whether WorkOS already has it cannot be verified"
            ),
        };

        let change = match app.source {
            Source::ConvexJson(path) => format!("change `{path}`"),
            Source::AppEnv(env) => format!("change {} in {}", app.variable, env.describe()),
        };
        let declared: Vec<&str> = input
            .declared
            .redirect_uris
            .iter()
            .map(|d| d.value.as_str())
            .collect();
        let mut advice = match declared.is_empty() {
            true => format!("add `{}` to `{list}`", app.value),
            false => format!(
                "add `{}` to `{list}`, or {change} to a declared redirect URI ({})",
                app.value,
                quoted_list(declared.iter().copied())
            ),
        };
        let near = expected
            .members
            .iter()
            .find(|m| loose_key(m) == loose_key(app.value));
        if let Some(near) = near {
            advice.push_str(&format!(
                "; `{near}` differs only by a trailing slash or letter case, and WorkOS compares \
                 redirect URIs exactly"
            ));
        }

        let mut addresses = Vec::new();
        if app.source != Source::AppEnv(AppEnvSource::BuildEnvironment) {
            addresses.push(Address::new(ResourceKind::EnvFileVar, app.variable));
        }
        addresses.push(Address::new(ResourceKind::RedirectUri, app.value));
        findings.push(Finding::new(
            CheckId::RedirectUriUnregistered,
            addresses,
            message,
            advice,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use crate::framework::Framework;

    const ID: CheckId = CheckId::RedirectUriUnregistered;

    #[test]
    fn wildcards_match_one_label_of_the_host() {
        let cases = [
            (
                "https://*.example.com/cb",
                "https://pr-1.example.com/cb",
                true,
            ),
            (
                "https://pr-*.example.com/cb",
                "https://pr-12.example.com/cb",
                true,
            ),
            (
                "https://pr-*.example.com/cb",
                "https://pr-.example.com/cb",
                false,
            ),
            (
                "https://*.example.com/cb",
                "https://a.b.example.com/cb",
                false,
            ),
            ("https://*.example.com/cb", "https://example.com/cb", false),
            (
                "https://*.example.com/cb",
                "https://a.example.com/other",
                false,
            ),
            ("https://*.example.com/cb", "http://a.example.com/cb", false),
            (
                "https://*.example.com:8443/cb",
                "https://a.example.com/cb",
                false,
            ),
            ("http://localhost:3000/cb", "http://localhost:3000/cb", true),
            (
                "http://localhost:3000/cb",
                "http://localhost:3000/cb/",
                false,
            ),
        ];
        for (registered, used, expected) in cases {
            assert_eq!(accepts(registered, used), expected, "{registered} {used}");
        }
    }

    #[test]
    fn fires_when_the_variable_names_an_undeclared_uri() {
        let mut fixture = Fixture::dev();
        fixture.framework = Some(Framework::NextJs);
        fixture
            .redirect_uris(&["http://localhost:3000/callback"])
            .var(
                "NEXT_PUBLIC_WORKOS_REDIRECT_URI",
                "http://localhost:3000/api/auth/callback",
                "http://localhost:3000/api/auth/callback",
            );

        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert!(
            finding.message.contains("redirect-uri-invalid"),
            "{}",
            finding.message
        );
        assert!(
            finding
                .message
                .contains("authKit.dev.localEnvVars.NEXT_PUBLIC_WORKOS_REDIRECT_URI"),
            "{}",
            finding.message
        );
        assert!(
            finding
                .advice
                .contains("add `http://localhost:3000/api/auth/callback` to"),
            "{}",
            finding.advice
        );
        assert_eq!(
            finding.addresses,
            [
                Address::new(ResourceKind::EnvFileVar, "NEXT_PUBLIC_WORKOS_REDIRECT_URI"),
                Address::new(
                    ResourceKind::RedirectUri,
                    "http://localhost:3000/api/auth/callback"
                ),
            ]
        );
    }

    #[test]
    fn silent_when_the_uri_is_declared_live_or_covered_by_a_wildcard() {
        let mut declared = Fixture::dev();
        declared
            .redirect_uris(&["http://localhost:3000/callback"])
            .env_local("WORKOS_REDIRECT_URI", "http://localhost:3000/callback");
        assert!(declared.of(ID).is_empty());

        let mut live = Fixture::dev();
        live.redirect_uris(&["http://localhost:3000/callback"])
            .live_redirect("http://localhost:4000/callback", false)
            .env_local("WORKOS_REDIRECT_URI", "http://localhost:4000/callback");
        assert!(live.of(ID).is_empty());

        let mut wildcard = Fixture::prod();
        wildcard
            .redirect_uris(&["https://*.example.com/callback"])
            .env_local("WORKOS_REDIRECT_URI", "https://pr-7.example.com/callback");
        assert!(wildcard.of(ID).is_empty());
    }

    #[test]
    fn a_live_uri_that_prune_deletes_does_not_count() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/callback"])
            .live_redirect("http://localhost:4000/callback", false)
            .env_local("WORKOS_REDIRECT_URI", "http://localhost:4000/callback");
        fixture.prune = true;
        assert_eq!(fixture.of(ID).len(), 1);
    }

    #[test]
    fn the_framework_decides_which_variable_is_read() {
        let mut fixture = Fixture::dev();
        fixture.framework = Some(Framework::Vite);
        fixture
            .redirect_uris(&["http://localhost:5173/callback"])
            .env_local("WORKOS_REDIRECT_URI", "http://elsewhere/callback");
        assert!(
            fixture.of(ID).is_empty(),
            "a Vite app cannot read WORKOS_REDIRECT_URI"
        );

        fixture.env_local("VITE_WORKOS_REDIRECT_URI", "http://localhost:5173/cb");
        assert_eq!(fixture.of(ID).len(), 1);
    }

    #[test]
    fn localenvvars_wins_over_the_file() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/callback"])
            .env_local("WORKOS_REDIRECT_URI", "http://stale/callback")
            .var(
                "WORKOS_REDIRECT_URI",
                "http://localhost:3000/callback",
                "http://localhost:3000/callback",
            );
        assert!(fixture.of(ID).is_empty());
    }

    #[test]
    fn create_if_absent_compares_with_the_declared_uris_and_says_so() {
        let mut fixture = Fixture::dev();
        fixture
            .redirect_uris(&["http://localhost:3000/callback"])
            .unreadable(ResourceKind::RedirectUri)
            .env_local("WORKOS_REDIRECT_URI", "http://localhost:3000/callback/");
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("cannot be verified"));
        assert!(
            findings[0]
                .advice
                .contains("differs only by a trailing slash")
        );

        fixture.env_local("WORKOS_REDIRECT_URI", "http://localhost:3000/callback");
        assert!(fixture.of(ID).is_empty());
    }

    #[test]
    fn unmanaged_redirect_uris_cannot_be_verified() {
        let mut fixture = Fixture::dev();
        fixture.env_local("WORKOS_REDIRECT_URI", "http://localhost:3000/callback");
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("declares no redirect URIs"));
    }

    #[test]
    fn the_build_environment_has_no_env_file_address() {
        let mut fixture = Fixture::prod();
        fixture.framework = Some(Framework::NextJs);
        fixture
            .redirect_uris(&["https://shop.example.com/callback"])
            .env_local(
                "NEXT_PUBLIC_WORKOS_REDIRECT_URI",
                "https://shop-git-x.vercel.app/callback",
            );
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("in the build environment"));
        assert_eq!(findings[0].addresses.len(), 1);
    }
}
