//! A remote command that answers, then stays open: the fact script of a run takes the
//! target's lock (an flock on fd 9 of its shell), prints its answers and a marker, and
//! waits for its stdin to close. The run's other commands go through the same
//! multiplexed connection; closing stdin at the end releases the lock. If the
//! controller dies, its ssh client dies, the channel closes, and the remote shell,
//! lock and all, goes with it. A converged host still costs this one SSH command.

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// What the session said up to its marker (or up to its end, when it ended first).
pub struct Opened {
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// `Some` while the remote command runs on, holding the lock.
    pub held: Option<HeldSession>,
}

pub struct HeldSession {
    child: Child,
}

/// Start `argv` (an ssh command line whose remote script prints `marker` on a line of
/// its own once it has answered, then reads stdin to its end), and read its output up
/// to that line, for at most `limit`.
pub fn open(argv: &[String], marker: &str, limit: Duration) -> io::Result<Opened> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    let mut stdout = child.stdout.take().expect("piped stdout");
    let stderr_bytes = Arc::new(Mutex::new(Vec::new()));
    if let Some(mut stderr) = child.stderr.take() {
        let sink = Arc::clone(&stderr_bytes);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .map(|mut s| s.extend_from_slice(&buffer[..n]))
                    .ok();
            }
        });
    }
    let line = format!("\n{marker}\n").into_bytes();
    let (sender, answered) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buffer = [0u8; 65536];
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => {
                    let _ = sender.send((bytes, false));
                    return;
                }
                Ok(n) => {
                    bytes.extend_from_slice(&buffer[..n]);
                    if bytes.ends_with(&line) {
                        bytes.truncate(bytes.len() - line.len());
                        let _ = sender.send((bytes, true));
                        // Drain to the end, so that the remote side never blocks on us.
                        while matches!(stdout.read(&mut buffer), Ok(n) if n > 0) {}
                        return;
                    }
                }
            }
        }
    });
    let stderr = |bytes: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&bytes.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    };
    match answered.recv_timeout(limit) {
        Ok((stdout, true)) => Ok(Opened {
            stdout,
            stderr: stderr(&stderr_bytes),
            held: Some(HeldSession { child }),
        }),
        Ok((stdout, false)) => {
            let _ = child.wait();
            Ok(Opened {
                stdout,
                stderr: stderr(&stderr_bytes),
                held: None,
            })
        }
        Err(_) => {
            let _ = killpg(pid, Signal::SIGKILL);
            let _ = child.wait();
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the fact script did not answer within {}s{}",
                    limit.as_secs(),
                    match stderr(&stderr_bytes)
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                    {
                        Some(last) => format!(" (it last said: {})", last.trim()),
                        None => String::new(),
                    }
                ),
            ))
        }
    }
}

impl HeldSession {
    /// Let the remote command end (its stdin closes), which releases the lock; a
    /// session that does not end within `limit` is cut.
    pub fn close(mut self, limit: Duration) {
        drop(self.child.stdin.take());
        let pid = Pid::from_raw(self.child.id() as i32);
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}
