//! CentOS 7 in 2026: the stock repo files point at mirrorlist.centos.org, which no
//! longer resolves, and docker-ce needs container-selinux, fuse-overlayfs and
//! slirp4netns from extras. A run either repairs the repos from a vault and installs
//! Docker's whole package set in one transaction, or stops before any change.
//!
//! rpm, dnf, the signed repos and the vault trees are real; yum is the test-only shim
//! over dnf (tests/support `shim_dir`). No host name resolves in these runs
//! (tests/support/eol.rs `without_dns`), as for the dead CentOS hosts outside.

mod support;

use support::eol::{apply_without_dns, stock_centos7_with_old_docker, stock_repo_files};
use support::run::{Run, assert_prediction_held, plan_file};
use support::{Sandbox, digest_diff, repo};

const OLD: &[&str] = &["docker", "docker-common", "docker-client"];

fn plan(docker_repo: &str, os_repos: Option<&str>, engine: &str) -> support::run::PlanFile {
    let os_repos = os_repos
        .map(|s| format!("[os_repos]\nsource = \"{s}\"\n\n"))
        .unwrap_or_default();
    plan_file(&format!(
        "{os_repos}[repo]\nsource = \"{docker_repo}\"\n\n[engine]\n{engine}\n"
    ))
}

/// A run that must stop before any change: exit 1, the root byte-identical, the old
/// docker still there, and the message containing every one of `words`.
fn refused_untouched(sandbox: &Sandbox, plan: &std::path::Path, words: &[&str]) -> Run {
    let _ = sandbox.rpm_query(); // rpm's one-time sqlite -shm rewrite, before the digest
    let before = sandbox.digest();
    let mut last = None;
    for extra in [&["--dry-run", "--detailed-exitcode"][..], &[]] {
        let run = apply_without_dns(sandbox, plan, extra);
        assert_eq!(run.code, Some(1), "{extra:?} must fail:\n{}", run.text);
        assert!(
            !run.steps.iter().any(|s| s.status == "would_change"),
            "a run that cannot succeed must not say would_change:\n{}",
            run.text
        );
        let error = run.error.clone().unwrap_or_default();
        for word in words {
            assert!(error.contains(word), "{extra:?}: no {word:?} in:\n{error}");
        }
        last = Some(run);
    }
    let after = sandbox.digest();
    assert!(
        before == after,
        "a refused run changed the root:\n{}",
        digest_diff(&before, &after).join("\n")
    );
    let installed = sandbox.rpm_query();
    for old in OLD {
        assert!(
            installed.contains_key(*old),
            "{old} was removed: {installed:?}"
        );
    }
    last.unwrap()
}

#[test]
fn dead_mirrorlist_kept_stops_before_any_change() {
    let sandbox = stock_centos7_with_old_docker();
    let scope = repo().scope();
    let plan = plan(&scope.base_url, Some("keep"), "");
    refused_untouched(
        &sandbox,
        &plan.path,
        &["mirrorlist.centos.org", "os_repos", "nothing was changed"],
    );
}

#[test]
fn default_auto_with_an_unreachable_vault_stops_before_any_change() {
    // auto picks vault.centos.org (the docker repo is a URL, not a named mirror),
    // which does not resolve here either.
    let sandbox = stock_centos7_with_old_docker();
    let scope = repo().scope();
    let plan = plan(&scope.base_url, None, "");
    refused_untouched(
        &sandbox,
        &plan.path,
        &["vault.centos.org", "os_repos", "Could not resolve host"],
    );
}

#[test]
fn vault_repairs_the_repos_and_one_transaction_installs_the_full_set() {
    let sandbox = stock_centos7_with_old_docker();
    sandbox.write(
        "etc/yum.repos.d/internal.repo",
        "[internal]\nname=Internal\nbaseurl=http://127.0.0.1:9/internal/\nenabled=0\n",
    );
    let scope = repo().scope();
    let vault = format!("{}/vault", scope.base_url);
    let plan = plan(&scope.base_url, Some(&vault), "");
    let others: Vec<(String, Option<Vec<u8>>)> = [
        "CentOS-CR.repo",
        "CentOS-Sources.repo",
        "epel.repo",
        "internal.repo",
    ]
    .iter()
    .map(|n| (n.to_string(), sandbox.read(format!("etc/yum.repos.d/{n}"))))
    .collect();

    let _ = sandbox.rpm_query();
    let before = sandbox.digest();
    let dry = apply_without_dns(&sandbox, &plan.path, &["--dry-run", "--detailed-exitcode"]);
    assert_eq!(dry.code, Some(2), "{}", dry.text);
    assert_eq!(sandbox.digest(), before, "dry-run changed the root");
    let diff = dry.step("os-repos").diff.clone().unwrap_or_default();
    assert!(diff.contains("CentOS-Base.repo"), "{diff}");
    assert!(
        diff.contains(&format!("+baseurl={vault}/7.9.2009/extras/$basearch/")),
        "{diff}"
    );

    let real = apply_without_dns(&sandbox, &plan.path, &[]);
    assert_eq!(real.code, Some(0), "{}", real.text);
    assert_prediction_held(&dry, &real);

    let base = sandbox
        .read_string("etc/yum.repos.d/CentOS-Base.repo")
        .unwrap();
    for dir in ["os", "updates", "extras"] {
        assert!(
            base.contains(&format!("\nbaseurl={vault}/7.9.2009/{dir}/$basearch/\n")),
            "{base}"
        );
    }
    // Each enabled section: no live mirrorlist; centosplus (disabled) is left alone.
    for section in base.split("\n[").skip(1) {
        let live_mirrorlist = section.lines().any(|l| l.starts_with("mirrorlist="));
        let disabled = section.contains("\nenabled=0");
        assert_eq!(live_mirrorlist, disabled, "[{section}");
    }
    for (name, bytes) in &others {
        assert_eq!(
            &sandbox.read(format!("etc/yum.repos.d/{name}")),
            bytes,
            "{name} was touched"
        );
    }
    let installed = sandbox.rpm_query();
    for wanted in [
        "docker-ce",
        "docker-ce-cli",
        "containerd.io",
        "container-selinux",
        "docker-ce-rootless-extras",
        "fuse-overlayfs",
        "slirp4netns",
        "docker-buildx-plugin",
        "docker-compose-plugin",
    ] {
        assert!(
            installed.contains_key(wanted),
            "{wanted} missing: {installed:?}"
        );
    }
    assert_eq!(installed["docker-ce"], "3:26.1.4-3.el7");
    assert_eq!(installed["docker-ce-rootless-extras"], "0:26.1.4-3.el7");
    assert_eq!(installed["docker-compose-plugin"], "0:2.27.1-1.el7");
    for old in OLD {
        assert!(!installed.contains_key(*old), "{old} still installed");
    }
    assert!(
        real.step("cleanup").summary.contains("one transaction"),
        "{}",
        real.text
    );

    let again = apply_without_dns(&sandbox, &plan.path, &[]);
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert!(
        again.changing().is_empty(),
        "second run changed:\n{}",
        again.text
    );
}

#[test]
fn a_vault_without_container_selinux_stops_before_any_change() {
    let sandbox = stock_centos7_with_old_docker();
    let scope = repo().scope();
    let plan = plan(
        &scope.base_url,
        Some(&format!("{}/vault-bare", scope.base_url)),
        "",
    );
    refused_untouched(
        &sandbox,
        &plan.path,
        &["container-selinux", "nothing was changed"],
    );
}

#[test]
fn a_package_that_cannot_be_downloaded_leaves_the_old_docker() {
    let sandbox = stock_centos7_with_old_docker();
    let scope = repo().scope();
    let broken = repo().missing_url("container-selinux");
    let plan = plan(&scope.base_url, Some(&format!("{broken}/vault")), "");
    let run = apply_without_dns(&sandbox, &plan.path, &[]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run.error.unwrap_or_default();
    assert!(error.contains("did not complete"), "{error}");
    let installed = sandbox.rpm_query();
    for old in OLD {
        assert!(
            installed.contains_key(*old),
            "{old} was removed: {installed:?}"
        );
    }
    assert!(!installed.contains_key("docker-ce"), "{installed:?}");
}

#[test]
fn hold_keeps_a_plain_update_from_moving_the_plan() {
    let sandbox = stock_centos7_with_old_docker();
    let scope = repo().scope();
    let vault = format!("{}/vault", scope.base_url);
    let pinned = plan(
        &scope.base_url,
        Some(&vault),
        "version = \"=24.0.7\"\nplugins = [\"buildx=0.12\", \"compose=2.24\"]",
    );
    let run = apply_without_dns(&sandbox, &pinned.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    let held = sandbox
        .read_string("etc/yum.repos.d/docker-ce.repo")
        .unwrap();
    assert!(held.contains("\nexclude=docker-ce "), "{held}");
    let at_pin = sandbox.rpm_query();
    assert_eq!(at_pin["docker-ce"], "3:24.0.7-3.el7");
    // yum alone would pull the newest rootless-extras beside an older engine
    assert_eq!(at_pin["docker-ce-rootless-extras"], "0:24.0.7-3.el7");
    assert_eq!(at_pin["docker-compose-plugin"], "0:2.24.7-1.el7");
    assert_eq!(at_pin["docker-buildx-plugin"], "0:0.12.1-1.el7");

    // What an operator's `yum update` does: nothing to the held packages.
    let update = |sandbox: &Sandbox| {
        let out = sandbox.dnf_output(&["upgrade"]);
        assert!(out.status.success(), "{}", support::output_text(&out));
    };
    update(&sandbox);
    let after = sandbox.rpm_query();
    for name in [
        "docker-ce",
        "docker-ce-cli",
        "docker-ce-rootless-extras",
        "docker-compose-plugin",
        "docker-buildx-plugin",
    ] {
        assert_eq!(after[name], at_pin[name], "{name} moved under a hold");
    }

    // A new pin moves them, through the hold, and holds again.
    let moved = plan(
        &scope.base_url,
        Some(&vault),
        "version = \"=26.1.4\"\nplugins = [\"buildx=0.12\", \"compose=2.27\"]",
    );
    let run = apply_without_dns(&sandbox, &moved.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    let now = sandbox.rpm_query();
    assert_eq!(now["docker-ce"], "3:26.1.4-3.el7");
    assert_eq!(now["docker-compose-plugin"], "0:2.27.1-1.el7");
    assert!(
        sandbox
            .read_string("etc/yum.repos.d/docker-ce.repo")
            .unwrap()
            .contains("\nexclude=docker-ce ")
    );

    // hold = false lifts it: the dry-run shows the repo file losing its exclude, and
    // an update then moves buildx to the newest.
    let unheld = plan(
        &scope.base_url,
        Some(&vault),
        "version = \"=26.1.4\"\nhold = false\nplugins = [\"buildx=0.12\", \"compose=2.27\"]",
    );
    let dry = apply_without_dns(&sandbox, &unheld.path, &["--dry-run"]);
    assert!(
        dry.step("repo")
            .diff
            .clone()
            .unwrap_or_default()
            .contains("-exclude=docker-ce"),
        "{}",
        dry.text
    );
    let run = apply_without_dns(&sandbox, &unheld.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    update(&sandbox);
    assert_eq!(
        sandbox.rpm_query()["docker-buildx-plugin"],
        "0:0.14.1-1.el7"
    );
}

#[test]
fn stock_files_are_the_ones_centos_ships() {
    // The fixture's stock files carry what the tests rely on.
    let files = stock_repo_files("7");
    let base = String::from_utf8_lossy(
        &files
            .iter()
            .find(|(n, _)| n == "CentOS-Base.repo")
            .unwrap()
            .1,
    )
    .into_owned();
    assert!(base.contains("mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=os&infra=$infra"));
    assert!(base.contains("#baseurl=http://mirror.centos.org/centos/$releasever/os/$basearch/"));
}
