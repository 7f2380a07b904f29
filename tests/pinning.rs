//! engine.version against a real repo: prefixes, exact pins, ranges, downgrades, and
//! versions the repo does not offer. Real rpm and dnf; `yum` is the test shim (see
//! tests/apply_el7.rs).

mod support;

use support::run::{PlanFile, apply, plan_file};
use support::{Sandbox, digest_diff, output_text, rdock, repo};

fn plan(version: &str) -> PlanFile {
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"{version}\"\n",
        repo().base_url
    ))
}

fn installed(sandbox: &Sandbox, name: &str) -> String {
    sandbox.rpm_query().get(name).cloned().unwrap_or_default()
}

#[test]
fn prefix_and_exact_pins_then_downgrade_and_upgrade() {
    let sandbox = Sandbox::centos7();
    let run = apply(&sandbox, &plan("=24.0.7").path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(installed(&sandbox, "docker-ce"), "3:24.0.7-3.el7");
    assert_eq!(installed(&sandbox, "docker-ce-cli"), "1:24.0.7-3.el7");

    // "19.03" is the newest 19.03.x: a downgrade, said loudly before and after.
    let dry = rdock(&[
        "apply",
        plan("19.03").path.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
        "--dry-run",
    ]);
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains("DOWNGRADE docker-ce 3:24.0.7-3.el7 -> 3:19.03.15-3.el7"),
        "{text}"
    );
    assert!(text.contains("will be DOWNGRADED"), "{text}");
    let run = apply(&sandbox, &plan("19.03").path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(installed(&sandbox, "docker-ce"), "3:19.03.15-3.el7");
    assert_eq!(installed(&sandbox, "docker-ce-cli"), "1:19.03.15-3.el7");

    // A range the installed version misses: upgraded to the newest inside it.
    let run = apply(&sandbox, &plan(">=24, <27").path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(
        run.step("engine").summary.contains("upgrade docker-ce"),
        "{}",
        run.text
    );
    assert_eq!(installed(&sandbox, "docker-ce"), "3:26.1.4-3.el7");

    // "latest" leaves an installed engine alone (no surprise upgrades, no repo query).
    let run = apply(&sandbox, &plan("latest").path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(run.step("engine").status, "unchanged");
}

#[test]
fn latest_on_a_fresh_host_is_the_newest() {
    let sandbox = Sandbox::rocky9();
    let run = apply(&sandbox, &plan("latest").path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(installed(&sandbox, "docker-ce"), "3:26.1.4-1.el9");
    assert_eq!(installed(&sandbox, "docker-ce-cli"), "1:26.1.4-1.el9");
}

#[test]
fn test_channel_offers_the_release_candidate() {
    let sandbox = Sandbox::centos7();
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\nchannel = \"test\"\n\n[engine]\nversion = \"latest\"\n",
        repo().base_url
    ));
    let run = apply(&sandbox, &plan.path, &["--dry-run"]);
    assert!(
        run.step("engine")
            .summary
            .contains("docker-ce 3:27.0.0~rc.1-1.el7"),
        "{}",
        run.text
    );
}

#[test]
fn a_version_the_repo_lacks_fails_before_any_change() {
    let sandbox = Sandbox::centos7();
    let _ = sandbox.rpm_query();
    let before = sandbox.digest();
    let run = apply(&sandbox, &plan("=24.0.8").path, &[]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("=24.0.8"), "{error}");
    for offered in [
        "3:26.1.4-3.el7",
        "3:24.0.7-3.el7",
        "3:20.10.24-3.el7",
        "3:19.03.15-3.el7",
        "3:18.09.9-3.el7",
    ] {
        assert!(error.contains(offered), "error lists {offered}: {error}");
    }
    let after = sandbox.digest();
    assert!(
        before == after,
        "{}",
        digest_diff(&before, &after).join("\n")
    );
}

#[test]
fn versions_lists_newest_first_and_marks_the_pick() {
    let sandbox = Sandbox::centos7();
    let plan = plan("19.03");
    let out = rdock(&[
        "versions",
        plan.path.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("3:"))
        .collect();
    let order: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "3:26.1.4-3.el7",
            "3:24.0.7-3.el7",
            "3:20.10.24-3.el7",
            "3:19.03.15-3.el7",
            "3:18.09.9-3.el7"
        ]
    );
    let marked: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("resolves to this"))
        .collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(marked[0].contains("3:19.03.15-3.el7"), "{text}");
    // The plugins' own offers, newest first, the default plan's pick marked.
    let compose = text
        .lines()
        .find(|l| l.starts_with("docker-compose-plugin: "))
        .unwrap_or_else(|| panic!("no compose offers in\n{text}"));
    assert!(
        compose.contains("2.27.1-1.el7 (<- latest), 2.24.7-1.el7, 2.21.0-1.el7"),
        "{compose}"
    );
    assert!(
        text.contains("docker-buildx-plugin: 0.14.1-1.el7"),
        "{text}"
    );
    assert!(text.contains("containerd.io: 1.6.33-3.1.el7"), "{text}");
}
