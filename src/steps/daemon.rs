//! Merge the plan's `[daemon]` keys into /etc/docker/daemon.json: keys the plan names
//! are set, every other key keeps its value and place; a file that is not valid JSON
//! is an error and is never overwritten.

use std::path::{Path, PathBuf};

use super::{Context, StepPlan};
use crate::change::Change;
use crate::daemonjson;
use crate::error::{Error, Result};
use crate::facts::DAEMON_JSON;

pub const ID: &str = "daemon-json";

/// The step, plus the keys whose values change (the service step decides between
/// reload and restart from them).
pub fn check(ctx: &Context) -> Result<(StepPlan, Vec<String>)> {
    let desired = &ctx.plan.daemon;
    if desired.is_empty() {
        return Ok((
            StepPlan::unchanged(ID, "the plan sets no daemon.json keys"),
            Vec::new(),
        ));
    }
    let existing = match &ctx.facts.daemon_json {
        None => serde_json::Map::new(),
        Some(bytes) => daemonjson::parse_existing(bytes).map_err(|err| Error::Content {
            path: PathBuf::from(DAEMON_JSON),
            line: err.line(),
            column: err.column(),
            message: format!("{err}; the file was left as it is"),
            hint: format!(
                "{}; dockerd would refuse the file too. Then rerun",
                err.advice()
            ),
        })?,
    };
    if !daemonjson::needs_write(&existing, desired) {
        let keys: Vec<&str> = desired.keys().map(String::as_str).collect();
        return Ok((
            StepPlan::unchanged(ID, format!("{DAEMON_JSON} already has {}", keys.join(", "))),
            Vec::new(),
        ));
    }
    let changed = daemonjson::changed_keys(&existing, desired);
    let merged = daemonjson::merge(&existing, desired);
    let path = Path::new(DAEMON_JSON);
    let change = Change::File {
        path: path.to_path_buf(),
        old: ctx.facts.daemon_json.clone(),
        new: daemonjson::render(&merged),
        default_mode: 0o644,
        backup: ctx
            .facts
            .daemon_json
            .as_ref()
            .map(|_| ctx.backup_path(path)),
    };
    let mut step = StepPlan::with_changes(ID, vec![change]);
    step.summary = format!("{} (keys: {})", step.summary, changed.join(", "));
    Ok((step, changed))
}
