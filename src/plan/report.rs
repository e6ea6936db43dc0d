//! What apply did, change by change: the data the apply summary is rendered from.

use crate::state::Address;

use super::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Applied {
        action: Action,
        note: Option<String>,
    },
    Failed {
        message: String,
    },
    /// Not sent because an earlier stage failed.
    NotAttempted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub address: Address,
    pub status: Status,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.status, Status::Failed { .. }))
            .count()
    }

    pub fn not_attempted(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.status == Status::NotAttempted)
            .count()
    }

    pub fn applied(&self, action: Action) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(&e.status, Status::Applied { action: a, .. } if *a == action))
            .count()
    }

    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.not_attempted() == 0
    }
}
