//! `cors-origin-not-origin` and `homepage-origin-not-allowed`: CORS origins that cannot match
//! a browser's `Origin` header, and a browser-only app whose own origin is not allowed.

use crate::state::{Address, ResourceKind};

use super::expected::{Knowledge, expected};
use super::{CheckId, Finding, Input};

/// The origin of an http(s) URL as a browser sends it (`scheme://host[:port]`, lower case,
/// default port left out).
fn origin_of(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// What makes a declared CORS origin more than an origin, if anything.
fn excess(origin: &str) -> Option<&'static str> {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let tail = &rest[rest.find(['/', '?', '#'])?..];
    Some(if tail == "/" {
        "a trailing slash"
    } else if tail.starts_with('/') {
        "a path"
    } else if tail.starts_with('?') {
        "a query"
    } else {
        "a fragment"
    })
}

fn not_origins(input: &Input<'_>, findings: &mut Vec<Finding>) {
    for d in &input.declared.cors_origins {
        let Some(excess) = excess(&d.value) else {
            continue;
        };
        let fix = match origin_of(&d.value) {
            Some(origin) => format!("write `{origin}` in `{}`", d.path),
            None => format!("write only `scheme://host[:port]` in `{}`", d.path),
        };
        findings.push(Finding::new(
            CheckId::CorsOriginNotOrigin,
            vec![Address::new(ResourceKind::CorsOrigin, &d.value)],
            format!(
                "`{}` (`{}`) is not an origin: it has {excess}; WorkOS refuses it, and a \
                 browser never sends an Origin header that could match it",
                d.value, d.path
            ),
            format!("{fix}: an origin is scheme, host and port, with nothing after them"),
        ));
    }
}

fn homepage_origin(input: &Input<'_>, findings: &mut Vec<Finding>) {
    let Some(framework) = input.framework.filter(|f| f.is_browser_only()) else {
        return;
    };
    let Some(homepage) = &input.declared.app_homepage_url else {
        return;
    };
    let Some(origin) = origin_of(&homepage.value) else {
        return;
    };
    let expected = expected(input, ResourceKind::CorsOrigin);
    if expected
        .members
        .iter()
        .any(|m| origin_of(m).as_deref() == Some(origin.as_str()))
    {
        return;
    }

    let list = input.configure_path("corsOrigins");
    let page = format!(
        "the app is a browser-only {} app served from `{origin}` (`{}`), and calls WorkOS from \
         the page",
        framework.name(),
        homepage.path
    );
    let message = match expected.knowledge {
        Knowledge::Complete => format!(
            "{page}, but that origin is not among the CORS origins WorkOS will allow after \
             apply; the browser will block WorkOS's answers"
        ),
        Knowledge::Unreadable(reason) => format!(
            "{page}; `{list}` does not declare that origin and WorkOS's list cannot be read \
             ({reason}), so whether WorkOS allows it cannot be verified"
        ),
        Knowledge::Unmanaged => format!(
            "{page}, but convex.json declares no CORS origins for target {}, so the list is not \
             read and whether WorkOS allows it cannot be verified",
            input.target
        ),
        Knowledge::Offline => format!(
            "{page}; `{list}` does not declare that origin, and validate does not read WorkOS, \
             so whether WorkOS allows it cannot be verified"
        ),
    };
    findings.push(Finding::new(
        CheckId::HomepageOriginNotAllowed,
        vec![
            Address::singleton(ResourceKind::AppHomepageUrl),
            Address::new(ResourceKind::CorsOrigin, &origin),
        ],
        message,
        format!("add `{origin}` to `{list}`"),
    ));
}

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    not_origins(input, findings);
    homepage_origin(input, findings);
}

#[cfg(test)]
mod tests {
    use super::super::Severity;
    use super::super::fixture::Fixture;
    use super::*;
    use crate::framework::Framework;

    #[test]
    fn paths_queries_and_trailing_slashes_are_not_origins() {
        assert_eq!(excess("http://localhost:3000"), None);
        assert_eq!(excess("https://[::1]:8443"), None);
        assert_eq!(excess("http://localhost:3000/"), Some("a trailing slash"));
        assert_eq!(excess("https://a.example.com/app"), Some("a path"));
        assert_eq!(excess("https://a.example.com?x=1"), Some("a query"));
    }

    #[test]
    fn a_non_origin_is_an_error_with_the_origin_to_write() {
        let mut fixture = Fixture::dev();
        fixture.cors_origins(&["http://localhost:3000", "HTTP://LOCALHOST:5173/"]);
        let findings = fixture.of(CheckId::CorsOriginNotOrigin);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("trailing slash"));
        assert!(findings[0].advice.contains("write `http://localhost:5173`"));
    }

    #[test]
    fn origins_are_silent() {
        let mut fixture = Fixture::dev();
        fixture.cors_origins(&["http://localhost:3000", "https://app.example.com:8443"]);
        assert!(fixture.run().is_empty());
    }

    #[test]
    fn a_spa_homepage_needs_its_origin_allowed() {
        let mut fixture = Fixture::dev();
        fixture.framework = Some(Framework::Vite);
        fixture
            .homepage("http://localhost:5173/app")
            .cors_origins(&["http://localhost:3000"]);
        let findings = fixture.of(CheckId::HomepageOriginNotAllowed);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].advice.contains("add `http://localhost:5173`"));

        fixture.live_origin("http://localhost:5173");
        assert!(fixture.of(CheckId::HomepageOriginNotAllowed).is_empty());
    }

    #[test]
    fn origins_compare_as_browsers_send_them() {
        let mut fixture = Fixture::dev();
        fixture.framework = Some(Framework::CreateReactApp);
        fixture
            .homepage("https://App.Example.com:443/")
            .cors_origins(&["https://app.example.com"]);
        assert!(fixture.of(CheckId::HomepageOriginNotAllowed).is_empty());
    }

    #[test]
    fn server_frameworks_and_missing_homepages_are_silent() {
        let mut server = Fixture::dev();
        server.framework = Some(Framework::NextJs);
        server.homepage("http://localhost:3000");
        assert!(server.run().is_empty());

        let mut no_homepage = Fixture::dev();
        no_homepage.framework = Some(Framework::Vite);
        no_homepage.cors_origins(&["http://localhost:3000"]);
        assert!(no_homepage.run().is_empty());
    }

    #[test]
    fn unmanaged_origins_cannot_be_verified() {
        let mut fixture = Fixture::dev();
        fixture.framework = Some(Framework::Expo);
        fixture.homepage("http://localhost:8081");
        let findings = fixture.of(CheckId::HomepageOriginNotAllowed);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("declares no CORS origins"));
    }
}
