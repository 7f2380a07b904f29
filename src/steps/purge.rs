//! Delete /var/lib/docker, only when the plan asks, only as part of replacing an old
//! install, and only when the operator confirmed with --yes.

use std::path::PathBuf;

use super::{Context, StepPlan, cleanup};
use crate::change::{Change, human_size};
use crate::facts::DOCKER_DATA;

pub const ID: &str = "purge-data";

pub fn check(ctx: &Context) -> StepPlan {
    if !ctx.plan.cleanup.purge_data {
        return StepPlan::unchanged(
            ID,
            format!("{DOCKER_DATA} is kept (cleanup.purge_data = false)"),
        );
    }
    let Some(size) = ctx.facts.docker_data_size else {
        return StepPlan::unchanged(ID, format!("{DOCKER_DATA} does not exist"));
    };
    // Data left by the engine the plan installs is never purged: only what an old
    // install leaves behind, i.e. while old packages go or no docker-ce is there yet.
    let replacing =
        !cleanup::wanted_removals(ctx).is_empty() || !ctx.facts.is_installed("docker-ce");
    if !replacing {
        return StepPlan::unchanged(
            ID,
            format!("{DOCKER_DATA} belongs to the installed docker-ce; kept"),
        );
    }
    let mut step = StepPlan::with_changes(
        ID,
        vec![Change::DeleteTree {
            path: PathBuf::from(DOCKER_DATA),
            size,
        }],
    );
    step.notes.push(format!(
        "images, containers and volumes in {DOCKER_DATA} ({}) will be DELETED; apply needs --yes",
        human_size(size)
    ));
    step
}
