//! `status` on the lab (lab/lab): a booted host with a real dockerd, reached over SSH
//! from this machine's binary. Converged: exit 0. daemon.json edited by hand: exit 2,
//! naming the key. dockerd running settings its file does not hold: exit 2, saying so.
//! Then the rpm from scripts/dist is installed there with rpm (dependencies checked
//! against the host's EL7 glibc stand-in) and its portable binary runs status.
//! The lab is machine-wide: one test, in order, `lab down` at the end.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::dist::{VERSION, el7_glibc_standin, rpm_file};
use support::lab::*;
use support::output_text;
use support::schema::assert_valid_report;

struct Fleet {
    _dir: tempfile::TempDir,
    plan: PathBuf,
    config: PathBuf,
    address: String,
}

/// The lab's key and known_hosts in an ssh_config, the plan in a file.
fn over_ssh(host: &str, plan: &str) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let config = ssh_config(dir.path());
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, plan).unwrap();
    Fleet {
        address: format!("root@{}", lab_ok(&["ip", host]).trim()),
        _dir: dir,
        plan: plan_path,
        config,
    }
}

/// `status PLAN --host ADDRESS --format json` from this machine: exit code and report.
fn status(fleet: &Fleet) -> (Option<i32>, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rdock-setup"))
        .args([
            "status",
            fleet.plan.to_str().unwrap(),
            "--host",
            &fleet.address,
        ])
        .args([
            "--ssh-config",
            fleet.config.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let text = output_text(&out);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_valid_report(&json);
    (out.status.code(), json, text)
}

fn step<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["hosts"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {json:#}"))
}

#[test]
fn lab_status_reports_drift() {
    let _down = Down;
    timed("lab up 1", || lab_ok(&["up", "1"]));
    let host = "el7-1";
    install_tool(host);
    let plan = plan_text(&["https://mirror-a.example.com"], "latest");
    let run = timed("apply", || apply_on(host, &plan, &[]));
    assert_eq!(run.code, Some(0), "{}", run.text);
    let fleet = over_ssh(host, &plan);

    // Converged: exit 0; docker runs what its file says.
    let (code, json, text) = timed("status, converged", || status(&fleet));
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["hosts"][0]["status"], "ok", "{text}");
    assert_eq!(step(&json, "running")["status"], "unchanged", "{text}");

    // On the host itself too (the same binary, the local target).
    let local = lab(&[
        "ssh",
        host,
        "/root/rdock-setup",
        "status",
        "/root/plan.toml",
    ]);
    assert_eq!(local.status.code(), Some(0), "{}", output_text(&local));
    assert!(String::from_utf8_lossy(&local.stdout).starts_with("localhost: converged"));

    // daemon.json edited by hand, docker not restarted: the step and the key are named,
    // and the running daemon no longer matches its file either.
    sh(
        host,
        "sed -i 's/mirror-a.example.com/mirror-b.example.com/' /etc/docker/daemon.json",
    );
    let (code, json, text) = timed("status, file edited", || status(&fleet));
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(json["hosts"][0]["status"], "drifted", "{text}");
    let daemon = step(&json, "daemon-json");
    assert_eq!(daemon["status"], "would_change", "{text}");
    assert!(
        daemon["summary"]
            .as_str()
            .unwrap()
            .contains("registry-mirrors"),
        "{text}"
    );
    assert_eq!(step(&json, "running")["status"], "drifted", "{text}");

    // dockerd runs settings its file does not hold: restart with mirror-b, then put
    // the plan's file back without telling docker.
    sh(host, "systemctl restart docker");
    sh(
        host,
        "sed -i 's/mirror-b.example.com/mirror-a.example.com/' /etc/docker/daemon.json",
    );
    assert!(mirrors(host).contains("mirror-b"), "{}", mirrors(host));
    let (code, json, text) = timed("status, dockerd differs from its file", || status(&fleet));
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(step(&json, "daemon-json")["status"], "unchanged", "{text}");
    let running = step(&json, "running");
    assert_eq!(running["status"], "drifted", "{text}");
    let summary = running["summary"].as_str().unwrap();
    assert!(
        summary.contains("docker runs settings that differ from /etc/docker/daemon.json")
            && summary.contains("registry-mirrors")
            && summary.contains("mirror-b"),
        "{summary}"
    );
    let human = lab(&[
        "ssh",
        host,
        "/root/rdock-setup",
        "status",
        "/root/plan.toml",
    ]);
    assert_eq!(human.status.code(), Some(2), "{}", output_text(&human));
    let line = String::from_utf8_lossy(&human.stdout);
    // The service step owes the reload that applies the file, and says so beside it.
    assert!(
        line.starts_with("localhost: drift: service: reload docker")
            && line.contains("running: docker runs settings that differ"),
        "{line}"
    );

    // The package: rpm -i with its dependencies checked, then the installed binary.
    let dir = tempfile::tempdir().unwrap();
    let glibc = el7_glibc_standin(dir.path());
    lab_ok(&["copy", host, glibc.to_str().unwrap(), "/root/glibc.rpm"]);
    lab_ok(&[
        "copy",
        host,
        rpm_file().to_str().unwrap(),
        "/root/rdock-setup.rpm",
    ]);
    sh(
        host,
        "rpm -i /root/glibc.rpm && rpm -i /root/rdock-setup.rpm",
    );
    assert_eq!(
        sh(host, "rpm -q --qf '%{NAME} %{VERSION}' rdock-setup"),
        format!("rdock-setup {VERSION}")
    );
    sh(host, "systemctl restart docker");
    let packaged = lab(&[
        "ssh",
        host,
        "/usr/bin/rdock-setup",
        "status",
        "/root/plan.toml",
    ]);
    assert_eq!(
        packaged.status.code(),
        Some(0),
        "{}",
        output_text(&packaged)
    );
    assert_eq!(
        String::from_utf8_lossy(&packaged.stdout).lines().next(),
        Some("localhost: converged")
    );
    assert!(
        sh(host, "man -w rdock-setup-status 2>/dev/null || ls /usr/share/man/man1/rdock-setup-status.1.gz")
            .ends_with("rdock-setup-status.1.gz")
    );
}
