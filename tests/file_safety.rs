//! Files and directories the tool makes on a target: directories get 0755 whatever the
//! umask (a `--root` tree and over SSH, where `mkdir -p -m` sets only the last one), and
//! a daemon.json that is a directory is an error, never read as absent nor written into.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use support::run::{PlanFile, plan_file};
use support::sshd::SshLab;
use support::{Sandbox, output_text, rdock, rdock_cmd, repo, run_retrying_etxtbsy};

/// Directories the tool creates for the plan below, none of which a fresh sandbox has;
/// the drop-in's directory is three deep, as `mkdir -p -m` would get wrong.
const MADE_BY_THE_TOOL: &[&str] = &[
    "etc/docker",
    "etc/systemd",
    "etc/systemd/system",
    "var/lib/rdock-setup",
    "etc/systemd/system/docker.service.d",
];

fn plan() -> PlanFile {
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[daemon]\nregistry-mirrors = [\"https://m.example.com\"]\n\n\
         [proxy]\nhttp_proxy = \"http://proxy.example.com:3128\"\n",
        repo().base_url
    ))
}

fn assert_modes(sandbox: &Sandbox, text: &str) {
    for dir in MADE_BY_THE_TOOL {
        let mode = std::fs::metadata(sandbox.path(dir))
            .unwrap_or_else(|err| panic!("{dir}: {err}\n{text}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755, "{dir} is {:o}\n{text}", mode & 0o7777);
    }
}

#[test]
fn directories_made_in_a_root_are_0755_under_umask_077() {
    let sandbox = Sandbox::centos7();
    for dir in MADE_BY_THE_TOOL {
        assert!(!sandbox.exists(dir), "the fresh sandbox already has {dir}");
    }
    let plan = plan();
    let mut cmd = rdock_cmd(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
    ]);
    // SAFETY: umask is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::libc::umask(0o077);
            Ok(())
        });
    }
    let out = run_retrying_etxtbsy(cmd);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_modes(&sandbox, &text);
}

/// One sshd host whose target is `sandbox`, the inventory naming it `web01`.
fn one_host(lab: &SshLab, sandbox: &Sandbox) -> PlanFile {
    plan_file(&format!(
        "[[hosts]]\nname = \"web01\"\naddress = \"127.0.0.1\"\nuser = \"root\"\nport = {}\nroot = {}\n",
        lab.servers[0].port,
        toml::Value::String(sandbox.root.display().to_string())
    ))
}

fn fleet_apply(plan: &PlanFile, inventory: &PlanFile, lab: &SshLab) -> (Option<i32>, String) {
    let out = rdock(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--inventory",
        inventory.path.to_str().unwrap(),
        "--ssh-config",
        lab.ssh_config().to_str().unwrap(),
        "--format",
        "json",
    ]);
    (out.status.code(), output_text(&out))
}

#[test]
fn directories_made_over_ssh_are_0755_under_umask_077() {
    let lab = SshLab::start("umask", 1);
    lab.set_umask("umask01", "077");
    let sandbox = Sandbox::centos7();
    let (code, text) = fleet_apply(&plan(), &one_host(&lab, &sandbox), &lab);
    assert_eq!(code, Some(0), "{text}");
    assert_modes(&sandbox, &text);
}

fn daemon_json_is_a_directory(sandbox: &Sandbox) {
    std::fs::create_dir_all(sandbox.path("etc/docker/daemon.json")).unwrap();
}

fn assert_directory_untouched(sandbox: &Sandbox, text: &str) {
    let dir = sandbox.path("etc/docker/daemon.json");
    assert!(dir.is_dir(), "{text}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "something was written into {}\n{text}",
        dir.display()
    );
    assert!(
        !Path::new(&sandbox.path("var/lib/rdock-setup/state.json")).exists(),
        "{text}"
    );
}

#[test]
fn a_daemon_json_directory_in_a_root_is_an_error() {
    let sandbox = Sandbox::centos7();
    daemon_json_is_a_directory(&sandbox);
    let plan = plan();
    let out = rdock(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
    ]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("etc/docker/daemon.json is a directory, not a file"),
        "{text}"
    );
    assert_directory_untouched(&sandbox, &text);
}

#[test]
fn a_daemon_json_directory_over_ssh_is_an_error() {
    let lab = SshLab::start("dirjson", 1);
    let sandbox = Sandbox::centos7();
    daemon_json_is_a_directory(&sandbox);
    let (code, text) = fleet_apply(&plan(), &one_host(&lab, &sandbox), &lab);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("etc/docker/daemon.json is a directory, not a file"),
        "{text}"
    );
    assert_directory_untouched(&sandbox, &text);
}
