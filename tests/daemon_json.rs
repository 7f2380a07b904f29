//! daemon.json ownership on a real tree: keys the plan names are set, a key the tool
//! set and the plan dropped goes (unless changed by hand since), the operator's own
//! keys stay; plan mistakes and broken files stop the run before any change.

mod support;

use support::run::{apply, plan_file};
use support::{Sandbox, digest_diff, output_text, rdock, repo};

fn plan(daemon: &str) -> support::run::PlanFile {
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[daemon]\n{daemon}",
        repo().base_url
    ))
}

fn daemon_json(sandbox: &Sandbox) -> serde_json::Value {
    serde_json::from_slice(&sandbox.read("etc/docker/daemon.json").unwrap()).unwrap()
}

#[test]
fn keys_the_tool_set_go_when_dropped_and_the_operators_stay() {
    let sandbox = Sandbox::centos7();
    let first =
        plan("registry-mirrors = [\"https://m.example.com\"]\ndebug = true\nlive-restore = true\n");
    let run = apply(&sandbox, &first.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);

    // The operator adds a key of their own and changes one the tool set.
    let mut json = daemon_json(&sandbox);
    json["log-level"] = "warn".into();
    json["live-restore"] = false.into();
    sandbox.write(
        "etc/docker/daemon.json",
        serde_json::to_vec_pretty(&json).unwrap(),
    );

    // The plan now names only the mirrors.
    let second = plan("registry-mirrors = [\"https://m.example.com\"]\n");
    let run = apply(&sandbox, &second.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    let step = run.step("daemon-json");
    assert!(step.summary.contains("remove debug"), "{}", run.text);
    assert!(run.text.contains("live-restore is kept"), "{}", run.text);
    let json = daemon_json(&sandbox);
    assert!(
        json.get("debug").is_none(),
        "the tool's own key went: {json}"
    );
    assert_eq!(json["live-restore"], false, "changed by hand: kept");
    assert_eq!(json["log-level"], "warn", "the operator's key stays");
    assert_eq!(
        json["registry-mirrors"],
        serde_json::json!(["https://m.example.com"])
    );

    // And it is a fixed point.
    let again = apply(&sandbox, &second.path, &[]);
    assert_eq!(
        again.step("daemon-json").status,
        "unchanged",
        "{}",
        again.text
    );
}

#[test]
fn plan_mistakes_are_refused_before_any_change() {
    for (daemon, needles) in [
        (
            "registry-mirror = [\"https://m.example.com\"]\n",
            &["registry-mirrors"][..],
        ),
        ("debgu = true\n", &["did you mean `debug`?"][..]),
        ("log-opts = { max-file = 3 }\n", &["log-opts", "string"][..]),
        (
            "registry-mirrors = \"https://m.example.com\"\n",
            &["array of strings"][..],
        ),
        ("registry-mirrors = [\"m.example.com\"]\n", &["http"][..]),
        ("graph = \"/srv/docker\"\n", &[][..]),
    ] {
        let sandbox = Sandbox::centos7();
        let plan = plan(daemon);
        let before = sandbox.digest();
        let out = rdock(&[
            "apply",
            plan.path.to_str().unwrap(),
            "--root",
            sandbox.root.to_str().unwrap(),
        ]);
        let text = output_text(&out);
        if daemon.starts_with("graph") {
            // A removed key is reported with its replacement (a warning: 20.10 still takes it).
            assert!(text.contains("data-root"), "{text}");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{daemon}: {text}");
        assert!(
            text.contains(&format!("{}:5:", plan.path.display())),
            "{daemon}: position: {text}"
        );
        for needle in needles {
            assert!(
                text.contains(needle),
                "{daemon}: {needle:?} missing: {text}"
            );
        }
        let after = sandbox.digest();
        assert!(
            before == after,
            "{}",
            digest_diff(&before, &after).join("\n")
        );
    }
}

#[test]
fn broken_files_are_never_overwritten() {
    for (broken, line, reason) in [
        ("{\n  \"debug\": true,\n}\n", 2, "comma"),
        ("{\n  // mirrors\n  \"debug\": true\n}\n", 2, "comment"),
        ("{\n  \u{201c}debug\u{201d}: true\n}\n", 2, "quote"),
        (
            "{\"debug\": true}\n{\"log-level\": \"warn\"}\n",
            2,
            "more than one",
        ),
    ] {
        let sandbox = Sandbox::centos7();
        sandbox.write("etc/docker/daemon.json", broken);
        let plan = plan("registry-mirrors = [\"https://m.example.com\"]\n");
        let run = apply(&sandbox, &plan.path, &[]);
        assert_eq!(run.code, Some(1), "{}", run.text);
        let error = run.error.clone().unwrap_or_default();
        assert!(
            error.contains(&format!("/etc/docker/daemon.json:{line}:")),
            "{error}"
        );
        assert!(error.to_lowercase().contains(reason), "{reason}: {error}");
        assert_eq!(
            sandbox.read("etc/docker/daemon.json").unwrap(),
            broken.as_bytes()
        );
    }
}

#[test]
fn rotation_options_meet_a_journald_host() {
    // From daemon.json.
    let sandbox = Sandbox::centos7();
    sandbox.write("etc/docker/daemon.json", "{\"log-driver\": \"journald\"}\n");
    let rotation = plan("log-opts = { max-size = \"10m\", max-file = \"3\" }\n");
    let run = apply(&sandbox, &rotation.path, &[]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run.error.clone().unwrap_or_default();
    assert!(
        error.contains("journald") && error.contains("/etc/docker/daemon.json"),
        "{error}"
    );

    // From OPTIONS in /etc/sysconfig/docker, read by an administrator's unit in /etc
    // (a packaged unit under /usr/lib would give way to docker-ce's own on install).
    let sandbox = Sandbox::centos7();
    sandbox.write(
        "etc/systemd/system/docker.service",
        "[Service]\nEnvironmentFile=-/etc/sysconfig/docker\nExecStart=/usr/bin/dockerd-current $OPTIONS\n",
    );
    sandbox.write(
        "etc/sysconfig/docker",
        "OPTIONS='--selinux-enabled --log-driver=journald'\n",
    );
    let before = sandbox.digest();
    let run = apply(&sandbox, &rotation.path, &[]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("journald"), "{error}");
    assert!(
        error.contains("/etc/systemd/system/docker.service:3"),
        "{error}"
    );
    let after = sandbox.digest();
    assert!(
        before == after,
        "{}",
        digest_diff(&before, &after).join("\n")
    );

    // There the flag owns the driver: the plan cannot set it either.
    let both = plan("log-driver = \"json-file\"\nlog-opts = { max-size = \"10m\" }\n");
    let run = apply(&sandbox, &both.path, &[]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(
        run.error
            .clone()
            .unwrap_or_default()
            .contains("--log-driver=journald"),
        "{}",
        run.text
    );

    // Where daemon.json chose journald, naming the driver in the plan settles it.
    let sandbox = Sandbox::centos7();
    sandbox.write("etc/docker/daemon.json", "{\"log-driver\": \"journald\"}\n");
    let run = apply(&sandbox, &both.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
}

/// The record of owned keys is written before daemon.json: a run whose record cannot be
/// written (here its directory is a file; over SSH, a connection dropped between the two
/// writes) leaves no key in daemon.json that the tool set but did not record.
#[test]
fn daemon_json_is_not_written_when_its_record_cannot_be() {
    let sandbox = Sandbox::centos7();
    sandbox.write("etc/docker/daemon.json", "{\"log-level\": \"warn\"}\n");
    sandbox.write("var/lib/rdock-setup", "not a directory\n");
    let run = apply(
        &sandbox,
        &plan("registry-mirrors = [\"https://m.example.com\"]\n").path,
        &[],
    );
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert_eq!(
        daemon_json(&sandbox),
        serde_json::json!({"log-level": "warn"}),
        "daemon.json changed without a record of it\n{}",
        run.text
    );
}

/// A run cut after daemon.json was written but before its record was settled leaves the
/// record's pending values: the next run still owns those keys and removes one the plan
/// dropped.
#[test]
fn a_run_cut_between_the_two_writes_still_owns_its_keys() {
    let sandbox = Sandbox::centos7();
    let first = plan("registry-mirrors = [\"https://m.example.com\"]\n");
    let run = apply(&sandbox, &first.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    // What the record holds between the two writes of that first run.
    sandbox.write(
        "var/lib/rdock-setup/state.json",
        "{\"daemon_json\": {}, \"pending\": {\"registry-mirrors\": [\"https://m.example.com\"]}}\n",
    );
    let run = apply(&sandbox, &plan("debug = true\n").path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(
        daemon_json(&sandbox),
        serde_json::json!({"debug": true}),
        "{}",
        run.text
    );
    let state: serde_json::Value =
        serde_json::from_slice(&sandbox.read("var/lib/rdock-setup/state.json").unwrap()).unwrap();
    assert_eq!(
        state,
        serde_json::json!({"daemon_json": {"debug": true}}),
        "{}",
        run.text
    );
}
