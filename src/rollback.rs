//! `rdock-setup rollback`: put the newest backup of a managed file back by hand, show
//! the diff, and restart docker so that it takes effect (checked like after an apply).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::change::Change;
use crate::error::{Error, Result};
use crate::facts::{DAEMON_JSON, DOCKER_UNIT, lock_spec};
use crate::health;
use crate::host::Host;
use crate::host::probe::{Answer, FileMatch, Query};

pub struct Rollback<'a> {
    pub file: &'a Path,
    pub dry_run: bool,
    pub restart: bool,
    pub backup_suffix: String,
}

/// What `run` did, for the caller to print.
pub struct Outcome {
    pub backup: PathBuf,
    pub diff: String,
    pub restarted: Option<String>,
}

pub fn run(host: &Host, rollback: &Rollback) -> Result<Outcome> {
    let file = rollback.file;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::other(format!("{} names no file", file.display())))?;
    let dir = file.parent().unwrap_or(Path::new("/"));
    let wanted = FileMatch::new(dir, &format!("{name}.rdock-setup-"), ".bak");
    // Putting a file back is a change: it waits for a running apply like another apply
    // would, and keeps the next one out until it is done. A dry-run only reads.
    let lock = (!rollback.dry_run).then(|| Query::Lock(lock_spec(host.root())));
    let skip = usize::from(lock.is_some());
    let mut queries: Vec<Query> = lock.into_iter().collect();
    queries.extend([
        Query::Files(wanted),
        Query::Read(file.to_path_buf()),
        Query::SystemdOnline,
    ]);
    let answers = host.probe(&queries)?;
    let answers = answers.get(skip..).unwrap_or_default();
    let (Some(Answer::Files(backups)), Some(Answer::File(current)), Some(Answer::Online(online))) =
        (answers.first(), answers.get(1), answers.get(2))
    else {
        return Err(Error::other("the target's answers were incomplete"));
    };
    // Backup names carry a sortable UTC time: the last is the newest.
    let Some((backup_name, previous)) = backups.last() else {
        return Err(Error::other(format!(
            "no backup of {} to go back to (backups are {}.rdock-setup-<time>.bak beside it)",
            file.display(),
            file.display()
        )));
    };
    let backup = dir.join(backup_name);
    // The file now, kept as a backup itself, so that a rollback can be rolled back.
    let change = Change::File {
        path: file.to_path_buf(),
        old: current.clone(),
        new: previous.clone(),
        default_mode: 0o644,
        backup: current.as_ref().map(|_| {
            let mut keep = file.as_os_str().to_owned();
            keep.push(&rollback.backup_suffix);
            PathBuf::from(keep)
        }),
    };
    let diff = change.diff().unwrap_or_default();
    if rollback.dry_run || current.as_deref() == Some(previous.as_slice()) {
        return Ok(Outcome {
            backup,
            diff,
            restarted: None,
        });
    }
    change.apply(host)?;

    let restarted = match (online, rollback.restart) {
        (Ok(()), true) => {
            if !file.starts_with(Path::new(DAEMON_JSON).parent().unwrap_or(Path::new("/"))) {
                host.run_ok(
                    host.systemctl_argv(&["daemon-reload"]),
                    "systemctl daemon-reload failed",
                )?;
            }
            let _ = host.run(host.systemctl_argv(&["reset-failed", DOCKER_UNIT]));
            host.run_ok(
                host.systemctl_argv(&["restart", DOCKER_UNIT]),
                "docker did not start with the restored file; see `journalctl -u docker`",
            )?;
            let info =
                health::wait_healthy(host, None, Duration::from_secs(60)).map_err(|why| {
                    Error::other(format!("docker is not healthy after the rollback: {why}"))
                })?;
            Some(format!(
                "docker restarted and answers: server {}",
                info["ServerVersion"].as_str().unwrap_or("?")
            ))
        }
        (Err(reason), _) => Some(format!("docker not restarted: {reason}")),
        (Ok(()), false) => {
            Some("docker not restarted (--no-restart): restart it to apply the file".into())
        }
    };
    Ok(Outcome {
        backup,
        diff,
        restarted,
    })
}
