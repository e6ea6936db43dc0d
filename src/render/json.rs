//! The machine-readable plan: `--format json`, and the body of saved plan files.
//!
//! The document types below are the schema: `docs/plan.schema.json` is generated from them and
//! a test keeps the committed file equal to the generated one. Key order is the declaration
//! order here, and maps are sorted, so the same plan always serialises to the same bytes.
//! Secret values never appear: they are replaced by `(sensitive)`, and plan files add a keyed
//! hash so that apply can tell whether the value is still the one reviewed.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::checks::{Finding, Severity};
use crate::plan::saved::{Fingerprints, Inputs, Salt};
use crate::plan::{Action, Capability, Change, Plan, Summary, Unmanaged};
use crate::state::{Address, ResourceKind, Secret, Value};
use crate::target::Target;

use super::mask;

/// The major version of the format. Additions keep it; consumers must ignore unknown fields and
/// reject an unknown major version.
pub const FORMAT_VERSION: &str = "1";

/// A plan as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "authkit-sync plan")]
pub struct PlanDocument {
    /// `"1"` for this format.
    pub format_version: String,
    /// The authkit-sync version that wrote the document.
    pub tool_version: String,
    pub target: Target,
    /// Whether apply would send any request or write any file.
    pub applyable: bool,
    /// Flags the plan was made with; `apply PLAN_FILE` reuses them.
    pub options: Options,
    /// Per resource kind: whether the live state could be compared in full.
    pub capabilities: BTreeMap<String, Capability>,
    /// Every managed resource, no-ops included, in apply order.
    pub changes: Vec<ChangeDocument>,
    /// Live items that `convex.json` does not name; left alone unless `prune` is set.
    pub unmanaged: Vec<UnmanagedDocument>,
    pub summary: Summary,
    /// Findings of the consistency checks, after `--ignore` and `--strict` (docs/checks.md).
    #[serde(default)]
    pub findings: Vec<FindingDocument>,
    /// Present for `drift`: what counts as drift, what could not be verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftDocument>,
    /// Present in saved plans: one fingerprint per input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<Fingerprints>,
    /// Present in saved plans: the salt of every keyed hash in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<Salt>,
    /// Present in saved plans: what the plan was made from, to name what changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Options {
    pub prune: bool,
    pub strict: bool,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeDocument {
    /// E.g. `workos.redirect_uri["http://localhost:3000/callback"]`.
    pub address: String,
    /// E.g. `workos.redirect_uri`.
    pub kind: ResourceKind,
    pub action: Action,
    /// The live value: `"present"` for set members, the text for values, `"(sensitive)"` for
    /// secrets, `null` when absent or unknown.
    pub before: Option<String>,
    /// The desired value, in the same form; `"(generated on apply)"` for a generated secret,
    /// `"(known after apply)"` for a credential of an environment yet to be provisioned.
    pub after: Option<String>,
    pub reason: Option<String>,
    /// Whether `before` or `after` is a secret and was replaced.
    pub sensitive: bool,
    /// Saved plans only: keyed hash of the secret live value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_hash: Option<String>,
    /// Saved plans only: keyed hash of the secret desired value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnmanagedDocument {
    pub address: String,
    pub kind: ResourceKind,
    pub note: Option<String>,
}

/// One finding of the consistency checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FindingDocument {
    /// The check's stable id, e.g. `redirect-uri-unregistered`.
    pub id: String,
    /// `warning` or `error`.
    pub severity: String,
    pub addresses: Vec<String>,
    pub message: String,
    pub advice: String,
}

impl FindingDocument {
    pub fn new(finding: &Finding) -> FindingDocument {
        FindingDocument {
            id: finding.id.as_str().to_owned(),
            severity: finding.severity.as_str().to_owned(),
            addresses: finding.addresses.iter().map(ToString::to_string).collect(),
            message: finding.message.clone(),
            advice: finding.advice.clone(),
        }
    }

    /// The finding again, for rendering a saved plan; `None` for an id this version does not
    /// know (a newer tool wrote the file).
    pub fn to_finding(&self) -> Option<Finding> {
        let severity = match self.severity.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            _ => return None,
        };
        Some(Finding {
            id: self.id.parse().ok()?,
            severity,
            addresses: self
                .addresses
                .iter()
                .filter_map(|a| Address::parse(a))
                .collect(),
            message: self.message.clone(),
            advice: self.advice.clone(),
        })
    }
}

/// The drift verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DriftDocument {
    pub in_sync: bool,
    /// Addresses whose live state differs from what `convex.json` wants.
    pub drifted: Vec<String>,
    /// Addresses that cannot be read back, so cannot be checked.
    pub unverifiable: Vec<String>,
    /// Addresses silenced by `--ignore`.
    pub ignored: Vec<String>,
}

const GENERATED: &str = "(generated on apply)";

fn show(value: Option<&Value>, sensitive: bool) -> Option<String> {
    match value? {
        Value::Present => Some("present".to_owned()),
        Value::Generated => Some(GENERATED.to_owned()),
        Value::Pending => Some(mask::PENDING.to_owned()),
        _ if sensitive => Some(mask::SENSITIVE.to_owned()),
        value => value.text().map(str::to_owned),
    }
}

fn hash(value: Option<&Value>, salt: Option<&Salt>) -> Option<String> {
    match (value?, salt?) {
        (Value::Secret(secret), salt) => Some(salt.hash(secret.expose().as_bytes())),
        (Value::Text(text), salt) => Some(salt.hash(text.as_bytes())),
        _ => None,
    }
}

fn change_document(change: &Change, salt: Option<&Salt>) -> ChangeDocument {
    let sensitive = change.is_sensitive();
    let (before_hash, after_hash) = if sensitive {
        (
            hash(change.before.as_ref(), salt),
            hash(change.after.as_ref(), salt),
        )
    } else {
        (None, None)
    };
    ChangeDocument {
        address: change.address.to_string(),
        kind: change.kind(),
        action: change.action,
        before: show(change.before.as_ref(), sensitive),
        after: show(change.after.as_ref(), sensitive),
        reason: change.reason.clone(),
        sensitive,
        before_hash,
        after_hash,
    }
}

impl PlanDocument {
    /// The document for `plan`; `salt` adds keyed hashes of secret values (for plan files).
    pub fn new(plan: &Plan, options: Options, salt: Option<&Salt>) -> PlanDocument {
        PlanDocument {
            format_version: FORMAT_VERSION.to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            target: plan.target,
            applyable: !plan.is_empty(),
            options,
            capabilities: plan
                .capabilities
                .iter()
                .map(|(kind, capability)| (kind.to_string(), capability.clone()))
                .collect(),
            changes: plan
                .changes
                .iter()
                .map(|c| change_document(c, salt))
                .collect(),
            unmanaged: plan
                .unmanaged
                .iter()
                .map(|u| UnmanagedDocument {
                    address: u.address.to_string(),
                    kind: u.address.kind(),
                    note: u.note.clone(),
                })
                .collect(),
            summary: plan.summary(),
            findings: Vec::new(),
            drift: None,
            fingerprints: None,
            salt: None,
            inputs: None,
        }
    }

    /// Rebuilds the plan for rendering. Secret values come back as empty secrets: renderers
    /// mask them anyway, and a saved plan is never executed from its own values.
    pub fn to_plan(&self) -> anyhow::Result<Plan> {
        let address = |text: &str| {
            Address::parse(text)
                .ok_or_else(|| anyhow::anyhow!("`{text}` is not a resource address"))
        };
        let value = |kind: ResourceKind, text: &Option<String>, sensitive: bool| {
            text.as_ref().map(|text| match text.as_str() {
                _ if kind.is_set_member() => Value::Present,
                GENERATED => Value::Generated,
                mask::PENDING => Value::Pending,
                _ if sensitive => Value::Secret(Secret::new("")),
                _ => Value::Text(text.clone()),
            })
        };
        let mut changes = Vec::with_capacity(self.changes.len());
        for doc in &self.changes {
            changes.push(Change {
                address: address(&doc.address)?,
                action: doc.action,
                before: value(doc.kind, &doc.before, doc.sensitive),
                after: value(doc.kind, &doc.after, doc.sensitive),
                reason: doc.reason.clone(),
                remote_id: None,
            });
        }
        let mut unmanaged = Vec::with_capacity(self.unmanaged.len());
        for doc in &self.unmanaged {
            unmanaged.push(Unmanaged {
                address: address(&doc.address)?,
                remote_id: None,
                note: doc.note.clone(),
            });
        }
        let mut capabilities = BTreeMap::new();
        for (kind, capability) in &self.capabilities {
            let kind = ResourceKind::ALL
                .into_iter()
                .find(|k| k.as_str() == kind)
                .ok_or_else(|| anyhow::anyhow!("`{kind}` is not a resource kind"))?;
            capabilities.insert(kind, capability.clone());
        }
        Ok(Plan {
            target: self.target,
            changes,
            unmanaged,
            capabilities,
        })
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The JSON Schema of [`PlanDocument`], as committed in `docs/plan.schema.json`.
pub fn schema() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<PlanDocument>()
        .to_value()
}
