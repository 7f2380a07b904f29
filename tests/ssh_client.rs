//! Who makes a host's SSH connection (src/host/native_ssh.rs): the built-in client where
//! it does exactly what `ssh` would, the system's `ssh` everywhere else, and the operator
//! sees no difference but the speed. Real sshd servers on loopback (tests/support/sshd.rs);
//! each case a dry-run of a fresh CentOS 7 sandbox, which holds one session open for the
//! facts and the dry-run's questions. The `-vv` log says which client made the session.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::inventory::{entries, inventory};
use support::run::{PlanFile, plan_file};
use support::sshd::{KexOffer, SshLab};
use support::{Sandbox, output_text, rdock_cmd, repo, run_retrying_etxtbsy};

const BUILT_IN: &str = "ssh: built-in client";

fn plan() -> PlanFile {
    plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n",
        repo().base_url
    ))
}

struct Run {
    code: Option<i32>,
    json: serde_json::Value,
    text: String,
}

impl Run {
    fn status(&self) -> &str {
        self.json["hosts"][0]["status"].as_str().unwrap_or_default()
    }
    fn error(&self) -> &str {
        self.json["hosts"][0]["error"].as_str().unwrap_or_default()
    }
}

/// `apply --dry-run -vv` of one host through `config`, the inventory as given.
fn dry_run(inventory: &Path, config: &Path, env: &[(&str, &str)]) -> Run {
    let plan = plan();
    let mut cmd = rdock_cmd(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--dry-run",
        "--inventory",
        inventory.to_str().unwrap(),
        "--ssh-config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "-vv",
    ]);
    cmd.env_remove("SSH_AUTH_SOCK");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_retrying_etxtbsy(cmd);
    let text = output_text(&out);
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    Run {
        code: out.status.code(),
        json,
        text,
    }
}

/// One server offering `kex`, a fresh CentOS 7 sandbox behind it, and its inventory.
fn one_host(prefix: &str, kex: KexOffer) -> (SshLab, Sandbox, PlanFile) {
    let lab = SshLab::start_offering(prefix, 1, kex);
    let sandbox = Sandbox::centos7();
    let inv = inventory(&entries(&lab, std::slice::from_ref(&sandbox)));
    (lab, sandbox, inv)
}

/// `TYPE BASE64` of an OpenSSH public key file (its comment dropped).
fn key_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Run {
    /// The dry-run went through: exit 0, the fresh host has changes pending.
    fn assert_changed(&self) {
        assert_eq!(self.code, Some(0), "{}", self.text);
        assert_eq!(self.status(), "changed", "{}", self.text);
    }
}

/// A new ed25519 key in `dir` (`other`), as `TYPE BASE64`: not the lab host's.
fn another_key(dir: &Path) -> String {
    let path = dir.join("other");
    ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        path.to_str().unwrap(),
    ]);
    key_of(&dir.join("other.pub"))
}

fn ssh_keygen(args: &[&str]) {
    let out = Command::new("ssh-keygen").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ssh-keygen {args:?}: {}",
        output_text(&out)
    );
}

#[test]
fn the_built_in_client_reads_hashed_known_hosts_and_refuses_nothing_ssh_would_accept() {
    let (lab, _sandbox, inv) = one_host("hashed", KexOffer::El7);
    let known = lab.dir().join("known_hosts");
    ssh_keygen(&["-H", "-f", known.to_str().unwrap()]);
    assert!(
        lab.known_hosts().starts_with("|1|"),
        "{}",
        lab.known_hosts()
    );
    let run = dry_run(&inv.path, &lab.ssh_config(), &[]);
    run.assert_changed();
    assert!(run.text.contains(BUILT_IN), "{}", run.text);
    assert_eq!(lab.servers[0].commands().len(), 1);
}

/// A server whose key is not the one known_hosts holds: the built-in client refuses it
/// and `ssh` says why in its own words; nothing ran on the host.
#[test]
fn a_changed_host_key_is_refused_in_ssh_s_words_and_nothing_runs() {
    let (lab, _sandbox, inv) = one_host("changed", KexOffer::El7);
    let dir = lab.dir();
    let other = another_key(dir);
    let port = lab.servers[0].port;
    fs::write(
        dir.join("known_hosts"),
        format!("[127.0.0.1]:{port} {other}\n"),
    )
    .unwrap();
    let run = dry_run(&inv.path, &lab.ssh_config(), &[]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert_eq!(run.status(), "unreachable", "{}", run.text);
    assert!(run.error().contains("CHANGED"), "{}", run.error());
    assert!(!run.text.contains(BUILT_IN), "{}", run.text);
    assert!(
        lab.servers[0].commands().is_empty(),
        "a command ran on a host whose key changed"
    );
}

/// A server offering the post-quantum key exchange this machine's ssh prefers and the
/// built-in client lacks: `ssh` makes the connection, so the exchange is not weakened.
#[test]
fn a_key_exchange_the_built_in_client_lacks_goes_to_ssh_not_to_a_weaker_one() {
    let (lab, _sandbox, inv) = one_host("pq", KexOffer::PostQuantum);
    let run = dry_run(&inv.path, &lab.ssh_config(), &[]);
    run.assert_changed();
    assert!(!run.text.contains(BUILT_IN), "{}", run.text);
    assert!(
        run.text
            .contains("ssh would choose the key exchange sntrup761x25519"),
        "{}",
        run.text
    );
    assert_eq!(lab.servers[0].commands().len(), 1);
}

/// The login key only in an agent (its file needs a passphrase): the built-in client
/// signs with the agent, as ssh would.
#[test]
fn a_key_held_by_the_agent_logs_in() {
    let (lab, _sandbox, inv) = one_host("agent", KexOffer::El7);
    let dir = lab.dir();
    let socket = dir.join("agent.sock");
    let agent = Command::new("ssh-agent")
        .args(["-D", "-a", socket.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client)");
    let _agent = KillOnDrop(agent);
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let add = Command::new("ssh-add")
        .arg(dir.join("client_key"))
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", output_text(&add));
    // The file the config names now needs a passphrase: only the agent can sign.
    fs::copy(dir.join("client_key"), dir.join("locked_key")).unwrap();
    fs::copy(dir.join("client_key.pub"), dir.join("locked_key.pub")).unwrap();
    ssh_keygen(&[
        "-q",
        "-p",
        "-N",
        "a passphrase",
        "-f",
        dir.join("locked_key").to_str().unwrap(),
    ]);
    let config = fs::read_to_string(lab.ssh_config())
        .unwrap()
        .replace("client_key", "locked_key");
    let config_path = dir.join("agent_config");
    fs::write(&config_path, config).unwrap();
    let run = dry_run(
        &inv.path,
        &config_path,
        &[("SSH_AUTH_SOCK", socket.to_str().unwrap())],
    );
    run.assert_changed();
    assert!(run.text.contains(BUILT_IN), "{}", run.text);

    // Without the agent neither client can log in, and the report says so.
    let run = dry_run(&inv.path, &config_path, &[]);
    assert_eq!(run.status(), "unreachable", "{}", run.text);
    assert!(
        run.error().contains("authentication failed"),
        "{}",
        run.error()
    );
}

/// A host behind a ProxyJump (another lab server): `ssh` makes that connection.
#[test]
fn a_proxy_jump_is_left_to_ssh_and_works() {
    let mut lab = SshLab::start("jumped", 1);
    lab.add("bastion", true);
    let sandbox = Sandbox::centos7();
    let target = lab.servers[0].port;
    let bastion = lab.server("bastion").port;
    let dir = lab.dir();
    let config = format!(
        "Host behind\n  HostName 127.0.0.1\n  Port {target}\n  User root\n  ProxyJump root@127.0.0.1:{bastion}\n\n{}",
        fs::read_to_string(lab.ssh_config()).unwrap()
    );
    let config_path = dir.join("jump_config");
    fs::write(&config_path, config).unwrap();
    let inv = plan_file(&format!(
        "[[hosts]]\nname = \"behind\"\nroot = {:?}\n",
        sandbox.root.display().to_string()
    ));
    let run = dry_run(&inv.path, &config_path, &[]);
    run.assert_changed();
    assert!(run.text.contains("since proxyjump is set"), "{}", run.text);
    assert_eq!(lab.servers[0].commands().len(), 1);
}

/// Differential, against OpenSSH itself: for each known_hosts below, the built-in client
/// accepts the host only where `ssh` (BatchMode, strict checking, same config) logs in,
/// and the run's outcome is the one `ssh` would give (the built-in client hands every
/// other case to ssh).
#[test]
fn the_built_in_client_accepts_a_host_key_only_where_ssh_does() {
    let (lab, _sandbox, inv) = one_host("differ", KexOffer::El7);
    let dir = lab.dir();
    let port = lab.servers[0].port;
    let host = key_of(&dir.join("host_key.pub"));
    let other = another_key(dir);
    let cases = [
        ("exact", format!("[127.0.0.1]:{port} {host}\n")),
        ("bare name, another port", format!("127.0.0.1 {host}\n")),
        ("wildcard", format!("[127.0.0.?]:{port} {host}\n")),
        (
            "negated",
            format!("[127.0.0.*]:{port},![127.0.0.1]:{port} {host}\n"),
        ),
        (
            "tab between fields",
            format!("[127.0.0.1]:{port}\t{host}\n"),
        ),
        (
            "revoked",
            format!("[127.0.0.1]:{port} {host}\n@revoked [127.0.0.1]:{port} {host}\n"),
        ),
        (
            "certificate authority only",
            format!("@cert-authority [127.0.0.1]:{port} {host}\n"),
        ),
        ("another key", format!("[127.0.0.1]:{port} {other}\n")),
        (
            "another key besides",
            format!("[127.0.0.1]:{port} {other}\n[127.0.0.1]:{port} {host}\n"),
        ),
        ("empty", String::new()),
    ];
    for (case, known) in cases {
        fs::write(dir.join("known_hosts"), &known).unwrap();
        let ssh = Command::new("ssh")
            .args([
                "-F",
                lab.ssh_config().to_str().unwrap(),
                "-o",
                "BatchMode=yes",
            ])
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-p",
                &port.to_string(),
                "root@127.0.0.1",
                "true",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let ssh_ok = ssh.status.success();
        let run = dry_run(&inv.path, &lab.ssh_config(), &[]);
        let built_in = run.text.contains(BUILT_IN);
        assert!(
            !built_in || ssh_ok,
            "{case}: the built-in client accepted what ssh refuses\n{}",
            run.text
        );
        assert_eq!(
            run.status() == "changed",
            ssh_ok,
            "{case}: ssh {}, the run {}\n{}",
            if ssh_ok { "logs in" } else { "refuses" },
            run.status(),
            run.text
        );
        // Where known_hosts vouches plainly, the built-in client is what made it.
        if [
            "exact",
            "bare name, another port",
            "wildcard",
            "another key besides",
        ]
        .contains(&case)
        {
            assert!(built_in, "{case}: {}", run.text);
        }
    }
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
