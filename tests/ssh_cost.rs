//! What a host costs over SSH, counted from the server's side (its logging
//! ForceCommand, tests/support/sshd.rs): a fresh host at most 3 SSH commands, a
//! converged one exactly 1. And a fresh host whose run fails in a middle step: the
//! report names that step with what the target said, no later step ran, and nothing
//! the host had is lost. Each target is a sandbox root behind a real sshd on loopback
//! (offering EL7's key exchanges).

mod support;

use support::inventory::{entries, inventory};
use support::run::{PlanFile, plan_file};
use support::sshd::SshLab;
use support::{Sandbox, output_text, rdock, repo};

fn plan() -> PlanFile {
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n\n[daemon]\n\
         registry-mirrors = [\"https://mirror.example.com\"]\n",
        repo().base_url
    ))
}

/// `apply PLAN -vv` over the lab's one host: exit code, JSON report, and the whole
/// output (the debug log on stderr).
fn apply(
    lab: &SshLab,
    sandbox: &Sandbox,
    plan: &PlanFile,
) -> (Option<i32>, serde_json::Value, String) {
    apply_with(lab, sandbox, plan, &[])
}

fn apply_with(
    lab: &SshLab,
    sandbox: &Sandbox,
    plan: &PlanFile,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let inv = inventory(&entries(lab, std::slice::from_ref(sandbox)));
    let config = lab.ssh_config();
    let mut args = vec![
        "apply",
        plan.path.to_str().unwrap(),
        "--inventory",
        inv.path.to_str().unwrap(),
        "--ssh-config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "-vv",
    ];
    args.extend_from_slice(extra);
    let out = rdock(&args);
    let text = output_text(&out);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    (out.status.code(), json, text)
}

fn step<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["hosts"][0]["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no step {id}: {json}"))
}

#[test]
fn a_fresh_host_costs_at_most_three_ssh_commands_and_a_converged_one_one() {
    let lab = SshLab::start("fresh", 1);
    let sandbox = Sandbox::centos7();
    let plan = plan();
    // A dry-run asks the same questions (the repo's offer, the transaction's proof, the
    // mirror probe) and changes nothing: one SSH command too.
    let (code, json, text) = apply_with(&lab, &sandbox, &plan, &["--dry-run"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["hosts"][0]["status"], "changed", "{text}");
    assert!(!sandbox.exists("etc/yum.repos.d/docker-ce.repo"));
    assert_eq!(
        lab.servers[0].commands().len(),
        1,
        "a dry-run of a fresh host"
    );

    lab.servers[0].clear_log();
    let (code, json, text) = apply(&lab, &sandbox, &plan);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["hosts"][0]["status"], "changed", "{text}");
    assert_eq!(
        sandbox.rpm_query().get("docker-ce").map(String::as_str),
        Some("3:20.10.24-3.el7")
    );
    let fresh = lab.servers[0].commands();
    assert!(
        (1..=3).contains(&fresh.len()),
        "a fresh host ran {} SSH commands:\n{}",
        fresh.len(),
        fresh.join("\n----\n")
    );

    lab.servers[0].clear_log();
    let (code, json, text) = apply(&lab, &sandbox, &plan);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["hosts"][0]["status"], "ok", "{text}");
    assert_eq!(lab.servers[0].commands().len(), 1, "a converged host");
    // The lab is what the built-in client serves (an EL7 sshd whose key known_hosts
    // holds, an unencrypted key): it made that one command.
    assert!(text.contains("ssh: built-in client"), "{text}");

    // The system's ssh, when asked for: one command as well.
    lab.servers[0].clear_log();
    let (code, json, text) = apply_with(&lab, &sandbox, &plan, &["--ssh-client", "openssh"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["hosts"][0]["status"], "ok", "{text}");
    assert_eq!(
        lab.servers[0].commands().len(),
        1,
        "a converged host over ssh"
    );
    assert!(!text.contains("ssh: built-in client"), "{text}");
}

#[test]
fn a_failing_middle_step_stops_the_run_there_and_loses_nothing() {
    let lab = SshLab::start("midfail", 1);
    let sandbox = Sandbox::centos7();
    // The operator's: a file where docker's configuration directory would go (the
    // daemon-json step cannot create /etc/docker/daemon.json), and an old repo file.
    let operator = "not a directory: the operator's own file\n";
    sandbox.write("etc/docker", operator);
    let old_repo = "[docker-ce-stable]\nname=old\nbaseurl=http://old.example.invalid/\nenabled=0\n";
    sandbox.write("etc/yum.repos.d/docker-ce.repo", old_repo);

    let (code, json, text) = apply(&lab, &sandbox, &plan());
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(json["hosts"][0]["status"], "failed", "{text}");
    // Steps before it did their work.
    assert_eq!(step(&json, "repo")["status"], "changed", "{text}");
    assert_eq!(step(&json, "engine")["status"], "changed", "{text}");
    assert_eq!(
        sandbox.rpm_query().get("docker-ce").map(String::as_str),
        Some("3:20.10.24-3.el7")
    );
    // The steps after the package transaction went as one change script (the -vv log
    // says so), and the failure inside it is reported as the step's own.
    assert!(text.contains("change script"), "{text}");
    // The failing step is named, with what the target said about it.
    assert_eq!(step(&json, "daemon-json")["status"], "failed", "{text}");
    let error = json["hosts"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("/etc/docker"), "{error}");
    assert!(error.contains("cannot create directory"), "{error}");
    // No later step ran: docker was never enabled.
    assert_eq!(step(&json, "service")["status"], "skipped", "{text}");
    assert!(!sandbox.exists("etc/systemd/system/multi-user.target.wants/docker.service"));
    // Nothing the host had is lost: the file untouched, the old repo file in a backup.
    assert_eq!(sandbox.read_string("etc/docker").as_deref(), Some(operator));
    let backups: Vec<String> = std::fs::read_dir(sandbox.path("etc/yum.repos.d"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("docker-ce.repo.rdock-setup-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        sandbox
            .read_string(format!("etc/yum.repos.d/{}", backups[0]))
            .as_deref(),
        Some(old_repo)
    );
    assert_eq!(lab.servers[0].commands().len(), 1, "still one SSH command");
}
