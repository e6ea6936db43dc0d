//! The plan: typed changes between the desired and the live state.
//!
//! A plan is data. It is computed by the pure [`diff`] function, rendered by `render`, and
//! executed by `apply`; it knows no provider and performs no I/O.

mod diff;
pub mod drift;
pub mod report;
pub mod saved;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::state::{Address, ResourceKind, Value};
use crate::target::Target;

pub use diff::{DiffOptions, diff};

/// What the plan does to one resource.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// A WorkOS environment is provisioned for the deployment (dev only).
    Provision,
    Update,
    Delete,
    /// A write-only value was sent; apply reports it this way, the plan says `Unverified`.
    Set,
    /// The live value cannot be read; apply sends the desired value and accepts "already
    /// exists" as success.
    Unverified,
    NoOp,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create | Action::Provision => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::Set => ">",
            Action::Unverified => "?",
            Action::NoOp => " ",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Provision => "provision",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Set => "set",
            Action::Unverified => "unverified",
            Action::NoOp => "no-op",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The request apply sends for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Set,
}

/// The stage a change belongs to. Stages run in this order: credentials and deployment first,
/// so that later steps can use them; WorkOS creates before the homepage and before local files,
/// so that `.env.local` never points at a callback that does not exist yet; deletions last, so
/// that sign-in never lacks a callback while the set is being changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Provision,
    Deployment,
    WorkosCreate,
    Homepage,
    LocalFile,
    Prune,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Why the change is planned this way, when the action alone does not say it.
    pub reason: Option<String>,
    /// The server's id of the live item, for deletes.
    pub remote_id: Option<String>,
}

impl Change {
    pub fn kind(&self) -> ResourceKind {
        self.address.kind()
    }

    /// The request apply sends, or `None` for a no-op.
    pub fn operation(&self) -> Option<Operation> {
        match self.action {
            Action::Create | Action::Provision => Some(Operation::Create),
            Action::Update => Some(Operation::Update),
            Action::Delete => Some(Operation::Delete),
            Action::Set => Some(Operation::Set),
            Action::Unverified if self.kind().is_set_member() => Some(Operation::Create),
            Action::Unverified => Some(Operation::Set),
            Action::NoOp => None,
        }
    }

    pub fn stage(&self) -> Stage {
        match (self.kind(), self.action) {
            (_, Action::Delete) => Stage::Prune,
            (ResourceKind::Environment, _) => Stage::Provision,
            (ResourceKind::ConvexEnvVar, _) => Stage::Deployment,
            (ResourceKind::RedirectUri | ResourceKind::CorsOrigin, _) => Stage::WorkosCreate,
            (ResourceKind::AppHomepageUrl, _) => Stage::Homepage,
            (ResourceKind::EnvFileVar, _) => Stage::LocalFile,
        }
    }

    pub fn is_sensitive(&self) -> bool {
        [&self.before, &self.after]
            .into_iter()
            .flatten()
            .any(Value::is_sensitive)
    }
}

/// A live item that the config does not name. It is left alone unless `--prune` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmanaged {
    pub address: Address,
    pub remote_id: Option<String>,
    pub note: Option<String>,
}

/// How completely a resource kind could be compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum Capability {
    /// The live list was read: creates, deletes and drift are exact.
    FullDiff,
    /// The live list cannot be read: every desired item is sent and duplicates count as
    /// success; removals and drift cannot be seen.
    CreateIfAbsent { reason: String },
    /// The value can be written but never read back.
    WriteOnly { reason: String },
    /// Cannot be read before an earlier step of apply (provisioning) has run.
    KnownAfterApply { reason: String },
}

impl Capability {
    /// What the plan cannot see for a kind with this capability, or `None` when it sees all.
    pub fn limit(&self) -> Option<String> {
        match self {
            Capability::FullDiff => None,
            Capability::CreateIfAbsent { reason } => Some(format!(
                "create-if-absent ({reason}); removals and drift cannot be seen"
            )),
            Capability::WriteOnly { reason } => Some(format!("write-only ({reason})")),
            Capability::KnownAfterApply { reason } => Some(format!("known after apply ({reason})")),
        }
    }
}

/// Counts per action, for the summary line and exit codes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unverified: usize,
    pub unchanged: usize,
}

impl Summary {
    /// Changes that make `plan --detailed-exitcode` exit 2. Unverified items are sent on every
    /// apply and would otherwise report a change forever; `--strict` counts them.
    pub fn has_changes(&self, strict: bool) -> bool {
        self.create + self.update + self.delete > 0 || (strict && self.unverified > 0)
    }
}

/// The whole plan for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    /// Every managed resource, no-ops included, in apply order.
    pub changes: Vec<Change>,
    pub unmanaged: Vec<Unmanaged>,
    pub capabilities: BTreeMap<ResourceKind, Capability>,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Create | Action::Provision => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Delete => summary.delete += 1,
                Action::Unverified | Action::Set => summary.unverified += 1,
                Action::NoOp => summary.unchanged += 1,
            }
        }
        summary
    }

    /// The changes apply executes, in order.
    pub fn actionable(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.operation().is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.actionable().next().is_none()
    }
}
