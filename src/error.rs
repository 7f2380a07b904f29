//! One error type for the whole tool: each variant carries the facts, `Display` turns
//! them into a sentence (what failed, where, what to do next), and the exit code is
//! decided here and nowhere else.

use std::fmt;
use std::path::PathBuf;

/// Exit codes, stated once (README and `--help` repeat them).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_CHANGES_PENDING: i32 = 2;

#[derive(Debug)]
pub enum Error {
    /// The plan could not be read from disk.
    PlanRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The plan is malformed or names something invalid; `line`/`column` are 1-based.
    Plan {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: Option<String>,
    },
    /// A command on the target could not be started or failed.
    Command {
        argv: Vec<String>,
        status: Option<i32>,
        stderr: String,
        hint: String,
    },
    /// A file on the target could not be read or written.
    File {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// An existing file on the target has content the tool refuses to overwrite.
    Content {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: String,
    },
    /// A precondition on the target does not hold; nothing was changed.
    Preflight(Vec<String>),
    /// The requested engine version is not offered by the repository.
    Version { message: String, hint: String },
    /// The package transaction cannot be done, or did not end as planned: yum/dnf's
    /// own words, the repos they name (id, file, URLs), and what to do.
    Transaction {
        what: String,
        problems: Vec<String>,
        repos: Vec<String>,
        hint: String,
    },
    /// The host cannot be reached (connection, authentication or host key); the
    /// message says which and what to do.
    Unreachable(String),
    /// Anything else that stops a run, already phrased as a sentence with advice.
    Other(String),
}

impl Error {
    pub fn other(message: impl Into<String>) -> Self {
        Error::Other(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PlanRead { path, source } => write!(
                f,
                "cannot read plan {}: {source}; check the path and its permissions",
                path.display()
            ),
            Error::Plan {
                path,
                line,
                column,
                message,
                hint,
            } => {
                write!(f, "{}:{line}:{column}: {message}", path.display())?;
                if let Some(hint) = hint {
                    write!(f, "\n  hint: {hint}")?;
                }
                Ok(())
            }
            Error::Command {
                argv,
                status,
                stderr,
                hint,
            } => {
                let status = match status {
                    Some(code) => format!("exited with status {code}"),
                    None => "could not run or was killed".to_string(),
                };
                write!(f, "command `{}` {status}", argv.join(" "))?;
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
                    for line in tail.into_iter().rev() {
                        write!(f, "\n  | {line}")?;
                    }
                }
                write!(f, "\n  hint: {hint}")
            }
            Error::File {
                path,
                action,
                source,
            } => write!(
                f,
                "cannot {action} {}: {source}; check that the target is mounted and writable",
                path.display()
            ),
            Error::Content {
                path,
                line,
                column,
                message,
                hint,
            } => write!(
                f,
                "{}:{line}:{column}: {message}\n  hint: {hint}",
                path.display()
            ),
            Error::Preflight(problems) => {
                write!(f, "preflight failed; nothing was changed:")?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
            Error::Version { message, hint } => write!(f, "{message}\n  hint: {hint}"),
            Error::Transaction {
                what,
                problems,
                repos,
                hint,
            } => {
                write!(f, "{what}")?;
                for line in problems.iter().take(16) {
                    write!(f, "\n  | {line}")?;
                }
                for repo in repos {
                    write!(f, "\n  repo {repo}")?;
                }
                write!(f, "\n  hint: {hint}")
            }
            Error::Unreachable(message) | Error::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
