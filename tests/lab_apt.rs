//! Issue 11 acceptance b, on the lab (lab/lab, lab/README.md): a Debian 12 host and an
//! Ubuntu 22.04 host booted like the EL ones, each with Debian's docker.io installed and
//! running as the old engine and a daemon.json of the operator's. The Ubuntu host is the
//! Debian rootfs presented as Ubuntu 22.04 through /usr/lib/os-release and
//! /etc/lsb-release (lab/README.md says so); the tool reads only those. Docker's apt repo
//! (tests/support/build-apt-repo.sh with the real dockerd, docker, containerd and runc of
//! this machine) is served from the controller on the lab bridge.
//!
//! Over SSH, rdock-setup copied to the host: the dry-run touches nothing and predicts the
//! apply; the apply replaces docker.io with docker-ce and keeps the operator's keys; a
//! second run changes nothing and restarts nothing; a registry-mirror change is a
//! reload. Then the controller's own binary converges a fleet of EL and Debian hosts in
//! one run, with one report.
//!
//! The lab is machine-wide: everything runs in ONE test, in order, `lab down` at the end
//! whatever happens (run it under `flock /var/cache/rdock-lab-tests.lock`).

mod support;

use std::process::Command;

use support::lab::*;
use support::output_text;
use support::run::assert_prediction_held;

/// A hash of everything a dry-run must not touch on an apt host: /etc, the dpkg
/// database and apt's lists and caches.
fn apt_state_hash(host: &str) -> String {
    sh(
        host,
        "find /etc /var/lib/dpkg /var/lib/apt /var/cache/apt -xdev -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum",
    )
}

/// `dpkg-query`'s status and version of `package` ("" when dpkg never heard of it).
fn dpkg_state(host: &str, package: &str) -> String {
    sh(
        host,
        &format!("dpkg-query -W -f='${{Status}} ${{Version}}' {package} 2>/dev/null || true"),
    )
}

fn docker_io_replaced(host: &str, suite: &str, tree: &str) {
    install_tool(host);
    // The old engine, as the lab builds it: Debian's docker.io, running.
    assert!(
        dpkg_state(host, "docker.io").starts_with("install ok installed 20.10"),
        "{host}: {}",
        dpkg_state(host, "docker.io")
    );
    assert_eq!(sh(host, "systemctl is-active docker"), "active", "{host}");
    let plan = plan_text(&["https://mirror-a.example.com"], "latest");

    // The dry-run touches nothing and predicts the apply exactly.
    let before = apt_state_hash(host);
    let dry = timed(&format!("{host} dry-run"), || {
        apply_on(host, &plan, &["--dry-run"])
    });
    assert_eq!(dry.code, Some(0), "{}", dry.text);
    assert_eq!(
        apt_state_hash(host),
        before,
        "{host}: the dry-run changed /etc, the dpkg database or apt's lists"
    );

    // The apply: docker.io out, docker-ce in at the plan's version, the keys kept.
    let real = timed(&format!("{host} first apply"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(real.code, Some(0), "{}", real.text);
    assert_prediction_held(&dry, &real);
    assert!(
        !dpkg_state(host, "docker.io").starts_with("install ok installed"),
        "{host}: docker.io is still installed: {}",
        dpkg_state(host, "docker.io")
    );
    let engine = dpkg_state(host, "docker-ce");
    assert!(
        engine.starts_with("install ok installed 5:26.1.4-1~")
            && engine.ends_with(&format!("~{suite}")),
        "{host}: docker-ce is {engine:?}"
    );
    let source = sh(host, "cat /etc/apt/sources.list.d/docker.sources");
    assert!(
        source.contains(&format!("http://10.213.0.1:8080/linux/{tree}"))
            && source.contains(&format!("Suites: {suite}")),
        "{host}: {source}"
    );
    assert_eq!(sh(host, "systemctl is-active docker"), "active", "{host}");
    assert_eq!(sh(host, "systemctl is-enabled docker"), "enabled", "{host}");
    assert_eq!(mirrors(host), "[\"https://mirror-a.example.com/\"]");
    let daemon: serde_json::Value =
        serde_json::from_str(&sh(host, "cat /etc/docker/daemon.json")).unwrap();
    assert_eq!(
        daemon["log-opts"]["max-size"], "10m",
        "{host}: the operator's key survived: {daemon}"
    );

    // A second apply changes nothing and does not restart docker.
    let identity = service_identity(host);
    let again = timed(&format!("{host} converged apply"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert_eq!(again.host_status, "ok", "{}", again.text);
    assert!(again.changing().is_empty(), "{}", again.text);
    assert_eq!(service_identity(host), identity, "{host}: docker restarted");

    // Only the mirrors change: a reload, the new mirrors live, the same dockerd.
    let plan = plan_text(&["https://mirror-b.example.com"], "latest");
    let pid = sh(host, "systemctl show docker -p MainPID --value");
    let changed = timed(&format!("{host} mirror change"), || {
        apply_on(host, &plan, &[])
    });
    assert_eq!(changed.code, Some(0), "{}", changed.text);
    assert!(
        changed.step("service").summary.contains("reload docker"),
        "{}",
        changed.text
    );
    assert_eq!(
        sh(host, "systemctl show docker -p MainPID --value"),
        pid,
        "{host}: reload, not restart"
    );
    assert_eq!(mirrors(host), "[\"https://mirror-b.example.com/\"]");
}

/// The controller's own binary, one plan, one run: EL and Debian hosts alike.
fn mixed_fleet(hosts: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let config = ssh_config(dir.path());
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        plan_text(&["https://mirror-fleet.example.com"], "latest"),
    )
    .unwrap();
    let mut inventory = String::new();
    for host in hosts {
        let ip = lab_ok(&["ip", host]).trim().to_string();
        inventory.push_str(&format!(
            "[[hosts]]\nname = \"{host}\"\naddress = \"root@{ip}\"\n\n"
        ));
    }
    let inventory_path = dir.path().join("inventory.toml");
    std::fs::write(&inventory_path, inventory).unwrap();
    let out = timed(&format!("fleet apply over ssh to {hosts:?}"), || {
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
    assert_eq!(json["hosts"].as_array().map(Vec::len), Some(hosts.len()));
    assert_eq!(json["summary"]["changed"], hosts.len(), "{text}");
    for host in hosts {
        assert_eq!(sh(host, "systemctl is-active docker"), "active", "{host}");
        assert_eq!(
            mirrors(host),
            "[\"https://mirror-fleet.example.com/\"]",
            "{host}"
        );
    }
    // The Debian host was reset to its old engine before the run: replaced in it.
    assert!(
        dpkg_state("deb12-1", "docker-ce").starts_with("install ok installed 5:26.1.4"),
        "{}",
        dpkg_state("deb12-1", "docker-ce")
    );
    assert!(
        sh("el9-1", "rpm -q docker-ce").starts_with("docker-ce-26.1.4"),
        "{text}"
    );
}

#[test]
fn lab_apt_hosts() {
    let _down = Down;
    timed("lab up 1 debian12 (build included when cold)", || {
        lab_ok(&["up", "1", "--variant", "debian12"])
    });
    timed("lab up 1 ubuntu2204", || {
        lab_ok(&["up", "1", "--variant", "ubuntu2204"])
    });
    assert!(
        sh("ubu22-1", "cat /etc/os-release").contains("UBUNTU_CODENAME=jammy"),
        "the Ubuntu host presents as Ubuntu 22.04"
    );

    docker_io_replaced("deb12-1", "bookworm", "debian");
    docker_io_replaced("ubu22-1", "jammy", "ubuntu");

    timed("lab up 1 rocky9", || {
        lab_ok(&["up", "1", "--variant", "rocky9"])
    });
    timed("lab reset deb12-1", || lab_ok(&["reset", "deb12-1"]));
    assert!(
        dpkg_state("deb12-1", "docker.io").starts_with("install ok installed"),
        "reset brings back the old engine"
    );
    // A fresh EL host, a Debian host with docker.io, a converged Ubuntu host.
    mixed_fleet(&["el9-1", "deb12-1", "ubu22-1"]);

    timed("lab down", || lab_ok(&["down"]));
    nothing_left("after down");
}
