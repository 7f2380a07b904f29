//! Write Docker's repo: the .repo file the tool renders for yum/dnf (no
//! yum-config-manager needed), or for apt the deb822 source and the keyring it is
//! signed with, fetched from the same source as the packages. `[repo] source =
//! "distro"` writes nothing: the host's own repos serve the distribution's engine.

use std::path::PathBuf;

use super::{Context, StepPlan};
use crate::change::Change;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::packages::apt::{self, source::AptSource};
use crate::packages::mirrors::{REPO_FILE, render_repo_file};

pub const ID: &str = "repo";

/// Where Docker's repo file lives on this target.
pub fn path(ctx: &Context) -> &'static str {
    if ctx.tool.apt().is_some() {
        apt::SOURCE_FILE
    } else {
        REPO_FILE
    }
}

/// The apt source of the plan, when the target speaks apt and takes Docker's repo.
pub fn apt_source<'a>(ctx: &'a Context) -> Result<Option<AptSource<'a>>> {
    if ctx.tool.apt().is_none() || ctx.plan.repo.source.is_distro() {
        return Ok(None);
    }
    let (Some(suite), Some(arch)) = (ctx.distro_suite.as_deref(), ctx.facts.apt_arch.as_deref())
    else {
        return Err(Error::other(format!(
            "{}: neither its apt suite (VERSION_CODENAME) nor `dpkg --print-architecture` \
             may be missing to write Docker's apt source; check /etc/os-release and dpkg \
             on the target",
            ctx.distro.pretty_name
        )));
    };
    Ok(Some(AptSource {
        source: &ctx.plan.repo.source,
        tree: ctx.distro.docker_repo_os(),
        suite,
        arch,
        channel: ctx.plan.repo.channel,
    }))
}

pub fn rendered(ctx: &Context) -> Vec<u8> {
    if let Ok(Some(source)) = apt_source(ctx) {
        return source.render(apt::KEYRING);
    }
    let repo = &ctx.plan.repo;
    let held = if ctx.plan.engine.hold {
        super::engine::package_names(ctx.plan)
    } else {
        Vec::new()
    };
    render_repo_file(&repo.source, repo.channel, repo.gpgcheck, ctx.distro, &held)
}

/// Resolve: the keyring apt will check Docker's repo with after this run. It is
/// fetched (through the target) only when the source changes or the keyring is
/// missing: a converged host asks nothing. `None` off apt or with source "distro".
pub fn resolve_key(host: &Host, ctx: &Context) -> Result<Option<Vec<u8>>> {
    let Some(source) = apt_source(ctx)? else {
        return Ok(None);
    };
    let unchanged = ctx.facts.repo_file.as_deref() == Some(rendered(ctx).as_slice());
    match &ctx.facts.repo_key {
        Some(key) if unchanged => Ok(Some(key.clone())),
        _ => apt::resolve::fetch_key(host, &source.key_url()).map(Some),
    }
}

fn file_change(ctx: &Context, path: &str, old: Option<&Vec<u8>>, new: Vec<u8>) -> Change {
    let path = PathBuf::from(path);
    Change::File {
        backup: old.map(|_| ctx.backup_path(&path)),
        path,
        old: old.cloned(),
        new,
        default_mode: 0o644,
    }
}

pub fn check(ctx: &Context) -> StepPlan {
    let source = ctx.plan.repo.source.describe();
    if ctx.plan.repo.source.is_distro() {
        return StepPlan::unchanged(
            ID,
            format!("[repo] source = {source}: no Docker repo is written"),
        );
    }
    let path = path(ctx);
    let new = rendered(ctx);
    let mut changes = Vec::new();
    if let Some(key) = &ctx.repo_key
        && ctx.facts.repo_key.as_ref() != Some(key)
    {
        changes.push(file_change(
            ctx,
            apt::KEYRING,
            ctx.facts.repo_key.as_ref(),
            key.clone(),
        ));
    }
    if ctx.facts.repo_file.as_deref() != Some(new.as_slice()) {
        changes.push(file_change(ctx, path, ctx.facts.repo_file.as_ref(), new));
    }
    if changes.is_empty() {
        return StepPlan::unchanged(ID, format!("{path} up to date ({source})"));
    }
    let mut step = StepPlan::with_changes(ID, changes);
    step.summary = format!("{} ({source})", step.summary);
    step
}
