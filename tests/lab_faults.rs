//! Issue 10, acceptance a, on the lab (lab/lab): a fault matrix. Each case stages one
//! fault on a booted host with a real dockerd, checks what the run did about it, and ends
//! with "the next apply converges and nothing is lost": the operator's own daemon.json
//! keys intact (in the file and in the running dockerd), an engine installed, docker
//! active where it was.
//!
//! Timing a fault at a step boundary: runs from the controller go over SSH with a key
//! whose authorized_keys entry passes every command through a gate (GATE below). A run
//! is one SSH command (its fact session then serves the run's other commands, each as
//! `sh FILE`, src/host/held_session.rs), so the gate also puts a `sh` first on that
//! session's PATH that passes each served command through the same check. The
//! test arms the gate with a piece of command text; the first command holding it waits
//! on the host, unrun, until the test says `go` or `drop`. So "killed after daemon.json
//! was written, before the reload" is staged exactly: the tool is killed while its
//! reload command waits at the gate, and the gate then drops that command. Runs on the
//! host itself (`lab ssh HOST /root/rdock-setup …`) are timed from the `-v` step lines.
//!
//! The lab is machine-wide: one test, in order, `lab down` at the end whatever happens.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::lab::*;
use support::run::parse;
use support::{output_text, strip_ansi};

const A: &str = "el7-1";
const B: &str = "el7-2";

/// The operator's own daemon.json, there before the tool: its keys must survive every
/// fault (the lab's dockerd accepts both inside nspawn).
const OPERATOR_JSON: &str =
    "{\n  \"labels\": [\"owner=ops\"],\n  \"max-concurrent-downloads\": 7\n}\n";

fn plan(mirror: &str, version: &str, daemon_extra: &str) -> String {
    format!(
        "{}\n[repo]\nsource = \"http://10.213.0.1:8080\"\n\n[engine]\nversion = \"{version}\"\n\n[daemon]\n\
         registry-mirrors = [\"https://{mirror}.example.com\"]\n{LAB_DAEMON}{daemon_extra}",
        lab_os_repos()
    )
}

fn seed_operator_json(host: &str) {
    sh(
        host,
        &format!("mkdir -p /etc/docker && printf '%s' '{OPERATOR_JSON}' > /etc/docker/daemon.json"),
    );
}

fn daemon_json(host: &str) -> serde_json::Value {
    let text = sh(host, "cat /etc/docker/daemon.json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{host}: daemon.json ({e}):\n{text}"))
}

/// Nothing lost: the operator's keys in the file and in the running dockerd, an engine
/// installed, docker active with the plan's mirror.
fn intact(host: &str, mirror: &str) {
    let json = daemon_json(host);
    assert_eq!(
        json["labels"],
        serde_json::json!(["owner=ops"]),
        "{host}: {json}"
    );
    assert_eq!(json["max-concurrent-downloads"], 7, "{host}: {json}");
    assert!(
        lab(&["ssh", host, "rpm", "-q", "docker-ce"])
            .status
            .success(),
        "{host}: docker-ce installed"
    );
    assert_eq!(sh(host, "systemctl is-active docker"), "active", "{host}");
    assert_eq!(
        sh(host, "docker info --format '{{json .Labels}}'"),
        "[\"owner=ops\"]",
        "{host}: dockerd runs with the operator's labels"
    );
    assert_eq!(
        mirrors(host),
        format!("[\"https://{mirror}.example.com/\"]")
    );
}

/// The next apply converges (on the host itself) and nothing is lost.
fn next_apply_converges(host: &str, plan: &str, mirror: &str, what: &str) {
    let run = timed(&format!("{what}: next apply"), || apply_on(host, plan, &[]));
    assert_eq!(run.code, Some(0), "{what}: {}", run.text);
    intact(host, mirror);
    let again = apply_on(host, plan, &[]);
    assert_eq!(again.code, Some(0), "{what}: {}", again.text);
    assert!(
        again.changing().is_empty(),
        "{what}: converged: {}",
        again.text
    );
}

// ------------------------------------------------------------- the gate ---

/// Every command of the gate key runs through this: when armed (a pattern in
/// /run/rdlab-gate/pattern, a shell glob) the first command it matches is written to `held`
/// and waits, unrun, for `go` (run it) or `drop` (exit 1 without running it).
const GATE: &str = "/usr/local/libexec/rdlab-gate";

const GATE_SCRIPT: &str = r#"#!/bin/sh
# rdock-setup lab test (tests/lab_faults.rs): hold one command at a step boundary.
# As the ForceCommand: the SSH command; as `sh FILE` on the session's PATH: a command
# the run's session serves.
g=/run/rdlab-gate
if [ -n "$RDLAB_GATED" ]; then
  if [ $# -eq 1 ] && [ -f "$1" ]; then c=$(cat -- "$1"); else exec /bin/sh "$@"; fi
else
  c=$SSH_ORIGINAL_COMMAND
fi
if [ -s $g/pattern ] && [ ! -e $g/held ]; then
  p=$(cat $g/pattern)
  case "$c" in
    $p)
      printf '%s' "$c" > $g/held
      while [ ! -e $g/go ] && [ ! -e $g/drop ]; do sleep 0.1; done
      [ -e $g/drop ] && exit 1 ;;
  esac
fi
[ -n "$RDLAB_GATED" ] && exec /bin/sh "$@"
RDLAB_GATED=1; PATH=/usr/local/libexec/rdlab-gate-bin:$PATH; export RDLAB_GATED PATH
exec /bin/sh -c "$c"
"#;

/// The controller's side: a key that goes through the gate, an ssh config for it.
struct Controller {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Controller {
    fn new() -> Controller {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("gate_key");
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "rdlab-gate", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(ok.success());
        let cache = std::env::var("LAB_CACHE").unwrap_or_else(|_| "/var/cache/rdock-lab".into());
        let config = dir.path().join("ssh_config");
        std::fs::write(
            &config,
            format!(
                "Host 10.213.0.*\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {cache}/known_hosts\n",
                key.display()
            ),
        )
        .unwrap();
        Controller { dir, config }
    }

    /// The gate and the key on a host (again after `lab reset`).
    fn admit(&self, host: &str) {
        let pubkey = std::fs::read_to_string(self.dir.path().join("gate_key.pub")).unwrap();
        let script = self.dir.path().join("gate");
        std::fs::write(&script, GATE_SCRIPT).unwrap();
        sh(host, "mkdir -p /usr/local/libexec");
        lab_ok(&["copy", host, script.to_str().unwrap(), GATE]);
        sh(
            host,
            &format!(
                "chmod 0755 {GATE} && mkdir -p /usr/local/libexec/rdlab-gate-bin && \
                 ln -sf {GATE} /usr/local/libexec/rdlab-gate-bin/sh && \
                 echo 'command=\"{GATE}\" {}' >> /root/.ssh/authorized_keys",
                pubkey.trim()
            ),
        );
    }

    /// `rdock-setup apply` from the controller over SSH, started; `-v` step lines on stderr.
    fn spawn(&self, hosts: &[&str], plan: &str, extra: &[&str]) -> Running {
        let plan_path = self.dir.path().join(format!("plan-{}.toml", unique()));
        std::fs::write(&plan_path, plan).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdock-setup"));
        cmd.arg("apply").arg(&plan_path);
        for host in hosts {
            let ip = lab_ok(&["ip", host]).trim().to_string();
            cmd.args(["--host", &format!("root@{ip}")]);
        }
        cmd.arg("--ssh-config")
            .arg(&self.config)
            .args(["--format", "json", "-v"])
            .args(extra);
        Running::start(cmd)
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn arm_gate(host: &str, pattern: &str) {
    sh(
        host,
        &format!(
            "rm -rf /run/rdlab-gate && mkdir -p /run/rdlab-gate && printf '%s' '{pattern}' > /run/rdlab-gate/pattern"
        ),
    );
}

/// Wait until a command waits at the gate; its text.
fn held_at_gate(host: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let out = lab(&["ssh", host, "cat", "/run/rdlab-gate/held"]);
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(
            start.elapsed() < within,
            "{host}: nothing reached the gate within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn open_gate(host: &str, how: &str) {
    sh(host, &format!("touch /run/rdlab-gate/{how}"));
}

// ------------------------------------------------------ a run in flight ---

/// A run started in the background: its stderr lines as they come, stdout at the end.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
    started: Instant,
}

impl Running {
    fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            bytes
        });
        let err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(strip_ansi(&line)).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            stderr: Vec::new(),
            stdout,
            started: Instant::now(),
        }
    }

    /// The tool run on the host itself, as `apply_on` does, with its pid on stderr first.
    fn on_host(host: &str, plan: &str) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let plan_path = dir.path().join("plan.toml");
        std::fs::write(&plan_path, plan).unwrap();
        lab_ok(&["copy", host, plan_path.to_str().unwrap(), "/root/plan.toml"]);
        let mut cmd = Command::new(lab_script());
        cmd.args([
            "ssh",
            host,
            "sh",
            "-c",
            "echo rdlab-pid=$$ >&2; exec /root/rdock-setup apply /root/plan.toml --format json -v",
        ]);
        Running::start(cmd)
    }

    /// Wait for a stderr line `accept` takes; panics past `within`.
    fn wait_line(&mut self, within: Duration, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stderr.push(line.clone());
                    if accept(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no such line within {within:?}; stderr so far:\n{}",
                    self.stderr.join("\n")
                ),
            }
        }
    }

    fn pid_on_host(&mut self) -> String {
        let line = self.wait_line(Duration::from_secs(30), |l| l.starts_with("rdlab-pid="));
        line.trim_start_matches("rdlab-pid=").trim().to_string()
    }

    /// Wait for the end, bounded; the output as `Output` (stderr: every line).
    fn finish(mut self, within: Duration) -> (Output, Duration) {
        let deadline = self.started + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the run did not end within {within:?}; stderr:\n{}",
                    self.stderr.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let elapsed = self.started.elapsed();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.stderr.push(line);
        }
        let stdout = self.stdout.join().unwrap();
        let output = Output {
            status,
            stdout,
            stderr: (self.stderr.join("\n") + "\n").into_bytes(),
        };
        (output, elapsed)
    }

    /// SIGKILL, as `kill -9` would (Child::kill).
    fn kill(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }
}

fn run_error(out: &Output) -> String {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    json["hosts"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn is_step_line(line: &str, steps: &[&str]) -> bool {
    steps
        .iter()
        .any(|s| line.contains(&format!("step=\"{s}\"")))
}

// ---------------------------------------------------------------- cases ---

/// SIGINT or SIGTERM during an engine install on a fresh host (the tool on the host):
/// the transaction finishes, no later step runs, the report says interrupted, exit 1.
fn signal_during_install(host: &str, signal: &str) {
    seed_operator_json(host);
    let p = plan("mirror-a", "latest", "");
    let mut run = Running::on_host(host, &p);
    let pid = run.pid_on_host();
    // The transaction belongs to the first step with packages (EL7: prerequisites).
    run.wait_line(Duration::from_secs(120), |l| {
        is_step_line(l, &["cleanup", "prerequisites", "engine"])
    });
    // Signal only while dnf runs: the transaction is in flight.
    let start = Instant::now();
    loop {
        let out = lab(&[
            "ssh",
            host,
            "sh",
            "-c",
            &format!("pgrep -x dnf >/dev/null && kill -{signal} {pid} && echo sent"),
        ]);
        if String::from_utf8_lossy(&out.stdout).contains("sent") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{host}: dnf never ran:\n{}",
            run.stderr.join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (out, elapsed) = run.finish(Duration::from_secs(600));
    eprintln!("note: SIG{signal}: {}", run_error(&out));
    eprintln!(
        "e2e: SIG{signal} during the engine install: {:.1}s",
        elapsed.as_secs_f64()
    );
    let report = parse(out);
    assert_eq!(report.code, Some(1), "{}", report.text);
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains("interrupted"), "{error}");
    // The transaction finished: the engine is installed and rpm is consistent.
    assert!(
        lab(&[
            "ssh",
            host,
            "rpm",
            "-q",
            "docker-ce",
            "docker-ce-cli",
            "containerd.io"
        ])
        .status
        .success(),
        "{}",
        report.text
    );
    // The engine's packages came in with the transaction: the report says so.
    assert_eq!(report.step("engine").status, "changed", "{}", report.text);
    // No later step ran: daemon.json is the operator's, docker was never started.
    assert_eq!(
        report.step("daemon-json").status,
        "skipped",
        "{}",
        report.text
    );
    assert_eq!(report.step("service").status, "skipped", "{}", report.text);
    assert_eq!(
        sh(host, "cat /etc/docker/daemon.json"),
        OPERATOR_JSON.trim_end()
    );
    assert_ne!(sh(host, "systemctl is-active docker || true"), "active");
    next_apply_converges(host, &p, "mirror-a", &format!("SIG{signal}"));
}

/// The tool killed (SIGKILL) while a command of the next step waits at the gate, unrun.
fn killed_at(controller: &Controller, host: &str, plan: &str, gate: &str) -> String {
    arm_gate(host, gate);
    let run = controller.spawn(&[host], plan, &[]);
    let held = held_at_gate(host, Duration::from_secs(300));
    run.kill();
    open_gate(host, "drop");
    held
}

/// Kill -9 right after the package transaction, before daemon.json is written.
fn sigkill_after_transaction(controller: &Controller, host: &str) {
    let before = sh(host, "cat /etc/docker/daemon.json");
    let p = plan("mirror-b", "=24.0.7", "");
    // The daemon-json step's first write is state.json's pending record (README): its
    // temporary file, not the fact script (which reads state.json and, serving, may
    // make a directory with mktemp).
    let held = timed("SIGKILL after the package transaction", || {
        killed_at(
            controller,
            host,
            &p,
            "*state.json*mktemp*/.rdock-setup.XXXXXX*",
        )
    });
    assert!(held.contains("state.json"), "{held}");
    // The transaction is done (24.0.7 in), daemon.json as it was.
    assert!(
        sh(host, "rpm -q docker-ce").contains("-24.0.7-"),
        "the downgrade finished before the kill"
    );
    assert_eq!(sh(host, "cat /etc/docker/daemon.json"), before);
    next_apply_converges(host, &p, "mirror-b", "SIGKILL after the transaction");
    // Not asserted: the lab's packages have no %postun restart, so the dockerd that ran
    // before the downgrade may still run (a reload keeps its binary); said for the record.
    eprintln!(
        "note: after the downgrade: rpm {}, dockerd {} ({})",
        sh(host, "rpm -q docker-ce"),
        sh(host, "docker version --format '{{.Server.Version}}'"),
        sh(
            host,
            "readlink /proc/$(systemctl show docker -p MainPID --value)/exe"
        )
    );
}

/// Kill -9 after daemon.json was written, before docker's reload.
fn sigkill_before_reload(controller: &Controller, host: &str) {
    let p = plan("mirror-c", "=24.0.7", "");
    let held = timed("SIGKILL after daemon.json, before the reload", || {
        killed_at(controller, host, &p, "*systemctl reload docker*")
    });
    assert!(held.contains("reload docker"), "{held}");
    assert!(sh(host, "cat /etc/docker/daemon.json").contains("mirror-c"));
    assert_eq!(
        mirrors(host),
        "[\"https://mirror-b.example.com/\"]",
        "dockerd still runs the old settings"
    );
    next_apply_converges(host, &p, "mirror-c", "SIGKILL before the reload");
}

/// A second apply while one holds the target: it waits --lock-wait, then names the holder.
fn second_apply_waits(controller: &Controller, host: &str) {
    let p = plan("mirror-d", "=24.0.7", "");
    arm_gate(host, "*systemctl reload docker*");
    let first = controller.spawn(&[host], &p, &[]);
    held_at_gate(host, Duration::from_secs(120));
    let start = Instant::now();
    let second = timed("second apply against a held lock (--lock-wait 3)", || {
        apply_on(host, &p, &["--lock-wait", "3"])
    });
    let waited = start.elapsed();
    assert_eq!(second.code, Some(1), "{}", second.text);
    let error = second.error.clone().unwrap_or_default();
    eprintln!("note: second apply: {error}");
    assert!(error.contains("another run holds the lock"), "{error}");
    assert!(error.contains("rdock-setup"), "names the holder: {error}");
    assert!(error.contains("waited 3s"), "{error}");
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(30),
        "{waited:?}"
    );
    open_gate(host, "go");
    let (out, elapsed) = first.finish(Duration::from_secs(120));
    eprintln!(
        "e2e: the first apply, let go: {:.1}s",
        elapsed.as_secs_f64()
    );
    let first = parse(out);
    assert_eq!(first.code, Some(0), "{}", first.text);
    next_apply_converges(host, &p, "mirror-d", "second apply");
}

/// A change dockerd refuses at start, applied twice: rolled back both times.
fn breaking_change_twice(host: &str) {
    let good = plan("mirror-d", "=24.0.7", "");
    let breaking = good.replace("storage-driver = \"vfs\"", "storage-driver = \"btrfs\"");
    let file = sh(host, "cat /etc/docker/daemon.json");
    for round in 1..=2 {
        let run = timed(&format!("breaking change, round {round}"), || {
            apply_on(host, &breaking, &[])
        });
        assert_eq!(run.code, Some(1), "{}", run.text);
        let error = run.error.clone().unwrap_or_default();
        assert!(error.contains("rolled back"), "round {round}: {error}");
        assert_eq!(
            sh(host, "cat /etc/docker/daemon.json"),
            file,
            "round {round}"
        );
        assert_eq!(sh(host, "systemctl is-active docker"), "active");
        assert_eq!(sh(host, "docker info --format '{{.Driver}}'"), "vfs");
    }
    let failed = sh(
        host,
        "ls /etc/docker | grep -c 'daemon.json.rdock-setup-.*failed$'",
    );
    assert_eq!(failed, "2", "each failed file kept");
    next_apply_converges(host, &good, "mirror-d", "breaking change twice");
}

/// dnf's own lock held by another process: the transaction is bounded, reported.
fn package_lock_held(host: &str) {
    // dnf's rpmdb lock, taken with dnf's own code, as a running dnf holds it.
    let holder = sh(
        host,
        "setsid python3 -c 'import dnf.lock, time\n\
         l = dnf.lock.build_rpmdb_lock(\"/var/lib/dnf\", False)\nl.__enter__()\ntime.sleep(900)' \
         </dev/null >/dev/null 2>&1 & echo $!",
    );
    std::thread::sleep(Duration::from_secs(2));
    let p = plan("mirror-d", "=26.1.4", "");
    let start = Instant::now();
    let run = timed(
        "upgrade against a held dnf lock (--transaction-timeout 20)",
        || apply_on(host, &p, &["--transaction-timeout", "20"]),
    );
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(start.elapsed() < Duration::from_secs(150), "bounded");
    let error = run.error.clone().unwrap_or_default();
    eprintln!("note: dnf lock held: {error}");
    assert!(error.contains("20s"), "{error}");
    // Nothing changed: the old engine, rpm consistent, docker as it ran.
    assert!(sh(host, "rpm -q docker-ce").contains("-24.0.7-"));
    intact(host, "mirror-d");
    sh(host, &format!("kill {holder}"));
    next_apply_converges(host, &p, "mirror-d", "dnf lock");
}

/// dockerd frozen (SIGSTOP): `docker info` hangs; the run is bounded and says why.
fn dockerd_frozen(host: &str) {
    let p = plan("mirror-d", "=26.1.4", "");
    let pid = sh(host, "systemctl show docker -p MainPID --value");
    sh(host, &format!("kill -STOP {pid}"));
    let start = Instant::now();
    let run = timed("apply with dockerd frozen (--command-timeout 30)", || {
        apply_on(host, &p, &["--command-timeout", "30"])
    });
    let elapsed = start.elapsed();
    sh(host, &format!("kill -CONT {pid}"));
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(elapsed < Duration::from_secs(120), "bounded: {elapsed:?}");
    let error = run.error.clone().unwrap_or_default();
    eprintln!("note: dockerd frozen: {error}");
    assert!(error.contains("no answer within 20s"), "{error}");
    next_apply_converges(host, &p, "mirror-d", "dockerd frozen");
}

/// /etc/docker on a full filesystem: the write fails whole, the old file stays.
fn etc_docker_full(host: &str) {
    let p = plan("mirror-e", "=26.1.4", "");
    let before = sh(host, "cat /etc/docker/daemon.json");
    sh(
        host,
        "rm -rf /run/rdlab-docker && cp -a /etc/docker /run/rdlab-docker && \
         mount -t tmpfs -o size=64k rdlab-full /etc/docker && cp -a /run/rdlab-docker/. /etc/docker/ && \
         (dd if=/dev/zero of=/etc/docker/fill bs=1k 2>/dev/null; true) && df -k /etc/docker >&2",
    );
    let run = timed("daemon.json on a full filesystem", || {
        apply_on(host, &p, &[])
    });
    let left = sh(host, "ls -A /etc/docker");
    sh(host, "umount /etc/docker && rm -rf /run/rdlab-docker");
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run.error.clone().unwrap_or_default();
    eprintln!("note: full /etc/docker: {error}");
    assert!(error.contains("No space left"), "{error}");
    assert!(!left.contains(".rdock-setup."), "no temp file left: {left}");
    assert_eq!(sh(host, "cat /etc/docker/daemon.json"), before);
    intact(host, "mirror-d");
    next_apply_converges(host, &p, "mirror-e", "full /etc/docker");
}

/// The SSH link of one host dropped mid-run, the fleet going on to the next host.
fn link_dropped(controller: &Controller, dropped: &str, other: &str) {
    let p = plan("mirror-f", "latest", "");
    arm_gate(dropped, "*systemctl reload docker*");
    let run = controller.spawn(&[dropped, other], &p, &["--parallel", "1"]);
    held_at_gate(dropped, Duration::from_secs(120));
    let link = format!("rdv-{dropped}");
    let down = Command::new("ip")
        .args(["link", "set", &link, "down"])
        .status()
        .unwrap();
    assert!(down.success());
    let (out, elapsed) = run.finish(Duration::from_secs(300));
    let up = Command::new("ip")
        .args(["link", "set", &link, "up"])
        .status()
        .unwrap();
    assert!(up.success());
    eprintln!(
        "e2e: fleet with {dropped}'s link dropped mid-run: {:.1}s",
        elapsed.as_secs_f64()
    );
    let text = output_text(&out);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {text}"));
    let hosts = json["hosts"].as_array().unwrap_or_else(|| panic!("{text}"));
    assert_eq!(hosts.len(), 2, "{text}");
    let status = |i: usize| hosts[i]["status"].as_str().unwrap_or_default().to_string();
    eprintln!(
        "note: link dropped: {dropped} {}: {}",
        status(0),
        hosts[0]["error"].as_str().unwrap_or_default()
    );
    assert!(
        status(0) == "unreachable" || status(0) == "failed",
        "{dropped}: {text}"
    );
    assert!(
        hosts[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("10.213.0."),
        "the reason names the host: {text}"
    );
    assert_eq!(status(1), "changed", "{other} converged: {text}");
    assert_eq!(out.status.code(), Some(1), "{text}");
    // Bounded: keep-alives (15 s x 4) end the dead session.
    assert!(elapsed < Duration::from_secs(150), "{elapsed:?}");
    intact(other, "mirror-f");
    open_gate(dropped, "drop");
    next_apply_converges(dropped, &p, "mirror-f", "link dropped");
}

#[test]
fn lab_fault_matrix() {
    let _down = Down;
    timed("lab up 2", || lab_ok(&["up", "2"]));
    let controller = Controller::new();
    for host in [A, B] {
        install_tool(host);
        controller.admit(host);
    }

    // SIGINT and SIGTERM during an engine install, one fresh host each.
    signal_during_install(A, "INT");
    signal_during_install(B, "TERM");
    sigkill_after_transaction(&controller, A);
    sigkill_before_reload(&controller, A);
    second_apply_waits(&controller, A);
    breaking_change_twice(A);
    package_lock_held(A);
    dockerd_frozen(A);
    etc_docker_full(A);
    link_dropped(&controller, B, A);

    timed("lab down", || lab_ok(&["down"]));
    nothing_left("after down");
}
