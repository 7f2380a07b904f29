//! The machine this process runs on.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use std::cell::RefCell;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use super::probe::{self, FileMatch, LockSpec, locked_error};
use super::{CmdOutput, Stage, Transport, Uname, bounded, inroot};

/// This machine; it holds the target's lock once taken (`Query::Lock`).
#[derive(Default)]
pub struct LocalTransport {
    lock: RefCell<Option<Flock<File>>>,
}

impl Transport for LocalTransport {
    fn lock(&self, _root: Option<&Path>, spec: &LockSpec) -> io::Result<()> {
        // A path of this machine, not of the target's tree (facts::lock_spec).
        let path = spec.path.clone();
        if let Some(parent) = path.parent() {
            create_dirs(parent)?;
        }
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let deadline = Instant::now() + spec.wait;
        let mut told = false;
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(mut held) => {
                    held.set_len(0)?;
                    writeln!(held, "{} since {}", spec.holder, now_utc())?;
                    held.sync_all()?;
                    *self.lock.borrow_mut() = Some(held);
                    return Ok(());
                }
                Err((back, nix::errno::Errno::EWOULDBLOCK)) => {
                    file = back;
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let holder = holder.trim();
                    if Instant::now() >= deadline {
                        return Err(locked_error(&path, holder, spec.wait));
                    }
                    if !told {
                        eprintln!(
                            "waiting up to {}s for the lock on {}, held by {holder}",
                            spec.wait.as_secs(),
                            path.display()
                        );
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err((_, errno)) => return Err(io::Error::from(errno)),
            }
        }
    }

    fn name(&self) -> String {
        "localhost".to_string()
    }

    fn run(&self, argv: &[String]) -> io::Result<CmdOutput> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
        // The C locale keeps yum/dnf/rpm output in the English our parsers read.
        // Own process group: Ctrl-C on the terminal must not cut a transaction short.
        let spawned = bounded::output(
            Command::new(program)
                .args(args)
                .process_group(0)
                .env("LC_ALL", "C")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            None,
            bounded::for_argv(argv),
        );
        let output = match spawned {
            // A missing program answers as a shell (and so the SSH transport) would: 127,
            // for the caller to judge, not an I/O error that reads like a broken target.
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Ok(CmdOutput {
                    status: Some(127),
                    stdout: String::new(),
                    stderr: format!("{program}: command not found"),
                });
            }
            other => other.map_err(|err| timed_out_as(err, argv))?,
        };
        Ok(CmdOutput {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    fn uname(&self) -> io::Result<Uname> {
        let uts = nix::sys::utsname::uname().map_err(io::Error::from)?;
        Ok(Uname {
            release: uts.release().to_string_lossy().into_owned(),
            machine: uts.machine().to_string_lossy().into_owned(),
        })
    }

    fn is_root_user(&self) -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn systemd_online(&self) -> Result<(), String> {
        if !Path::new("/run/systemd/system").is_dir() {
            return Err("systemd is not running on this machine".into());
        }
        // Inside a chroot our `/` is not the one PID 1 sees.
        match (fs::metadata("/"), fs::metadata("/proc/1/root/")) {
            (Ok(ours), Ok(init)) if ours.dev() != init.dev() || ours.ino() != init.ino() => {
                Err("this process runs inside a chroot".into())
            }
            _ => Ok(()),
        }
    }

    fn read_file(&self, root: Option<&Path>, path: &Path) -> io::Result<Option<Vec<u8>>> {
        let real = inroot::resolve(root, path)?;
        match fs::metadata(&real) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
            Ok(meta) if meta.is_dir() => return Err(probe::not_a_file(&real)),
            Ok(_) => {}
        }
        fs::read(&real).map(Some)
    }

    fn exists(&self, root: Option<&Path>, path: &Path) -> io::Result<bool> {
        let real = inroot::resolve(root, path)?;
        Ok(fs::symlink_metadata(real).is_ok())
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
        let real = inroot::resolve(root, path)?;
        let dir = real
            .parent()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
        create_dirs(dir)?;
        let existing = fs::metadata(&real).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(probe::not_a_file(&real));
        }
        let mut temp = tempfile::Builder::new()
            .prefix(".rdock-setup.")
            .tempfile_in(dir)?;
        temp.write_all(bytes)?;
        let mode = match &existing {
            _ if private => 0o600,
            Some(meta) => meta.mode() & 0o7777,
            None => default_mode,
        };
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
        if let Some(meta) = &existing {
            nix::unistd::fchown(
                temp.as_file(),
                Some(nix::unistd::Uid::from_raw(meta.uid())),
                Some(nix::unistd::Gid::from_raw(meta.gid())),
            )
            .map_err(io::Error::from)?;
        }
        temp.as_file().sync_all()?;
        if let (Some(backup), Some(_)) = (backup, &existing) {
            let backup_real = inroot::resolve(root, backup)?;
            // A hard link keeps the old inode (content, mode, owner) under the backup name;
            // an existing backup is never overwritten.
            if let Err(err) = fs::hard_link(&real, &backup_real) {
                if err.kind() == io::ErrorKind::AlreadyExists || backup_real.exists() {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("backup {} already exists", backup_real.display()),
                    ));
                }
                fs::copy(&real, &backup_real)?;
            }
            if private {
                fs::set_permissions(&backup_real, fs::Permissions::from_mode(0o600))?;
            }
        }
        temp.persist(&real).map_err(|err| err.error)?;
        File::open(dir)?.sync_all()?;
        Ok(())
    }

    fn tree_size(&self, root: Option<&Path>, path: &Path) -> io::Result<Option<u64>> {
        let real = inroot::resolve(root, path)?;
        match fs::symlink_metadata(&real) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
            Ok(_) => Ok(Some(disk_usage(&real)?)),
        }
    }

    fn remove_tree(&self, root: Option<&Path>, path: &Path) -> io::Result<()> {
        let real = inroot::resolve(root, path)?;
        let removed = match fs::symlink_metadata(&real) {
            Ok(meta) if meta.is_dir() => {
                // Like `rm --one-file-system`, and stricter: a filesystem mounted inside
                // (an NFS volume, say) stops the deletion before anything is deleted.
                if let Some(mount) = mount_inside(&real, meta.dev())? {
                    return Err(io::Error::other(format!(
                        "{} is a mount point inside {}: unmount it first",
                        mount.display(),
                        real.display()
                    )));
                }
                fs::remove_dir_all(&real)
            }
            Ok(_) => fs::remove_file(&real),
            Err(err) => Err(err),
        };
        match removed {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn files(&self, root: Option<&Path>, wanted: &FileMatch) -> io::Result<Vec<(String, Vec<u8>)>> {
        let real = inroot::resolve(root, &wanted.dir)?;
        let entries = match fs::read_dir(&real) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Like systemd with drop-ins: following symlinks, regular files only.
            if wanted.matches(&name) && fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
                files.push((name, fs::read(entry.path())?));
            }
        }
        files.sort();
        Ok(files)
    }

    fn run_staged(
        &self,
        root: Option<&Path>,
        stage: &Stage,
        argv_for: &dyn Fn(&Path) -> Vec<String>,
    ) -> io::Result<(Vec<String>, CmdOutput)> {
        let dir = tempfile::Builder::new().prefix("rdock-setup.").tempdir()?;
        for (relative, bytes) in &stage.files {
            let path = dir.path().join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, bytes)?;
        }
        for (target_path, relative) in &stage.copies {
            // The parent is resolved inside the root; the last component is copied as
            // it is, so a symlink stays a symlink (and is never followed out of it).
            let (Some(parent), Some(name)) = (target_path.parent(), target_path.file_name()) else {
                continue;
            };
            let source = inroot::resolve(root, parent)?.join(name);
            if fs::symlink_metadata(&source).is_err() {
                continue;
            }
            let dest = dir.path().join(relative);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            copy_as_is(&source, &dest)?;
        }
        let argv = argv_for(dir.path());
        let output = self.run(&argv)?;
        Ok((argv, output))
    }
}

/// Now, as `2026-11-29T16:00:00Z`.
pub fn now_utc() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A command stopped at its bound, named.
fn timed_out_as(err: io::Error, argv: &[String]) -> io::Error {
    if err.kind() == io::ErrorKind::TimedOut {
        io::Error::new(err.kind(), format!("`{}` {err}", argv.join(" ")))
    } else {
        err
    }
}

/// Create `dir` and its missing parents, each 0755 whatever the umask (DirBuilder's mode
/// is filtered by it: under umask 077 /etc/docker would come out 0700).
fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(path) = at.filter(|p| !p.as_os_str().is_empty() && !p.is_dir()) {
        missing.push(path);
        at = path.parent();
    }
    for path in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(0o755).create(path) {
            Ok(()) => fs::set_permissions(path, fs::Permissions::from_mode(0o755))?,
            // Made meanwhile by someone else: theirs, mode and all.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Copy a file, symlink or directory tree without following symlinks, leaving out
/// Berkeley DB region files (`__db.*`: per-machine state of an EL7 rpm database).
fn copy_as_is(source: &Path, dest: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(source)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(source)?, dest)
    } else if meta.is_dir() {
        fs::create_dir_all(dest)?;
        for entry in fs::read_dir(source)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("__db.") {
                continue;
            }
            copy_as_is(&entry.path(), &dest.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.is_file() {
        fs::copy(source, dest).map(|_| ())
    } else {
        Ok(())
    }
}

/// The first directory below `path` on another filesystem than `dev`.
fn mount_inside(path: &Path, dev: u64) -> io::Result<Option<std::path::PathBuf>> {
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let meta = fs::symlink_metadata(entry.path())?;
        if !meta.is_dir() {
            continue;
        }
        if meta.dev() != dev {
            return Ok(Some(entry.path()));
        }
        if let Some(found) = mount_inside(&entry.path(), dev)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Bytes of the files below `path` (directories themselves not counted), not
/// following symlinks.
fn disk_usage(path: &Path) -> io::Result<u64> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in fs::read_dir(path)? {
        total += disk_usage(&entry?.path())?;
    }
    Ok(total)
}
