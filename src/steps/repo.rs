//! Write the docker-ce repo file the tool renders (no yum-config-manager needed).

use std::path::PathBuf;

use super::{Context, StepPlan};
use crate::change::Change;
use crate::packages::mirrors::{REPO_FILE, render_repo_file};

pub const ID: &str = "repo";

pub fn rendered(ctx: &Context) -> Vec<u8> {
    let repo = &ctx.plan.repo;
    let held = if ctx.plan.engine.hold {
        super::engine::package_names(ctx.plan)
    } else {
        Vec::new()
    };
    render_repo_file(&repo.source, repo.channel, repo.gpgcheck, ctx.distro, &held)
}

pub fn check(ctx: &Context) -> StepPlan {
    let new = rendered(ctx);
    if ctx.facts.repo_file.as_deref() == Some(new.as_slice()) {
        return StepPlan::unchanged(
            ID,
            format!(
                "{REPO_FILE} up to date ({})",
                ctx.plan.repo.source.describe()
            ),
        );
    }
    let path = PathBuf::from(REPO_FILE);
    let backup = ctx.facts.repo_file.as_ref().map(|_| ctx.backup_path(&path));
    let mut step = StepPlan::with_changes(
        ID,
        vec![Change::File {
            path,
            old: ctx.facts.repo_file.clone(),
            new,
            default_mode: 0o644,
            backup,
        }],
    );
    step.summary = format!("{} ({})", step.summary, ctx.plan.repo.source.describe());
    step
}
