//! The docker service done right, on the lab (lab/lab): conflicts with the unit are
//! refused before any change, mirrors reload without touching running containers, a
//! restart is announced, a breaking change is rolled back, proxy and docker-group users
//! converge. The lab is machine-wide: one test, in order, `lab down` at the end.

mod support;

use std::process::Command;

use support::lab::*;

/// A lab plan: the lab's vault and repo, the settings dockerd needs inside nspawn, and
/// `extra` TOML (more [daemon] keys first, then other sections).
fn lab_plan(daemon_extra: &str, sections: &str) -> String {
    format!(
        "{}\n[repo]\nsource = \"http://10.213.0.1:8080\"\n\n[daemon]\n{LAB_DAEMON}{daemon_extra}\n{sections}",
        lab_os_repos()
    )
}

/// A tiny image from Debian's static busybox, imported on the host (no registry).
fn run_container(host: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
        .expect("busybox-static (scripts/deps)");
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    let tar = dir.path().join("tiny.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(ok.success());
    lab_ok(&["copy", host, tar.to_str().unwrap(), "/root/tiny.tar"]);
    sh(host, "docker import /root/tiny.tar tiny:1 >/dev/null");
    sh(
        host,
        "docker run -d --name c1 --network none tiny:1 /bin/busybox sleep 100000 >/dev/null",
    );
    sh(host, "docker inspect -f '{{.State.StartedAt}}' c1")
}

fn main_pid(host: &str) -> String {
    sh(host, "systemctl show docker -p MainPID --value")
}

#[test]
fn lab_service_done_right() {
    let _down = Down;
    timed("lab up 1", || lab_ok(&["up", "1"]));
    let host = "el7-1";
    install_tool(host);
    let base = lab_plan(
        "registry-mirrors = [\"https://mirror-a.example.com\"]\n",
        "",
    );
    let run = timed("first apply", || apply_on(host, &base, &[]));
    assert_eq!(run.code, Some(0), "{}", run.text);

    // d. `hosts` against the unit's `-H fd://`: refused before any change, naming the line.
    let before = state_hash(host);
    let conflict = apply_on(
        host,
        &lab_plan("hosts = [\"unix:///var/run/docker.sock\"]\n", ""),
        &[],
    );
    assert_eq!(conflict.code, Some(1), "{}", conflict.text);
    let error = conflict.error.clone().unwrap_or_default();
    let line = sh(
        host,
        "grep -n '^ExecStart=' /usr/lib/systemd/system/docker.service | cut -d: -f1",
    );
    assert!(
        error.contains(&format!("/usr/lib/systemd/system/docker.service:{line}")),
        "{error}"
    );
    assert!(error.contains("-H fd://"), "{error}");
    assert_eq!(state_hash(host), before, "a refused plan changed nothing");

    // e. mirrors only: a reload; dockerd and the container keep running as they were.
    let started = timed("container from an imported image", || run_container(host));
    let pid = main_pid(host);
    let mirrors_b = lab_plan(
        "registry-mirrors = [\"https://mirror-b.example.com\"]\n",
        "",
    );
    let run = timed("mirror change with a container running", || {
        apply_on(host, &mirrors_b, &[])
    });
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(
        run.step("service").summary.contains("reload docker"),
        "{}",
        run.text
    );
    assert_eq!(main_pid(host), pid, "dockerd was not restarted");
    assert_eq!(
        sh(host, "docker inspect -f '{{.State.StartedAt}}' c1"),
        started,
        "the container kept running"
    );
    assert_eq!(mirrors(host), "[\"https://mirror-b.example.com/\"]");

    // e. a key a reload cannot apply: the dry-run says RESTART beforehand, apply does it.
    let log_level = lab_plan(
        "registry-mirrors = [\"https://mirror-b.example.com\"]\nlog-level = \"warn\"\n",
        "",
    );
    let dry = apply_on(host, &log_level, &["--dry-run"]);
    assert!(
        dry.text.contains("docker will be RESTARTED"),
        "{}",
        dry.text
    );
    assert!(dry.text.contains("1 running container(s)"), "{}", dry.text);
    let run = timed("restart for log-level", || apply_on(host, &log_level, &[]));
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(
        run.step("service").summary.contains("restart docker"),
        "{}",
        run.text
    );
    assert_ne!(main_pid(host), pid, "restarted");

    // f. valid JSON, known key, but dockerd cannot start with it: rolled back.
    let good = sh(host, "cat /etc/docker/daemon.json");
    let breaking = lab_plan(
        "registry-mirrors = [\"https://mirror-b.example.com\"]\nlog-level = \"warn\"\n",
        "",
    )
    .replace("storage-driver = \"vfs\"", "storage-driver = \"btrfs\"");
    let run = timed("breaking change rolled back", || {
        apply_on(host, &breaking, &[])
    });
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("rolled back"), "{error}");
    assert!(
        error.contains("journal"),
        "the reason from the journal: {error}"
    );
    assert_eq!(
        sh(host, "cat /etc/docker/daemon.json"),
        good,
        "the previous daemon.json is back"
    );
    assert_eq!(sh(host, "systemctl is-active docker"), "active");
    assert_eq!(sh(host, "docker info --format '{{.Driver}}'"), "vfs");

    // h. proxy drop-in and docker-group users converge, then stay converged.
    sh(host, "id alice >/dev/null 2>&1 || useradd -m alice");
    let proxied = lab_plan(
        "registry-mirrors = [\"https://mirror-b.example.com\"]\nlog-level = \"warn\"\n",
        "[engine]\nusers = [\"alice\"]\n\n[proxy]\nhttp_proxy = \"http://proxy.lab.invalid:3128\"\nno_proxy = \"localhost,127.0.0.1\"\n",
    );
    let run = timed("proxy and users", || apply_on(host, &proxied, &[]));
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(
        sh(host, "docker info --format '{{.HTTPProxy}}'"),
        "http://proxy.lab.invalid:3128"
    );
    assert!(
        sh(host, "id -nG alice")
            .split_whitespace()
            .any(|g| g == "docker")
    );
    assert!(run.text.contains("next login"), "{}", run.text);
    let again = apply_on(host, &proxied, &[]);
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert!(again.changing().is_empty(), "idempotent: {}", again.text);

    timed("lab down", || lab_ok(&["down"]));
    nothing_left("after down");
}
