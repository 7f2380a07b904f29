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

mod error;
mod keys;
mod logopts;
mod merge;
mod parse;
mod render;
#[cfg(test)]
mod samples;
mod validate;

pub use keys::is_reloadable;
pub use logopts::foreign_option;
pub use merge::{changed_keys, merge};
pub use parse::parse_existing;
pub use render::render;
pub use validate::{Severity, validate_desired};

#[cfg(test)]
use serde_json::{Map, Value};

/// Test helper: a JSON object literal as a `Map`.
#[cfg(test)]
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
