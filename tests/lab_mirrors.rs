//! Registry mirrors on the lab (lab/lab): the real distribution registry runs on a
//! host's own loopback, where only that host can reach it. `mirrors --host` probes it
//! from there (curl over SSH) and finds it serving while the controller cannot reach
//! it; `verify_pull` pulls through it (the lab has no Docker Hub, so the image can only
//! have come from the mirror) and fails with docker's words when the plan names only
//! a dead mirror; a converged host costs one SSH command. The lab is machine-wide: one
//! test, `lab down` at the end.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use support::lab::*;
use support::{free_port, output_text};

/// The controller's binary over SSH to `host`, through an `ssh` on PATH that logs
/// every client invocation (each one is one command on the target; `-O` control
/// requests to the master are not).
fn over_ssh(dir: &Path, host_ip: &str, args: &[&str]) -> Output {
    let cache = std::env::var("LAB_CACHE").unwrap_or_else(|_| "/var/cache/rdock-lab".into());
    let config = dir.join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host 10.213.0.*\n  IdentityFile {cache}/id_ed25519\n  IdentitiesOnly yes\n  UserKnownHostsFile {cache}/known_hosts\n"
        ),
    )
    .unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Counts the ssh clients that connect: `ssh -O` (a master's control) and `ssh -G`
    // (what the config says; the built-in client asks it) make no connection.
    let shim = bin.join("ssh");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\ncase \" $* \" in *\" -O \"*|*\" -G \"*) ;; *) echo x >> {log} ;; esac\nexec /usr/bin/ssh \"$@\"\n",
            log = dir.join("ssh.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _ = std::fs::remove_file(dir.join("ssh.log"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let host = format!("root@{host_ip}");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--host", &host, "--ssh-config", config.to_str().unwrap()]);
    Command::new(env!("CARGO_BIN_EXE_rdock-setup"))
        .args(&full)
        .env("PATH", path)
        .output()
        .unwrap()
}

fn ssh_commands(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("ssh.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

/// Debian's docker-registry binary run on `host` by its systemd, on its 127.0.0.1:port.
fn registry_on(host: &str, port: u16) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/test-registry\n\
             http:\n  addr: 127.0.0.1:{port}\n"
        ),
    )
    .unwrap();
    lab_ok(&[
        "copy",
        host,
        "/usr/bin/docker-registry",
        "/usr/local/bin/docker-registry",
    ]);
    lab_ok(&["copy", host, config.to_str().unwrap(), "/root/registry.yml"]);
    sh(
        host,
        "systemd-run --unit=test-registry /usr/local/bin/docker-registry serve /root/registry.yml >/dev/null 2>&1 \
         && for i in $(seq 50); do curl -sf http://127.0.0.1:$(sed -n 's/.*addr: 127.0.0.1://p' /root/registry.yml)/v2/ >/dev/null && exit 0; sleep 0.2; done; exit 1",
    );
}

/// A busybox image pushed by the host's own engine as library/hello-world, then
/// removed locally, so that only the registry has it.
fn push_tiny(host: &str, port: u16) {
    busybox_tar_on(host, "/root/tiny.tar");
    let name = format!("127.0.0.1:{port}/library/hello-world:latest");
    sh(
        host,
        &format!(
            "docker import /root/tiny.tar {name} >/dev/null && docker push {name} >/dev/null \
             && docker rmi {name} >/dev/null"
        ),
    );
}

fn lab_plan(mirrors: &[String], extra: &str) -> String {
    let list: Vec<String> = mirrors.iter().map(|m| format!("{m:?}")).collect();
    format!(
        "{}\n[repo]\nsource = \"http://10.213.0.1:8080\"\n\n{extra}\n[daemon]\n{LAB_DAEMON}registry-mirrors = [{}]\n",
        lab_os_repos(),
        list.join(", ")
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}):\n{}", output_text(out)))
}

#[test]
fn lab_mirrors_serve_from_the_target() {
    let _down = Down;
    timed("lab up 1", || lab_ok(&["up", "1"]));
    let host = "el7-1";
    let ip = lab_ok(&["ip", host]).trim().to_string();
    install_tool(host);
    // A port free here, so the controller's own probe is refused for sure.
    let port = free_port();
    let mirror = format!("http://127.0.0.1:{port}");
    let dead = format!("http://127.0.0.1:{}", free_port());

    // The engine first (no mirror yet), then the registry and its image.
    let run = timed("apply: engine", || apply_on(host, &lab_plan(&[], ""), &[]));
    assert_eq!(run.code, Some(0), "{}", run.text);
    timed("registry on the host's loopback", || {
        registry_on(host, port)
    });
    timed("docker push to it", || push_tiny(host, port));

    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.toml");
    let write_plan = |text: &str| std::fs::write(&plan_path, text).unwrap();
    let plan = plan_path.to_str().unwrap();

    // d1. Only the target can reach it: ok over SSH (curl there), dead from here.
    write_plan(&lab_plan(std::slice::from_ref(&mirror), ""));
    let out = timed("mirrors --host", || {
        over_ssh(dir.path(), &ip, &["mirrors", plan, "--format", "json"])
    });
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(
        json(&out)["hosts"][0]["mirrors"][0]["status"],
        "ok",
        "{}",
        output_text(&out)
    );
    assert_eq!(ssh_commands(dir.path()), 1, "one SSH command for the probe");
    let here = Command::new(env!("CARGO_BIN_EXE_rdock-setup"))
        .args(["mirrors", plan, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(here.status.code(), Some(1), "{}", output_text(&here));
    assert_eq!(json(&here)["hosts"][0]["mirrors"][0]["reason"], "refused");

    // d3. verify_pull through the serving mirror, over SSH.
    write_plan(&lab_plan(
        std::slice::from_ref(&mirror),
        "[service]\nverify_pull = \"library/hello-world\"\n",
    ));
    let out = timed("apply --host with verify_pull", || {
        over_ssh(dir.path(), &ip, &["apply", plan, "--format", "json"])
    });
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let steps = json(&out)["hosts"][0]["steps"].clone();
    let pull = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "verify-pull")
        .unwrap_or_else(|| panic!("no verify-pull step:\n{text}"));
    assert_eq!(pull["status"], "unchanged", "{text}");
    let id = sh(host, "docker image inspect -f '{{.Id}}' hello-world");
    assert!(id.starts_with("sha256:"), "the image came through: {id}");

    // d2. Converged: one SSH command, no probe, no pull.
    let out = timed("apply --host converged", || {
        over_ssh(dir.path(), &ip, &["apply", plan, "--format", "json"])
    });
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(
        json(&out)["hosts"][0]["status"],
        "ok",
        "{}",
        output_text(&out)
    );
    assert_eq!(
        ssh_commands(dir.path()),
        1,
        "a converged host costs one SSH command"
    );

    // d3. Only a dead mirror: the probe warns, the pull fails with docker's words.
    sh(host, "docker rmi library/hello-world >/dev/null");
    write_plan(&lab_plan(
        std::slice::from_ref(&dead),
        "[service]\nverify_pull = \"library/hello-world\"\n",
    ));
    let out = timed("apply --host, dead mirror", || {
        over_ssh(dir.path(), &ip, &["apply", plan, "--format", "json"])
    });
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let report = json(&out);
    let error = report["hosts"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("docker pull library/hello-world failed"),
        "{text}"
    );
    assert!(
        error.contains("Error response from daemon") || error.contains("dial tcp"),
        "docker's own words: {text}"
    );
    assert!(
        text.contains(&format!(
            "WARNING: registry mirror {dead}: dead at GET /v2/: connection refused"
        )),
        "{text}"
    );
}
