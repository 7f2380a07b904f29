//! A remote command that answers, then stays open: the fact script of a run takes the
//! target's lock (an flock on fd 9 of its shell), prints its answers and a marker, and
//! then serves the run's other commands itself: each request arrives on its stdin
//! (`run SCRIPT_LEN INPUT_LEN`, then the script, then its input), runs in a fresh `sh`
//! without the lock's fd, and is answered framed on its stdout (`@@rdock-reply STATUS
//! OUT_LEN ERR_LEN`, then the bytes). So a whole run, fresh or converged, is this one
//! SSH command, and each later command costs one round trip and no channel of its own.
//! Closing stdin at the end releases the lock. If the controller dies, its ssh client
//! dies, the channel closes, the command running then finishes, and nothing after it
//! starts: the remote shell, lock and all, ends at its next read.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The loop the fact script ends with, once its answers and marker are out (`$T` is
/// the fact script's private directory, made at the first request, so that a converged
/// host never makes one, and removed when the shell ends). A request whose
/// script or input arrived short (the controller died mid-send) is never run. While a
/// request runs, a watcher reads the next line: a `stop` from the controller (Ctrl-C)
/// or the end of stdin (the controller went away) makes `$RDOCK_STOP`, which a change
/// script reads before each step (change_script.rs). Other lines are ignored.
pub const SERVE: &str = r#"exec 7<&0
while read -r rd_q rd_sl rd_il; do
  [ "$rd_q" = run ] || continue
  [ -n "$T" ] || T=$(mktemp -d /tmp/rdock-probe.XXXXXX) || break
  RDOCK_STOP=$T/stop; export RDOCK_STOP
  head -c "$rd_sl" > "$T/rq.sh" && head -c "$rd_il" > "$T/rq.in" || break
  [ "$(wc -c < "$T/rq.sh")" -eq "$rd_sl" ] && [ "$(wc -c < "$T/rq.in")" -eq "$rd_il" ] || break
  rm -f -- "$T/stop"
  ( read -r rd_w <&7; : > "$T/stop" ) &
  rd_wp=$!
  sh "$T/rq.sh" < "$T/rq.in" > "$T/rq.out" 2> "$T/rq.err" 9>&- 7<&-
  rd_s=$?
  kill "$rd_wp" 2>/dev/null; wait "$rd_wp" 2>/dev/null
  printf '@@rdock-reply %s %s %s\n' "$rd_s" "$(wc -c < "$T/rq.out")" "$(wc -c < "$T/rq.err")"
  cat "$T/rq.out" "$T/rq.err"
done
"#;

/// What the session said up to its marker (or up to its end, when it ended first).
pub struct Opened {
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// `Some` while the remote command runs on, holding the lock.
    pub held: Option<HeldSession>,
    /// The exit code when it ended before its marker.
    pub status: Option<i32>,
}

/// The remote command's other end, whoever carries it: an `ssh` child process or the
/// built-in client (native_ssh.rs).
pub trait Link: Send {
    /// Send bytes to the command's stdin.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Close the command's stdin.
    fn close_input(&mut self);
    /// The command's exit once it ended within `wait`: `Some(code)`, `Some(None)` for
    /// an end without a code (a signal, a cut link); `None` while it still runs.
    fn ended(&mut self, wait: Duration) -> Option<Option<i32>>;
    /// Cut the connection now.
    fn cut(&mut self);
}

/// A started remote command: its stdout as it arrives (the sender is dropped at its
/// end), everything it said on stderr so far, and its stdin and end.
pub struct Streams {
    pub stdout: mpsc::Receiver<Vec<u8>>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
    pub link: Box<dyn Link>,
}

pub struct HeldSession {
    link: Box<dyn Link>,
    /// The session's stdout after the marker, as it arrives.
    chunks: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// One request's answer: the exit status of its script and what it printed.
pub struct Reply {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// An `ssh` child process (its own process group, so a terminal's Ctrl-C reaches only us).
struct ChildLink {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Link for ChildLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "the session is closed"))?;
        stdin.write_all(bytes).and_then(|()| stdin.flush())
    }

    fn close_input(&mut self) {
        drop(self.stdin.take());
    }

    fn ended(&mut self, wait: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + wait;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn cut(&mut self) {
        let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Start `argv` (an ssh command line) as a child process.
pub fn spawn(argv: &[String]) -> io::Result<Streams> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = Arc::new(Mutex::new(Vec::new()));
    if let Some(source) = child.stderr.take() {
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            pump(source, |bytes| {
                sink.lock().map(|mut s| s.extend_from_slice(bytes)).is_ok()
            })
        });
    }
    let (sender, chunks) = mpsc::channel();
    std::thread::spawn(move || pump(stdout, |bytes| sender.send(bytes.to_vec()).is_ok()));
    Ok(Streams {
        stdout: chunks,
        stderr,
        link: Box::new(ChildLink {
            stdin: child.stdin.take(),
            child,
        }),
    })
}

/// Read `source` to its end, handing each chunk to `sink` until it says stop.
fn pump(mut source: impl Read, mut sink: impl FnMut(&[u8]) -> bool) {
    let mut buffer = [0u8; 65536];
    loop {
        match source.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if !sink(&buffer[..n]) {
                    return;
                }
            }
        }
    }
}

/// Read a started command's stdout up to `marker` on a line of its own (its remote
/// script prints it once it has answered, then serves requests, `SERVE`), for at most
/// `limit`.
pub fn open(streams: Streams, marker: &str, limit: Duration) -> io::Result<Opened> {
    let Streams {
        stdout: chunks,
        stderr: stderr_bytes,
        mut link,
    } = streams;
    let line = format!("\n{marker}\n").into_bytes();
    let stderr = |bytes: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&bytes.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    };
    let deadline = Instant::now() + limit;
    let mut bytes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match chunks.recv_timeout(left) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                // The script waits for a request after its marker: the marker ends a read.
                if bytes.ends_with(&line) {
                    bytes.truncate(bytes.len() - line.len());
                    return Ok(Opened {
                        stdout: bytes,
                        stderr: stderr(&stderr_bytes),
                        held: Some(HeldSession {
                            link,
                            chunks,
                            pending: Vec::new(),
                            stderr: stderr_bytes,
                        }),
                        status: None,
                    });
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = link.ended(Duration::from_secs(30)).flatten();
                return Ok(Opened {
                    stdout: bytes,
                    stderr: stderr(&stderr_bytes),
                    held: None,
                    status,
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                link.cut();
                return Err(io::Error::new(
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
                ));
            }
        }
    }
}

impl HeldSession {
    /// Run `script` (shell text) with `input` on its stdin in the session, and wait at
    /// most `limit` for its answer. An error means the session is no longer usable.
    pub fn request(&mut self, script: &[u8], input: &[u8], limit: Duration) -> io::Result<Reply> {
        self.request_stoppable(script, input, limit, &|| false)
    }

    /// `request`, and once `stop` says so while it runs, ask the request to stop (a
    /// change script then starts no further step); it still answers.
    pub fn request_stoppable(
        &mut self,
        script: &[u8],
        input: &[u8],
        limit: Duration,
        stop: &dyn Fn() -> bool,
    ) -> io::Result<Reply> {
        let mut asked_to_stop = false;
        let deadline = Instant::now() + limit;
        let mut message = format!("run {} {}\n", script.len(), input.len()).into_bytes();
        message.extend_from_slice(script);
        message.extend_from_slice(input);
        if let Err(err) = self.link.send(&message) {
            return Err(self.ended(&format!("the session took no request ({err})")));
        }
        loop {
            if let Some(reply) = self.take_reply()? {
                return Ok(reply);
            }
            if !asked_to_stop && stop() {
                asked_to_stop = true;
                let _ = self.link.send(b"stop\n");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer within {}s", limit.as_secs()),
                ));
            }
            match self
                .chunks
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(chunk) => self.pending.extend_from_slice(&chunk),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.ended("the session ended before it answered"));
                }
            }
        }
    }

    /// A whole reply from what has arrived, if it is all there.
    fn take_reply(&mut self) -> io::Result<Option<Reply>> {
        let Some(end) = self.pending.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let header = String::from_utf8_lossy(&self.pending[..end]).into_owned();
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the session answered out of frame: {header:?}"),
            )
        };
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [tag, status, out, err] = fields.as_slice() else {
            return Err(bad());
        };
        let (Ok(status), Ok(out), Ok(err)) = (
            status.parse::<i32>(),
            out.parse::<usize>(),
            err.parse::<usize>(),
        ) else {
            return Err(bad());
        };
        if *tag != "@@rdock-reply" {
            return Err(bad());
        }
        let body = end + 1;
        if self.pending.len() < body + out + err {
            return Ok(None);
        }
        let rest = self.pending.split_off(body + out + err);
        let stderr = self.pending[body + out..].to_vec();
        let stdout = self.pending[body..body + out].to_vec();
        self.pending = rest;
        Ok(Some(Reply {
            status,
            stdout,
            stderr,
        }))
    }

    /// Why the session is gone, with the last thing ssh said.
    fn ended(&self, what: &str) -> io::Error {
        let said =
            String::from_utf8_lossy(&self.stderr.lock().map(|b| b.clone()).unwrap_or_default())
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| format!(": {}", l.trim()))
                .unwrap_or_default();
        io::Error::new(io::ErrorKind::NotConnected, format!("{what}{said}"))
    }

    /// Cut the session now (a request past its bound, a session out of frame).
    pub fn kill(mut self) {
        self.link.cut();
    }

    /// Let the remote command end (its stdin closes), which releases the lock; a
    /// session that does not end within `limit` is cut.
    pub fn close(mut self, limit: Duration) {
        self.link.close_input();
        if self.link.ended(limit).is_none() {
            self.link.cut();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::change_script::{self, OpScripts, RawOutcome, ScriptOp};

    /// The session as sshd would run it, minus ssh: a real `sh` with the serving loop.
    fn session() -> (tempfile::TempDir, HeldSession) {
        let tmp = tempfile::tempdir().unwrap();
        let script = format!(
            "T={}\nprintf 'facts\\n\\n%s\\n' MARK\n{SERVE}",
            tmp.path().display()
        );
        let argv: Vec<String> = vec!["sh".into(), "-c".into(), script];
        let opened = open(spawn(&argv).unwrap(), "MARK", Duration::from_secs(10)).unwrap();
        assert_eq!(opened.stdout, b"facts\n");
        (tmp, opened.held.expect("the session stays"))
    }

    struct NoFiles;

    impl OpScripts for NoFiles {
        fn write(&self, _: &ScriptOp) -> io::Result<String> {
            unreachable!()
        }
        fn remove_tree(&self, _: &std::path::Path) -> io::Result<String> {
            unreachable!()
        }
    }

    #[test]
    fn requests_are_answered_in_order_with_their_input_and_status() {
        let (_tmp, mut session) = session();
        let reply = session
            .request(
                b"cat; echo err >&2; exit 3",
                b"in\0put",
                Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(
            (reply.status, reply.stdout, reply.stderr),
            (3, b"in\0put".to_vec(), b"err\n".to_vec())
        );
        let reply = session
            .request(b"echo two", b"", Duration::from_secs(10))
            .unwrap();
        assert_eq!(reply.stdout, b"two\n");
        session.close(Duration::from_secs(5));
    }

    /// Ctrl-C while a change script runs: the step running finishes, no later step
    /// starts, and the session still serves the next request.
    #[test]
    fn a_stop_while_a_change_script_runs_starts_no_further_step() {
        let (tmp, mut session) = session();
        let started = tmp.path().join("started");
        let later = tmp.path().join("later");
        let run = |text: String| ScriptOp::Run {
            argv: vec!["sh".into(), "-c".into(), text],
            hint: String::new(),
        };
        let steps = vec![
            vec![run(format!("touch {}; sleep 1", started.display()))],
            vec![run(format!("touch {}", later.display()))],
        ];
        let rendered = change_script::render(&steps, &NoFiles).unwrap();
        let started_flag = started.clone();
        let reply = session
            .request_stoppable(
                rendered.driver.as_bytes(),
                &rendered.input,
                Duration::from_secs(20),
                &move || started_flag.exists(),
            )
            .unwrap();
        assert_eq!(
            reply.status,
            0,
            "{}",
            String::from_utf8_lossy(&reply.stderr)
        );
        let outcomes = change_script::parse(2, &reply.stdout).unwrap();
        assert_eq!(outcomes, vec![RawOutcome::Done, RawOutcome::NotRun]);
        assert!(!later.exists(), "a step ran after the stop");
        let reply = session
            .request(b"echo still", b"", Duration::from_secs(10))
            .unwrap();
        assert_eq!(reply.stdout, b"still\n");
        session.close(Duration::from_secs(5));
    }

    /// The controller gone (its end of the pipe closed) counts as a stop.
    #[test]
    fn the_end_of_stdin_stops_a_change_script_too() {
        let (tmp, mut session) = session();
        let later = tmp.path().join("later");
        let steps = vec![
            vec![ScriptOp::Run {
                argv: vec!["sleep".into(), "1".into()],
                hint: String::new(),
            }],
            vec![ScriptOp::Run {
                argv: vec!["touch".into(), later.display().to_string()],
                hint: String::new(),
            }],
        ];
        let rendered = change_script::render(&steps, &NoFiles).unwrap();
        let mut message =
            format!("run {} {}\n", rendered.driver.len(), rendered.input.len()).into_bytes();
        message.extend_from_slice(rendered.driver.as_bytes());
        message.extend_from_slice(&rendered.input);
        session.link.send(&message).unwrap();
        session.link.close_input();
        assert!(session.link.ended(Duration::from_secs(20)).is_some());
        assert!(!later.exists(), "a step ran after the controller went away");
    }
}
