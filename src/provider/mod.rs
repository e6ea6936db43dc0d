//! Providers: where live state comes from and where changes go.
//!
//! Reading and writing are separate traits, so that `plan` and `drift` can be handed readers
//! only and cannot write by construction. Each provider owns some resource kinds.

pub mod convex;
pub mod env_file;
pub mod walk;
pub mod workos;

use std::future::Future;

use crate::plan::{Action, Change};
use crate::state::{ResourceKind, State};

/// Reads one provider's part of the live state.
pub trait Reader {
    /// The kinds this reader fills in.
    fn kinds(&self) -> &[ResourceKind];

    fn read(&self) -> impl Future<Output = anyhow::Result<State>> + Send;
}

/// Executes changes to the kinds it owns. A writer gets its changes as one batch so that it
/// can choose how to run them: concurrently (WorkOS) or as one atomic file write (`.env.local`).
pub trait Writer {
    fn owns(&self, kind: ResourceKind) -> bool;

    fn apply(&self, changes: Vec<Change>) -> impl Future<Output = Vec<Outcome>> + Send;
}

/// What happened to one change.
#[derive(Debug)]
pub struct Outcome {
    pub change: Change,
    pub result: Result<Done, anyhow::Error>,
}

/// A change that took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// What was done: create, update, delete or set.
    pub action: Action,
    /// Said when the server already had it ("already exists") or it was already gone.
    pub note: Option<String>,
}

impl Done {
    pub fn new(action: Action) -> Done {
        Done { action, note: None }
    }

    pub fn with_note(action: Action, note: impl Into<String>) -> Done {
        Done {
            action,
            note: Some(note.into()),
        }
    }
}
