//! Steps, in order. Each `check` reads only the plan and the facts (and what earlier
//! steps will change) and returns a `StepPlan`: the changes it needs, possibly none.

pub mod cleanup;
pub mod daemon;
pub mod engine;
pub mod metadata;
pub mod os_repos;
pub mod prerequisites;
pub mod proxy;
pub mod purge;
pub mod repo;
pub mod transaction;
pub mod users;

use std::path::{Path, PathBuf};

use crate::change::Change;
use crate::checks::distro::Distro;
use crate::facts::Facts;
use crate::packages::backend::PackageTool;
use crate::plan::Plan;

/// What one step will do.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub id: &'static str,
    /// One line: what changes, or why nothing needs to.
    pub summary: String,
    pub changes: Vec<Change>,
    /// Things the operator must not miss (a downgrade, a pending restart, a purge).
    pub notes: Vec<String>,
    /// The run's package transaction, when this is the first step whose packages it
    /// carries (`transaction::combine`): run before this step's changes.
    pub transaction: Option<transaction::PackageRun>,
}

impl StepPlan {
    pub fn unchanged(id: &'static str, summary: impl Into<String>) -> Self {
        StepPlan {
            id,
            summary: summary.into(),
            changes: Vec::new(),
            notes: Vec::new(),
            transaction: None,
        }
    }

    pub fn with_changes(id: &'static str, changes: Vec<Change>) -> Self {
        let summary = changes
            .iter()
            .map(Change::describe)
            .collect::<Vec<_>>()
            .join("; ");
        StepPlan {
            id,
            summary,
            changes,
            notes: Vec::new(),
            transaction: None,
        }
    }

    pub fn changes_anything(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Everything a check may read.
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub facts: &'a Facts,
    pub distro: &'a Distro,
    pub tool: PackageTool,
    /// apt: the suite of Docker's source (`Distro::suite`).
    pub distro_suite: Option<String>,
    /// apt: the keyring Docker's source will be checked with (`repo::resolve_key`).
    pub repo_key: Option<Vec<u8>>,
    /// Suffix for backups made in this run, e.g. `.rdock-setup-20261127T235900Z.bak`.
    pub backup_suffix: String,
}

impl Context<'_> {
    pub fn backup_path(&self, path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(&self.backup_suffix);
        PathBuf::from(name)
    }
}
