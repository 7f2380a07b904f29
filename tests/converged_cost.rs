//! A converged host costs one fact pass: at most 3 processes (counted by strace, from
//! outside the tool), no repo request, no write.

mod support;

use std::process::Command;

use support::run::{apply, plan_file};
use support::{Sandbox, output_text, repo, shimmed_path};

#[test]
fn converged_apply_starts_at_most_three_processes() {
    let sandbox = Sandbox::centos7();
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n\n[daemon]\n\
         registry-mirrors = [\"https://mirror.example.com\"]\n",
        repo().base_url
    ));
    let first = apply(&sandbox, &plan.path, &[]);
    assert_eq!(first.code, Some(0), "{}", first.text);

    let trace = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=execve,clone,clone3,fork,vfork",
            "-o",
        ])
        .arg(trace.path())
        .arg(env!("CARGO_BIN_EXE_rdock-setup"))
        .args([
            "apply",
            plan.path.to_str().unwrap(),
            "--root",
            sandbox.root.to_str().unwrap(),
        ])
        .env("PATH", shimmed_path())
        .output()
        .expect("strace (scripts/deps installs it)");
    assert!(out.status.success(), "{}", output_text(&out));
    let log = std::fs::read_to_string(trace.path()).unwrap();
    let pid = |line: &str| line.split_whitespace().next().unwrap_or("").to_string();
    // The tool is the first process; what it starts are its direct children. (Debian's
    // rpm itself runs `sh -c 'bash -c "echo ~/.rpmdb"'` to expand its database path:
    // rpm's processes, not the tool's, and absent from an EL host's rpm.)
    let tool = pid(log.lines().next().unwrap_or(""));
    // strace splits a call across lines (`<unfinished ...>` / `<... clone3 resumed>) = PID`);
    // the tool's fork-like calls that returned a PID are the processes it started.
    // Threads (the tool reads a command's pipes and bounds its time on threads) are
    // clones too, flagged CLONE_THREAD on the call's first line: not processes.
    let mut thread_pending = false;
    let children: Vec<String> = log
        .lines()
        .filter(|line| pid(line) == tool && is_fork_like(line))
        .filter(|line| {
            let resumed = line.contains("<... ");
            let thread = if resumed {
                thread_pending
            } else {
                line.contains("CLONE_THREAD")
            };
            thread_pending = !resumed && thread && line.contains("<unfinished");
            !thread
        })
        .filter_map(|line| line.rsplit_once(") ").map(|(_, r)| r.trim()))
        .filter_map(|r| r.strip_prefix("= "))
        .filter(|r| r.parse::<u32>().is_ok_and(|child| child > 0))
        .map(str::to_string)
        .collect();
    // A child that exec'd successfully: its execve ended in `= 0`, on one line or on
    // the `<... execve resumed>` line.
    let mut started: Vec<String> = log
        .lines()
        .filter(|line| line.contains("execve") && line.trim_end().ends_with("= 0"))
        .map(pid)
        .filter(|p| children.contains(p))
        .collect();
    started.dedup();
    assert!(
        started.len() <= 3,
        "a converged run started {} processes:\n{}",
        started.len(),
        log
    );
    assert_eq!(started.len(), children.len(), "every child execs:\n{log}");
    assert!(!started.is_empty(), "strace saw no process at all:\n{log}");
}

/// A clone/fork-family call (or its resumption), not just any line whose text
/// happens to contain "clone" (a path such as /tmp/cleanclone does).
fn is_fork_like(line: &str) -> bool {
    let call = line.split_whitespace().nth(1).unwrap_or("");
    ["clone(", "clone3(", "fork(", "vfork("]
        .iter()
        .any(|name| call.starts_with(name))
        || [
            "clone resumed",
            "clone3 resumed",
            "fork resumed",
            "vfork resumed",
        ]
        .iter()
        .any(|name| line.contains(&format!("<... {name}")))
}
