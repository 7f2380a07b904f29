//! The core scenario, run once per distro family: a root holding the old docker
//! packages and an operator's daemon.json goes to Docker CE, exactly as dry-run said,
//! and a second run changes nothing.

use super::run::{apply, assert_prediction_held, plan_file};
use super::{Sandbox, digest_diff, repo};

pub struct Expect {
    pub old_packages: &'static [&'static str],
    pub engine: &'static str,
    pub cli: &'static str,
    pub refresh: &'static str,
}

const OPERATOR_DAEMON_JSON: &str = "{\n    \"log-driver\": \"json-file\",\n    \"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\"}\n}\n";

pub fn old_install_to_docker_ce(sandbox: Sandbox, expect: Expect) {
    let scope = repo().scope();
    sandbox.install(expect.old_packages);
    sandbox.write("etc/docker/daemon.json", OPERATOR_DAEMON_JSON);
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"19.03\"\n\n[daemon]\n\
         registry-mirrors = [\"https://mirror.example.com\"]\n",
        scope.base_url
    ));

    // Dry-run: changes pending (exit 2), nothing touched.
    let _ = sandbox.rpm_query(); // rpm's one-time sqlite -shm rewrite, before the digest
    let before = sandbox.digest();
    let dry = apply(&sandbox, &plan.path, &["--dry-run", "--detailed-exitcode"]);
    assert_eq!(dry.code, Some(2), "{}", dry.text);
    let after = sandbox.digest();
    assert!(
        before == after,
        "dry-run changed the root:\n{}",
        digest_diff(&before, &after).join("\n")
    );
    assert!(
        dry.step("engine")
            .summary
            .contains(&format!("docker-ce {}", expect.engine)),
        "dry-run predicts the resolved version before the repo exists:\n{}",
        dry.text
    );

    // Apply: exactly the predicted changes.
    let real = apply(&sandbox, &plan.path, &[]);
    assert_eq!(real.code, Some(0), "{}", real.text);
    assert_eq!(real.host_status, "changed");
    assert_prediction_held(&dry, &real);
    assert!(
        real.step("metadata").summary.contains(expect.refresh),
        "{}",
        real.text
    );

    let installed = sandbox.rpm_query();
    for old in expect.old_packages {
        assert!(
            !installed.contains_key(*old),
            "{old} still installed: {installed:?}"
        );
    }
    assert_eq!(
        installed.get("docker-ce").map(String::as_str),
        Some(expect.engine)
    );
    assert_eq!(
        installed.get("docker-ce-cli").map(String::as_str),
        Some(expect.cli)
    );
    assert!(installed.contains_key("containerd.io"), "{installed:?}");

    let repo_file = sandbox
        .read_string("etc/yum.repos.d/docker-ce.repo")
        .expect("repo file");
    assert!(
        repo_file.contains(&format!("baseurl={}/linux/centos/", scope.base_url)),
        "{repo_file}"
    );
    assert!(
        repo_file.contains(&format!("gpgkey={}/linux/centos/gpg", scope.base_url)),
        "{repo_file}"
    );

    let daemon: serde_json::Value =
        serde_json::from_slice(&sandbox.read("etc/docker/daemon.json").expect("daemon.json"))
            .unwrap();
    let keys: Vec<&String> = daemon.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["log-driver", "log-opts", "registry-mirrors"],
        "old keys keep their place"
    );
    assert_eq!(daemon["log-driver"], "json-file");
    assert_eq!(
        daemon["log-opts"],
        serde_json::json!({"max-size": "10m", "max-file": "3"})
    );
    assert_eq!(
        daemon["registry-mirrors"],
        serde_json::json!(["https://mirror.example.com"])
    );
    let backups: Vec<String> = std::fs::read_dir(sandbox.path("etc/docker"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("daemon.json.rdock-setup-") && name.ends_with(".bak"))
        .collect();
    assert_eq!(
        backups.len(),
        1,
        "one backup of the operator's file: {backups:?}"
    );
    assert_eq!(
        sandbox.read(format!("etc/docker/{}", backups[0])).unwrap(),
        OPERATOR_DAEMON_JSON.as_bytes()
    );
    assert!(
        std::fs::read_link(
            sandbox.path("etc/systemd/system/multi-user.target.wants/docker.service")
        )
        .is_ok(),
        "docker enabled offline"
    );

    // Second apply: every step unchanged, no package operation or metadata refresh
    // (the whole tree, rpmdb and dnf cache included, is as it was), no repo request.
    let _ = sandbox.rpm_query();
    let before = sandbox.digest();
    let asked_before = scope.requests().len();
    let again = apply(&sandbox, &plan.path, &[]);
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert_eq!(again.host_status, "ok", "{}", again.text);
    assert!(
        again.changing().is_empty(),
        "second run changed:\n{}",
        again.text
    );
    let after = sandbox.digest();
    assert!(
        before == after,
        "second apply touched the root:\n{}",
        digest_diff(&before, &after).join("\n")
    );
    let asked = scope.requests()[asked_before..].to_vec();
    assert!(asked.is_empty(), "converged host asked the repo: {asked:?}");

    let dry = apply(&sandbox, &plan.path, &["--dry-run", "--detailed-exitcode"]);
    assert_eq!(
        dry.code,
        Some(0),
        "converged dry-run exits 0:\n{}",
        dry.text
    );
}
