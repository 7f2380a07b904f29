//! Refresh package metadata only when the repo changed or an engine install is due.

use super::{Context, StepPlan};
use crate::change::Change;

pub const ID: &str = "metadata";

pub fn check(ctx: &Context, repo_changed: bool, engine_due: bool) -> StepPlan {
    if !repo_changed && !engine_due {
        return StepPlan::unchanged(
            ID,
            "no refresh needed: repo unchanged, no engine install due",
        );
    }
    let mut step = StepPlan::with_changes(
        ID,
        vec![Change::Refresh {
            argv: ctx.tool.makecache(),
        }],
    );
    let why = if repo_changed {
        "repo changed"
    } else {
        "engine install due"
    };
    step.summary = format!("{} because the {why}", step.summary);
    step
}
