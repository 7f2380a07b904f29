//! `rdock-setup status`: a read-only drift report with apply's targets. Converged: exit
//! 0; a step that would change: exit 2, naming it; one SSH command per host; nothing
//! on the target changes. (The running daemon's settings against daemon.json need a
//! running docker: `tests/lab_status.rs`.)

mod support;

use support::inventory::{entries, inventory};
use support::run::{PlanFile, plan_file};
use support::schema::assert_valid_report;
use support::sshd::SshLab;
use support::{Sandbox, output_text, rdock, repo};

fn plan() -> PlanFile {
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n\n[daemon]\n\
         registry-mirrors = [\"https://mirror.example.com\"]\n",
        repo().base_url
    ))
}

struct Status {
    code: Option<i32>,
    json: serde_json::Value,
    text: String,
}

fn status(args: &[&str]) -> Status {
    let mut argv = vec!["status"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--format", "json"]);
    let out = rdock(&argv);
    let text = output_text(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("status report is not JSON ({err}):\n{text}"));
    assert_valid_report(&json);
    Status {
        code: out.status.code(),
        json,
        text,
    }
}

fn converge(sandbox: &Sandbox, plan: &PlanFile) {
    let root = sandbox.root.display().to_string();
    let out = rdock(&["apply", plan.path.to_str().unwrap(), "--root", &root]);
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn a_tree_converged_then_edited_by_hand() {
    let sandbox = Sandbox::centos7();
    let plan = plan();
    let root = sandbox.root.display().to_string();
    let plan_path = plan.path.to_str().unwrap();

    // Fresh: everything would change; exit 2, and nothing was touched.
    let before = sandbox.digest();
    let fresh = status(&[plan_path, "--root", &root]);
    assert_eq!(fresh.code, Some(2), "{}", fresh.text);
    assert_eq!(
        fresh.json["hosts"][0]["status"], "drifted",
        "{}",
        fresh.text
    );
    assert_eq!(fresh.json["summary"]["drifted"], 1, "{}", fresh.text);
    assert_eq!(fresh.json["dry_run"], true, "{}", fresh.text);
    let changed = support::digest_diff(&before, &sandbox.digest());
    assert!(changed.is_empty(), "status changed the target: {changed:?}");

    converge(&sandbox, &plan);
    let converged = status(&[plan_path, "--root", &root]);
    assert_eq!(converged.code, Some(0), "{}", converged.text);
    assert_eq!(
        converged.json["hosts"][0]["status"], "ok",
        "{}",
        converged.text
    );
    let running = &converged.json["hosts"][0]["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(running["id"], "running", "{}", converged.text);
    assert_eq!(running["status"], "skipped", "{}", converged.text);

    // A key edited by hand: drift, exit 2, the step and the key named.
    sandbox.write(
        "etc/docker/daemon.json",
        "{\n  \"registry-mirrors\": [\"https://other.example.com\"]\n}\n",
    );
    let edited = status(&[plan_path, "--root", &root]);
    assert_eq!(edited.code, Some(2), "{}", edited.text);
    let daemon = edited.json["hosts"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "daemon-json")
        .unwrap()
        .clone();
    assert_eq!(daemon["status"], "would_change", "{}", edited.text);
    assert!(
        daemon["summary"]
            .as_str()
            .unwrap()
            .contains("registry-mirrors"),
        "{}",
        edited.text
    );

    // The human form: one line per host, naming the step and the key.
    let out = rdock(&["status", plan_path, "--root", &root]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.contains(": drift: daemon-json: update /etc/docker/daemon.json:")
            && first.contains("registry-mirrors"),
        "{text}"
    );
}

#[test]
fn errors_exit_1() {
    let missing = rdock(&["status", "/nonexistent/plan.toml"]);
    assert_eq!(missing.status.code(), Some(1), "{}", output_text(&missing));
    let sandbox = Sandbox::centos7();
    let broken = plan_file("[repo]\nsource = \"http://127.0.0.1:9\"\n");
    let run = status(&[
        broken.path.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert_eq!(run.json["hosts"][0]["status"], "failed", "{}", run.text);
}

#[test]
fn over_ssh_a_converged_host_costs_one_command() {
    let lab = SshLab::start("st", 2);
    let sandboxes: Vec<Sandbox> = (0..2).map(|_| Sandbox::centos7()).collect();
    let inv = inventory(&entries(&lab, &sandboxes));
    let plan = plan();
    for sandbox in &sandboxes {
        converge(sandbox, &plan);
    }
    sandboxes[1].write("etc/docker/daemon.json", "{\"debug\": true}\n");
    for server in &lab.servers {
        server.clear_log();
    }
    let config = lab.ssh_config();
    let args = [
        plan.path.to_str().unwrap(),
        "--inventory",
        inv.path.to_str().unwrap(),
        "--ssh-config",
        config.to_str().unwrap(),
    ];
    let run = status(&args);
    assert_eq!(run.code, Some(2), "{}", run.text);
    let hosts = run.json["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["status"], "ok", "{}", run.text);
    assert_eq!(hosts[1]["status"], "drifted", "{}", run.text);
    let commands = lab.servers[0].commands();
    assert_eq!(commands.len(), 1, "the converged host ran {commands:?}");

    // Human: one line per host, then the count.
    let mut human = vec!["status"];
    human.extend_from_slice(&args);
    let out = rdock(&human);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines.contains(&"st01: converged"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("st02: drift: daemon-json:")),
        "{text}"
    );
    assert_eq!(lines[2], "1 converged, 1 drifted, 0 failed, 0 unreachable");
}
