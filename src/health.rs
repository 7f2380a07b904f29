//! After docker was reloaded, restarted or started: wait (bounded) until the service is
//! active and the daemon reports the plan's settings; if it does not, put the previous
//! daemon.json back, restart, and say why from the journal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::change::Change;
use crate::error::{Error, Result};
use crate::facts::{DOCKER_INFO, DOCKER_UNIT, Facts, parse_docker_info};
use crate::host::Host;
use crate::host::shell::command_line;
use crate::plan::Plan;

const POLL: Duration = Duration::from_millis(500);

/// Wait until docker is active and shows `plan`'s observable settings. `Ok(info)` or
/// `Err(why not)` once `timeout` has passed.
pub fn wait_healthy(
    host: &Host,
    plan: Option<&Plan>,
    timeout: Duration,
) -> std::result::Result<Value, String> {
    let deadline = Instant::now() + timeout;
    // One command a poll: is-active, then (only if active) docker info.
    let info = command_line(DOCKER_INFO).map_err(|e| e.to_string())?;
    let script = format!(
        "state=$(systemctl is-active {DOCKER_UNIT}); [ \"$state\" = active ] || {{ echo \"$state\"; exit 3; }}; {info}"
    );
    loop {
        let last;
        match host.run(vec!["sh".into(), "-c".into(), script.clone()]) {
            Ok(output) if output.status == Some(3) => {
                last = format!("docker.service is {}", output.stdout.trim());
            }
            Ok(output) => match parse_docker_info(&output) {
                Some(info) => match plan.and_then(|p| mismatch(p, &info)) {
                    None => return Ok(info),
                    Some(why) => last = why,
                },
                // Exit 124: `timeout` (DOCKER_INFO) stopped a `docker info` that said
                // nothing; without this the reason came out empty for a hung dockerd.
                None if output.status == Some(124) => {
                    last = format!(
                        "`docker info` got no answer within {}s: dockerd runs but does not respond (hung or stopped)",
                        DOCKER_INFO[1]
                    )
                }
                None => last = format!("docker does not answer: {}", output.stderr.trim()),
            },
            Err(err) => last = err.to_string(),
        }
        if Instant::now() >= deadline {
            return Err(last);
        }
        std::thread::sleep(POLL);
    }
}

/// A daemon.json setting that the running daemon shows otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The daemon.json key.
    pub key: String,
    /// Where `docker info` shows it.
    pub field: &'static str,
    /// What `docker info` shows.
    pub running: Value,
    /// What daemon.json (or the plan) says, as docker would show it.
    pub wanted: Value,
}

/// The `settings` (daemon.json keys) that `docker info` shows otherwise. Only settings
/// `docker info` reports as written are compared (not data-root, which it shows with
/// symlinks resolved).
pub fn mismatches(settings: &serde_json::Map<String, Value>, info: &Value) -> Vec<Mismatch> {
    let mut found = Vec::new();
    for (key, want) in settings {
        let (field, running, wanted) = match key.as_str() {
            "registry-mirrors" => (
                "RegistryConfig.Mirrors",
                mirrors(&info["RegistryConfig"]["Mirrors"]),
                mirrors(want),
            ),
            "debug" => ("Debug", info["Debug"].clone(), want.clone()),
            "live-restore" => (
                "LiveRestoreEnabled",
                info["LiveRestoreEnabled"].clone(),
                want.clone(),
            ),
            "labels" => ("Labels", info["Labels"].clone(), want.clone()),
            "storage-driver" => ("Driver", info["Driver"].clone(), want.clone()),
            "log-driver" => ("LoggingDriver", info["LoggingDriver"].clone(), want.clone()),
            "default-runtime" => (
                "DefaultRuntime",
                info["DefaultRuntime"].clone(),
                want.clone(),
            ),
            _ => continue,
        };
        if running != wanted {
            found.push(Mismatch {
                key: key.clone(),
                field,
                running,
                wanted,
            });
        }
    }
    found
}

/// The first of the plan's settings that `docker info` shows otherwise.
pub fn mismatch(plan: &Plan, info: &Value) -> Option<String> {
    drift(plan, info).map(|(_, why)| why)
}

/// Like `mismatch`, with the setting that differs: a daemon.json key, or `proxy` for
/// the environment the drop-in gives.
pub fn drift(plan: &Plan, info: &Value) -> Option<(String, String)> {
    if let Some(m) = mismatches(&plan.daemon, info).into_iter().next() {
        let why = format!(
            "docker info shows {} = {}, the plan wants {} = {}",
            m.field, m.running, m.key, m.wanted
        );
        return Some((m.key, why));
    }
    if let Some(proxy) = &plan.proxy {
        for (field, want) in [
            ("HttpProxy", &proxy.http_proxy),
            ("HttpsProxy", &proxy.https_proxy),
            ("NoProxy", &proxy.no_proxy),
        ] {
            // Only what the plan sets (another drop-in may set the rest); docker masks
            // credentials in what it shows, so only plain values are compared.
            let Some(want) = want.clone() else { continue };
            if !want.contains('@') && info[field].as_str().unwrap_or("") != want {
                return Some((
                    "proxy".to_string(),
                    format!(
                        "docker info shows {field} = {}, the plan wants {want:?}",
                        info[field]
                    ),
                ));
            }
        }
    }
    None
}

/// Mirrors as docker reports them: with a trailing slash.
fn mirrors(value: &Value) -> Value {
    let list: Vec<Value> = value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|m| Value::String(format!("{}/", m.trim_end_matches('/'))))
                .collect()
        })
        .unwrap_or_default();
    Value::Array(list)
}

/// `.rdock-setup-<time>.bak` (a run's backup suffix) -> `.rdock-setup-<time>.failed`.
fn failed_suffix(run_suffix: &str) -> String {
    format!(
        "{}.failed",
        run_suffix.strip_suffix(".bak").unwrap_or(run_suffix)
    )
}

/// The last lines docker's journal has about why it failed.
pub fn journal_reason(host: &Host) -> String {
    let argv = vec![
        "journalctl".into(),
        "-u".into(),
        DOCKER_UNIT.into(),
        "-n".into(),
        "40".into(),
        "--no-pager".into(),
        "-o".into(),
        "cat".into(),
    ];
    match host.run(argv) {
        Ok(output) => {
            let lines: Vec<&str> = output
                .stdout
                .lines()
                .filter(|l| {
                    let l = l.to_ascii_lowercase();
                    l.contains("error")
                        || l.contains("fail")
                        || l.contains("unable")
                        || l.contains("invalid")
                })
                .collect();
            let tail = &lines[lines.len().saturating_sub(6)..];
            tail.join("\n")
        }
        Err(err) => format!("(journal unreadable: {err})"),
    }
}

/// Undo the file changes of this run that docker reads (daemon.json, drop-ins) and the
/// tool's record, restart docker, and check it is healthy again. A file the run
/// replaced gets its old content back (the failed one is kept beside it as
/// `FILE.rdock-setup-<time>.failed`, a name of this run's own, so that every rollback
/// keeps its failed file and none is refused for a name taken); a file the run created
/// is removed.
pub fn roll_back(
    host: &Host,
    changes: &[&Change],
    facts: &Facts,
    timeout: Duration,
    run_suffix: &str,
) -> Result<Vec<String>> {
    let mut restored = Vec::new();
    let mut units_touched = false;
    for change in changes {
        match change {
            Change::File { path, old, .. } => {
                let failed_copy =
                    PathBuf::from(format!("{}{}", path.display(), failed_suffix(run_suffix)));
                match old {
                    Some(previous) => host.write_file(path, previous, 0o644, Some(&failed_copy))?,
                    None => {
                        if let Some(broken) = host.read_file(path)? {
                            host.write_file(&failed_copy, &broken, 0o644, None)?;
                        }
                        host.remove_tree(path)?;
                    }
                }
                units_touched |= path.starts_with("/etc/systemd");
                restored.push(format!(
                    "{} (the failed one is kept as {})",
                    path.display(),
                    failed_copy.display()
                ));
            }
            Change::Record { path, .. } => match &facts.state {
                Some(previous) => host.write_file(path, previous, 0o644, None)?,
                None => host.remove_tree(path)?,
            },
            _ => {}
        }
    }
    if units_touched {
        let _ = host.run(host.systemctl_argv(&["daemon-reload"]));
    }
    let _ = host.run(host.systemctl_argv(&["reset-failed", DOCKER_UNIT]));
    host.run_ok(
        host.systemctl_argv(&["restart", DOCKER_UNIT]),
        "docker did not start even with the previous settings; see `journalctl -u docker`",
    )?;
    wait_healthy(host, None, timeout).map_err(|why| {
        Error::other(format!(
            "docker is not healthy after the rollback either: {why}"
        ))
    })?;
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_settings_compared_as_docker_shows_them() {
        let info = serde_json::json!({
            "RegistryConfig": {"Mirrors": ["https://a.example.com/"]},
            "Debug": false,
            "Driver": "overlay2"
        });
        let file =
            |text: &str| -> serde_json::Map<String, Value> { serde_json::from_str(text).unwrap() };
        // docker adds a trailing slash to mirrors; keys docker info does not show
        // (data-root, log-opts) are not compared.
        assert!(
            mismatches(
                &file(r#"{"registry-mirrors": ["https://a.example.com"], "data-root": "/x", "log-opts": {"max-size": "1m"}}"#),
                &info
            )
            .is_empty()
        );
        let found = mismatches(
            &file(
                r#"{"registry-mirrors": ["https://b.example.com"], "debug": true, "storage-driver": "overlay2"}"#,
            ),
            &info,
        );
        let keys: Vec<&str> = found.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["registry-mirrors", "debug"]);
        assert_eq!(
            found[0].running,
            serde_json::json!(["https://a.example.com/"])
        );
        assert_eq!(
            found[0].wanted,
            serde_json::json!(["https://b.example.com/"])
        );
    }
}
