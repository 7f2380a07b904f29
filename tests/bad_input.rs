//! Bad input stops the run with a clear error (file and position), exit 1, and the
//! target exactly as it was.

mod support;

use support::run::plan_file;
use support::{Sandbox, dead_url, digest_diff, output_text, rdock, repo};

/// Runs apply against a CentOS 7 root holding old packages; asserts exit 1, an error
/// containing every `needles`, and an untouched root. Returns stderr.
fn refused(sandbox: &Sandbox, plan_text: &str, needles: &[&str]) -> String {
    let plan = plan_file(plan_text);
    let _ = sandbox.rpm_query();
    let before = sandbox.digest();
    let out = rdock(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
    ]);
    let after = sandbox.digest();
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A report, when there is one, carries the reason itself (issue 10 item 13).
    assert!(
        !stdout.contains("on stderr"),
        "the report points elsewhere:\n{}",
        output_text(&out)
    );
    if !stdout.is_empty() {
        let needle = needles[0].replace("PLAN", plan.path.to_str().unwrap());
        assert!(
            stdout.contains(&needle),
            "the report lacks the reason {needle:?}:\n{}",
            output_text(&out)
        );
    }
    for needle in needles {
        let needle = needle.replace("PLAN", plan.path.to_str().unwrap());
        assert!(
            stderr.contains(&needle),
            "stderr lacks {needle:?}:\n{}",
            output_text(&out)
        );
    }
    assert!(
        before == after,
        "target changed:\n{}",
        digest_diff(&before, &after).join("\n")
    );
    stderr
}

fn with_old_docker() -> Sandbox {
    let sandbox = Sandbox::centos7();
    sandbox.install(&["docker", "docker-common"]);
    sandbox
}

fn good_repo() -> String {
    format!("[repo]\nsource = \"{}\"\n", repo().base_url)
}

#[test]
fn malformed_toml() {
    refused(
        &with_old_docker(),
        "[repo\nsource = \"official\"\n",
        &["PLAN:1:"],
    );
}

#[test]
fn unknown_key_gets_the_closest_valid_one() {
    refused(
        &with_old_docker(),
        &format!("{}\n[engine]\nversoin = \"19.03\"\n", good_repo()),
        &[
            "PLAN:5:1:",
            "unknown field `versoin`",
            "did you mean `version`?",
        ],
    );
}

#[test]
fn unknown_daemon_key_gets_the_closest_valid_one() {
    refused(
        &with_old_docker(),
        &format!(
            "{}\n[daemon]\nregistry-mirror = [\"https://m.example.com\"]\n",
            good_repo()
        ),
        &["PLAN:5:1:", "registry-mirrors"],
    );
}

#[test]
fn wrong_type() {
    refused(
        &with_old_docker(),
        &format!("{}gpgcheck = \"yes\"\n", good_repo()),
        &["PLAN:3:12:", "invalid type"],
    );
}

#[test]
fn unreachable_repo() {
    let url = dead_url();
    refused(
        &with_old_docker(),
        &format!("[repo]\nsource = \"{url}\"\n"),
        &[&url, "did not answer"],
    );
}

#[test]
fn daemon_json_that_is_not_json() {
    let sandbox = with_old_docker();
    sandbox.write(
        "etc/docker/daemon.json",
        "{\n  \"log-driver\": \"json-file\",\n  \"debug\": true,\n}\n",
    );
    refused(
        &sandbox,
        &format!(
            "{}\n[daemon]\nregistry-mirrors = [\"https://m.example.com\"]\n",
            good_repo()
        ),
        &["/etc/docker/daemon.json:3:", "comma"],
    );
}

#[test]
fn unsupported_distribution() {
    let sandbox = Sandbox::empty("12");
    sandbox.write(
        "etc/os-release",
        "PRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
    );
    refused(
        &sandbox,
        &good_repo(),
        &[
            "preflight failed",
            "Arch Linux",
            "Rocky Linux",
            "12 (bookworm)",
        ],
    );
    sandbox.write(
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nID=debian\nVERSION_ID=\"10\"\nVERSION_CODENAME=buster\n",
    );
    refused(
        &sandbox,
        &good_repo(),
        &["preflight failed", "end of life", "upgrade to Debian 12"],
    );
}

#[test]
fn el6_is_too_old() {
    let sandbox = Sandbox::empty("6");
    sandbox.write("etc/redhat-release", "CentOS release 6.10 (Final)\n");
    refused(&sandbox, &good_repo(), &["preflight failed", "7 or later"]);
}

#[test]
fn a_missing_plan_file_says_so() {
    let out = rdock(&["apply", "/nonexistent/plan.toml", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read plan /nonexistent/plan.toml"),
        "{stderr}"
    );
}
