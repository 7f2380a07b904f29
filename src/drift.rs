//! What `status` adds to a dry-run: whether the running daemon uses the settings its
//! daemon.json holds (someone edited the file without a restart, or docker runs with
//! something else), and the host's drift verdict. Read from the fact pass alone: no
//! command of its own.

use serde_json::Value;

use crate::facts::Facts;
use crate::report::{HostReport, HostStatus, StepReport, StepStatus};
use crate::{health, recap};

pub const RUNNING_ID: &str = "running";
const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// The running daemon's settings (its `docker info` from the fact pass) against the
/// daemon.json on the target.
pub fn running_settings(facts: &Facts) -> StepReport {
    let step = |status: StepStatus, summary: String| StepReport {
        reason: None,
        id: RUNNING_ID.into(),
        status,
        summary,
        diff: None,
        notes: Vec::new(),
    };
    if let Some(reason) = &facts.offline {
        return step(
            StepStatus::Skipped,
            format!("offline target ({reason}): no daemon runs to compare"),
        );
    }
    let Some(info) = &facts.docker_info else {
        return step(
            StepStatus::Skipped,
            "docker does not answer: no running settings to compare".into(),
        );
    };
    let file: serde_json::Map<String, Value> = match &facts.daemon_json {
        None => serde_json::Map::new(),
        Some(bytes) => match serde_json::from_slice(bytes) {
            Ok(Value::Object(map)) => map,
            // The daemon-json step names the problem with line:column.
            _ => {
                return step(
                    StepStatus::Skipped,
                    format!("{DAEMON_JSON} is not a JSON object: nothing to compare"),
                );
            }
        },
    };
    let differ = health::mismatches(&file, info);
    if differ.is_empty() {
        return step(
            StepStatus::Unchanged,
            format!(
                "docker {} runs the settings of {DAEMON_JSON}",
                info["ServerVersion"].as_str().unwrap_or("?")
            ),
        );
    }
    let details: Vec<String> = differ
        .iter()
        .map(|m| {
            format!(
                "{} (running {} = {}, file {})",
                m.key, m.field, m.running, m.wanted
            )
        })
        .collect();
    step(
        StepStatus::Drifted,
        format!(
            "docker runs settings that differ from {DAEMON_JSON}: {}; a restart (or reload) of docker applies the file",
            details.join("; ")
        ),
    )
}

/// The host's status in a drift report: `ok` when converged, `drifted` when a step
/// would change or the daemon runs other settings; failures stay failures.
pub fn verdict(report: &HostReport) -> HostStatus {
    match report.status {
        HostStatus::Ok | HostStatus::Changed => {
            let drifted = report
                .steps
                .iter()
                .any(|s| matches!(s.status, StepStatus::WouldChange | StepStatus::Drifted));
            if drifted {
                HostStatus::Drifted
            } else {
                HostStatus::Ok
            }
        }
        other => other,
    }
}

/// One line for a host: converged, or which steps drifted and how, or why it failed.
pub fn host_line(report: &HostReport) -> String {
    match report.status {
        HostStatus::Ok => format!("{}: converged", report.name),
        HostStatus::Drifted => {
            let parts: Vec<String> = report
                .steps
                .iter()
                .filter(|s| matches!(s.status, StepStatus::WouldChange | StepStatus::Drifted))
                .map(|s| format!("{}: {}", s.id, s.summary))
                .collect();
            format!("{}: drift: {}", report.name, parts.join(" | "))
        }
        status => format!(
            "{}: {}: {}",
            report.name,
            recap::status_word(status),
            // One line per host: the reason's lines joined.
            report
                .error
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}
