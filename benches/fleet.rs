//! Fleet benchmark (issue 13): rdock-setup side by side with a sequential `ssh` loop,
//! pyinfra and ansible-playbook, on the same loopback sshd hosts, with a chosen
//! round-trip time in front of each host (a user-space delay proxy: no netem here).
//! Prints a table; asserts nothing about time. Run: `scripts/bench-fleet` (README:
//! Benchmarks), which installs what it needs and runs `cargo bench --bench fleet`.
//!
//! Choose a subset with the environment (defaults: the whole matrix):
//! BENCH_HOSTS=50,200,500  BENCH_RTT=0,50  BENCH_STATES=converged,fresh
//! BENCH_TOOLS=rdock,loop,pyinfra,ansible  BENCH_PARALLEL=20,50  BENCH_FORKS=50
//! BENCH_PQ=1 (one more case: 50 converged hosts at RTT 0 whose sshd offers this
//! OpenSSH's post-quantum default)  BENCH_FRESH_MAX=50 (fresh cases above it are skipped:
//! a fresh host is a real dnf install, seconds of this machine's CPU each)
//! BENCH_ANSIBLE_MAX=200 (Ansible is skipped on bigger fleets, and on fresh hosts)
//! BENCH_PROFILE=1 (after the first fleet's cases: one more converged rdock-setup run
//! at RTT 0 under `perf record`, and where its CPU went, by program and library)
//! BENCH_KEEP=1 (keep the fleet's and the controllers' files in /tmp for a look).

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "fleet/delay.rs"]
mod delay;
#[path = "fleet/hosts.rs"]
mod hosts;
#[path = "fleet/measure.rs"]
mod measure;
#[path = "fleet/tools.rs"]
mod tools;

use std::path::Path;
use std::process::Command;

use hosts::{Fleet, Kex};
use measure::{Cost, measure};
use support::run::plan_file;
use support::{Sandbox, repo, shimmed_path, without_dns};
use tools::Desired;

fn list(var: &str, default: &str) -> Vec<String> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn numbers(var: &str, default: &str) -> Vec<u64> {
    list(var, default)
        .iter()
        .map(|s| {
            s.parse()
                .unwrap_or_else(|_| panic!("{var}: {s:?} is not a number (e.g. {var}={default})"))
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Converged,
    Fresh,
}

struct Row {
    case: String,
    tool: String,
    cost: Cost,
    commands: Vec<usize>,
    server_cpu: f64,
    hosts: usize,
    note: String,
}

fn main() {
    let host_counts = numbers("BENCH_HOSTS", "50,200,500");
    let rtts = numbers("BENCH_RTT", "0,50");
    let states: Vec<State> = list("BENCH_STATES", "converged,fresh")
        .iter()
        .map(|s| match s.as_str() {
            "converged" => State::Converged,
            "fresh" => State::Fresh,
            other => panic!("BENCH_STATES: {other:?} is neither converged nor fresh"),
        })
        .collect();
    let tools = list("BENCH_TOOLS", "rdock,loop,pyinfra,ansible");
    let parallels = numbers("BENCH_PARALLEL", "20,50");
    let forks = numbers("BENCH_FORKS", "50")[0];
    let pq = std::env::var("BENCH_PQ").map(|v| v != "0").unwrap_or(true);
    let fresh_max = numbers("BENCH_FRESH_MAX", "50")[0] as usize;
    let ansible_max = numbers("BENCH_ANSIBLE_MAX", "200")[0] as usize;
    let profile = std::env::var("BENCH_PROFILE")
        .map(|v| v != "0")
        .unwrap_or(true);
    let (mut profiled, mut profiles) = (false, Vec::new());
    for t in &tools {
        assert!(
            ["rdock", "loop", "pyinfra", "ansible"].contains(&t.as_str()),
            "BENCH_TOOLS: unknown tool {t:?} (rdock, loop, pyinfra, ansible)"
        );
    }
    let needs_venv = tools.iter().any(|t| t == "pyinfra" || t == "ansible");
    if needs_venv && !tools::venv().join("bin/pyinfra").exists() {
        panic!(
            "pyinfra is not installed in {}: run scripts/bench-deps (or scripts/bench-fleet, which runs it)",
            tools::venv().display()
        );
    }

    let (desired, converged, fresh, _plan) = templates();
    let work = tempfile::Builder::new()
        .prefix("rdock-bench-work-")
        .tempdir()
        .unwrap();
    let mut fleets: Vec<(Kex, usize)> = host_counts
        .iter()
        .map(|&n| (Kex::El7, n as usize))
        .collect();
    if pq {
        fleets.push((Kex::PostQuantum, 50));
    }
    println!(
        "fleet benchmark: {} cores, load average at start {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        loadavg()
    );
    print_header();
    for (kex, n) in fleets {
        let fleet = Fleet::start(n, kex, &rtts, &converged.root);
        eprintln!("# fleet of {n} hosts up ({kex:?} kex)");
        for &state in &states {
            if state == State::Fresh && (n > fresh_max || kex == Kex::PostQuantum) {
                continue;
            }
            for &rtt in &rtts {
                if kex == Kex::PostQuantum && rtt != 0 {
                    continue;
                }
                let case = format!(
                    "{n} {} hosts, RTT {rtt} ms{}",
                    if state == State::Fresh {
                        "fresh"
                    } else {
                        "converged"
                    },
                    if kex == Kex::PostQuantum {
                        ", PQ kex"
                    } else {
                        ""
                    }
                );
                eprintln!("# {case}");
                run_case(
                    &fleet,
                    &case,
                    state,
                    rtt,
                    &tools,
                    &parallels,
                    forks,
                    ansible_max,
                    &desired,
                    &fresh.root,
                    work.path(),
                );
            }
        }
        if states.contains(&State::Fresh) && n <= fresh_max && kex == Kex::El7 {
            fleet.reset_roots(&converged.root);
        }
        if profile && !profiled && kex == Kex::El7 && tools.iter().any(|t| t == "rdock") {
            profiled = true;
            let p = *parallels.iter().max().unwrap_or(&50) as usize;
            profiles.push(profile_cpu(&fleet, &desired, p, work.path()));
        }
        if std::env::var_os("BENCH_KEEP").is_some() {
            eprintln!("# kept {}", fleet.dir.keep().display());
        }
    }
    for p in &profiles {
        println!("\n{p}");
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        eprintln!("# kept {}", work.keep().display());
    }
    println!("load average at end {}", loadavg());
}

#[allow(clippy::too_many_arguments)]
fn run_case(
    fleet: &Fleet,
    case: &str,
    state: State,
    rtt: u64,
    tools: &[String],
    parallels: &[u64],
    forks: u64,
    ansible_max: usize,
    desired: &Desired,
    fresh_root: &Path,
    work: &Path,
) {
    let n = fleet.hosts.len();
    let reset = || {
        if state == State::Fresh {
            fleet.reset_roots(fresh_root);
        }
    };
    // The loop replays what rdock-setup ran on each converged host; recorded below.
    let mut recorded: Option<Vec<Vec<String>>> = None;
    let run = |tool: String, cmd: Command| {
        fleet.clear_logs();
        let before = server_cpu(fleet);
        let slug: String = format!("{case}-{tool}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let out = work.join(format!("{slug}.out"));
        let load = loadavg();
        let cost = measure(&cmd, &out);
        // Ansible leaves its ControlPersist masters behind for 60 s: their server side is
        // this run's, so they are closed before the servers' CPU is read.
        tools::close_masters(&work.join("cp"));
        // sshd reaps a finished connection's process on SIGCHLD: a moment for that.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let server = server_cpu(fleet) - before;
        let commands = fleet.commands_per_host();
        let note = outcome(&tool, state, n, &cost, &out, &load);
        eprintln!("#   {tool}: {:.2} s, exit {} {note}", cost.wall, cost.code);
        if cost.code != 0 || note.contains("NOT ALL") {
            eprintln!("{}\n(stdout: {})", cost.stderr_tail, out.display());
        }
        let row = Row {
            case: case.to_string(),
            tool,
            cost,
            commands,
            server_cpu: server,
            hosts: n,
            note,
        };
        print_row(&row);
    };
    for t in tools {
        match t.as_str() {
            "rdock" => {
                for &p in parallels {
                    reset();
                    let cmd = tools::rdock(fleet, rtt, desired, p as usize, work);
                    run(format!("rdock-setup --parallel {p}"), cmd);
                    if recorded.is_none() && state == State::Converged {
                        recorded = Some((0..n).map(|i| fleet.commands(i)).collect());
                    }
                }
            }
            "loop" => {
                let commands: Vec<Vec<String>> = match state {
                    State::Fresh => fleet
                        .hosts
                        .iter()
                        .map(|h| vec![tools::fresh_script(&h.root, desired)])
                        .collect(),
                    State::Converged => match &recorded {
                        Some(c) => c.clone(),
                        None => {
                            // rdock-setup did not run in this case: record it once, unmeasured.
                            fleet.clear_logs();
                            let cmd = tools::rdock(fleet, rtt, desired, 50, work);
                            let _ = measure(&cmd, &work.join("stdout"));
                            (0..n).map(|i| fleet.commands(i)).collect()
                        }
                    },
                };
                reset();
                let cmd = tools::ssh_loop(fleet, rtt, &commands, work);
                run("sequential ssh loop".into(), cmd);
            }
            "pyinfra" => {
                for &p in parallels {
                    reset();
                    let cmd = tools::pyinfra(fleet, rtt, desired, p as usize, work);
                    run(format!("pyinfra 3.10 --parallel {p}"), cmd);
                }
            }
            "ansible" => {
                // Ansible's dnf module runs Python on the "hosts", all of which are this
                // machine's 2 cores: seconds of CPU per host, so big fleets are opt-in.
                if state == State::Fresh || n > ansible_max {
                    continue;
                }
                let cmd = tools::ansible(fleet, rtt, desired, forks as usize, work);
                run(format!("ansible-playbook forks {forks}"), cmd);
            }
            _ => unreachable!(),
        }
    }
}

/// Did the run do what it should (every host ok or changed)? A short note for the table.
fn outcome(tool: &str, state: State, n: usize, cost: &Cost, out: &Path, load: &str) -> String {
    let stdout = std::fs::read_to_string(out).unwrap_or_default();
    let mut note = format!("load {load}");
    if tool.starts_with("rdock-setup") {
        match serde_json::from_str::<serde_json::Value>(&stdout) {
            Ok(json) => {
                let s = &json["summary"];
                let (ok, changed) = (
                    s["ok"].as_u64().unwrap_or(0),
                    s["changed"].as_u64().unwrap_or(0),
                );
                let want = if state == State::Converged {
                    ok
                } else {
                    changed
                };
                if want as usize != n {
                    note.push_str(&format!(
                        "; NOT ALL HOSTS {}: {s}",
                        if state == State::Converged {
                            "ok"
                        } else {
                            "changed"
                        }
                    ));
                }
            }
            Err(e) => note.push_str(&format!("; report not JSON: {e}")),
        }
    } else if cost.code != 0 {
        note.push_str("; FAILED");
    }
    let err = std::fs::read_to_string(out.with_extension("err")).unwrap_or_default();
    if tool.starts_with("pyinfra") {
        // "Grand total  OPS  SUCCESS  ERROR  NO-CHANGE": on a converged host every
        // operation is a no-change.
        if let Some(total) = err
            .lines()
            .find(|l| l.trim_start().starts_with("Grand total"))
        {
            let f: Vec<&str> = total.split_whitespace().collect();
            note.push_str(&format!(
                "; operations {} success {} error {} no change {}",
                f.get(2).unwrap_or(&"?"),
                f.get(3).unwrap_or(&"?"),
                f.get(4).unwrap_or(&"?"),
                f.get(5).unwrap_or(&"?")
            ));
        }
    }
    if tool.starts_with("ansible") {
        let recap: Vec<&str> = stdout.lines().filter(|l| l.contains(" ok=")).collect();
        let unchanged = recap.iter().filter(|l| l.contains(" changed=0 ")).count();
        let failed = recap.iter().filter(|l| !l.contains(" failed=0 ")).count();
        note.push_str(&format!(
            "; recap: {unchanged} of {n} hosts changed=0, {failed} failed"
        ));
    }
    note
}

/// One converged run of rdock-setup under `perf record -e cpu-clock` (all its
/// processes): the share of CPU samples by program and shared object.
fn profile_cpu(fleet: &Fleet, desired: &Desired, parallel: usize, work: &Path) -> String {
    let data = work.join("perf.data");
    let rdock = tools::rdock(fleet, 0, desired, parallel, work);
    let mut cmd = Command::new("perf");
    cmd.args(["record", "-q", "-e", "cpu-clock", "-F", "999", "-o"])
        .arg(&data)
        .arg("--")
        .arg(rdock.get_program())
        .args(rdock.get_args());
    for (k, v) in rdock.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    fleet.clear_logs();
    let cost = measure(&cmd, &work.join("profile.out"));
    let report = Command::new("perf")
        .args(["report", "--stdio", "-q", "--sort", "comm,dso", "-i"])
        .arg(&data)
        .output();
    let lines = match report {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(14)
            .map(|l| format!("    {}", l.trim()))
            .collect::<Vec<_>>()
            .join("\n"),
        Ok(out) => format!(
            "    perf report failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("    perf is not installed ({e}): apt-get install linux-perf"),
    };
    let n = fleet.hosts.len();
    format!(
        "where the CPU of {n} converged hosts went (RTT 0, --parallel {parallel}, under perf: wall {:.2} s, \
         controller CPU {:.1} ms/host incl. perf's own), share of samples by program and library:\n{lines}",
        cost.wall,
        cost.cpu() * 1000.0 / n as f64
    )
}

/// CPU seconds the hosts' sshd processes have reaped from their sessions so far.
fn server_cpu(fleet: &Fleet) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    fleet
        .hosts
        .iter()
        .map(|h| {
            std::fs::read_to_string(format!("/proc/{}/stat", h.sshd_pid()))
                .ok()
                .and_then(|s| {
                    let rest = s.rsplit_once(") ")?.1.to_string();
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    // fields 16 and 17 of stat (cutime, cstime); `rest` starts at field 3
                    let cu: f64 = f.get(13)?.parse().ok()?;
                    let cs: f64 = f.get(14)?.parse().ok()?;
                    Some((cu + cs) / ticks)
                })
                .unwrap_or(0.0)
        })
        .sum()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What rdock-setup's engine step installs on EL7 (the installed ones go to the others).
const ENGINE_PACKAGES: [&str; 6] = [
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-ce-rootless-extras",
    "docker-buildx-plugin",
    "docker-compose-plugin",
];

/// A converged root (the plan applied with `--root`), a fresh one, and what the other
/// controllers need to reach the same state.
fn templates() -> (Desired, Sandbox, Sandbox, support::run::PlanFile) {
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n\n[daemon]\nregistry-mirrors = [\"https://mirror.example.com\"]\n",
        repo().base_url
    ));
    let fresh = Sandbox::centos7();
    let converged = Sandbox::centos7();
    let mut apply = Command::new(env!("CARGO_BIN_EXE_rdock-setup"));
    apply
        .arg("apply")
        .arg(&plan.path)
        .arg("--root")
        .arg(&converged.root)
        .env("PATH", shimmed_path());
    let out = without_dns(apply).output().expect("run rdock-setup");
    assert!(
        out.status.success(),
        "converging the template root failed:\n{}",
        support::output_text(&out)
    );
    let query = Command::new("rpm")
        .arg("--root")
        .arg(&converged.root)
        .args(["-q", "--qf", "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}\\n"])
        .args(ENGINE_PACKAGES)
        .output()
        .expect("rpm");
    let installed = String::from_utf8_lossy(&query.stdout).to_string();
    let engine_line = installed
        .lines()
        .find(|l| l.starts_with("docker-ce "))
        .unwrap_or_else(|| panic!("no docker-ce in the converged root: {installed}"))
        .to_string();
    // name-[epoch:]version-release, as yum takes them
    let packages: Vec<String> = ["yum-utils", "device-mapper-persistent-data", "lvm2"]
        .iter()
        .map(|s| s.to_string())
        .chain(
            installed
                .lines()
                .filter(|l| !l.contains("not installed"))
                .filter_map(|l| {
                    let (name, evr) = l.split_once(' ')?;
                    let vr = evr.split_once(':').map(|(_, vr)| vr).unwrap_or(evr);
                    Some(format!("{name}-{vr}"))
                }),
        )
        .collect();
    let desired = Desired {
        plan: plan.path.clone(),
        repo_file: converged.root.join("etc/yum.repos.d/docker-ce.repo"),
        daemon_json: converged.root.join("etc/docker/daemon.json"),
        engine_line,
        packages,
    };
    (desired, converged, fresh, plan)
}

fn print_header() {
    println!();
    println!(
        "| case | controller | wall s | SSH cmds/host (max) | controller CPU ms/host | peak RSS: largest process / whole tree MiB | server CPU ms/host | note |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|");
}

fn print_row(r: &Row) {
    use std::io::Write as _;
    let n = r.hosts.max(1) as f64;
    let total: usize = r.commands.iter().sum();
    let max = r.commands.iter().copied().max().unwrap_or(0);
    println!(
        "| {} | {} | {:.2} | {:.2} ({}) | {:.1} | {:.1} / {:.0} | {:.1} | exit {}; {} |",
        r.case,
        r.tool,
        r.cost.wall,
        total as f64 / n,
        max,
        r.cost.cpu() * 1000.0 / n,
        r.cost.max_process_kib as f64 / 1024.0,
        r.cost.tree_kib as f64 / 1024.0,
        r.server_cpu * 1000.0 / n,
        r.cost.code,
        r.note
    );
    let _ = std::io::stdout().flush();
}
