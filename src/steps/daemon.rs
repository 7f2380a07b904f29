//! Merge the plan's `[daemon]` keys into /etc/docker/daemon.json: keys the plan names
//! are set, every other key keeps its value and place; a key the tool set earlier and
//! the plan no longer names is removed if nobody changed it since (else kept, with a
//! note). A file that is not valid JSON is an error and is never overwritten.

use std::path::{Path, PathBuf};

use super::{Context, StepPlan};
use crate::change::Change;
use crate::daemonjson;
use crate::error::{Error, Result};
use crate::facts::DAEMON_JSON;
use crate::host::Host;
use crate::state::{STATE_FILE, State};
use crate::unit;

pub const ID: &str = "daemon-json";

const MIRRORS: &str = "registry-mirrors";

/// daemon.json as the target has it (empty when absent); a file that is not valid JSON
/// is an error with line:column, and is never overwritten.
pub fn existing(ctx: &Context) -> Result<serde_json::Map<String, serde_json::Value>> {
    match &ctx.facts.daemon_json {
        None => Ok(serde_json::Map::new()),
        Some(bytes) => daemonjson::parse_existing(bytes).map_err(|err| Error::Content {
            path: PathBuf::from(DAEMON_JSON),
            line: err.line(),
            column: err.column(),
            message: format!("{err}; the file was left as it is"),
            hint: format!(
                "{}; dockerd would refuse the file too. Then rerun",
                err.advice()
            ),
        }),
    }
}

/// The plan's registry-mirrors, when it names any.
pub fn planned_mirrors(ctx: &Context) -> Option<Vec<String>> {
    Some(crate::mirrors::planned(ctx.plan)).filter(|list| !list.is_empty())
}

fn strings(value: &serde_json::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The mirror list the target already has when it counts as converged for `planned`:
/// the plan's own list, or the one an earlier run wrote from this same plan list
/// (dead ones dropped, fastest first). `None`: registry-mirrors would change, so the
/// mirrors are probed before anything is written.
pub fn settled_mirrors(
    ctx: &Context,
    existing: &serde_json::Map<String, serde_json::Value>,
    planned: &[String],
) -> Option<Vec<String>> {
    let current = strings(existing.get(MIRRORS)?)?;
    if current == planned {
        return Some(current);
    }
    let state = State::parse(ctx.facts.state.as_deref());
    let written = state.daemon_json.get(MIRRORS).and_then(strings);
    (state.mirrors_planned.as_deref() == Some(planned) && written.as_ref() == Some(&current))
        .then_some(current)
}

/// The step, plus the keys whose values change or go (the service step decides
/// between reload and restart from them). `mirrors`: what to write for
/// registry-mirrors instead of the plan's list (the probe's decision, or the list a
/// converged host keeps), with the notes the report must carry about it.
pub fn check(
    ctx: &Context,
    mirrors: Option<(&[String], &[String])>,
) -> Result<(StepPlan, Vec<String>)> {
    let mut desired = ctx.plan.daemon.clone();
    let mut mirror_notes: Vec<String> = Vec::new();
    if let Some((list, notes)) = mirrors {
        desired.insert(MIRRORS.to_string(), serde_json::Value::from(list.to_vec()));
        mirror_notes = notes.to_vec();
    }
    let desired = &desired;
    let recorded = State::parse(ctx.facts.state.as_deref());
    if desired.is_empty() && recorded.daemon_json.is_empty() && recorded.pending.is_empty() {
        return Ok((
            StepPlan::unchanged(ID, "the plan sets no daemon.json keys"),
            Vec::new(),
        ));
    }
    let existing = existing(ctx)?;
    let state = recorded.settled(&existing);

    // A key also passed as a dockerd flag would keep docker from starting: refuse it now.
    // Before docker-ce is installed, its own unit is the one that will run dockerd.
    let unit_files = if ctx.facts.is_installed("docker-ce") {
        ctx.facts.unit.clone()
    } else {
        unit::after_docker_ce_install(&ctx.facts.unit)
    };
    let flags = unit::dockerd_flags(&unit_files).unwrap_or_else(unit::stock_flags);
    if let Some((key, flag)) = unit::conflict(desired.keys(), &flags) {
        return Err(Error::other(format!(
            "{}; nothing was changed",
            unit::explain(&key, &flag)
        )));
    }

    // log-opts must belong to the log driver in force, or dockerd will not start.
    if let Some(serde_json::Value::Object(opts)) = desired.get("log-opts") {
        let (driver, origin) = match (desired.get("log-driver"), existing.get("log-driver")) {
            (Some(d), _) => (d.as_str().unwrap_or("").to_string(), "the plan".to_string()),
            (None, Some(d)) => (
                d.as_str().unwrap_or("").to_string(),
                DAEMON_JSON.to_string(),
            ),
            (None, None) => match flags.iter().find(|f| f.key == "log-driver") {
                Some(flag) => (
                    flag.written
                        .trim_start_matches("--log-driver")
                        .trim_start_matches(['=', ' '])
                        .to_string(),
                    flag.origin.clone(),
                ),
                None => ("json-file".to_string(), "dockerd's default".to_string()),
            },
        };
        if let Some(option) = daemonjson::foreign_option(&driver, opts.keys()) {
            return Err(Error::other(format!(
                "daemon.log-opts sets {option}, which the {driver} log driver (from {origin}) does not take: \
                 dockerd would refuse to start. Set log-driver in the plan as well, or drop {option}; \
                 nothing was changed"
            )));
        }
    }

    // Keys this tool set before that the plan dropped: removed only when untouched.
    let mut notes = mirror_notes;
    let mut dropped = Vec::new();
    for (key, value) in &state.daemon_json {
        if desired.contains_key(key) {
            continue;
        }
        match existing.get(key) {
            Some(current) if current == value => dropped.push(key.clone()),
            Some(_) => notes.push(format!(
                "{key} is kept: the plan no longer names it, but it was changed by hand after rdock-setup set it"
            )),
            None => {}
        }
    }
    let mut changed = daemonjson::changed_keys(&existing, desired);
    let mut merged = daemonjson::merge(&existing, desired);
    for key in &dropped {
        merged.shift_remove(key);
    }
    changed.extend(dropped.iter().cloned());

    // The record: keys the plan names that this tool set (now or before).
    let mut owned = State::default();
    for (key, value) in desired {
        if state.daemon_json.contains_key(key) || changed.contains(key) {
            owned.daemon_json.insert(key.clone(), value.clone());
        }
    }
    let planned = planned_mirrors(ctx);
    if owned.daemon_json.contains_key(MIRRORS)
        && planned.is_some()
        && desired.get(MIRRORS).and_then(strings) != planned
    {
        owned.mirrors_planned = planned;
    }

    let mut changes = Vec::new();
    if merged != existing {
        // The record first: what this write will set goes in as pending, so that a run
        // cut right after daemon.json is written still knows the keys it set.
        let intent = State {
            daemon_json: state.daemon_json.clone(),
            pending: owned.daemon_json.clone(),
            mirrors_planned: owned.mirrors_planned.clone(),
        };
        changes.push(Change::Record {
            path: PathBuf::from(STATE_FILE),
            bytes: intent.render(),
        });
        let path = Path::new(DAEMON_JSON);
        changes.push(Change::File {
            path: path.to_path_buf(),
            old: ctx.facts.daemon_json.clone(),
            new: daemonjson::render(&merged),
            default_mode: 0o644,
            backup: ctx
                .facts
                .daemon_json
                .as_ref()
                .map(|_| ctx.backup_path(path)),
        });
    }
    if merged != existing
        || owned != recorded
        || (ctx.facts.state.is_none() && !owned.daemon_json.is_empty())
    {
        changes.push(Change::Record {
            path: PathBuf::from(STATE_FILE),
            bytes: owned.render(),
        });
    }
    if changes.is_empty() {
        let keys: Vec<&str> = desired.keys().map(String::as_str).collect();
        let mut step =
            StepPlan::unchanged(ID, format!("{DAEMON_JSON} already has {}", keys.join(", ")));
        step.notes = notes;
        return Ok((step, Vec::new()));
    }
    let mut step = StepPlan::with_changes(ID, changes);
    if merged != existing {
        let set = daemonjson::changed_keys(&existing, desired);
        let mut parts = Vec::new();
        if !set.is_empty() {
            parts.push(format!("set {}", set.join(", ")));
        }
        if !dropped.is_empty() {
            parts.push(format!(
                "remove {} (set earlier by rdock-setup)",
                dropped.join(", ")
            ));
        }
        let verb = if ctx.facts.daemon_json.is_some() {
            "update"
        } else {
            "create"
        };
        step.summary = format!("{verb} {DAEMON_JSON}: {}", parts.join("; "));
        if owned != state {
            step.summary.push_str("; record the keys it owns");
        }
    } else {
        step.summary = format!("record the daemon.json keys it owns in {STATE_FILE}");
    }
    step.notes = notes;
    Ok((step, changed))
}

/// dockerd 23 and later can check a configuration file without starting
/// (`dockerd --validate`): run it on the file this step would write, before anything
/// is written. Older engines (and a host where dockerd is not installed yet) have only
/// the key table's checks; a dockerd that does not know the flag is taken as older.
/// A `--root` tree is never checked: the only dockerd at hand is the machine's own, a
/// different engine (or none, on a build host), not the one the tree will run.
pub fn validate_with_dockerd(host: &Host, ctx: &Context, step: &StepPlan) -> Result<()> {
    if host.root().is_some() {
        return Ok(());
    }
    let Some(Change::File { new, .. }) = step
        .changes
        .iter()
        .find(|c| matches!(c, Change::File { .. }))
    else {
        return Ok(());
    };
    let installed = ctx.facts.installed.get("docker-ce");
    let major = installed.and_then(|evr| evr.version.split('.').next()?.parse::<u32>().ok());
    if major.is_none_or(|m| m < 23) {
        return Ok(());
    }
    let (_, output) = host.run_with_file("daemon.json", new, &|dir| {
        vec![
            "dockerd".into(),
            "--validate".into(),
            "--config-file".into(),
            dir.join("daemon.json").display().to_string(),
        ]
    })?;
    let said = format!("{}{}", output.stdout, output.stderr);
    if output.success() || said.contains("unknown flag") || output.status == Some(127) {
        return Ok(());
    }
    Err(Error::other(format!(
        "dockerd --validate refuses the daemon.json this plan would write: {}; nothing was changed",
        said.trim()
    )))
}
