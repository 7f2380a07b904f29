//! Facts are read as one batch of queries, so that a transport can answer them all in
//! a single round trip (SSH: one script, one framed answer). A query may depend on an
//! earlier answer (run rpm only where a database exists; systemctl show only online).

use std::path::{Path, PathBuf};

use super::{CmdOutput, Uname};

#[derive(Debug, Clone)]
pub enum Query {
    /// Take the run's lock on the target, held until the transport is closed (first
    /// query of a batch only). The transport answers `Locked`, or fails with
    /// `WouldBlock` naming the holder.
    Lock(LockSpec),
    Uname,
    IsRootUser,
    /// Whether services can be started; `Err(reason)` for an offline target.
    SystemdOnline,
    Read(PathBuf),
    /// Whether any of these paths exists.
    AnyExists(Vec<PathBuf>),
    Run {
        argv: Vec<String>,
        when: When,
    },
    /// Bytes of the files below a directory; `None` when it does not exist.
    TreeSize(PathBuf),
    /// The regular files of a directory whose names start with `prefix` and end with
    /// `suffix` (systemd drop-ins: "", ".conf"), by name, sorted, with their content;
    /// none when the directory does not exist.
    Files(FileMatch),
}

/// The lock of a target: a file on the machine that holds it (a path of that machine,
/// never inside the target's tree), `flock`ed by the run that holds it, with what it
/// says about its holder. An flock dies with its
/// holder, so no lock outlives a killed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSpec {
    pub path: PathBuf,
    /// Who takes it: written into the file for whoever waits.
    pub holder: String,
    pub wait: std::time::Duration,
}

/// Another run holds the target: who, since when, and what to do.
pub fn locked_error(
    path: &std::path::Path,
    holder: &str,
    waited: std::time::Duration,
) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::WouldBlock,
        format!(
            "another run holds the lock on this target ({}): {}; waited {}s. Let it finish \
             (the lock goes with its holder, even a killed one), or wait longer with --lock-wait",
            path.display(),
            if holder.is_empty() {
                "holder unknown"
            } else {
                holder
            },
            waited.as_secs()
        ),
    )
}

/// Which files of a directory a `Files` query wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMatch {
    pub dir: PathBuf,
    pub prefix: String,
    pub suffix: String,
}

impl FileMatch {
    pub fn new(dir: impl Into<PathBuf>, prefix: &str, suffix: &str) -> FileMatch {
        FileMatch {
            dir: dir.into(),
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        name.len() >= self.prefix.len() + self.suffix.len()
            && name.starts_with(&self.prefix)
            && name.ends_with(&self.suffix)
    }
}

/// When a `Run` query runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Only when the `AnyExists` query at this index answered true.
    IfExists(usize),
    /// Only when the `SystemdOnline` query answered online (resp. offline).
    Online,
    Offline,
}

#[derive(Debug, Clone)]
pub enum Answer {
    Locked,
    Uname(Uname),
    Bool(bool),
    Online(Result<(), String>),
    File(Option<Vec<u8>>),
    /// `None`: the query's condition did not hold, so it did not run.
    Output(Option<CmdOutput>),
    Size(Option<u64>),
    Files(Vec<(String, Vec<u8>)>),
}

impl When {
    /// Whether the condition holds given the answers so far.
    pub fn holds(self, answers: &[Answer]) -> bool {
        let online = || {
            answers
                .iter()
                .find_map(|a| match a {
                    Answer::Online(state) => Some(state.is_ok()),
                    _ => None,
                })
                .unwrap_or(false)
        };
        match self {
            When::IfExists(index) => matches!(answers.get(index), Some(Answer::Bool(true))),
            When::Online => online(),
            When::Offline => !online(),
        }
    }
}

/// A path that should be a file but is a directory (a bind mount of a file that did not
/// exist makes one). Never read as absent, never written
/// into: the run stops and says what to do.
pub fn not_a_file(shown: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "{} is a directory, not a file: move it away (and check the bind mount that made \
             it), then rerun",
            shown.display()
        ),
    )
}
