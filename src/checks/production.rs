//! `insecure-production-url`: a local or plain-http value where production is meant.
//!
//! When the WorkOS environment is a production one, WorkOS refuses such redirect URIs and
//! homepage URLs and compilation stops on them; what reaches this check is what WorkOS would
//! accept but what is still wrong for a production deploy: the prod section pointed at a
//! non-production environment, or a CORS origin (for which no refusal is documented).

use crate::desired::is_local_host;
use crate::state::{Address, ResourceKind};
use crate::target::Target;

use super::{CheckId, Finding, Input};

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    let why = if input.live_key {
        "WORKOS_API_KEY is a production key (sk_live_)"
    } else if input.target == Target::Prod {
        "this is the prod target"
    } else {
        return;
    };
    let declared = &input.declared;
    let values = declared
        .redirect_uris
        .iter()
        .map(|d| (ResourceKind::RedirectUri, d))
        .chain(
            declared
                .cors_origins
                .iter()
                .map(|d| (ResourceKind::CorsOrigin, d)),
        )
        .chain(
            declared
                .app_homepage_url
                .iter()
                .map(|d| (ResourceKind::AppHomepageUrl, d)),
        );

    for (kind, declared) in values {
        let Ok(url) = url::Url::parse(&declared.value) else {
            continue;
        };
        let local = url.host_str().is_some_and(is_local_host);
        let what = match (url.scheme() == "http", local) {
            (_, true) => "points at the local machine",
            (true, false) => "uses plain http",
            (false, false) => continue,
        };
        let address = match kind {
            ResourceKind::AppHomepageUrl => Address::singleton(kind),
            _ => Address::new(kind, &declared.value),
        };
        let advice = if input.target == Target::Prod {
            let example = match kind {
                ResourceKind::RedirectUri => {
                    "https://${buildEnv.VERCEL_PROJECT_PRODUCTION_URL}/callback"
                }
                _ => "https://${buildEnv.VERCEL_PROJECT_PRODUCTION_URL}",
            };
            format!(
                "use the deployed app's https URL in `{}` (for example `{example}`), and keep \
                 local URLs in authKit.dev",
                declared.path
            )
        } else {
            format!(
                "use the sandbox environment's key (sk_test_) for target {}, or an https URL on \
                 a public host in `{}`",
                input.target, declared.path
            )
        };
        findings.push(Finding::new(
            CheckId::InsecureProductionUrl,
            vec![address],
            format!(
                "`{}` (`{}`) {what}, but {why}",
                declared.value, declared.path
            ),
            advice,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    const ID: CheckId = CheckId::InsecureProductionUrl;

    #[test]
    fn local_and_http_values_in_prod_fire() {
        let mut fixture = Fixture::prod();
        fixture
            .redirect_uris(&["http://shop.example.com/callback"])
            .cors_origins(&["https://localhost:3000"])
            .homepage("https://shop.example.com");
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 2);
        assert!(findings[0].message.contains("uses plain http"));
        assert!(findings[1].message.contains("points at the local machine"));
        assert!(findings[1].message.contains("prod target"));
    }

    #[test]
    fn a_live_key_outside_prod_fires() {
        let mut fixture = Fixture::dev();
        fixture.live_key = true;
        fixture.cors_origins(&["http://localhost:3000"]);
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("sk_live_"));
        assert!(findings[0].advice.contains("sk_test_"));
    }

    #[test]
    fn https_in_prod_and_local_values_in_dev_are_silent() {
        let mut prod = Fixture::prod();
        prod.redirect_uris(&["https://shop.example.com/callback"])
            .cors_origins(&["https://shop.example.com"]);
        assert!(prod.of(ID).is_empty());

        let mut dev = Fixture::dev();
        dev.redirect_uris(&["http://localhost:3000/callback"])
            .cors_origins(&["http://localhost:3000"]);
        assert!(dev.of(ID).is_empty());
    }
}
