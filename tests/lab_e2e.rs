//! End to end on the lab (lab/lab, lab/README.md): booted systemd hosts running a real
//! dockerd from the lab's docker-ce repo, reached over SSH, with rdock-setup copied to the
//! host and run there (`ssh root@HOST rdock-setup apply plan.toml`, the "SSH loop" way).
//! The one fake is CentOS 7's yum, a shim over the real dnf (lab/README.md).
//!
//! The lab is machine-wide (a bridge, namespaces), so everything runs in ONE test, in
//! order, and `lab down` runs at the end whatever happens.

mod support;

use std::process::Command;

use support::lab::*;
use support::output_text;
use support::run::assert_prediction_held;

fn fresh_host_converges(host: &str, engine: &str) {
    install_tool(host);
    let plan = plan_text(&["https://mirror-a.example.com"], "latest");

    // e. dry-run touches nothing and predicts the apply exactly.
    let before = state_hash(host);
    let dry = timed(&format!("{host} dry-run"), || {
        apply_on(host, &plan, &["--dry-run"])
    });
    assert_eq!(dry.code, Some(0), "{}", dry.text);
    assert_eq!(
        state_hash(host),
        before,
        "dry-run changed /etc or the rpm database"
    );

    // a. fresh host: apply converges and docker runs with the plan's settings.
    let real = timed(&format!("{host} first apply"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(real.code, Some(0), "{}", real.text);
    assert_prediction_held(&dry, &real);
    assert_eq!(sh(host, "systemctl is-active docker"), "active");
    assert_eq!(sh(host, "systemctl is-enabled docker"), "enabled");
    assert_eq!(mirrors(host), "[\"https://mirror-a.example.com/\"]");
    assert_eq!(
        sh(host, "docker version --format '{{.Server.Version}}'"),
        engine
    );
    assert!(
        real.step("verify").summary.contains(engine),
        "{}",
        real.text
    );

    // b. a second apply changes nothing and does not restart docker.
    let identity = service_identity(host);
    let again = timed(&format!("{host} converged apply"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert_eq!(again.host_status, "ok", "{}", again.text);
    assert!(again.changing().is_empty(), "{}", again.text);
    assert_eq!(service_identity(host), identity, "docker was restarted");

    // c. only the mirrors change: a reload, the new mirrors live, the diff reported.
    let plan = plan_text(&["https://mirror-b.example.com"], "latest");
    let pid = sh(host, "systemctl show docker -p MainPID --value");
    let changed = timed(&format!("{host} mirror change"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(changed.code, Some(0), "{}", changed.text);
    let diff = changed.step("daemon-json").diff.clone().unwrap_or_default();
    assert!(
        diff.contains("+    \"https://mirror-b.example.com\""),
        "{diff}"
    );
    assert!(
        changed.step("service").summary.contains("reload docker"),
        "{}",
        changed.text
    );
    assert_eq!(
        sh(host, "systemctl show docker -p MainPID --value"),
        pid,
        "reload, not restart"
    );
    assert_eq!(mirrors(host), "[\"https://mirror-b.example.com/\"]");
}

fn old_install_is_replaced(host: &str) {
    install_tool(host);
    // The stock repos of a CentOS 7 host are dead: the old docker comes from the vault.
    install_from(
        host,
        &format!("{LAB_VAULT}/7.9.2009/extras/x86_64/"),
        "/etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
        &["docker", "docker-common"],
    );
    sh(
        host,
        "mkdir -p /etc/docker && printf '{\\n  \"log-level\": \"warn\"\\n}\\n' > /etc/docker/daemon.json",
    );
    let plan = plan_text(&["https://mirror-a.example.com"], "latest");
    let run = timed(&format!("{host} old install replaced"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(run.code, Some(0), "{}", run.text);
    let old = sh(host, "rpm -q docker docker-common || true");
    assert!(old.contains("package docker is not installed"), "{old}");
    assert!(
        old.contains("package docker-common is not installed"),
        "{old}"
    );
    let daemon = sh(host, "cat /etc/docker/daemon.json");
    let json: serde_json::Value = serde_json::from_str(&daemon).unwrap();
    assert_eq!(
        json["log-level"], "warn",
        "the operator's key survived: {daemon}"
    );
    assert_eq!(sh(host, "systemctl is-active docker"), "active");
    assert_eq!(
        sh(host, "docker info --format '{{.LoggingDriver}}'"),
        "json-file"
    );
}

/// The controller's own binary converges the hosts over SSH, nothing copied to them.
fn fleet_over_ssh(hosts: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let config = ssh_config(dir.path());
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        plan_text(&["https://mirror-fleet.example.com"], "latest"),
    )
    .unwrap();
    let mut inventory = String::new();
    for (i, host) in hosts.iter().enumerate() {
        let ip = lab_ok(&["ip", host]).trim().to_string();
        // The last host is reached as `deploy`, through sudo, as many fleets are.
        let user = if i + 1 == hosts.len() {
            "deploy"
        } else {
            "root"
        };
        inventory.push_str(&format!(
            "[[hosts]]\nname = \"{host}\"\naddress = \"{user}@{ip}\"\n\n"
        ));
    }
    let inventory_path = dir.path().join("inventory.toml");
    std::fs::write(&inventory_path, inventory).unwrap();
    let out = timed("fleet apply over ssh to 3 lab hosts", || {
        Command::new(env!("CARGO_BIN_EXE_rdock-setup"))
            .args([
                "apply",
                plan.to_str().unwrap(),
                "--inventory",
                inventory_path.to_str().unwrap(),
            ])
            .args(["--ssh-config", config.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap()
    });
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    support::schema::assert_valid_report(&json);
    assert_eq!(json["summary"]["changed"], hosts.len(), "{text}");
    for host in hosts {
        assert_eq!(sh(host, "systemctl is-active docker"), "active", "{host}");
        assert_eq!(
            mirrors(host),
            "[\"https://mirror-fleet.example.com/\"]",
            "{host}"
        );
    }
}

#[test]
fn lab_end_to_end() {
    let _down = Down;
    timed("lab up 2 centos7 (build included when cold)", || {
        lab_ok(&["up", "2"])
    });
    timed("lab up 1 rocky9", || {
        lab_ok(&["up", "1", "--variant", "rocky9"])
    });

    fresh_host_converges("el7-1", "26.1.4");
    old_install_is_replaced("el7-2");
    // f. the same on Rocky 9, through dnf.
    fresh_host_converges("el9-1", "26.1.4");

    timed("lab reset el7-1", || lab_ok(&["reset", "el7-1"]));
    assert!(
        lab(&["ssh", "el7-1", "rpm", "-q", "docker-ce"])
            .status
            .code()
            != Some(0),
        "reset brings the host back fresh"
    );

    // Issue 4 b: the agentless way: one controller, a fresh host and two converged ones.
    fleet_over_ssh(&["el7-1", "el7-2", "el9-1"]);

    timed("lab down", || lab_ok(&["down"]));
    nothing_left("after down");
    timed("lab down again", || lab_ok(&["down"]));
    nothing_left("after a second down");
}
