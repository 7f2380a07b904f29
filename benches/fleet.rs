//! Converged fleet apply over 50 loopback sshd hosts, side by side with a sequential
//! shell loop of `ssh host` running the same fact commands. Prints wall time, SSH
//! commands per host, controller CPU time and peak memory. Run: `cargo bench --bench fleet`
//! (as root, after scripts/deps). Figures, not assertions.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Instant;

use support::run::plan_file;
use support::sshd::SshLab;
use support::{Sandbox, repo, shimmed_path};

const HOSTS: usize = 50;

fn main() {
    let hosts: usize = std::env::var("RDOCK_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(HOSTS);
    let bin = env!("CARGO_BIN_EXE_rdock-setup");
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n\n[daemon]\nregistry-mirrors = [\"https://mirror.example.com\"]\n",
        repo().base_url
    ));

    // One converged root, copied for every host (an install per host would only
    // measure dnf).
    let template = Sandbox::centos7();
    // Without DNS, as every run of the tool in tests: the probe of mirror.example.com
    // must not leave the machine.
    let mut converge = Command::new(bin);
    converge
        .args([
            "apply",
            plan.path.to_str().unwrap(),
            "--root",
            template.root.to_str().unwrap(),
        ])
        .env("PATH", shimmed_path());
    let status = support::without_dns(converge)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "converging the template failed");
    let roots = tempfile::tempdir().unwrap();
    let lab = SshLab::start("bench", hosts);
    let mut inventory = String::from("[defaults]\nuser = \"root\"\n");
    for (i, server) in lab.servers.iter().enumerate() {
        let root = roots.path().join(format!("r{i}"));
        let ok = Command::new("cp")
            .arg("-a")
            .arg(&template.root)
            .arg(&root)
            .status()
            .unwrap();
        assert!(ok.success());
        inventory.push_str(&format!(
            "\n[[hosts]]\nname = \"{}\"\naddress = \"127.0.0.1\"\nport = {}\nroot = \"{}\"\n",
            server.name,
            server.port,
            root.display()
        ));
    }
    let inventory = plan_file(&inventory);

    println!(
        "converged fleet of {hosts} loopback sshd hosts (2 cores; each host's target a copy of one converged root)\n"
    );
    for parallel in [10, 50] {
        for s in &lab.servers {
            s.clear_log();
        }
        let (wall, user, sys, peak_kib, code) = timed(&[
            bin,
            "apply",
            plan.path.to_str().unwrap(),
            "--inventory",
            inventory.path.to_str().unwrap(),
            "--ssh-config",
            lab.ssh_config().to_str().unwrap(),
            "--parallel",
            &parallel.to_string(),
        ]);
        let commands: usize = lab.servers.iter().map(|s| s.commands().len()).sum();
        println!(
            "rdock-setup apply --parallel {parallel:<3} exit {code}: wall {wall:.2} s, controller CPU {:.2} s (user {user:.2} + sys {sys:.2}), peak RSS {:.1} MiB, SSH commands per host {:.2}",
            user + sys,
            peak_kib as f64 / 1024.0,
            commands as f64 / hosts as f64
        );
    }

    // The shell loop operators use today: one host after another, the same facts.
    let mut script = String::from("set -e\n");
    for (i, server) in lab.servers.iter().enumerate() {
        let root = roots.path().join(format!("r{i}"));
        let r = root.display();
        script.push_str(&format!(
            "ssh -F {cfg} -p {port} root@127.0.0.1 'cat {r}/etc/os-release {r}/etc/redhat-release {r}/etc/docker/daemon.json {r}/etc/yum.repos.d/docker-ce.repo; uname -r; uname -m; id -u; \
             rpm --root {r} -q --qf \"%{{NAME}} %{{EPOCH}}:%{{VERSION}}-%{{RELEASE}}\\n\" docker-ce docker-ce-cli containerd.io docker docker-common docker-engine yum-utils lvm2 device-mapper-persistent-data || true; \
             systemctl --root={r} is-enabled docker.service || true' > /dev/null\n",
            cfg = lab.ssh_config().display(),
            port = server.port,
        ));
    }
    for s in &lab.servers {
        s.clear_log();
    }
    let (wall, user, sys, peak_kib, code) = timed(&["sh", "-c", &script]);
    let commands: usize = lab.servers.iter().map(|s| s.commands().len()).sum();
    println!(
        "sequential `ssh host` loop    exit {code}: wall {wall:.2} s, controller CPU {:.2} s (user {user:.2} + sys {sys:.2}), peak RSS {:.1} MiB, SSH commands per host {:.2}",
        user + sys,
        peak_kib as f64 / 1024.0,
        commands as f64 / hosts as f64
    );
}

/// Wall seconds, user and system CPU seconds (the process and its children), peak RSS
/// of the largest process in KiB, exit code — measured by GNU time.
fn timed(argv: &[&str]) -> (f64, f64, f64, u64, i32) {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let start = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(out_file.path())
        .arg("-f")
        .arg("%U %S %M")
        .args(argv)
        .env("PATH", shimmed_path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("/usr/bin/time (scripts/deps installs the time package)");
    let wall = start.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(out_file.path()).unwrap();
    let last = text.lines().last().unwrap_or("");
    let mut f = last.split_whitespace();
    let user: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let sys: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let peak: u64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    (wall, user, sys, peak, status.code().unwrap_or(-1))
}
