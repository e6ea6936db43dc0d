//! `secret-in-public-variable`: a `localEnvVars` entry that hands a secret to the browser.
//!
//! Bundlers inline every variable with a public prefix (`NEXT_PUBLIC_`, `VITE_`, ...) into the
//! JavaScript they serve, so a WorkOS API key written under such a name is published with the
//! app. This is an error without `--strict`: once deployed, the key has leaked.

use crate::state::{Address, ResourceKind};

use super::{CheckId, Finding, Input, public_prefix};

/// Whether a value looks like a WorkOS API key.
fn looks_like_api_key(value: &str) -> bool {
    value
        .strip_prefix("sk_")
        .is_some_and(|rest| !rest.is_empty())
}

pub(super) fn check(input: &Input<'_>, findings: &mut Vec<Finding>) {
    for var in &input.declared.local_env_vars {
        let Some(prefix) = public_prefix(&var.name) else {
            continue;
        };
        let source = if var.from_api_key {
            "`${authEnv.WORKOS_API_KEY}`"
        } else if var.value.text().is_some_and(looks_like_api_key) {
            "a value that looks like a WorkOS API key (sk_...)"
        } else {
            continue;
        };
        // The value itself is never quoted: naming where it comes from is enough.
        findings.push(Finding::new(
            CheckId::SecretInPublicVariable,
            vec![Address::new(ResourceKind::EnvFileVar, &var.name)],
            format!(
                "`{}` writes {source} into {}, and variables starting with {prefix} are built \
                 into the JavaScript every visitor downloads",
                var.path, var.name
            ),
            format!(
                "give the API key a name without a public prefix (server code reads \
                 WORKOS_API_KEY), or remove {} from localEnvVars; browser code needs only the \
                 client id",
                var.name
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::Severity;
    use super::super::fixture::Fixture;
    use super::*;

    const ID: CheckId = CheckId::SecretInPublicVariable;

    #[test]
    fn the_api_key_template_in_a_public_variable_fires() {
        let mut fixture = Fixture::dev();
        fixture.var(
            "NEXT_PUBLIC_WORKOS_API_KEY",
            "${authEnv.WORKOS_API_KEY}",
            "sk_test_do_not_show",
        );
        let findings = fixture.of(ID);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        let text = format!("{}{}", findings[0].message, findings[0].advice);
        assert!(!text.contains("do_not_show"), "{text}");
        assert!(text.contains("NEXT_PUBLIC_"), "{text}");
    }

    #[test]
    fn a_key_shaped_value_under_any_public_prefix_fires() {
        for name in ["VITE_KEY", "PUBLIC_X", "EXPO_PUBLIC_X", "REACT_APP_X"] {
            let mut fixture = Fixture::dev();
            fixture.var(name, "${buildEnv.SOME_KEY}", "sk_live_abc");
            assert_eq!(fixture.of(ID).len(), 1, "{name}");
        }
    }

    #[test]
    fn secrets_in_server_variables_and_public_non_secrets_are_silent() {
        let mut fixture = Fixture::dev();
        fixture
            .var("WORKOS_API_KEY", "${authEnv.WORKOS_API_KEY}", "sk_test_x")
            .var(
                "NEXT_PUBLIC_WORKOS_CLIENT_ID",
                "${authEnv.WORKOS_CLIENT_ID}",
                "client_1",
            )
            .var("VITE_SKIN", "sk_", "sk_");
        assert!(fixture.of(ID).is_empty());
    }
}
