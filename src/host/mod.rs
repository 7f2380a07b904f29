//! The only way to touch a target. A `Host` is a transport (this machine now; SSH later)
//! plus an optional root directory (`--root DIR`: an image or chroot being prepared).
//! Steps call these methods and never learn which kind of target they hold.

pub mod backups;
pub mod bounded;
pub mod change_script;
mod held_session;
mod inroot;
mod known_hosts;
mod local;
mod native_ssh;
pub mod probe;
pub(crate) mod remote_probe;
mod server_offer;
pub mod shell;
pub mod ssh;
mod ssh_resolved;
mod ssh_uniform;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use change_script::{RawOutcome, ScriptOp};
pub use local::LocalTransport;
use probe::{Answer, Query};

/// What a scratch directory holds before a command runs in it (`Transport::run_staged`).
#[derive(Debug, Clone, Default)]
pub struct Stage {
    /// Files of ours: relative path in the scratch directory, bytes.
    pub files: Vec<(String, Vec<u8>)>,
    /// Paths of the target copied as they are (symlinks stay symlinks, directories whole,
    /// Berkeley DB region files `__db.*` left out): target path, relative destination.
    /// A path the target does not have is skipped.
    pub copies: Vec<(PathBuf, String)>,
}

impl Stage {
    pub fn file(relative: &str, bytes: &[u8]) -> Stage {
        Stage {
            files: vec![(relative.to_string(), bytes.to_vec())],
            copies: Vec::new(),
        }
    }

    /// What the stage holds, for error messages.
    fn describe(&self) -> String {
        let mut names: Vec<&str> = self.files.iter().map(|(name, _)| name.as_str()).collect();
        names.extend(self.copies.iter().map(|(_, name)| name.as_str()));
        names.join(", ")
    }
}

/// What a finished command left behind.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
}

/// Kernel release and machine of the target, as `uname -r` / `uname -m` print them.
#[derive(Debug, Clone)]
pub struct Uname {
    pub release: String,
    pub machine: String,
}

/// How commands and files reach a machine. Paths are absolute target paths; `root`
/// is where the target's `/` is on that machine (`None`: the machine's own `/`).
pub trait Transport {
    fn name(&self) -> String;
    fn run(&self, argv: &[String]) -> std::io::Result<CmdOutput>;
    fn uname(&self) -> std::io::Result<Uname>;
    fn is_root_user(&self) -> bool;
    /// Whether systemd runs this machine as PID 1 and we are not inside a chroot;
    /// `Err` with the reason otherwise.
    fn systemd_online(&self) -> std::result::Result<(), String>;
    fn read_file(&self, root: Option<&Path>, path: &Path) -> std::io::Result<Option<Vec<u8>>>;
    fn exists(&self, root: Option<&Path>, path: &Path) -> std::io::Result<bool>;
    /// Replace `path` atomically (temp file, fsync, rename), keeping mode and owner of an
    /// existing file (else `default_mode`), after keeping the old content at `backup`.
    /// `private` (the bytes carry a secret): the file and the backup are made 0600.
    fn write_file(
        &self,
        root: Option<&Path>,
        path: &Path,
        bytes: &[u8],
        default_mode: u32,
        private: bool,
        backup: Option<&Path>,
    ) -> std::io::Result<()>;
    /// Bytes used by a directory tree, `None` when it does not exist.
    fn tree_size(&self, root: Option<&Path>, path: &Path) -> std::io::Result<Option<u64>>;
    fn remove_tree(&self, root: Option<&Path>, path: &Path) -> std::io::Result<()>;
    /// The files of a directory that `wanted` matches, sorted by name; none when the
    /// directory is missing.
    fn files(
        &self,
        root: Option<&Path>,
        wanted: &probe::FileMatch,
    ) -> std::io::Result<Vec<(String, Vec<u8>)>>;
    /// Run a command on files of ours: a fresh private directory is made on the machine
    /// (outside any target root), the stage's files are put in it and the target's paths
    /// it names are copied in, the argv is made from that directory, and the directory is
    /// removed afterwards. A remote transport does all of it in one round trip.
    fn run_staged(
        &self,
        root: Option<&Path>,
        stage: &Stage,
        argv_for: &dyn Fn(&Path) -> Vec<String>,
    ) -> std::io::Result<(Vec<String>, CmdOutput)>;

    /// Release what the transport holds (the target's lock, an SSH master connection).
    fn close(&self) {}

    /// Carry out `steps` as one change script (change_script.rs), asking `stop` while it
    /// runs; `None`: this transport applies changes one by one instead.
    fn run_change_script(
        &self,
        root: Option<&Path>,
        steps: &[Vec<ScriptOp>],
        stop: &dyn Fn() -> bool,
    ) -> Option<std::io::Result<Vec<RawOutcome>>> {
        let _ = (root, steps, stop);
        None
    }

    /// Take the target's lock (`Query::Lock`); held until `close` or the end of this
    /// process. Only transports that answer queries one by one need it.
    fn lock(&self, root: Option<&Path>, spec: &probe::LockSpec) -> std::io::Result<()> {
        let _ = (root, spec);
        Err(std::io::Error::other(
            "this transport cannot lock its target",
        ))
    }

    /// Whether the machine is another one, reached over the network: questions to the
    /// world (a registry probe) must then be asked from there, not from here.
    fn is_remote(&self) -> bool {
        false
    }

    /// Answer a batch of queries, in order. This default asks one by one; a remote
    /// transport answers the whole batch in one round trip.
    fn probe(&self, root: Option<&Path>, queries: &[Query]) -> std::io::Result<Vec<Answer>> {
        let mut answers = Vec::with_capacity(queries.len());
        for query in queries {
            let answer = match query {
                Query::Lock(spec) => {
                    self.lock(root, spec)?;
                    Answer::Locked
                }
                Query::Uname => Answer::Uname(self.uname()?),
                Query::IsRootUser => Answer::Bool(self.is_root_user()),
                Query::SystemdOnline => Answer::Online(match root {
                    Some(root) => Err(tree_offline_reason(root)),
                    None => self.systemd_online(),
                }),
                Query::Read(path) => Answer::File(self.read_file(root, path)?),
                Query::AnyExists(paths) => {
                    let mut any = false;
                    for path in paths {
                        if self.exists(root, path)? {
                            any = true;
                            break;
                        }
                    }
                    Answer::Bool(any)
                }
                Query::Run { argv, when } => Answer::Output(if when.holds(&answers) {
                    Some(self.run(argv)?)
                } else {
                    None
                }),
                Query::TreeSize(path) => Answer::Size(self.tree_size(root, path)?),
                Query::Files(wanted) => Answer::Files(self.files(root, wanted)?),
            };
            answers.push(answer);
        }
        Ok(answers)
    }
}

/// A transport error that says the host cannot be reached becomes `Unreachable`;
/// anything else is turned into an error by `other`.
fn unreachable_or(err: std::io::Error, other: impl FnOnce(std::io::Error) -> Error) -> Error {
    if err.kind() == std::io::ErrorKind::NotConnected {
        Error::Unreachable(err.to_string())
    } else {
        other(err)
    }
}

/// The error of a command that had to succeed and did not; `hint` says what to do.
fn command_failed(argv: Vec<String>, output: CmdOutput, hint: &str) -> Error {
    let hint = if output.status == Some(127) {
        format!(
            "`{}` is not installed on the target (or not on its PATH)",
            argv[0]
        )
    } else {
        hint.to_string()
    };
    Error::Command {
        argv,
        status: output.status,
        stderr: if output.stderr.trim().is_empty() {
            output.stdout
        } else {
            output.stderr
        },
        hint,
    }
}

/// Why a `--root` target is offline, in the words of the report.
pub fn tree_offline_reason(root: &Path) -> String {
    format!("the target is the directory {}", root.display())
}

pub struct Host {
    transport: Box<dyn Transport>,
    root: Option<PathBuf>,
    log: RefCell<Vec<Vec<String>>>,
}

impl Host {
    pub fn new(transport: Box<dyn Transport>, root: Option<PathBuf>) -> Self {
        Host {
            transport,
            root,
            log: RefCell::new(Vec::new()),
        }
    }

    pub fn local(root: Option<PathBuf>) -> Self {
        Host::new(Box::new(LocalTransport::default()), root)
    }

    pub fn name(&self) -> String {
        match &self.root {
            Some(root) => format!("{}:{}", self.transport.name(), root.display()),
            None => self.transport.name(),
        }
    }

    /// The target's root directory when it is a tree being prepared, not a running system.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Every command this host ran, in order (for `-v` and for counting in tests).
    pub fn command_log(&self) -> Vec<Vec<String>> {
        self.log.borrow().clone()
    }

    /// Run a command; a non-zero exit is returned, not turned into an error.
    pub fn run(&self, argv: Vec<String>) -> Result<CmdOutput> {
        tracing::debug!(host = %self.name(), command = %argv.join(" "), "run");
        self.log.borrow_mut().push(argv.clone());
        let output = self.transport.run(&argv).map_err(|err| {
            unreachable_or(err, |err| Error::Command {
                argv: argv.clone(),
                status: None,
                stderr: err.to_string(),
                hint: format!("is `{}` installed on the target?", argv[0]),
            })
        })?;
        tracing::debug!(status = ?output.status, "done");
        Ok(output)
    }

    /// Run a command that must succeed; `hint` says what to do when it does not.
    pub fn run_ok(&self, argv: Vec<String>, hint: &str) -> Result<CmdOutput> {
        let output = self.run(argv.clone())?;
        if output.success() {
            Ok(output)
        } else {
            Err(command_failed(argv, output, hint))
        }
    }

    /// Carry out the steps' operations (`steps[i]`: step i's, in order) as one change
    /// script when the transport can: each step's outcome, failures with the same error
    /// as the operation alone would give. `None`: the transport cannot; apply them one
    /// by one. `stop` is asked while it runs: once true, no further step starts.
    pub fn run_change_script(
        &self,
        steps: &[Vec<ScriptOp>],
        stop: &dyn Fn() -> bool,
    ) -> Option<Vec<change_script::StepOutcome>> {
        use change_script::StepOutcome;
        let raw = match self.transport.run_change_script(self.root(), steps, stop)? {
            Ok(raw) => raw,
            Err(err) => {
                // Whatever ran is unknown: the first step carries the error.
                let error = unreachable_or(err, |err| {
                    Error::other(format!(
                        "the change script on {} failed: {err}",
                        self.name()
                    ))
                });
                let mut outcomes = vec![StepOutcome::Failed(error)];
                outcomes.resize_with(steps.len(), || StepOutcome::NotRun);
                return Some(outcomes);
            }
        };
        let outcomes = steps
            .iter()
            .zip(raw)
            .map(|(ops, raw)| match raw {
                RawOutcome::NotRun => StepOutcome::NotRun,
                RawOutcome::Done => {
                    self.log_ran(ops);
                    StepOutcome::Done
                }
                RawOutcome::Failed {
                    op,
                    status,
                    secs,
                    stdout,
                    stderr,
                } => {
                    self.log_ran(&ops[..(op + 1).min(ops.len())]);
                    let Some(failed) = ops.get(op) else {
                        return StepOutcome::Failed(Error::other(format!(
                            "the change script on {} named an operation it does not have",
                            self.name()
                        )));
                    };
                    StepOutcome::Failed(self.op_error(failed, status, secs, stdout, stderr))
                }
            })
            .collect();
        Some(outcomes)
    }

    fn log_ran(&self, ops: &[ScriptOp]) {
        for op in ops {
            if let ScriptOp::Run { argv, .. } = op {
                tracing::debug!(host = %self.name(), command = %argv.join(" "), "ran in the change script");
                self.log.borrow_mut().push(argv.clone());
            }
        }
    }

    /// The error the failed operation would have given on its own.
    fn op_error(
        &self,
        op: &ScriptOp,
        status: i32,
        secs: u64,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    ) -> Error {
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        let limit = change_script::op_limit(op);
        let timed_out = status == 124 && secs >= limit.as_secs();
        let stopped = format!(
            "a command on {} did not finish within {}s and was stopped there",
            self.transport.name(),
            limit.as_secs()
        );
        let said = |what: String| {
            if timed_out {
                std::io::Error::new(std::io::ErrorKind::TimedOut, stopped.clone())
            } else {
                std::io::Error::other(format!(
                    "{what} on {} failed: {}",
                    self.transport.name(),
                    stderr.trim()
                ))
            }
        };
        match op {
            ScriptOp::Run { argv, hint } => {
                if timed_out {
                    return Error::Command {
                        argv: argv.clone(),
                        status: None,
                        stderr: stopped,
                        hint: format!("is `{}` installed on the target?", argv[0]),
                    };
                }
                let output = CmdOutput {
                    status: Some(status),
                    stdout,
                    stderr,
                };
                command_failed(argv.clone(), output, hint)
            }
            ScriptOp::Write { path, .. } => {
                self.file_error(path, "write", said(format!("writing {}", path.display())))
            }
            ScriptOp::RemoveTree { path } => {
                self.file_error(path, "delete", said(format!("deleting {}", path.display())))
            }
        }
    }

    /// `rpm` aimed at the target (`--root DIR` for a tree).
    pub fn rpm_argv(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec!["rpm".to_string()];
        if let Some(root) = &self.root {
            argv.push("--root".into());
            argv.push(root.display().to_string());
        }
        argv.extend(args.iter().map(|s| s.to_string()));
        argv
    }

    /// `systemctl` aimed at the target (`--root DIR` for a tree: offline changes only).
    pub fn systemctl_argv(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec!["systemctl".to_string()];
        if let Some(root) = &self.root {
            argv.push(format!("--root={}", root.display()));
        }
        argv.extend(args.iter().map(|s| s.to_string()));
        argv
    }

    /// Answer a batch of fact queries (one round trip where the transport allows).
    pub fn probe(&self, queries: &[Query]) -> Result<Vec<Answer>> {
        let answers = self.transport.probe(self.root(), queries).map_err(|err| {
            unreachable_or(err, |err| {
                if err.kind() == std::io::ErrorKind::ResourceBusy {
                    Error::other(format!("{}: {err}", self.name()))
                } else {
                    Error::other(format!("cannot read facts from {}: {err}", self.name()))
                }
            })
        })?;
        for (query, answer) in queries.iter().zip(&answers) {
            if let (Query::Run { argv, .. }, Answer::Output(Some(output))) = (query, answer) {
                tracing::debug!(host = %self.name(), command = %argv.join(" "), status = ?output.status, "probe ran");
                self.log.borrow_mut().push(argv.clone());
            }
        }
        Ok(answers)
    }

    pub fn read_file(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        self.transport
            .read_file(self.root(), path)
            .map_err(|source| self.file_error(path, "read", source))
    }

    pub fn write_file(
        &self,
        path: &Path,
        bytes: &[u8],
        default_mode: u32,
        backup: Option<&Path>,
    ) -> Result<()> {
        tracing::debug!(host = %self.name(), path = %path.display(), "write");
        self.transport
            .write_file(
                self.root(),
                path,
                bytes,
                default_mode,
                crate::secrets::carries_secret(bytes),
                backup,
            )
            .map_err(|source| self.file_error(path, "write", source))
    }

    pub fn remove_tree(&self, path: &Path) -> Result<()> {
        tracing::debug!(host = %self.name(), path = %path.display(), "remove tree");
        self.transport
            .remove_tree(self.root(), path)
            .map_err(|source| self.file_error(path, "delete", source))
    }

    /// Run a command on `bytes` staged at `relative` in a private scratch directory
    /// outside the target; returns the argv it ran.
    pub fn run_with_file(
        &self,
        relative: &str,
        bytes: &[u8],
        argv_for: &dyn Fn(&Path) -> Vec<String>,
    ) -> Result<(Vec<String>, CmdOutput)> {
        self.run_staged(&Stage::file(relative, bytes), argv_for)
    }

    /// Run a command in a private scratch directory outside the target, populated as
    /// `stage` says (see `Transport::run_staged`); returns the argv it ran.
    pub fn run_staged(
        &self,
        stage: &Stage,
        argv_for: &dyn Fn(&Path) -> Vec<String>,
    ) -> Result<(Vec<String>, CmdOutput)> {
        let (argv, output) = self
            .transport
            .run_staged(self.root(), stage, argv_for)
            .map_err(|err| {
                unreachable_or(err, |err| {
                    if err.kind() == std::io::ErrorKind::TimedOut {
                        // It was staged; the command ran past its bound.
                        Error::other(format!("on {}: {err}", self.name()))
                    } else {
                        Error::other(format!(
                            "cannot stage {} on {}: {err}",
                            stage.describe(),
                            self.name()
                        ))
                    }
                })
            })?;
        tracing::debug!(host = %self.name(), command = %argv.join(" "), status = ?output.status, "ran on staged files");
        self.log.borrow_mut().push(argv.clone());
        Ok((argv, output))
    }

    /// Whether the target is another machine (see `Transport::is_remote`).
    pub fn is_remote(&self) -> bool {
        self.transport.is_remote()
    }

    /// Close the connection to the target, if there is one.
    pub fn close(&self) {
        self.transport.close();
    }

    fn file_error(&self, path: &Path, action: &'static str, source: std::io::Error) -> Error {
        if source.kind() == std::io::ErrorKind::NotConnected {
            return Error::Unreachable(source.to_string());
        }
        let shown = match &self.root {
            Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_path_buf(),
        };
        Error::File {
            path: shown,
            action,
            source,
        }
    }
}
