//! Registry mirrors that actually serve: the real distribution registry on loopback
//! with a pushed image, and mirrors failing each way public ones fail, probed by the
//! in-process probe (reqwest) and by curl on an SSH target; every name lookup fails
//! locally (tests/support `without_dns`), none leaves the machine.

mod support;

use std::time::Duration;

use support::registry::{FakeMirror, Mode, RealRegistry, WrongNameTls, refused_url};
use support::run::{PlanFile, apply, plan_file};
use support::sshd::SshLab;
use support::{Sandbox, output_text, rdock, repo, tree_digest};

/// What a probe must say about one mirror: status, step, reason, HTTP status.
type Expected = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<u64>,
);

fn mirrors_plan(urls: &[String], mirrors_section: &str) -> PlanFile {
    let list: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[mirrors]\ntimeout = 1\n{mirrors_section}\n\n[daemon]\nregistry-mirrors = [{}]\n",
        repo().base_url,
        list.join(", ")
    ))
}

/// `(status, step, reason, http_status)` of each mirror in a `mirrors --format json` answer.
fn verdicts(json: &serde_json::Value) -> Vec<(String, Expected)> {
    json["hosts"][0]["mirrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no mirrors in {json}"))
        .iter()
        .map(|m| {
            let text = |key: &str| m[key].as_str().map(|s| &*s.to_string().leak());
            (
                m["url"].as_str().unwrap().to_string(),
                (
                    text("status").unwrap(),
                    text("step"),
                    text("reason"),
                    m["http_status"].as_u64(),
                ),
            )
        })
        .collect()
}

fn run_mirrors(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = rdock(args);
    let text = output_text(&out);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}):\n{text}"));
    (out.status.code(), json, text)
}

#[test]
fn each_failure_has_its_own_verdict_and_both_probes_agree() {
    let registry = RealRegistry::start();
    let token = FakeMirror::start(Mode::TokenServes);
    let forbidden = FakeMirror::start(Mode::Forbidden);
    let manifest_forbidden = FakeMirror::start(Mode::ManifestForbidden);
    let html = FakeMirror::start(Mode::Html);
    let slow = FakeMirror::start(Mode::Slow(Duration::from_secs(3)));
    let tls = WrongNameTls::start();
    let cases: Vec<(String, Expected)> = vec![
        (registry.url.clone(), ("ok", None, None, None)),
        (token.url.clone(), ("ok", None, None, None)),
        (
            forbidden.url.clone(),
            ("dead", Some("api"), Some("http"), Some(403)),
        ),
        (
            manifest_forbidden.url.clone(),
            ("dead", Some("manifest"), Some("http"), Some(403)),
        ),
        (
            html.url.clone(),
            ("dead", Some("api"), Some("not_registry"), Some(200)),
        ),
        (refused_url(), ("dead", Some("api"), Some("refused"), None)),
        (
            "https://registry-mirror.invalid".to_string(),
            ("dead", Some("api"), Some("dns"), None),
        ),
        (tls.url.clone(), ("dead", Some("api"), Some("tls"), None)),
        (
            slow.url.clone(),
            ("dead", Some("api"), Some("timeout"), None),
        ),
    ];
    let urls: Vec<String> = cases.iter().map(|(u, _)| u.clone()).collect();
    let plan = mirrors_plan(&urls, "");
    let plan_path = plan.path.display().to_string();

    // In-process (reqwest), from this machine.
    let (code, local, text) = run_mirrors(&["mirrors", &plan_path, "--format", "json"]);
    assert_eq!(code, Some(1), "a dead mirror makes the exit 1:\n{text}");
    assert_eq!(verdicts(&local), cases, "reqwest probe:\n{text}");

    // curl on an SSH target (this machine again, through a real sshd).
    let lab = SshLab::start("mirror", 1);
    let server = &lab.servers[0];
    let host = format!("root@127.0.0.1:{}", server.port);
    let config = lab.ssh_config().display().to_string();
    let (code, remote, text) = run_mirrors(&[
        "mirrors",
        &plan_path,
        "--host",
        &host,
        "--ssh-config",
        &config,
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(verdicts(&remote), cases, "curl probe:\n{text}");
    assert_eq!(
        server.commands().len(),
        1,
        "every mirror in one SSH command"
    );

    // The human form names the step and the reason.
    let out = rdock(&["mirrors", &plan_path]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains(&format!(
            "{}: dead at GET /v2/: connection refused",
            urls[5]
        )),
        "{human}"
    );
    assert!(
        human.contains(&format!("{}: ok (", registry.url)),
        "{human}"
    );

    // Only serving mirrors: exit 0.
    let good = mirrors_plan(&urls[..2], "");
    let out = rdock(&["mirrors", &good.path.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
}

fn daemon_mirrors(sandbox: &Sandbox) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_slice(&sandbox.read("etc/docker/daemon.json").unwrap()).unwrap();
    json["registry-mirrors"].clone()
}

#[test]
fn check_fail_drop_and_warn_on_a_tree() {
    let serving = FakeMirror::start(Mode::TokenServes);
    let dead = refused_url();
    let html = FakeMirror::start(Mode::Html);
    let sandbox = Sandbox::centos7();

    // fail: exit 1 before any change, dry-run or not; the error names the mirror.
    let fail = mirrors_plan(&[serving.url.clone(), dead.clone()], "check = \"fail\"");
    let before = tree_digest(&sandbox.root);
    for extra in [&["--dry-run"][..], &[]] {
        let run = apply(&sandbox, &fail.path, extra);
        assert_eq!(run.code, Some(1), "{}", run.text);
        let error = run.error.clone().unwrap_or_default();
        assert!(
            error.contains(&format!("{dead}: dead at GET /v2/: connection refused")),
            "{}",
            run.text
        );
        assert!(error.contains("nothing was changed"), "{}", run.text);
    }
    assert_eq!(
        tree_digest(&sandbox.root),
        before,
        "check = \"fail\" wrote nothing"
    );

    // drop: only the serving mirror is written; the report names the dropped one.
    let drop = mirrors_plan(&[dead.clone(), serving.url.clone()], "check = \"drop\"");
    let run = apply(&sandbox, &drop.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(daemon_mirrors(&sandbox), serde_json::json!([serving.url]));
    assert!(
        run.text
            .contains(&format!("dropped registry mirror {dead}: dead at GET /v2/")),
        "{}",
        run.text
    );
    // Converged: the same plan again probes nothing and changes nothing.
    let asked = serving.requests();
    let again = apply(&sandbox, &drop.path, &[]);
    assert_eq!(
        again.step("daemon-json").status,
        "unchanged",
        "{}",
        again.text
    );
    assert_eq!(serving.requests(), asked, "a converged host is not probed");

    // warn: every mirror written, the dead one named in the JSON and the human report.
    let warn = mirrors_plan(&[serving.url.clone(), html.url.clone()], "");
    let run = apply(&sandbox, &warn.path, &["--dry-run"]);
    let note = format!(
        "WARNING: registry mirror {}: dead at GET /v2/: not a registry",
        html.url
    );
    assert!(run.text.contains(&note), "{}", run.text);
    let sandbox_root = sandbox.root.display().to_string();
    let warn_path = warn.path.display().to_string();
    let human = rdock(&["apply", &warn_path, "--root", &sandbox_root]);
    assert_eq!(human.status.code(), Some(0), "{}", output_text(&human));
    assert!(
        String::from_utf8_lossy(&human.stdout).contains(&note),
        "{}",
        output_text(&human)
    );
    assert_eq!(
        daemon_mirrors(&sandbox),
        serde_json::json!([serving.url, html.url])
    );
}

#[test]
fn fastest_first_and_off() {
    let slower = FakeMirror::start(Mode::Slow(Duration::from_millis(400)));
    let fast = FakeMirror::start(Mode::TokenServes);
    let sandbox = Sandbox::centos7();
    // Both serve; the plan names the slower one first.
    let plan = mirrors_plan(
        &[slower.url.clone(), fast.url.clone()],
        "order = \"fastest\"",
    );
    let run = apply(&sandbox, &plan.path, &["--dry-run"]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    let diff = run.step("daemon-json").diff.clone().unwrap_or_default();
    let (first, second) = (diff.find(&fast.url), diff.find(&slower.url));
    assert!(first.is_some() && first < second, "fastest first:\n{diff}");

    let off = mirrors_plan(std::slice::from_ref(&slower.url), "check = \"off\"");
    let asked = slower.requests();
    let run = apply(&sandbox, &off.path, &["--dry-run"]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(slower.requests(), asked, "check = \"off\" probes nothing");
}
