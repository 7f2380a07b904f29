//! Point an end-of-life CentOS release's own repo files at a vault tree, so that yum
//! can reach base, updates and extras (container-selinux lives in extras) at all.

use std::path::PathBuf;

use super::{Context, StepPlan};
use crate::change::Change;
use crate::error::{Error, Result};
use crate::packages::os_repos::{
    self, DEAD_HOSTS, OsRepoSource, REPOS_DIR, Scope, auto_vault, eol_release,
};

pub const ID: &str = "os-repos";

pub fn check(ctx: &Context) -> Result<StepPlan> {
    let (vault, scope) = match &ctx.plan.os_repos {
        OsRepoSource::Keep => {
            return Ok(StepPlan::unchanged(
                ID,
                "os_repos = keep: the distribution's repo files are left as they are",
            ));
        }
        OsRepoSource::Auto => (
            auto_vault(ctx.plan.repo.source.name.as_deref()),
            Scope::EnabledAndDead,
        ),
        OsRepoSource::Vault(vault) => (vault.clone(), Scope::Enabled),
    };
    let Some(release) = eol_release(ctx.distro, ctx.facts.centos_release.as_deref()) else {
        return Ok(StepPlan::unchanged(
            ID,
            format!(
                "{} is not an end-of-life CentOS release: its repos are left alone",
                ctx.distro.pretty_name
            ),
        ));
    };
    let mut changes = Vec::new();
    for (name, bytes) in &ctx.facts.repo_files {
        if !os_repos::is_own_file(name) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let new = os_repos::rewrite(name, &text, &release, &vault, scope).map_err(|problem| {
            Error::other(format!(
                "{problem}; nothing was changed (os_repos.source = {})",
                ctx.plan.os_repos.describe()
            ))
        })?;
        if let Some(new) = new {
            let path = PathBuf::from(REPOS_DIR).join(name);
            changes.push(Change::File {
                backup: Some(ctx.backup_path(&path)),
                path,
                old: Some(bytes.clone()),
                new: new.into_bytes(),
                default_mode: 0o644,
            });
        }
    }
    if changes.is_empty() {
        let why = match scope {
            Scope::EnabledAndDead => format!(
                "CentOS {} is past its end of life, but no enabled repo points at {}: left alone",
                release.full,
                DEAD_HOSTS.join(" / ")
            ),
            Scope::Enabled => format!(
                "the enabled CentOS {} repos already use {}",
                release.full,
                vault.describe()
            ),
        };
        return Ok(StepPlan::unchanged(ID, why));
    }
    let mut step = StepPlan::with_changes(ID, changes);
    step.summary = format!(
        "{}: CentOS {} from the vault {}",
        step.summary,
        release.full,
        vault.describe()
    );
    if release.assumed {
        step.notes.push(format!(
            "/etc/centos-release does not say the full release; the vault's {} (the last of \
             CentOS {}) is used",
            release.full, release.major
        ));
    }
    Ok(step)
}
