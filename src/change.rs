//! A change is data: what will differ on the target and the exact action that makes it
//! so. Dry-run renders changes; apply executes the same values, never recomputing them.

use std::fmt;
use std::path::PathBuf;

use crate::error::Result;
use crate::host::Host;
use crate::host::change_script::ScriptOp;
use crate::packages::rpmver::Evr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageVerb {
    Install,
    Remove,
    Upgrade,
    Downgrade,
}

impl fmt::Display for PackageVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PackageVerb::Install => "install",
            PackageVerb::Remove => "remove",
            PackageVerb::Upgrade => "upgrade",
            PackageVerb::Downgrade => "DOWNGRADE",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageItem {
    pub name: String,
    pub from: Option<Evr>,
    pub to: Option<Evr>,
}

impl fmt::Display for PackageItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.from, &self.to) {
            (Some(from), Some(to)) => write!(f, "{} {from} -> {to}", self.name),
            (None, Some(to)) => write!(f, "{} {to}", self.name),
            (Some(from), None) => write!(f, "{} {from}", self.name),
            (None, None) => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    DaemonReload,
    Enable,
    Start,
    Reload,
    Restart,
}

impl fmt::Display for ServiceAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceAction::DaemonReload => "daemon-reload",
            ServiceAction::Enable => "enable docker",
            ServiceAction::Start => "start docker",
            ServiceAction::Reload => "reload docker",
            ServiceAction::Restart => "restart docker",
        })
    }
}

#[derive(Debug, Clone)]
pub enum Change {
    /// Packages installed, upgraded, downgraded or removed. They are carried out by the
    /// run's one package transaction (`StepPlan::transaction`), not one by one.
    Packages {
        verb: PackageVerb,
        items: Vec<PackageItem>,
    },
    /// Refresh the package metadata cache.
    Refresh {
        argv: Vec<String>,
    },
    /// Replace (or create) a file; the old content is kept at `backup`.
    File {
        path: PathBuf,
        old: Option<Vec<u8>>,
        new: Vec<u8>,
        default_mode: u32,
        backup: Option<PathBuf>,
    },
    /// The tool's own record on the target, written atomically, no backup.
    Record {
        path: PathBuf,
        bytes: Vec<u8>,
    },
    /// Put a file back if a package removal took it away (rpm moves a modified
    /// %config file such as the old docker's daemon.json to .rpmsave).
    KeepFile {
        path: PathBuf,
        bytes: Vec<u8>,
    },
    /// A command that changes the target (`usermod`, `groupadd`); `what` for the report.
    Command {
        what: String,
        argv: Vec<String>,
    },
    DeleteTree {
        path: PathBuf,
        size: u64,
    },
    Service {
        action: ServiceAction,
        argv: Vec<String>,
    },
}

impl Change {
    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Change::Packages { verb, items, .. } => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                format!("{verb} {}", items.join(", "))
            }
            Change::Refresh { argv } => format!("refresh metadata ({})", argv_summary(argv)),
            Change::File { path, old, .. } => match old {
                None => format!("create {}", path.display()),
                Some(_) => format!("update {}", path.display()),
            },
            Change::KeepFile { path, .. } => format!("keep {} through the removal", path.display()),
            Change::Record { path, .. } => format!("record the keys it owns in {}", path.display()),
            Change::DeleteTree { path, size } => {
                format!("delete {} ({})", path.display(), human_size(*size))
            }
            Change::Service { action, .. } => action.to_string(),
            Change::Command { what, .. } => what.clone(),
        }
    }

    /// A unified diff for file changes.
    pub fn diff(&self) -> Option<String> {
        let Change::File { path, old, new, .. } = self else {
            return None;
        };
        let old_text = old
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let new_text = String::from_utf8_lossy(new);
        let shown = path.display().to_string();
        let old_name = if old.is_some() {
            shown.clone()
        } else {
            "/dev/null".into()
        };
        Some(
            similar::TextDiff::from_lines(old_text.as_ref(), new_text.as_ref())
                .unified_diff()
                .context_radius(3)
                .header(&old_name, &shown)
                .to_string(),
        )
    }

    pub fn apply(&self, host: &Host) -> Result<()> {
        match self {
            // Done by the package transaction, which the runner runs before this step's
            // changes (steps::transaction); checked there, package by package.
            Change::Packages { .. } => {}
            Change::Refresh { argv } => {
                host.run_ok(argv.clone(), &self.hint())?;
            }
            Change::File {
                path,
                new,
                default_mode,
                backup,
                ..
            } => host.write_file(path, new, *default_mode, backup.as_deref())?,
            Change::Record { path, bytes } => host.write_file(path, bytes, 0o644, None)?,
            Change::KeepFile { path, bytes } => {
                if host.read_file(path)?.is_none() {
                    host.write_file(path, bytes, 0o644, None)?;
                }
            }
            Change::DeleteTree { path, .. } => host.remove_tree(path)?,
            Change::Command { argv, .. } | Change::Service { argv, .. } => {
                host.run_ok(argv.clone(), &self.hint())?;
            }
        }
        Ok(())
    }

    /// What to do when this change's command fails.
    fn hint(&self) -> String {
        match self {
            Change::Refresh { .. } => {
                "is the repository reachable from the target? check repo.source and the proxy"
                    .into()
            }
            Change::Command { what, .. } => {
                format!("could not {what}; the run is safe to repeat")
            }
            Change::Service { action, .. } => format!(
                "`{action}` failed; see `journalctl -u docker` on the target for the reason"
            ),
            _ => String::new(),
        }
    }

    /// The same actions as `apply`, as operations of a change script (host/change_script.rs).
    pub fn script_ops(&self) -> Vec<ScriptOp> {
        match self {
            Change::Packages { .. } => Vec::new(),
            Change::Refresh { argv }
            | Change::Command { argv, .. }
            | Change::Service { argv, .. } => {
                vec![ScriptOp::Run {
                    argv: argv.clone(),
                    hint: self.hint(),
                }]
            }
            Change::File {
                path,
                new,
                default_mode,
                backup,
                ..
            } => vec![ScriptOp::Write {
                path: path.clone(),
                bytes: new.clone(),
                default_mode: *default_mode,
                private: crate::secrets::carries_secret(new),
                backup: backup.clone(),
                only_if_missing: false,
            }],
            Change::Record { path, bytes } | Change::KeepFile { path, bytes } => {
                vec![ScriptOp::Write {
                    path: path.clone(),
                    bytes: bytes.clone(),
                    default_mode: 0o644,
                    private: crate::secrets::carries_secret(bytes),
                    backup: None,
                    only_if_missing: matches!(self, Change::KeepFile { .. }),
                }]
            }
            Change::DeleteTree { path, .. } => vec![ScriptOp::RemoveTree { path: path.clone() }],
        }
    }
}

fn argv_summary(argv: &[String]) -> String {
    argv.iter()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
