//! Saved plans: what a plan was made from, in a form that can be stored next to the plan and
//! compared when the plan is applied.
//!
//! A plan file records, for every input, a fingerprint and enough detail to say *how* the input
//! changed: the resolved `authKit` section (desired addresses and keyed hashes of their values),
//! `.env.local` (a keyed hash of its bytes and of each variable), the WorkOS state read (the
//! listed URIs and origins, which are not secret), the Convex deployment state, the target and
//! the endpoints. Secret values appear only as keyed hashes: SHA-256 over a random per-plan salt
//! and the value, so equal values can be recognised without being recoverable from the file.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::target::Target;

/// A random salt, hex-encoded, chosen once per plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Salt(pub String);

impl Salt {
    pub fn random() -> anyhow::Result<Salt> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("the system's random source failed: {e}"))?;
        Ok(Salt(hex(&bytes)))
    }

    /// `sha256:<hex>` of the salt followed by `value`.
    pub fn hash(&self, value: &[u8]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.0.as_bytes());
        hasher.update([0u8]);
        hasher.update(value);
        format!("sha256:{}", hex(&hasher.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `.env.local` a plan was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvFileInput {
    pub exists: bool,
    /// Keyed hash of the whole file: any edit, even to a comment, changes it.
    pub bytes: String,
    /// Variable name to keyed hash of its value.
    pub vars: BTreeMap<String, String>,
}

/// Everything a plan was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Inputs {
    pub target: Target,
    /// Variable name (`WORKOS_API_URL`, ...) to the URL used.
    pub endpoints: BTreeMap<String, String>,
    /// Keyed hash of the credentials: another key means another WorkOS environment.
    pub credentials: String,
    /// Keyed hash of the target's `authKit` section as written in `convex.json`.
    pub config_section: String,
    /// Desired address to keyed hash of its resolved value.
    pub desired: BTreeMap<String, String>,
    pub env_local: EnvFileInput,
    /// Resource kind to the live items read, each as `value` or `value (default)`; kinds that
    /// could not be listed map to `null`.
    pub workos: BTreeMap<String, Option<Vec<String>>>,
    /// Deployment variable name to keyed hash of its value.
    pub convex: BTreeMap<String, String>,
}

/// One fingerprint per input, as `format_version` 1 plan files carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Fingerprints {
    pub convex_json: String,
    pub env_local: String,
    pub workos: String,
    pub convex: String,
    pub target: String,
    pub endpoints: String,
}

impl Inputs {
    pub fn fingerprints(&self, salt: &Salt) -> Fingerprints {
        Fingerprints {
            convex_json: json_hash(salt, &(&self.config_section, &self.desired)),
            env_local: self.env_local.bytes.clone(),
            workos: json_hash(salt, &(&self.credentials, &self.workos)),
            convex: json_hash(salt, &self.convex),
            target: self.target.to_string(),
            endpoints: json_hash(salt, &self.endpoints),
        }
    }
}

/// Maps and strings serialise infallibly and in a stable order (`BTreeMap`), so the hash of
/// their JSON is a fingerprint.
fn json_hash<T: Serialize>(salt: &Salt, value: &T) -> String {
    salt.hash(serde_json::to_string(value).unwrap_or_default().as_bytes())
}

/// Why a saved plan no longer applies, one sentence per difference, each naming the input.
pub fn stale_reasons(saved: &Inputs, fresh: &Inputs) -> Vec<String> {
    let mut reasons = Vec::new();

    if saved.target != fresh.target {
        reasons.push(format!(
            "target: the plan was made for {}, this run is for {}",
            saved.target, fresh.target
        ));
    }
    for (name, url) in &saved.endpoints {
        match fresh.endpoints.get(name) {
            Some(now) if now == url => {}
            Some(now) => reasons.push(format!("endpoint: {name} was {url}, now {now}")),
            None => reasons.push(format!("endpoint: {name} ({url}) is no longer used")),
        }
    }
    if saved.credentials != fresh.credentials {
        reasons.push(
            "credentials: the WorkOS credentials differ from the plan's, so this run may \
             address another environment"
                .to_owned(),
        );
    }

    compare_map(
        "convex.json",
        &saved.desired,
        &fresh.desired,
        &mut reasons,
        |name, change| match change {
            MapChange::Added => format!("{name} was added to convex.json since the plan"),
            MapChange::Removed => format!("{name} was removed from convex.json since the plan"),
            MapChange::Changed => format!("the value of {name} in convex.json changed"),
        },
    );
    if saved.config_section != fresh.config_section && saved.desired == fresh.desired {
        reasons.push(
            "convex.json: the authKit section was edited since the plan (its resolved values \
             are the same, but the plan covers the section as written)"
                .to_owned(),
        );
    }

    env_local_reasons(&saved.env_local, &fresh.env_local, &mut reasons);
    workos_reasons(&saved.workos, &fresh.workos, &mut reasons);
    compare_map(
        "Convex deployment",
        &saved.convex,
        &fresh.convex,
        &mut reasons,
        |name, c| match c {
            MapChange::Added => format!("deployment variable {name} was set since the plan"),
            MapChange::Removed => format!("deployment variable {name} was removed since the plan"),
            MapChange::Changed => format!("deployment variable {name} changed since the plan"),
        },
    );
    reasons
}

enum MapChange {
    Added,
    Removed,
    Changed,
}

fn compare_map(
    input: &str,
    saved: &BTreeMap<String, String>,
    fresh: &BTreeMap<String, String>,
    reasons: &mut Vec<String>,
    describe: impl Fn(&str, MapChange) -> String,
) {
    for (name, value) in saved {
        match fresh.get(name) {
            None => reasons.push(format!("{input}: {}", describe(name, MapChange::Removed))),
            Some(now) if now != value => {
                reasons.push(format!("{input}: {}", describe(name, MapChange::Changed)));
            }
            Some(_) => {}
        }
    }
    for name in fresh.keys().filter(|name| !saved.contains_key(*name)) {
        reasons.push(format!("{input}: {}", describe(name, MapChange::Added)));
    }
}

fn env_local_reasons(saved: &EnvFileInput, fresh: &EnvFileInput, reasons: &mut Vec<String>) {
    if saved.bytes == fresh.bytes && saved.exists == fresh.exists {
        return;
    }
    if saved.exists && !fresh.exists {
        reasons.push(".env.local: the file was deleted since the plan".to_owned());
        return;
    }
    if !saved.exists && fresh.exists {
        reasons.push(".env.local: the file was created since the plan".to_owned());
        return;
    }
    let before = reasons.len();
    compare_map(
        ".env.local",
        &saved.vars,
        &fresh.vars,
        reasons,
        |name, change| match change {
            MapChange::Added => format!("{name} was added since the plan"),
            MapChange::Removed => format!("{name} was removed since the plan"),
            MapChange::Changed => format!("the value of {name} changed since the plan"),
        },
    );
    if reasons.len() == before {
        reasons.push(
            ".env.local: the file was edited since the plan (no variable changed, but comments \
             or formatting did; the plan covers the file byte for byte)"
                .to_owned(),
        );
    }
}

fn workos_reasons(
    saved: &BTreeMap<String, Option<Vec<String>>>,
    fresh: &BTreeMap<String, Option<Vec<String>>>,
    reasons: &mut Vec<String>,
) {
    for (kind, items) in saved {
        let noun = match kind.as_str() {
            "workos.cors_origin" => "CORS origin",
            _ => "redirect URI",
        };
        match (items, fresh.get(kind).cloned().flatten()) {
            (Some(items), Some(now)) => {
                for item in now.iter().filter(|i| !items.contains(i)) {
                    reasons.push(format!(
                        "WorkOS state: {noun} {item} was added on the server since the plan"
                    ));
                }
                for item in items.iter().filter(|i| !now.contains(i)) {
                    reasons.push(format!(
                        "WorkOS state: {noun} {item} was removed from the server since the plan"
                    ));
                }
            }
            (None, None) => {}
            (Some(_), None) => reasons.push(format!(
                "WorkOS state: the {noun} list could be read for the plan but not now"
            )),
            (None, Some(_)) => reasons.push(format!(
                "WorkOS state: the {noun} list can be read now but could not for the plan"
            )),
        }
    }
    for kind in fresh.keys().filter(|k| !saved.contains_key(*k)) {
        reasons.push(format!(
            "WorkOS state: {kind} is read now but was not for the plan"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            target: Target::Dev,
            endpoints: [(
                "WORKOS_API_URL".to_owned(),
                "https://api.workos.com".to_owned(),
            )]
            .into(),
            credentials: "sha256:c".into(),
            config_section: "sha256:s".into(),
            desired: [(
                "workos.redirect_uri[\"http://a/cb\"]".to_owned(),
                "h1".to_owned(),
            )]
            .into(),
            env_local: EnvFileInput {
                exists: true,
                bytes: "sha256:b".into(),
                vars: [("A".to_owned(), "ha".to_owned())].into(),
            },
            workos: [(
                "workos.redirect_uri".to_owned(),
                Some(vec!["http://a/cb".to_owned()]),
            )]
            .into(),
            convex: BTreeMap::new(),
        }
    }

    #[test]
    fn identical_inputs_are_fresh() {
        assert!(stale_reasons(&inputs(), &inputs()).is_empty());
    }

    #[test]
    fn each_kind_of_change_is_named() {
        let saved = inputs();
        let mut fresh = inputs();
        fresh.target = Target::Prod;
        fresh
            .endpoints
            .insert("WORKOS_API_URL".into(), "http://127.0.0.1:1".into());
        fresh.workos.insert(
            "workos.redirect_uri".into(),
            Some(vec![
                "http://a/cb".into(),
                "http://localhost:3000/cb".into(),
            ]),
        );
        fresh.env_local.bytes = "sha256:other".into();
        fresh.desired.clear();
        let reasons = stale_reasons(&saved, &fresh).join("\n");
        assert!(reasons.contains("target: the plan was made for dev, this run is for prod"));
        assert!(reasons.contains("WORKOS_API_URL was https://api.workos.com"));
        assert!(reasons.contains(
            "redirect URI http://localhost:3000/cb was added on the server since the plan"
        ));
        assert!(
            reasons.contains("no variable changed, but comments"),
            "{reasons}"
        );
        assert!(
            reasons.contains("was removed from convex.json"),
            "{reasons}"
        );
    }

    #[test]
    fn hashes_depend_on_the_salt() {
        let a = Salt("a".into());
        let b = Salt("b".into());
        assert_ne!(a.hash(b"secret"), b.hash(b"secret"));
        assert_eq!(a.hash(b"secret"), a.hash(b"secret"));
        assert!(!a.hash(b"secret").contains("secret"));
    }
}
