//! Every command the tool runs has a time bound: a wedged yum, a `systemctl start` of a
//! unit with `TimeoutStartSec=0`, a frozen dockerd behind `docker info`, a link that
//! died mid-command. A command past its bound is stopped (its process group: TERM,
//! then KILL) and reported as timed out; the run goes on to report it.

use std::io::{self, Read, Write};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The bounds of one run (`--command-timeout`, `--transaction-timeout`).
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Any command that is not a yum/dnf run.
    pub command: Duration,
    /// yum/dnf: transactions, metadata, resolution (slow mirrors need long).
    pub transaction: Duration,
    /// Reaching a host over SSH (ssh's ConnectTimeout).
    pub connect: Duration,
    /// How long a run waits for another run's lock on the same target.
    pub lock_wait: Duration,
}

pub const DEFAULT: Bounds = Bounds {
    command: Duration::from_secs(300),
    transaction: Duration::from_secs(1800),
    connect: Duration::from_secs(10),
    lock_wait: Duration::from_secs(60),
};

static BOUNDS: OnceLock<Bounds> = OnceLock::new();

/// Set the run's bounds (once, from the command line).
pub fn set(bounds: Bounds) {
    let _ = BOUNDS.set(bounds);
}

pub fn get() -> Bounds {
    *BOUNDS.get().unwrap_or(&DEFAULT)
}

/// The bound of a command: yum/dnf get the transaction bound.
pub fn for_argv<S: AsRef<str>>(argv: &[S]) -> Duration {
    let mut words = argv
        .iter()
        .map(AsRef::as_ref)
        .filter(|w| !matches!(*w, "sudo" | "-n" | "--" | "env") && !w.contains('='));
    let mut program = words.next().unwrap_or("");
    // `chroot ROOT apt-get …` (apt on a --root tree): the program is after the root.
    if program.rsplit('/').next() == Some("chroot") {
        program = words.nth(1).unwrap_or("");
    }
    let name = program.rsplit('/').next().unwrap_or(program);
    if matches!(name, "yum" | "dnf" | "apt-get") {
        get().transaction
    } else {
        get().command
    }
}

/// Grace between TERM and KILL.
const GRACE: Duration = Duration::from_secs(5);

/// Run `command` (which must start its own process group) with `input` on stdin,
/// collecting its output, for at most `limit`.
pub fn output(command: &mut Command, input: Option<&[u8]>, limit: Duration) -> io::Result<Output> {
    let mut child = command.spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    let stdin = child.stdin.take();
    let input = input.map(<[u8]>::to_vec);
    let feeder = std::thread::spawn(move || {
        if let (Some(mut stdin), Some(bytes)) = (stdin, input) {
            // A command that exits without reading its input is not our error.
            let _ = stdin.write_all(&bytes);
        }
    });
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let (done, waited) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = done.send(());
        status
    });
    let timed_out = match waited.recv_timeout(limit) {
        Ok(()) => false,
        Err(_) => {
            let _ = killpg(pid, Signal::SIGTERM);
            if waited.recv_timeout(GRACE).is_err() {
                let _ = killpg(pid, Signal::SIGKILL);
            }
            true
        }
    };
    let status = waiter
        .join()
        .map_err(|_| io::Error::other("the waiting thread panicked"))??;
    let _ = feeder.join();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if timed_out {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "did not finish within {}s and was stopped{}",
                limit.as_secs(),
                last_words(&stderr)
            ),
        ));
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn last_words(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    match text.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(line) => format!(" (it last said: {})", line.trim()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    use std::time::Instant;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script])
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[test]
    fn a_command_within_its_bound_is_untouched() {
        let out = output(
            &mut sh("cat; echo err >&2"),
            Some(b"in"),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out.stdout, b"in");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn a_wedged_command_and_its_children_are_stopped() {
        let start = Instant::now();
        // A child that ignores TERM is killed after the grace; the group goes with it.
        let err = output(
            &mut sh("echo going >&2; trap '' TERM; sleep 60 & wait"),
            None,
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("it last said: going"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn yum_and_dnf_get_the_transaction_bound() {
        assert_eq!(
            for_argv(&["sudo", "-n", "--", "env", "LC_ALL=C", "yum", "-y"]),
            DEFAULT.transaction
        );
        assert_eq!(
            for_argv(&["/usr/bin/dnf", "makecache"]),
            DEFAULT.transaction
        );
        assert_eq!(for_argv(&["systemctl", "start", "docker"]), DEFAULT.command);
        let apt = [
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "chroot",
            "/srv/r",
            "apt-get",
        ];
        assert_eq!(for_argv(&apt), DEFAULT.transaction);
        assert_eq!(for_argv(&apt[2..4]), DEFAULT.command);
    }
}
