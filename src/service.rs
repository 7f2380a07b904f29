//! The docker service through systemd: what the changes of this run require (the
//! handlers), decided once, after the steps that can require them.

use crate::change::{Change, ServiceAction};
use crate::daemonjson;
use crate::facts::{DOCKER_UNIT, Facts};
use crate::health;
use crate::host::Host;
use crate::plan::{Plan, RestartPolicy};
use crate::steps::StepPlan;

pub const ID: &str = "service";

pub fn check(
    plan: &Plan,
    facts: &Facts,
    host: &Host,
    engine_changed: bool,
    unit_changed: bool,
    daemon_keys: &[String],
) -> StepPlan {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    let want_enabled = plan.engine.enable;
    let daemon_changed = !daemon_keys.is_empty();

    if let Some(reason) = &facts.offline {
        if want_enabled && !facts.service.is_enabled() {
            actions.push(ServiceAction::Enable);
        }
        let mut step = build(host, actions);
        let done = if step.changes_anything() {
            format!("{}; ", step.summary)
        } else if want_enabled {
            "docker enabled; ".to_string()
        } else {
            String::new()
        };
        step.summary = format!("{done}offline target ({reason}): docker is not started");
        return step;
    }

    // A run that stopped after writing a drop-in but before its daemon-reload, or after
    // writing daemon.json but before the reload, left files that say one thing and a
    // daemon that runs another: the next run owes what that one did not do.
    let stale_unit = facts.service.need_daemon_reload && !engine_changed && !unit_changed;
    let drifted = match (
        &facts.docker_info,
        engine_changed || unit_changed || daemon_changed,
    ) {
        (Some(info), false) if !stale_unit => health::drift(plan, info),
        _ => None,
    };
    if stale_unit {
        notes.push(
            "systemd has not loaded the docker unit's files as they are (NeedDaemonReload): \
             an earlier run stopped before its daemon-reload"
                .to_string(),
        );
    }
    if let Some((_, why)) = &drifted {
        notes.push(format!(
            "docker runs settings that differ from its files ({why}): an earlier run wrote \
             them but did not reload or restart docker"
        ));
    }
    let unit_changed = unit_changed || stale_unit;
    let daemon_keys: Vec<String> = match &drifted {
        Some((key, _)) if key != "proxy" => vec![key.clone()],
        _ => daemon_keys.to_vec(),
    };
    let daemon_keys = daemon_keys.as_slice();
    let unit_changed = unit_changed || drifted.as_ref().is_some_and(|(key, _)| key == "proxy");
    let daemon_changed = !daemon_keys.is_empty();

    if engine_changed || unit_changed {
        // New packages or drop-ins: systemd must read the unit again.
        actions.push(ServiceAction::DaemonReload);
    }
    if want_enabled && !facts.service.is_enabled() {
        actions.push(ServiceAction::Enable);
    }
    let running = facts.service.is_active();
    if !running {
        if want_enabled {
            actions.push(ServiceAction::Start);
        }
    } else if engine_changed || unit_changed || daemon_changed {
        let reloadable = daemon_keys.iter().all(|key| reload_applies(plan, key));
        let action = match plan.service.restart {
            RestartPolicy::Never => None,
            RestartPolicy::Always => Some(ServiceAction::Restart),
            RestartPolicy::Auto if !engine_changed && !unit_changed && reloadable => {
                Some(ServiceAction::Reload)
            }
            RestartPolicy::Auto => Some(ServiceAction::Restart),
        };
        match action {
            Some(action) => actions.push(action),
            None => notes.push(
                "docker keeps running with its old settings (service.restart = \"never\"): \
                 restart it yourself to apply them"
                    .to_string(),
            ),
        }
        if action == Some(ServiceAction::Restart) {
            notes.push(restart_warning(
                plan,
                facts,
                engine_changed,
                unit_changed,
                daemon_keys,
            ));
        }
    }
    let mut step = build(host, actions);
    step.notes.extend(notes);
    if !step.changes_anything() {
        step.summary = match (running, want_enabled) {
            (true, _) => "docker is running; nothing it depends on changed".into(),
            (false, false) => "docker is not managed here (engine.enable = false)".into(),
            (false, true) => "docker is stopped".into(),
        };
    }
    step
}

/// Whether this step starts, reloads or restarts docker: only then does the daemon run
/// something new that the health gate must see. A `daemon-reload` or an `enable` alone
/// leaves the running daemon as it was.
pub fn moves_the_daemon(step: &StepPlan) -> bool {
    step.id == ID
        && step.changes.iter().any(|change| {
            matches!(
                change,
                Change::Service {
                    action: ServiceAction::Start | ServiceAction::Reload | ServiceAction::Restart,
                    ..
                }
            )
        })
}

/// Whether a reload (SIGHUP) applies this change of `key`: dockerd reloads only keys
/// present in the file, so a key being removed needs a restart.
fn reload_applies(plan: &Plan, key: &str) -> bool {
    plan.daemon.contains_key(key) && daemonjson::is_reloadable(key)
}

/// Said before a restart: why, and what it does to the running containers.
fn restart_warning(
    plan: &Plan,
    facts: &Facts,
    engine_changed: bool,
    unit_changed: bool,
    daemon_keys: &[String],
) -> String {
    let fixed: Vec<&str> = daemon_keys
        .iter()
        .filter(|key| !reload_applies(plan, key))
        .map(String::as_str)
        .collect();
    let why = if engine_changed {
        "the engine packages change".to_string()
    } else if unit_changed {
        "the unit's drop-ins change".to_string()
    } else if !fixed.is_empty() {
        format!("{} cannot be applied by a reload", fixed.join(", "))
    } else {
        "service.restart = \"always\"".to_string()
    };
    let containers = match &facts.docker_info {
        Some(info) => {
            let running = info["ContainersRunning"].as_u64().unwrap_or(0);
            let live = info["LiveRestoreEnabled"].as_bool().unwrap_or(false);
            match (running, live) {
                (0, _) => "no container is running".to_string(),
                (n, true) => format!("{n} running container(s) keep running (live-restore is on)"),
                (n, false) => format!(
                    "{n} running container(s) will stop and start again per their restart policy (live-restore is off)"
                ),
            }
        }
        None => "the running containers could not be counted".to_string(),
    };
    format!("docker will be RESTARTED because {why}: {containers}")
}

fn build(host: &Host, actions: Vec<ServiceAction>) -> StepPlan {
    let changes = actions
        .into_iter()
        .map(|action| {
            let verb = match action {
                ServiceAction::DaemonReload => "daemon-reload",
                ServiceAction::Enable => "enable",
                ServiceAction::Start => "start",
                ServiceAction::Reload => "reload",
                ServiceAction::Restart => "restart",
            };
            let argv = if action == ServiceAction::DaemonReload {
                host.systemctl_argv(&[verb])
            } else {
                host.systemctl_argv(&[verb, DOCKER_UNIT])
            };
            Change::Service { action, argv }
        })
        .collect();
    StepPlan::with_changes(ID, changes)
}
