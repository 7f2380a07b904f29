//! Issue 8, acceptance f, on the lab (lab/lab, lab/README.md): CentOS 7 and CentOS 8.5
//! hosts as they are in 2026. They carry the stock repo files of their release package
//! (`mirrorlist=http://mirrorlist.centos.org/…`, a host that no longer resolves; the lab
//! hosts have no resolver, so it fails the same way at once) and an old engine installed
//! from the vault by hand. `rdock-setup apply` with `[os_repos] source` = the lab's vault
//! takes them to a running docker-ce with Docker's full package set, and the docker CLI
//! then finds the compose and buildx plugins. A second run, from the controller over
//! SSH, finds them converged in ONE SSH command each.
//!
//! The lab's docker-ce, docker-ce-cli and containerd.io carry Debian's real dockerd,
//! docker 20.10 CLI and containerd; the one fake is CentOS 7's yum, a shim over the real
//! dnf (lab/README.md). Debian ships no compose v2 or buildx binary, so the plugin
//! packages' payloads are thin scripts speaking the docker CLI plugin protocol (answer
//! `docker-cli-plugin-metadata`, then run `docker-NAME NAME ARGS…`): what runs them is
//! the real CLI's plugin manager, which looks in /usr/libexec/docker/cli-plugins.
//!
//! The lab is machine-wide: one test, in order, `lab down` at the end whatever happens.

mod support;

use std::path::Path;
use std::process::Command;

use support::lab::*;
use support::output_text;
use support::run::assert_prediction_held;

/// What differs between the two end-of-life releases.
struct Eol {
    host: &'static str,
    /// /etc/centos-release, and its full release: the vault tree's top directory.
    centos_release: &'static str,
    release: &'static str,
    /// The stock repo files (tests/data/centos-repos/DIR) and where the vault serves
    /// each enabled section's packages once repaired (`{vault}/{release}/…`).
    stock_dir: &'static str,
    repaired: &'static [(&'static str, &'static str)],
    /// The old engine and where it comes from (a vault repo, with the distribution key).
    old_repo: &'static str,
    old: &'static [&'static str],
    gpgkey: &'static str,
    /// docker-ce's release on this EL.
    dist: &'static str,
}

const EL7: Eol = Eol {
    host: "el7-1",
    centos_release: "CentOS Linux release 7.9.2009 (Core)",
    release: "7.9.2009",
    stock_dir: "7",
    repaired: &[
        ("CentOS-Base.repo", "os/$basearch/"),
        ("CentOS-Base.repo", "updates/$basearch/"),
        ("CentOS-Base.repo", "extras/$basearch/"),
    ],
    old_repo: "extras/x86_64/",
    old: &["docker", "docker-common"],
    gpgkey: "/etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
    dist: "el7",
};

const EL8: Eol = Eol {
    host: "el8-1",
    centos_release: "CentOS Linux release 8.5.2111",
    release: "8.5.2111",
    stock_dir: "8",
    repaired: &[
        ("CentOS-Linux-BaseOS.repo", "BaseOS/$basearch/os/"),
        ("CentOS-Linux-AppStream.repo", "AppStream/$basearch/os/"),
        ("CentOS-Linux-Extras.repo", "extras/$basearch/os/"),
    ],
    // What a CentOS 8 host has instead of docker: podman and runc (AppStream).
    old_repo: "AppStream/x86_64/os/",
    old: &["podman", "runc"],
    gpgkey: "/etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial",
    dist: "el8",
};

fn stock_file(dir: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/centos-repos")
        .join(dir)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn plan() -> String {
    plan_text(&["https://mirror-eol.example.com"], "latest")
}

/// `rpm -q` of one package: its version-release, or None.
fn installed(host: &str, name: &str) -> Option<String> {
    let out = lab(&[
        "ssh",
        host,
        "rpm",
        "-q",
        "--qf",
        "%{VERSION}-%{RELEASE}",
        name,
    ]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn old_engine_to_docker_ce(eol: &Eol) {
    let host = eol.host;

    // The host as it is outside: the release package's stock repo files, the dead
    // mirrorlist, and yum/dnf failing on it.
    for (file, _) in eol.repaired {
        assert_eq!(
            sh(host, &format!("cat /etc/yum.repos.d/{file}")),
            stock_file(eol.stock_dir, file).trim_end(),
            "{host}: {file} is the stock file"
        );
    }
    assert_eq!(sh(host, "cat /etc/centos-release"), eol.centos_release);
    let dead = timed(&format!("{host} yum makecache on the stock repos"), || {
        lab(&["ssh", host, "sh", "-c", "yum -y makecache 2>&1"])
    });
    assert!(!dead.status.success(), "{}", output_text(&dead));
    assert!(
        output_text(&dead).contains("mirrorlist.centos.org"),
        "{}",
        output_text(&dead)
    );

    // The old engine, installed by hand from the vault (not through the tool).
    timed(&format!("{host} old engine from the vault"), || {
        install_from(
            host,
            &format!("{LAB_VAULT}/{}/{}", eol.release, eol.old_repo),
            eol.gpgkey,
            eol.old,
        )
    });
    for name in eol.old {
        assert!(installed(host, name).is_some(), "{host}: {name} installed");
    }
    let others = sh(
        host,
        "cd /etc/yum.repos.d && for f in *.repo; do echo \"$f $(sha256sum < $f)\"; done",
    );

    install_tool(host);
    let before = state_hash(host);
    let dry = timed(&format!("{host} dry-run"), || {
        apply_on(host, &plan(), &["--dry-run"])
    });
    assert_eq!(dry.code, Some(0), "{}", dry.text);
    assert_eq!(
        state_hash(host),
        before,
        "{host}: the dry-run changed /etc or the rpm database"
    );
    assert_eq!(dry.step("os-repos").status, "would_change", "{}", dry.text);
    let diff = dry.step("os-repos").diff.clone().unwrap_or_default();
    assert!(
        diff.contains("-mirrorlist=http://mirrorlist.centos.org/"),
        "{diff}"
    );

    let real = timed(&format!("{host} apply: old engine to docker-ce"), || {
        apply_on(host, &plan(), &[])
    });
    assert_eq!(real.code, Some(0), "{}", real.text);
    assert_prediction_held(&dry, &real);

    // The repos: the enabled sections now point at the vault, no live mirrorlist;
    // every other repo file is byte-identical.
    for (file, path) in eol.repaired {
        let text = sh(host, &format!("cat /etc/yum.repos.d/{file}"));
        let want = format!("baseurl={LAB_VAULT}/{}/{path}", eol.release);
        assert!(
            text.lines().any(|l| l.trim() == want),
            "{host}: {file} has no `{want}`:\n{text}"
        );
        for (i, section) in text.split("\n[").enumerate().skip(1) {
            let enabled = !section.lines().any(|l| l.replace(' ', "") == "enabled=0");
            assert!(
                !enabled || !section.lines().any(|l| l.starts_with("mirrorlist=")),
                "{host}: {file} section {i} still has a live mirrorlist:\n{text}"
            );
        }
    }
    let repaired: Vec<&str> = eol.repaired.iter().map(|(f, _)| *f).collect();
    let after = sh(
        host,
        "cd /etc/yum.repos.d && for f in *.repo; do echo \"$f $(sha256sum < $f)\"; done",
    );
    for line in others.lines() {
        let file = line.split_whitespace().next().unwrap_or_default();
        if !repaired.contains(&file) && file != "docker-ce.repo" {
            assert!(after.contains(line), "{host}: {file} was touched:\n{after}");
        }
    }
    // The repaired repos work for the operator too, signatures checked.
    let works = timed(
        &format!("{host} yum makecache on the repaired repos"),
        || lab(&["ssh", host, "sh", "-c", "yum -y makecache 2>&1"]),
    );
    assert!(works.status.success(), "{}", output_text(&works));

    // The old engine is gone; Docker's full package set is there, plugins at the newest.
    for name in eol.old {
        assert_eq!(installed(host, name), None, "{host}: {name} removed");
    }
    let dist = eol.dist;
    for (name, want) in [
        ("docker-ce", "26.1.4-"),
        ("docker-ce-cli", "26.1.4-"),
        ("docker-ce-rootless-extras", "26.1.4-"),
        ("containerd.io", "1.6.33-"),
        ("container-selinux", ""),
        ("docker-buildx-plugin", "0.14.1-"),
        ("docker-compose-plugin", "2.27.1-"),
    ] {
        let got = installed(host, name).unwrap_or_else(|| panic!("{host}: {name} not installed"));
        assert!(got.starts_with(want), "{host}: {name} {got}");
        if name.starts_with("docker") {
            assert!(
                got.ends_with(dist),
                "{host}: {name} {got} is not an {dist} build"
            );
        }
    }
    assert_eq!(sh(host, "systemctl is-active docker"), "active");
    assert_eq!(
        sh(host, "docker version --format '{{.Server.Version}}'"),
        "26.1.4"
    );
    assert_eq!(mirrors(host), "[\"https://mirror-eol.example.com/\"]");

    // The plugins answer through the real docker CLI (Debian's 20.10, whose plugin
    // manager searches /usr/libexec/docker/cli-plugins, where the packages put them).
    let compose = sh(host, "docker compose version");
    assert_eq!(compose, "Docker Compose version v2.27.1");
    let buildx = sh(host, "docker buildx version");
    assert!(
        buildx.contains("github.com/docker/buildx v0.14.1"),
        "{buildx}"
    );
    // The CLI lists them as plugins it found and validated (metadata answered).
    let info = sh(host, "docker info --format '{{json .ClientInfo.Plugins}}'");
    for want in [
        "\"Name\":\"compose\"",
        "\"Name\":\"buildx\"",
        "\"Path\":\"/usr/libexec/docker/cli-plugins/docker-compose\"",
        "\"Version\":\"v2.27.1\"",
    ] {
        assert!(info.contains(want), "{host}: no {want} in {info}");
    }
}

/// A key whose authorized_keys entry runs every command through a logger (the lab's
/// version of tests/support/sshd.rs's logging ForceCommand), so that the commands the
/// tool sends are counted on the host's side; `lab ssh` uses the lab key, not logged.
const COUNTER: &str = "/usr/local/libexec/rdlab-count-ssh";
const COUNTED: &str = "/var/tmp/rdlab-ssh-commands";

fn count_commands_of(host: &str, pubkey: &str) {
    sh(
        host,
        &format!(
            "mkdir -p /usr/local/libexec && cat > {COUNTER} <<'EOF'\n#!/bin/sh\n\
             # rdock-setup lab test: log the command, then run it as sshd would have.\n\
             mkdir -p {COUNTED}\nprintf '%s' \"$SSH_ORIGINAL_COMMAND\" > {COUNTED}/$(date +%s%N)-$$\n\
             exec \"$SHELL\" -c \"$SSH_ORIGINAL_COMMAND\"\nEOF\nchmod 0755 {COUNTER} && \
             echo 'command=\"{COUNTER}\" {pubkey}' >> /root/.ssh/authorized_keys"
        ),
    );
}

fn counted_commands(host: &str) -> Vec<String> {
    let out = sh(
        host,
        &format!(
            "for f in $(ls {COUNTED} 2>/dev/null); do cat {COUNTED}/$f; echo; echo '--rdlab--'; done"
        ),
    );
    out.split("\n--rdlab--")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

fn second_run_over_ssh(hosts: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("count_key");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rdlab-count", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(ok.success());
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let cache = std::env::var("LAB_CACHE").unwrap_or_else(|_| "/var/cache/rdock-lab".into());
    let config = dir.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host 10.213.0.*\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {cache}/known_hosts\n",
            key.display()
        ),
    )
    .unwrap();
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, plan()).unwrap();
    let mut inventory = String::new();
    for host in hosts {
        count_commands_of(host, pubkey.trim());
        let ip = lab_ok(&["ip", host]).trim().to_string();
        inventory.push_str(&format!(
            "[[hosts]]\nname = \"{host}\"\naddress = \"root@{ip}\"\n\n"
        ));
    }
    let inventory_path = dir.path().join("inventory.toml");
    std::fs::write(&inventory_path, inventory).unwrap();
    let identities: Vec<String> = hosts.iter().map(|h| service_identity(h)).collect();

    let what = format!(
        "second run over ssh from the controller ({} hosts)",
        hosts.len()
    );
    let out = timed(&what, || {
        Command::new(env!("CARGO_BIN_EXE_rdock-setup"))
            .args(["apply", plan_path.to_str().unwrap()])
            .args(["--inventory", inventory_path.to_str().unwrap()])
            .args(["--ssh-config", config.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap()
    });
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["ok"], hosts.len(), "{text}");
    for (host, identity) in hosts.iter().zip(&identities) {
        let commands = counted_commands(host);
        assert_eq!(commands.len(), 1, "{host} ran {commands:?}");
        assert_eq!(
            &service_identity(host),
            identity,
            "{host}: docker was restarted"
        );
    }
}

#[test]
fn lab_eol_centos_hosts_to_docker_ce() {
    let _down = Down;
    timed("lab up 1 centos7 (build included when cold)", || {
        lab_ok(&["up", "1"])
    });
    timed("lab up 1 centos8", || {
        lab_ok(&["up", "1", "--variant", "centos8"])
    });

    old_engine_to_docker_ce(&EL7);
    old_engine_to_docker_ce(&EL8);
    second_run_over_ssh(&[EL7.host, EL8.host]);

    timed("lab down", || lab_ok(&["down"]));
    nothing_left("after down");
}
