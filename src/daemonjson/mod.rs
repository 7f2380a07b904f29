//! /etc/docker/daemon.json: read the existing file strictly, merge the plan's keys into
//! it, render it in one stable format, and know which keys dockerd can reload.
//!
//! The plan owns the keys it names; every other key keeps its value and its place. A
//! file that is not valid JSON is never overwritten: `parse_existing` says where and
//! why. The file is rewritten only when a named key differs semantically, so a
//! converged host keeps its operator's formatting, and a rewritten file is a fixed
//! point (a second run renders the same bytes).
//!
//! One concept per file: `error` (what is wrong and where), `parse` (reading),
//! `merge` (setting the plan's keys), `render` (writing), `keys` (what dockerd accepts
//! and reloads), `validate` (checking a plan's keys).

// Not every item is used by the steps yet: remove once the daemon.json step is wired.
#![allow(dead_code, unused_imports)]

mod error;
mod keys;
mod merge;
mod parse;
mod render;
mod validate;

pub use error::{DaemonJsonError, ErrorKind};
pub use keys::{KEYS, KeySpec, ValueKind, check_plan_value, closest, is_reloadable, lookup};
pub use merge::{changed_keys, merge, needs_write};
pub use parse::parse_existing;
pub use render::render;
pub use validate::{Problem, Severity, validate_desired};

use serde_json::{Map, Value};

/// What converging daemon.json to a plan takes, as data for a `Change`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The plan's keys whose value differs from the file's, in the plan's order.
    pub changed_keys: Vec<String>,
    /// The new file content; `None` when nothing differs (the file is left as it is).
    pub new_bytes: Option<Vec<u8>>,
    /// Whether `SIGHUP` (`systemctl reload docker`) applies every changed key; when
    /// false, dockerd must be restarted. True when nothing changed.
    pub reload_suffices: bool,
}

/// Decides what daemon.json needs: `existing` is the file's content, `None` when the
/// file does not exist. Refuses (with line and column) a file that cannot be parsed.
pub fn plan_update(
    existing: Option<&[u8]>,
    desired: &Map<String, Value>,
) -> Result<Update, DaemonJsonError> {
    let current = match existing {
        Some(bytes) => parse_existing(bytes)?,
        None => Map::new(),
    };
    let changed = changed_keys(&current, desired);
    let new_bytes = if changed.is_empty() {
        None
    } else {
        Some(render(&merge(&current, desired)))
    };
    let reload_suffices = changed.iter().all(|key| is_reloadable(key));
    Ok(Update {
        changed_keys: changed,
        new_bytes,
        reload_suffices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn missing_file_gets_the_plan() {
        let desired = map(json!({"log-driver": "journald"}));
        let update = plan_update(None, &desired).expect("no file is fine");
        assert_eq!(update.changed_keys, ["log-driver"]);
        assert_eq!(
            update.new_bytes.as_deref(),
            Some(&b"{\n  \"log-driver\": \"journald\"\n}\n"[..])
        );
        assert!(!update.reload_suffices);
    }

    #[test]
    fn converged_file_is_left_alone_and_second_run_is_a_no_op() {
        let file = b"{\"registry-mirrors\":[\"https://old.example.com\"],\n\"storage-driver\":\"overlay2\"}";
        let desired = map(json!({"registry-mirrors": ["https://new.example.com"], "debug": true}));
        let first = plan_update(Some(file), &desired).expect("valid file");
        assert_eq!(first.changed_keys, ["registry-mirrors", "debug"]);
        assert!(first.reload_suffices, "both keys are reloadable");
        let written = first.new_bytes.expect("a write");
        let second = plan_update(Some(&written), &desired).expect("valid file");
        assert_eq!(
            second,
            Update {
                changed_keys: vec![],
                new_bytes: None,
                reload_suffices: true
            }
        );
    }

    #[test]
    fn a_restart_is_needed_when_any_changed_key_is_not_reloadable() {
        let desired = map(json!({"debug": true, "storage-driver": "overlay2"}));
        let update = plan_update(Some(b"{\"debug\": false}"), &desired).expect("valid");
        assert!(!update.reload_suffices);
    }

    #[test]
    fn an_invalid_file_is_refused_with_its_position() {
        let desired = map(json!({"debug": true}));
        let e = plan_update(Some(b"{\n  \"debug\": false,\n}\n"), &desired)
            .expect_err("trailing comma");
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::TrailingComma, 2, 17)
        );
    }
}
