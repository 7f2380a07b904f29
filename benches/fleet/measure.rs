//! What one controller run cost: wall time; CPU of the controller and everything it
//! started (GNU time: getrusage of the waited-for children, i.e. wait4's figures);
//! peak RSS of its largest process (time's %M) and of its whole process tree (sampled
//! from /proc every 200 ms: 500 ssh clients are 500 processes, which %M cannot see).

use std::fs;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Cost {
    pub wall: f64,
    pub user: f64,
    pub sys: f64,
    /// KiB, the largest single process.
    pub max_process_kib: u64,
    /// KiB, the most the whole tree held at one sample.
    pub tree_kib: u64,
    pub code: i32,
    pub stderr_tail: String,
}

impl Cost {
    pub fn cpu(&self) -> f64 {
        self.user + self.sys
    }
}

/// Runs `cmd` (stdin closed, stdout to `stdout_file`) under GNU time.
/// Its stderr goes beside, to `stdout_file` + `.err`.
pub fn measure(cmd: &Command, stdout_file: &std::path::Path) -> Cost {
    let times = tempfile::NamedTempFile::new().unwrap();
    let errors_path = stdout_file.with_extension("err");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-o")
        .arg(times.path())
        .arg("-f")
        .arg("%U %S %M")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    crate::support::carry_env_and_dir(cmd, &mut timed);
    let start = Instant::now();
    let mut child = timed
        .stdin(Stdio::null())
        .stdout(fs::File::create(stdout_file).unwrap())
        .stderr(fs::File::create(&errors_path).unwrap())
        .spawn()
        .expect("/usr/bin/time (scripts/deps installs the time package)");
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, peak, pid) = (done.clone(), peak.clone(), child.id());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(tree_rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let status = child.wait().unwrap();
    let wall = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let text = fs::read_to_string(times.path()).unwrap_or_default();
    let mut f = text.lines().last().unwrap_or("").split_whitespace();
    let mut next = || f.next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let (user, sys, max_kib) = (next(), next(), next());
    let err = fs::read_to_string(&errors_path).unwrap_or_default();
    let tail: Vec<&str> = err.lines().rev().take(6).collect();
    Cost {
        wall,
        user,
        sys,
        max_process_kib: max_kib as u64,
        tree_kib: peak.load(Ordering::Relaxed),
        code: status.code().unwrap_or(-1),
        stderr_tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    }
}

/// Sum of VmRSS over `pid` and its descendants (GNU time itself excluded: it is the
/// measurement, ~2 MiB).
fn tree_rss_kib(pid: u32) -> u64 {
    let mut total = 0;
    let mut stack = children(pid);
    while let Some(p) = stack.pop() {
        total += rss_kib(p);
        stack.extend(children(p));
    }
    total
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let path = t.path().join("children");
        if let Ok(text) = fs::read_to_string(&path) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

fn rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
