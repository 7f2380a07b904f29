//! Exercises only the test helpers in tests/support (not the tool): the fixture
//! repo builds and is served, sandboxes install through real dnf, rpm queries
//! work, and tree digests are stable across no-ops.

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use support::{Sandbox, dead_url, digest_diff, http_get, output_text, repo, shim_dir, tree_digest};

const VERSIONS: [&str; 5] = ["18.09.9", "19.03.15", "20.10.24", "24.0.7", "26.1.4"];

#[test]
fn repo_is_built_and_served() {
    let r = repo();
    let scope = r.scope();
    let path = "/linux/centos/7/x86_64/stable/repodata/repomd.xml";
    let (status, body) = http_get(&format!("{}{path}", scope.base_url)).unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, std::fs::read(r.dir.join(&path[1..])).unwrap());
    assert!(String::from_utf8_lossy(&body).contains("primary"));

    let (status, _) = http_get(&format!(
        "{}/linux/centos/7/x86_64/stable/nope.xml",
        scope.base_url
    ))
    .unwrap();
    assert_eq!(status, 404);
    let (status, _) = http_get(&format!(
        "{}/linux/centos/../../../etc/passwd",
        scope.base_url
    ))
    .unwrap();
    assert_eq!(status, 404);
    let (status, _) = http_get(&format!("{}/linux/centos/7", scope.base_url)).unwrap();
    assert_eq!(status, 404, "directories are not served");

    let (status, key) = http_get(&r.gpg_url()).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&key).starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));

    // the tilde in the rc's file name, raw and percent-encoded
    for name in [
        "docker-ce-27.0.0~rc.1-1.el9.x86_64.rpm",
        "docker-ce-27.0.0%7Erc.1-1.el9.x86_64.rpm",
    ] {
        let (status, _) = http_get(&format!(
            "{}/linux/centos/9/x86_64/test/Packages/{name}",
            scope.base_url
        ))
        .unwrap();
        assert_eq!(status, 200, "{name}");
    }

    let seen = scope.requests();
    assert_eq!(seen[0], path);
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(r.requests().iter().any(|p| p.ends_with(path)));

    for f in [
        "linux/centos/docker-ce.repo",
        "linux/centos/7/x86_64/test/repodata/repomd.xml",
        "linux/centos/9/x86_64/stable/repodata/repomd.xml",
        "linux/centos/9/x86_64/test/repodata/repomd.xml",
        "base/7/x86_64/repodata/repomd.xml",
        "base/9/x86_64/repodata/repomd.xml",
    ] {
        assert!(r.dir.join(f).is_file(), "{f}");
    }
}

#[test]
fn dead_url_refuses_connections() {
    let url = dead_url();
    assert!(http_get(&format!("{url}/x")).is_err());
}

/// Lists a repo's versions the way TESTBED says a tool can without touching a
/// target: dnf without --installroot, every state dir in a temp dir.
fn list_versions(el: u32, channel: &str) -> (Vec<String>, std::time::Duration) {
    let t = tempfile::tempdir().unwrap();
    let repos = t.path().join("repos");
    std::fs::create_dir_all(&repos).unwrap();
    std::fs::write(
        repos.join("docker-ce.repo"),
        support::docker_repo_file(&repo().base_url, channel),
    )
    .unwrap();
    let d = t.path().display();
    let started = Instant::now();
    let out = Command::new(shim_dir().join("dnf"))
        .args([
            &format!("--releasever={el}"),
            &format!("--setopt=reposdir={d}/repos"),
            &format!("--setopt=cachedir={d}/cache"),
            &format!("--setopt=logdir={d}/log"),
            &format!("--setopt=persistdir={d}/persist"),
            "--setopt=skip_if_unavailable=False",
            "-q",
            "list",
            "--available",
            "--showduplicates",
            "docker-ce",
        ])
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", output_text(&out));
    let versions = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("docker-ce.x86_64"))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    (versions, elapsed)
}

#[test]
fn dnf_lists_all_versions_of_each_channel() {
    let (v7, took) = list_versions(7, "stable");
    eprintln!("served listing (el7 stable) took {took:?}");
    let want: Vec<String> = VERSIONS.iter().map(|v| format!("3:{v}-3.el7")).collect();
    assert_eq!(v7, want);

    let (v9test, _) = list_versions(9, "test");
    let mut want: Vec<String> = VERSIONS.iter().map(|v| format!("3:{v}-1.el9")).collect();
    want.push("3:27.0.0~rc.1-1.el9".to_string());
    assert_eq!(v9test, want);
}

#[test]
fn sandbox_centos7_installs_old_docker() {
    let sb = Sandbox::centos7();
    assert!(sb.rpm_query().is_empty());
    assert_eq!(sb.rpm_dbpath(), None);
    assert_eq!(
        sb.read_string("etc/os-release")
            .unwrap()
            .lines()
            .find(|l| l.starts_with("VERSION_ID=")),
        Some("VERSION_ID=\"7\"")
    );
    assert_eq!(
        sb.read_string("etc/redhat-release").unwrap(),
        "CentOS Linux release 7.9.2009 (Core)\n"
    );

    let started = Instant::now();
    sb.install(&["docker", "docker-common"]);
    eprintln!(
        "centos7 install docker docker-common took {:?}",
        started.elapsed()
    );

    assert_eq!(sb.rpm_dbpath(), Some("/root/.rpmdb"));
    let q = sb.rpm_query();
    assert_eq!(q["docker"], "2:1.13.1-210.git7d71120.el7.centos");
    assert_eq!(q["docker-common"], "2:1.13.1-210.git7d71120.el7.centos");
    assert_eq!(
        q["docker-client"], "2:1.13.1-210.git7d71120.el7.centos",
        "docker requires docker-client"
    );
    assert_eq!(q.len(), 3, "{q:?}");
    assert_eq!(sb.gpg_keys().len(), 1, "dnf imported the repo key");
    assert_eq!(sb.read("etc/docker/daemon.json").unwrap(), b"{}\n");
    assert!(sb.path("usr/bin/dockerd-current").is_file());
}

#[test]
fn fixture_behaves_like_real_centos() {
    let sb = Sandbox::centos7();
    sb.install(&["docker"]);
    sb.write(
        "etc/docker/daemon.json",
        "{\"registry-mirrors\": [\"https://m.example\"]}\n",
    );
    sb.add_docker_repo(&repo().base_url);

    // docker-ce conflicts with the old docker: no silent replacement
    let out = sb.dnf_output(&[
        "install",
        "docker-ce-3:24.0.7-3.el7",
        "docker-ce-cli-1:24.0.7-3.el7",
        "containerd.io",
    ]);
    assert!(!out.status.success(), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("conflicts"),
        "{}",
        output_text(&out)
    );

    // removing the modified %config(noreplace) leaves .rpmsave
    sb.remove(&["docker", "docker-common", "docker-client"]);
    assert!(sb.rpm_query().is_empty());
    assert_eq!(
        sb.read_string("etc/docker/daemon.json.rpmsave").unwrap(),
        "{\"registry-mirrors\": [\"https://m.example\"]}\n"
    );
    assert!(!sb.exists("etc/docker/daemon.json"));

    sb.install(&[
        "docker-ce-3:24.0.7-3.el7",
        "docker-ce-cli-1:24.0.7-3.el7",
        "containerd.io",
    ]);
    let q = sb.rpm_query();
    assert_eq!(q["docker-ce"], "3:24.0.7-3.el7");
    assert_eq!(q["docker-ce-cli"], "1:24.0.7-3.el7");
    assert_eq!(q["containerd.io"], "0:1.6.33-3.1.el7");
    let unit = sb
        .read_string("usr/lib/systemd/system/docker.service")
        .unwrap();
    assert!(unit.contains(
        "ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"
    ));
    assert!(sb.path("usr/lib/systemd/system/docker.socket").is_file());
    assert!(
        sb.path("usr/lib/systemd/system/containerd.service")
            .is_file()
    );
    assert!(
        !sb.exists("etc/systemd/system/multi-user.target.wants/docker.service"),
        "installs disabled"
    );
    let v = Command::new("sh")
        .arg(sb.path("usr/bin/docker"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout),
        "Docker version 24.0.7, build test\n"
    );
}

#[test]
fn sandbox_rocky9_and_obsoletes_runc() {
    let sb = Sandbox::rocky9();
    assert!(
        sb.read_string("etc/os-release")
            .unwrap()
            .contains("VERSION_ID=\"9.3\"")
    );
    sb.install(&["podman", "buildah", "runc"]);
    let q = sb.rpm_query();
    assert_eq!(q["runc"], "4:1.1.9-1.el9");
    assert_eq!(q["podman"], "2:4.6.1-5.el9");
    sb.add_docker_repo(&repo().base_url);
    sb.install(&["docker-ce", "docker-ce-cli", "containerd.io"]);
    let q = sb.rpm_query();
    assert_eq!(q["docker-ce"], "3:26.1.4-1.el9", "newest stable");
    assert!(
        !q.contains_key("runc"),
        "containerd.io obsoletes runc: {q:?}"
    );
}

#[test]
fn yum_shim_accepts_makecache_fast() {
    let sb = Sandbox::centos7();
    let out = Command::new(shim_dir().join("yum"))
        .arg(format!("--installroot={}", sb.root.display()))
        .args([
            "--releasever=7",
            "--setopt=skip_if_unavailable=False",
            "-q",
            "makecache",
            "fast",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn dead_repo_makes_dnf_fail() {
    let sb = Sandbox::centos7();
    sb.write(
        "etc/yum.repos.d/base.repo",
        format!(
            "[base]\nname=dead\nbaseurl={}/base/7/x86_64/\ngpgcheck=0\n",
            dead_url()
        ),
    );
    let out = sb.dnf_output(&["install", "lvm2"]);
    assert!(!out.status.success(), "{}", output_text(&out));
}

#[test]
fn tree_digest_is_stable_across_a_noop() {
    let sb = Sandbox::centos7();
    sb.install(&["docker"]);
    sb.rpm_query(); // warm-up: the first query after an install may rewrite the sqlite -shm once
    let before = tree_digest(&sb.root);
    assert!(before.keys().any(|p| p.ends_with("etc/docker/daemon.json")));
    assert!(
        before.contains_key(std::path::Path::new("")),
        "the root itself"
    );
    let _ = sb.rpm_query();
    let _ = sb.read("etc/docker/daemon.json");
    let after = sb.digest();
    assert_eq!(digest_diff(&before, &after), Vec::<String>::new());

    // and it does see changes: contents, mode, new files, symlink targets
    sb.write("etc/docker/daemon.json", "{} ");
    let changed = sb.digest();
    let diff: BTreeSet<_> = digest_diff(&after, &changed).into_iter().collect();
    assert!(
        diff.iter()
            .any(|l| l.starts_with("~ etc/docker/daemon.json ")),
        "{diff:?}"
    );
    std::fs::remove_file(sb.path("etc/os-release")).unwrap();
    sb.symlink("etc/os-release", "/usr/lib/os-release");
    let relinked = sb.digest();
    assert!(
        digest_diff(&changed, &relinked)
            .iter()
            .any(|l| l.starts_with("~ etc/os-release ")),
        "symlink target change"
    );
}

/// The schema check bites: a report with an unknown status or a missing error fails.
#[test]
fn the_report_schema_rejects_what_the_tool_never_prints() {
    let good = serde_json::json!({
        "dry_run": false,
        "hosts": [{"name": "h", "status": "ok", "steps": [
            {"id": "preflight", "status": "unchanged", "summary": "CentOS 7"}]}],
        "summary": {"ok": 1, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0, "drifted": 0}
    });
    support::schema::assert_valid_report(&good);
    let mut bad_status = good.clone();
    bad_status["hosts"][0]["status"] = "fine".into();
    let mut failed_without_error = good.clone();
    failed_without_error["hosts"][0]["status"] = "failed".into();
    let mut unknown_key = good.clone();
    unknown_key["hosts"][0]["steps"][0]["colour"] = "green".into();
    for bad in [bad_status, failed_without_error, unknown_key] {
        let caught = std::panic::catch_unwind(|| support::schema::assert_valid_report(&bad));
        assert!(caught.is_err(), "the schema accepted {bad:#}");
    }
}
