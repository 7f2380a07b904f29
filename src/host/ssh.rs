//! A remote machine through the system OpenSSH client, so that ~/.ssh/config, agents,
//! ProxyJump and known_hosts work as operators expect. One multiplexed connection per
//! host (ControlMaster, private socket directory), strict host key checking unless
//! the operator opts into accept-new, `sudo -n` when the login user is not root.
//! Every remote command line is built by `shell::command_line`/`shell::quote`.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::change_script::{self, OpScripts, RawOutcome, ScriptOp};
use super::held_session::{self, HeldSession, Streams};
use super::native_ssh::{self, Declined};
use super::probe::{Answer, FileMatch, Query};
use super::remote_probe::{self, PRELUDE};
use super::shell::{command_line, quote};
use super::ssh_resolved::{self, Resolved};
use super::{CmdOutput, Stage, Transport, Uname, bounded};

/// `[user@]host[:port]`, as given on the command line or in an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub identity: Option<PathBuf>,
}

impl SshTarget {
    pub fn parse(text: &str) -> Result<SshTarget, String> {
        let (user, rest) = match text.rsplit_once('@') {
            Some((user, rest)) => (Some(user.to_string()), rest),
            None => (None, text),
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => {
                let port = port
                    .parse()
                    .map_err(|_| format!("{text:?}: port {port:?} is not a number"))?;
                (host.to_string(), Some(port))
            }
            _ => (rest.to_string(), None),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if !valid(&host) || user.as_deref().is_some_and(|u| !valid(u)) {
            return Err(format!("{text:?} is not [user@]host[:port]"));
        }
        Ok(SshTarget {
            user,
            host,
            port,
            identity: None,
        })
    }

    pub fn display(&self) -> String {
        let mut s = String::new();
        if let Some(user) = &self.user {
            s.push_str(user);
            s.push('@');
        }
        s.push_str(&self.host);
        if let Some(port) = self.port {
            s.push_str(&format!(":{port}"));
        }
        s
    }
}

/// Settings shared by every connection of a run.
#[derive(Debug)]
pub struct SshSettings {
    /// Where the ControlMaster sockets live; private to this run.
    pub control_dir: PathBuf,
    /// `-F FILE`, else the user's own ~/.ssh/config.
    pub config: Option<PathBuf>,
    /// StrictHostKeyChecking=accept-new instead of yes.
    pub accept_new_host_keys: bool,
    pub connect_timeout_secs: u32,
    pub client: SshClient,
    /// `ssh -G` answers, shared by the run's hosts where the configuration allows.
    pub resolved: ssh_resolved::Shared,
}

/// Which client makes a run's held session (the one command of a converged host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SshClient {
    /// The built-in client where it does exactly what `ssh` would (native_ssh.rs), else `ssh`.
    Auto,
    /// Always the system's `ssh`.
    Openssh,
}

struct Inner {
    target: SshTarget,
    settings: Arc<SshSettings>,
    sudo: bool,
    /// This transport's ControlPath name in the run's socket directory.
    control_name: String,
    /// The fact session that holds the target's lock, once a run took it; every later
    /// command of the run goes through it (held_session.rs).
    held: Mutex<Option<HeldSession>>,
    /// The held session ended under a run: later commands fail instead of reconnecting
    /// without the lock.
    session_lost: AtomicBool,
    /// A ControlMaster may have been started for this transport (`close` ends it).
    master_started: AtomicBool,
    /// What `ssh -G` says ssh would do for this host, once asked (`None`: it failed,
    /// and `ssh` itself will say why when it runs).
    resolved: OnceLock<Option<Resolved>>,
}

static NEXT_CONTROL: AtomicUsize = AtomicUsize::new(0);

pub struct SshTransport {
    inner: Arc<Inner>,
}

/// ssh's own failure (connection, authentication, host key): exit status 255.
const SSH_FAILED: i32 = 255;
/// coreutils `timeout`: the command ran past its bound.
const TIMED_OUT: i32 = 124;
/// How much longer than the remote bound the client waits before it gives up on a link.
const LINK_GRACE: Duration = Duration::from_secs(30);

impl SshTransport {
    pub fn new(target: SshTarget, settings: Arc<SshSettings>) -> SshTransport {
        let mut inner = Inner {
            target,
            settings,
            sudo: false,
            // Each transport its own master connection: two runs on one host never
            // share (nor close) each other's.
            control_name: format!("{}", NEXT_CONTROL.fetch_add(1, Ordering::SeqCst)),
            held: Mutex::new(None),
            session_lost: AtomicBool::new(false),
            master_started: AtomicBool::new(false),
            resolved: OnceLock::new(),
        };
        // The login user may come from ssh_config (`User admin`): ask ssh which it is.
        let user = match &inner.target.user {
            Some(user) => Some(user.clone()),
            None => inner.resolved().map(|r| r.user.clone()),
        };
        inner.sudo = user.as_deref().is_some_and(|u| u != "root");
        SshTransport {
            inner: Arc::new(inner),
        }
    }

    /// Close the multiplexed connection.
    fn close_master(&self) {
        if !self.inner.master_started.load(Ordering::SeqCst) {
            return;
        }
        let mut argv = self.inner.ssh_argv(true);
        argv.insert(1, "-O".into());
        argv.insert(2, "exit".into());
        argv.pop(); // the `--` separator
        let _ = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Inner {
    /// What ssh would do for this host (`ssh -G`, asked once).
    fn resolved(&self) -> Option<&Resolved> {
        self.resolved
            .get_or_init(|| {
                let mut argv = self.ssh_argv(false);
                argv.pop(); // the `--` separator
                ssh_resolved::resolve_shared(
                    &self.settings.resolved,
                    &argv,
                    self.settings.config.as_deref(),
                )
                .inspect_err(|err| tracing::debug!(host = %self.target.display(), "{err}"))
                .ok()
            })
            .as_ref()
    }

    /// The held session's command started by the built-in client, when it may make it
    /// (`None`: `ssh` makes it). A host it cannot reach at all is an error here: `ssh`
    /// would only fail the same way once more.
    fn native_session(&self, remote: &str) -> io::Result<Result<Streams, String>> {
        if self.settings.client == SshClient::Openssh {
            return Ok(Err("--ssh-client openssh".into()));
        }
        let Some(resolved) = self.resolved() else {
            return Ok(Err("ssh -G did not answer".into()));
        };
        let connect = Duration::from_secs(
            resolved
                .connect_timeout_secs
                .unwrap_or(self.settings.connect_timeout_secs.into()),
        );
        match native_ssh::open(
            resolved,
            remote.to_string(),
            connect,
            bounded::get().command,
        ) {
            Ok(streams) => {
                tracing::debug!(host = %self.target.display(), "ssh: built-in client");
                Ok(Ok(streams))
            }
            Err(Declined::ToOpenSsh(why)) => {
                tracing::debug!(host = %self.target.display(), "ssh: the system's ssh, since {why}");
                Ok(Err(why))
            }
            Err(Declined::Unreachable(err)) => {
                Err(unreachable_error(&self.target, &err.to_string()))
            }
        }
    }

    /// The ssh command line up to `--`; `multiplexed`: through (or as) the transport's
    /// ControlMaster, else one connection of its own (the held session: one process).
    fn ssh_argv(&self, multiplexed: bool) -> Vec<String> {
        let s = &self.settings;
        let mut argv: Vec<String> = vec!["ssh".into()];
        let mut opt = |o: String| {
            argv.push("-o".into());
            argv.push(o);
        };
        opt("BatchMode=yes".into());
        if multiplexed {
            opt("ControlMaster=auto".into());
            opt(format!(
                "ControlPath={}/{}",
                s.control_dir.display(),
                self.control_name
            ));
            opt("ControlPersist=120".into());
        } else {
            opt("ControlMaster=no".into());
            opt("ControlPath=none".into());
        }
        opt(format!("ConnectTimeout={}", s.connect_timeout_secs));
        // A link that died (a host gone, a cable pulled) ends the session within a minute
        // instead of hanging the run.
        opt("ServerAliveInterval=15".into());
        opt("ServerAliveCountMax=4".into());
        opt(format!(
            "StrictHostKeyChecking={}",
            if s.accept_new_host_keys {
                "accept-new"
            } else {
                "yes"
            }
        ));
        if let Some(config) = &s.config {
            argv.push("-F".into());
            argv.push(config.display().to_string());
        }
        if let Some(identity) = &self.target.identity {
            argv.push("-i".into());
            argv.push(identity.display().to_string());
        }
        if let Some(port) = self.target.port {
            argv.push("-p".into());
            argv.push(port.to_string());
        }
        if let Some(user) = &self.target.user {
            argv.push("-l".into());
            argv.push(user.clone());
        }
        argv.push(self.target.host.clone());
        argv.push("--".into());
        argv
    }

    /// Run one remote command line (already quoted), with optional stdin, bounded by
    /// `limit` on the target (coreutils `timeout`, which every EL host has) and, a little
    /// later, here (a link that died says nothing; keep-alives end the client too).
    fn ssh(
        &self,
        remote: &str,
        input: Option<&[u8]>,
        limit: Duration,
    ) -> io::Result<std::process::Output> {
        let line = format!("timeout -k 10 {} {remote}", limit.as_secs().max(1));
        let started = std::time::Instant::now();
        if let Some(output) = self.through_session(&line, input, limit)? {
            return self.judged(output, started, limit);
        }
        let mut argv = self.ssh_argv(true);
        argv.push(line);
        self.master_started.store(true, Ordering::SeqCst);
        tracing::debug!(host = %self.target.display(), command = %remote.lines().next().unwrap_or(""), "ssh");
        let output = bounded::output(
            Command::new(&argv[0])
                .args(&argv[1..])
                .process_group(0)
                .stdin(if input.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            input,
            limit + LINK_GRACE,
        )
        .map_err(|err| {
            if err.kind() == io::ErrorKind::TimedOut {
                io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!(
                        "{} did not answer: the command {err}; check the host and the link",
                        self.target.display()
                    ),
                )
            } else {
                err
            }
        })?;
        if output.status.code() == Some(SSH_FAILED) {
            return Err(unreachable_error(
                &self.target,
                &String::from_utf8_lossy(&output.stderr),
            ));
        }
        self.judged(output, started, limit)
    }

    /// The held session's answer to `line`, when the run holds one (`None`: it does not).
    fn through_session(
        &self,
        line: &str,
        input: Option<&[u8]>,
        limit: Duration,
    ) -> io::Result<Option<std::process::Output>> {
        use std::os::unix::process::ExitStatusExt as _;
        let mut held = self
            .held
            .lock()
            .map_err(|_| io::Error::other("the session's lock is poisoned"))?;
        let Some(session) = held.as_mut() else {
            if self.session_lost.load(Ordering::SeqCst) {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!(
                        "the session to {} ended earlier in this run; check the host and the link",
                        self.target.display()
                    ),
                ));
            }
            return Ok(None);
        };
        tracing::debug!(host = %self.target.display(), command = %line.lines().next().unwrap_or(""), "ssh session");
        match session.request(
            line.as_bytes(),
            input.unwrap_or_default(),
            limit + LINK_GRACE,
        ) {
            Ok(reply) => Ok(Some(std::process::Output {
                status: std::process::ExitStatus::from_raw((reply.status & 0xff) << 8),
                stdout: reply.stdout,
                stderr: reply.stderr,
            })),
            Err(err) => {
                if let Some(session) = held.take() {
                    session.kill();
                }
                self.session_lost.store(true, Ordering::SeqCst);
                Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!(
                        "{} did not answer: {err}; check the host and the link",
                        self.target.display()
                    ),
                ))
            }
        }
    }

    /// A command that ran its whole bound is reported as timed out.
    fn judged(
        &self,
        output: std::process::Output,
        started: std::time::Instant,
        limit: Duration,
    ) -> io::Result<std::process::Output> {
        // 124 is also what a command's own `timeout` says (the health poll's bounded
        // `docker info`): only one that ran the whole bound is ours.
        if output.status.code() == Some(TIMED_OUT) && started.elapsed() >= limit {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "a command on {} did not finish within {}s and was stopped there",
                    self.target.display(),
                    limit.as_secs()
                ),
            ));
        }
        Ok(output)
    }

    /// A shell script run by `sh` on the target (through `sudo -n` when needed).
    fn script(
        &self,
        script: &str,
        input: Option<&[u8]>,
        limit: Duration,
    ) -> io::Result<std::process::Output> {
        let mut argv: Vec<&str> = Vec::new();
        if self.sudo {
            argv.extend(["sudo", "-n", "--"]);
        }
        argv.extend(["sh", "-c", script]);
        self.ssh(&command_line(&argv)?, input, limit)
    }

    fn script_ok(&self, script: &str, input: Option<&[u8]>, what: &str) -> io::Result<Vec<u8>> {
        let output = self.script(script, input, bounded::get().command)?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(io::Error::other(format!(
                "{what} on {} failed: {}",
                self.target.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }
}

impl SshTransport {
    /// The fact script as a session that stays open, holding the target's lock when
    /// `queries` start with it, until `close` (see held_session.rs): the run's one SSH
    /// command, made by one ssh process.
    fn probe_holding_lock(
        &self,
        root: Option<&Path>,
        queries: &[Query],
        wait: Duration,
    ) -> io::Result<Vec<Answer>> {
        let marker = format!("@@rdock-held {}", unique_suffix());
        let fact = remote_probe::script(root, queries)?;
        let mut script = fact.text;
        script.push_str(&format!("printf '\\n%s\\n' {}\n", quote(&marker)?));
        script.push_str(held_session::SERVE);
        let mut words: Vec<&str> = Vec::new();
        if self.inner.sudo {
            words.extend(["sudo", "-n", "--"]);
        }
        words.extend(["sh", "-c", &script]);
        let remote = command_line(&words)?;
        tracing::debug!(host = %self.inner.target.display(), "ssh: fact session holding the lock");
        let (streams, declined) = match self.inner.native_session(&remote)? {
            Ok(streams) => (streams, None),
            Err(why) => {
                let mut argv = self.inner.ssh_argv(false);
                argv.push(remote);
                (held_session::spawn(&argv)?, Some(why))
            }
        };
        let opened =
            held_session::open(streams, &marker, bounded::get().command + wait).map_err(|err| {
                io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!("{} did not answer: {err}", self.inner.target.display()),
                )
            })?;
        if opened.status == Some(SSH_FAILED) {
            // It ended before its marker because ssh could not connect or log in.
            // ssh's quiet "Host key verification failed" (LogLevel ERROR hides its banner)
            // says more with what the built-in client saw.
            let said = match declined.as_deref() {
                Some(native_ssh::KEY_CHANGED) => format!("{}\n{CHANGED}", opened.stderr),
                _ => opened.stderr,
            };
            return Err(unreachable_error(&self.inner.target, &said));
        }
        if let Some(session) = opened.held
            && let Ok(mut held) = self.inner.held.lock()
        {
            *held = Some(session);
        }
        remote_probe::parse(root, queries, &fact.end, &opened.stdout).map_err(|err| {
            if err.kind() == io::ErrorKind::ResourceBusy {
                return err; // the lock's holder, said in full already
            }
            io::Error::new(
                err.kind(),
                format!("{err}; the host said: {}", last_line(&opened.stderr)),
            )
        })
    }
}

/// What ssh says when a host's key is not the one known_hosts holds.
const CHANGED: &str = "REMOTE HOST IDENTIFICATION HAS CHANGED";

/// The error for a host that cannot be reached or refuses us; `kind` NotConnected so
/// that the report can call the host unreachable.
fn unreachable_error(target: &SshTarget, stderr: &str) -> io::Error {
    let stderr = stderr.trim();
    let advice = if stderr.contains(CHANGED) {
        format!(
            "the host key of {} CHANGED: do not proceed before you know why",
            target.host
        )
    } else if stderr.contains("Host key verification failed")
        || stderr.contains("No ED25519 host key is known")
        || stderr.contains("host key for") && stderr.contains("is not known")
    {
        format!(
            "the host key of {} is not known: check its fingerprint, then add it to known_hosts \
             (ssh-keyscan{} {} >> ~/.ssh/known_hosts), or rerun with --accept-new-host-keys",
            target.host,
            target.port.map(|p| format!(" -p {p}")).unwrap_or_default(),
            target.host
        )
    } else if stderr.contains("Permission denied") {
        "authentication failed: check the user, the key (identity) and the agent".to_string()
    } else {
        "check that the host is up and that ssh reaches it".to_string()
    };
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!(
            "cannot reach {} over ssh: {}; {advice}",
            target.display(),
            last_line(stderr)
        ),
    )
}

/// Unique enough for a directory name the remote `mkdir` also checks: time and pid.
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no answer")
}

/// `R=…` plus the path helpers, for single file operations.
/// The script that replaces `path` with the bytes on its stdin (see `Transport::write_file`),
/// keeping the old content at `backup` and then pruning the file's old backups.
fn write_script(
    path: &Path,
    default_mode: u32,
    private: bool,
    backup: Option<&Path>,
) -> io::Result<String> {
    let (backup_line, prune) = match backup {
        Some(backup) => (
            format!(
                "rd_b=$(rd_path {b}) || exit 1\n\
                 if [ -e \"$rd_b\" ]; then echo \"backup $rd_b already exists\" >&2; exit 1; fi\n\
                 if [ -e \"$rd_p\" ]; then ln -- \"$rd_p\" \"$rd_b\" 2>/dev/null || cp -p -- \"$rd_p\" \"$rd_b\" || exit 1; {private_backup}fi\n",
                b = quote(&backup.display().to_string())?,
                private_backup = if private {
                    "chmod 600 -- \"$rd_b\" || exit 1; "
                } else {
                    ""
                },
            ),
            // Beside the backup just made, after the write: pruning never costs the file
            // its new content, and whatever it leaves, the write has succeeded (`:`).
            format!(
                "rd_bd=$(dirname -- \"$rd_b\")\n{}:\n",
                super::backups::shell_prune(
                    &path.file_name().unwrap_or_default().to_string_lossy()
                )?
            ),
        ),
        None => (String::new(), String::new()),
    };
    // Temp file beside the target, same mode and owner, flushed, then renamed over it.
    Ok(format!(
        "rd_p=$(rd_path {p}) || exit 1\n\
         rd_d=$(dirname -- \"$rd_p\")\n\
         if [ -d \"$rd_p\" ]; then echo \"$rd_p is a directory, not a file: move it away, then rerun\" >&2; exit 1; fi\n\
         rd_mkdirs \"$rd_d\" || {{ echo \"cannot create directory $rd_d (is a part of it a file?)\" >&2; exit 1; }}\n\
         rd_t=$(mktemp \"$rd_d/.rdock-setup.XXXXXX\") || exit 1\n\
         trap 'rm -f -- \"$rd_t\"' EXIT\n\
         cat > \"$rd_t\" || exit 1\n\
         if [ -e \"$rd_p\" ]; then chmod --reference=\"$rd_p\" -- \"$rd_t\" && chown --reference=\"$rd_p\" -- \"$rd_t\" || exit 1\n\
         else chmod {mode:o} -- \"$rd_t\" || exit 1; fi\n\
         {private_file}\
         sync -- \"$rd_t\" 2>/dev/null || sync\n\
         {backup_line}\
         mv -f -T -- \"$rd_t\" \"$rd_p\" || exit 1\n\
         trap - EXIT\n\
         sync -- \"$rd_d\" 2>/dev/null || sync\n\
         {prune}",
        p = quote(&path.display().to_string())?,
        mode = default_mode,
        private_file = if private {
            "chmod 600 -- \"$rd_t\" || exit 1\n"
        } else {
            ""
        },
    ))
}

/// The script that deletes the tree at `path` (see `Transport::remove_tree`).
fn remove_script(path: &Path) -> io::Result<String> {
    Ok(format!(
        "rd_p=$(rd_path {p}) || exit 1\nrm -rf --one-file-system -- \"$rd_p\"\n",
        p = quote(&path.display().to_string())?
    ))
}

/// A change script's operations as the same scripts `write_file` and `remove_tree` run.
struct RemoteOps<'a> {
    root: Option<&'a Path>,
}

impl OpScripts for RemoteOps<'_> {
    fn write(&self, op: &ScriptOp) -> io::Result<String> {
        let ScriptOp::Write {
            path,
            default_mode,
            private,
            backup,
            only_if_missing,
            ..
        } = op
        else {
            return Err(io::Error::other("not a write"));
        };
        let mut body = String::new();
        if *only_if_missing {
            body.push_str(&format!(
                "rd_k=$(rd_path {p}) || exit 1\nif [ -e \"$rd_k\" ] || [ -L \"$rd_k\" ]; then exit 0; fi\n",
                p = quote(&path.display().to_string())?
            ));
        }
        body.push_str(&write_script(
            path,
            *default_mode,
            *private,
            backup.as_deref(),
        )?);
        with_root(self.root, &body)
    }

    fn remove_tree(&self, path: &Path) -> io::Result<String> {
        with_root(self.root, &remove_script(path)?)
    }
}

fn with_root(root: Option<&Path>, body: &str) -> io::Result<String> {
    Ok(format!(
        "R={}\n{PRELUDE}\n{body}",
        quote(&root.map(|r| r.display().to_string()).unwrap_or_default())?
    ))
}

impl Transport for SshTransport {
    fn is_remote(&self) -> bool {
        true
    }

    fn name(&self) -> String {
        self.inner.target.display()
    }

    fn run_change_script(
        &self,
        root: Option<&Path>,
        steps: &[Vec<ScriptOp>],
        stop: &dyn Fn() -> bool,
    ) -> Option<io::Result<Vec<RawOutcome>>> {
        let mut held = self.inner.held.lock().ok()?;
        let session = held.as_mut()?;
        let rendered = match change_script::render(steps, &RemoteOps { root }) {
            Ok(rendered) => rendered,
            Err(err) => return Some(Err(err)),
        };
        tracing::debug!(host = %self.inner.target.display(), steps = steps.len(), "ssh session: change script");
        let reply = match session.request_stoppable(
            rendered.driver.as_bytes(),
            &rendered.input,
            rendered.limit + LINK_GRACE,
            stop,
        ) {
            Ok(reply) => reply,
            Err(err) => {
                // The session is gone: the run cannot go on through it.
                if let Some(session) = held.take() {
                    session.kill();
                }
                self.inner.session_lost.store(true, Ordering::SeqCst);
                return Some(Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!(
                        "{} did not answer: {err}; check the host and the link",
                        self.inner.target.display()
                    ),
                )));
            }
        };
        if reply.status != 0 {
            return Some(Err(io::Error::other(format!(
                "it could not start (exit {}): {}",
                reply.status,
                last_line(&String::from_utf8_lossy(&reply.stderr))
            ))));
        }
        Some(change_script::parse(steps.len(), &reply.stdout))
    }

    fn close(&self) {
        if let Some(session) = self.inner.held.lock().ok().and_then(|mut held| held.take()) {
            session.close(Duration::from_secs(10));
        }
        self.close_master();
    }

    fn run(&self, argv: &[String]) -> io::Result<CmdOutput> {
        let mut words: Vec<&str> = Vec::new();
        if self.inner.sudo {
            words.extend(["sudo", "-n", "--"]);
        }
        words.extend(["env", "LC_ALL=C"]);
        words.extend(argv.iter().map(String::as_str));
        let output = self
            .inner
            .ssh(&command_line(&words)?, None, bounded::for_argv(argv))?;
        Ok(CmdOutput {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    fn uname(&self) -> io::Result<Uname> {
        match self.probe(None, &[Query::Uname])?.pop() {
            Some(Answer::Uname(uname)) => Ok(uname),
            _ => Err(io::Error::other("no uname answer")),
        }
    }

    fn is_root_user(&self) -> bool {
        matches!(
            self.probe(None, &[Query::IsRootUser])
                .ok()
                .and_then(|mut a| a.pop()),
            Some(Answer::Bool(true))
        )
    }

    fn systemd_online(&self) -> Result<(), String> {
        match self.probe(None, &[Query::SystemdOnline]) {
            Ok(mut answers) => match answers.pop() {
                Some(Answer::Online(state)) => state,
                _ => Err("no answer about systemd".into()),
            },
            Err(err) => Err(err.to_string()),
        }
    }

    fn read_file(&self, root: Option<&Path>, path: &Path) -> io::Result<Option<Vec<u8>>> {
        match self.probe(root, &[Query::Read(path.to_path_buf())])?.pop() {
            Some(Answer::File(bytes)) => Ok(bytes),
            _ => Err(io::Error::other("no file answer")),
        }
    }

    fn exists(&self, root: Option<&Path>, path: &Path) -> io::Result<bool> {
        match self
            .probe(root, &[Query::AnyExists(vec![path.to_path_buf()])])?
            .pop()
        {
            Some(Answer::Bool(found)) => Ok(found),
            _ => Err(io::Error::other("no answer")),
        }
    }

    fn write_file(
        &self,
        root: Option<&Path>,
        path: &Path,
        bytes: &[u8],
        default_mode: u32,
        private: bool,
        backup: Option<&Path>,
    ) -> io::Result<()> {
        let body = write_script(path, default_mode, private, backup)?;
        self.inner
            .script_ok(
                &with_root(root, &body)?,
                Some(bytes),
                &format!("writing {}", path.display()),
            )
            .map(|_| ())
    }

    fn tree_size(&self, root: Option<&Path>, path: &Path) -> io::Result<Option<u64>> {
        match self
            .probe(root, &[Query::TreeSize(path.to_path_buf())])?
            .pop()
        {
            Some(Answer::Size(size)) => Ok(size),
            _ => Err(io::Error::other("no size answer")),
        }
    }

    fn remove_tree(&self, root: Option<&Path>, path: &Path) -> io::Result<()> {
        self.inner
            .script_ok(
                &with_root(root, &remove_script(path)?)?,
                None,
                &format!("deleting {}", path.display()),
            )
            .map(|_| ())
    }

    fn files(&self, root: Option<&Path>, wanted: &FileMatch) -> io::Result<Vec<(String, Vec<u8>)>> {
        match self.probe(root, &[Query::Files(wanted.clone())])?.pop() {
            Some(Answer::Files(files)) => Ok(files),
            _ => Err(io::Error::other("no directory answer")),
        }
    }

    fn run_staged(
        &self,
        root: Option<&Path>,
        stage: &Stage,
        argv_for: &dyn Fn(&Path) -> Vec<String>,
    ) -> io::Result<(Vec<String>, CmdOutput)> {
        // The directory is named here, so that the command line can be built before the
        // one round trip; mkdir refuses an existing one, so nobody else's is reused.
        let dir = PathBuf::from(format!("/tmp/rdock-setup.{}", unique_suffix()));
        let argv = argv_for(&dir);
        let mut words: Vec<&str> = vec!["env", "LC_ALL=C"];
        words.extend(argv.iter().map(String::as_str));
        let mut script = format!(
            "D={d}\nmkdir -m 700 -- \"$D\" || exit 97\ntrap 'rm -rf -- \"$D\"' EXIT\n",
            d = quote(&dir.display().to_string())?,
        );
        // The files arrive one after the other on stdin; GNU head -c reads exactly
        // what it writes, so each takes its own bytes and leaves the rest.
        let mut input = Vec::new();
        for (relative, bytes) in &stage.files {
            let file = dir.join(relative);
            script.push_str(&format!(
                "mkdir -p -- {parent} && head -c {len} > {f} || exit 97\n",
                parent = quote(&file.parent().unwrap_or(&dir).display().to_string())?,
                len = bytes.len(),
                f = quote(&file.display().to_string())?,
            ));
            input.extend_from_slice(bytes);
        }
        for (target_path, relative) in &stage.copies {
            let source = match root {
                Some(root) => root.join(target_path.strip_prefix("/").unwrap_or(target_path)),
                None => target_path.clone(),
            };
            let dest = dir.join(relative);
            let (source, dest) = (
                quote(&source.display().to_string())?,
                quote(&dest.display().to_string())?,
            );
            script.push_str(&format!(
                "if [ -e {source} ] || [ -L {source} ]; then mkdir -p -- \"$(dirname -- {dest})\" \
                 && cp -a -- {source} {dest} && rm -f -- {dest}/__db.* || exit 97; fi\n"
            ));
        }
        script.push_str(&command_line(&words)?);
        script.push('\n');
        let output = self
            .inner
            .script(&script, Some(&input), bounded::for_argv(&argv))?;
        if output.status.code() == Some(97) {
            return Err(io::Error::other(format!(
                "cannot stage {} in {} on {}: {}",
                stage.describe(),
                dir.display(),
                self.inner.target.display(),
                last_line(&String::from_utf8_lossy(&output.stderr))
            )));
        }
        Ok((
            argv,
            CmdOutput {
                status: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            },
        ))
    }

    fn probe(&self, root: Option<&Path>, queries: &[Query]) -> io::Result<Vec<Answer>> {
        if let Some(Query::Lock(spec)) = queries.first() {
            return self.probe_holding_lock(root, queries, spec.wait);
        }
        // The first fact pass of a read-only run (a dry-run, `status`) stays as the
        // session too, without the lock: whatever the run asks later goes through it.
        let no_session = self.inner.held.lock().is_ok_and(|held| held.is_none());
        if no_session && !self.inner.session_lost.load(Ordering::SeqCst) {
            return self.probe_holding_lock(root, queries, Duration::ZERO);
        }
        let fact = remote_probe::script(root, queries)?;
        let output = self
            .inner
            .script(&fact.text, None, bounded::get().command)?;
        remote_probe::parse(root, queries, &fact.end, &output.stdout).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!(
                    "{err}; the host said: {}",
                    last_line(&String::from_utf8_lossy(&output.stderr))
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The write script, run by a real sh on this machine as sshd would run it.
    #[test]
    fn the_remote_write_prunes_the_files_backups_to_the_newest_ten() {
        use crate::host::backups::fixture;
        use std::io::Write as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("etc/docker");
        fixture::seed(&dir);
        let docker = Path::new("/etc/docker");
        let script = with_root(
            Some(tmp.path()),
            &write_script(
                &docker.join(fixture::FILE),
                0o644,
                false,
                Some(&docker.join(fixture::NEW_BACKUP)),
            )
            .unwrap(),
        )
        .unwrap();
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"{\"new\": true}\n")
            .unwrap();
        assert!(child.wait().unwrap().success());
        fixture::check(&dir);
    }

    #[test]
    fn targets_parse() {
        let t = SshTarget::parse("admin@web01.example.com:2222").unwrap();
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (Some("admin"), "web01.example.com", Some(2222))
        );
        let t = SshTarget::parse("10.0.0.5").unwrap();
        assert_eq!((t.user, t.port), (None, None));
        assert!(SshTarget::parse("-oProxyCommand=x").is_err());
        assert!(SshTarget::parse("host:notaport").is_err());
        assert!(SshTarget::parse("a b").is_err());
    }
}
