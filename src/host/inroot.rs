//! Target paths inside a root directory are resolved as if that directory were `/`:
//! an absolute symlink such as DIR/etc -> /etc stays inside DIR. The kernel does the
//! resolution (openat2 with RESOLVE_IN_ROOT), so `..` and symlink tricks cannot escape.
//! Kernels before Linux 5.6 (CentOS 7's 3.10, EL8's 4.18) have no openat2: there the
//! same resolution is done component by component.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};

/// Where `path` (an absolute target path) lives on this machine. Components that do not
/// exist yet are appended unresolved: they cannot be symlinks.
pub fn resolve(root: Option<&Path>, path: &Path) -> io::Result<PathBuf> {
    let Some(root) = root else {
        return Ok(path.to_path_buf());
    };
    let root_dir = File::open(root)?;
    let relative = clean_relative(path)?;
    resolve_relative(&root_dir, root, &relative)
}

/// Symlinks followed by hand (dangling ones) before giving up, like the kernel's 40.
const MAX_HOPS: usize = 40;

/// How often an openat2 that met a concurrent rename or mount is tried again.
const RACE_RETRIES: usize = 1000;

/// openat2 confined to the root. With RESOLVE_IN_ROOT the kernel answers EAGAIN when a
/// rename or mount anywhere on the machine raced a `..` of the path (a symlink such as
/// /etc/os-release -> ../usr/lib/os-release has one); the documented answer is to try
/// again, which on a busy machine (package managers renaming files) is needed.
fn open_in_root(root_dir: &File, relative: &Path) -> nix::Result<std::os::fd::OwnedFd> {
    let how = || {
        OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS)
    };
    let mut tries = 0;
    loop {
        match openat2(root_dir, relative, how()) {
            Err(nix::errno::Errno::EAGAIN) if tries < RACE_RETRIES => {
                tries += 1;
                std::thread::yield_now();
            }
            other => return other,
        }
    }
}

fn resolve_relative(root_dir: &File, root: &Path, relative: &Path) -> io::Result<PathBuf> {
    resolve_hops(root_dir, root, relative, 0)
}

fn resolve_hops(root_dir: &File, root: &Path, relative: &Path, hops: usize) -> io::Result<PathBuf> {
    if relative.as_os_str().is_empty() {
        return std::fs::canonicalize(root);
    }
    match open_in_root(root_dir, relative) {
        Ok(fd) => std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())),
        Err(nix::errno::Errno::ENOENT) => {
            let name = relative.file_name().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "path has no file name")
            })?;
            let parent = relative.parent().unwrap_or(Path::new(""));
            let joined = resolve_hops(root_dir, root, parent, hops)?.join(name);
            // The last component may be a symlink whose target does not exist (yet):
            // follow it inside the root by hand, never through the host's view of it.
            match std::fs::read_link(&joined) {
                Ok(target) => {
                    if hops >= MAX_HOPS {
                        return Err(io::Error::from(nix::errno::Errno::ELOOP));
                    }
                    let next = if target.is_absolute() {
                        normalize(&target)
                    } else {
                        normalize(&parent.join(target))
                    };
                    resolve_hops(root_dir, root, &next, hops + 1)
                }
                Err(_) => Ok(joined),
            }
        }
        Err(nix::errno::Errno::ENOSYS) => resolve_by_hand(root, relative),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// Where the kernel has no openat2: the same resolution, one component at a time. A
/// symlink's target replaces it (an absolute one starts again at the root), `..` never
/// climbs above the root, components that do not exist are appended unresolved.
/// Unlike openat2 it is not atomic: a tree changed while it walks can mislead it.
fn resolve_by_hand(root: &Path, relative: &Path) -> io::Result<PathBuf> {
    const PARENT: &str = "..";
    fn parts(path: &Path) -> VecDeque<OsString> {
        path.components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part.to_os_string()),
                Component::ParentDir => Some(OsString::from(PARENT)),
                _ => None,
            })
            .collect()
    }
    let base = std::fs::canonicalize(root)?;
    let mut done: Vec<OsString> = Vec::new();
    let mut todo = parts(relative);
    let mut hops = 0;
    while let Some(part) = todo.pop_front() {
        if part == PARENT {
            done.pop();
            continue;
        }
        let here: PathBuf = base
            .iter()
            .chain(done.iter().map(|d| d.as_os_str()))
            .collect();
        let candidate = here.join(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(io::Error::from(nix::errno::Errno::ELOOP));
                }
                let target = std::fs::read_link(&candidate)?;
                if target.is_absolute() {
                    done.clear();
                }
                let mut next = parts(&target);
                next.extend(todo.drain(..));
                todo = next;
            }
            Ok(_) => done.push(part),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                done.push(part);
                for rest in todo.drain(..) {
                    if rest == PARENT {
                        done.pop();
                    } else {
                        done.push(rest);
                    }
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(base
        .iter()
        .chain(done.iter().map(|d| d.as_os_str()))
        .collect())
}

/// A link target as a path relative to the root: `..` stops at the root, as the
/// kernel's RESOLVE_IN_ROOT does.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// `/etc/docker/daemon.json` -> `etc/docker/daemon.json`; `..` is refused, since target
/// paths come from the tool itself and never need it.
fn clean_relative(path: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(part) => out.push(part),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a plain absolute path", path.display()),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_symlink_stays_inside_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("real-etc")).unwrap();
        symlink("/real-etc", root.join("etc")).unwrap();
        let resolved = resolve(Some(&root), Path::new("/etc/docker/daemon.json")).unwrap();
        let canonical_root = std::fs::canonicalize(&root).unwrap();
        assert_eq!(resolved, canonical_root.join("real-etc/docker/daemon.json"));
    }

    #[test]
    fn dotdot_symlink_is_clamped_at_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("real-etc")).unwrap();
        symlink("../../../../../../real-etc", root.join("etc")).unwrap();
        let resolved = resolve(Some(&root), Path::new("/etc/os-release")).unwrap();
        let canonical_root = std::fs::canonicalize(&root).unwrap();
        assert_eq!(resolved, canonical_root.join("real-etc/os-release"));
    }

    #[test]
    fn a_dangling_absolute_symlink_is_followed_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        // On the host the target exists; inside the root it does not.
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        symlink(&outside, root.join("etc/docker")).unwrap();
        let resolved = resolve(Some(&root), Path::new("/etc/docker/daemon.json")).unwrap();
        let canonical_root = std::fs::canonicalize(&root).unwrap();
        assert!(
            resolved.starts_with(&canonical_root),
            "{resolved:?} escaped"
        );
        assert!(resolved.ends_with("outside/daemon.json"), "{resolved:?}");
        // A loop of dangling links ends in an error, not a hang.
        symlink("/loop-b", root.join("loop-a")).unwrap();
        symlink("/loop-a", root.join("loop-b")).unwrap();
        assert!(resolve(Some(&root), Path::new("/loop-a/x")).is_err());
    }

    /// The component-by-component walk (kernels without openat2) lands where openat2
    /// does, on every trick the tests above use and a few more.
    #[test]
    fn resolution_by_hand_matches_openat2() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("real-etc/docker")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::write(root.join("usr/lib/os-release"), "ID=centos\n").unwrap();
        std::fs::write(root.join("real-etc/docker/daemon.json"), "{}").unwrap();
        symlink("/real-etc", root.join("etc")).unwrap();
        symlink("../usr/lib/os-release", root.join("real-etc/os-release")).unwrap();
        symlink("../../../../../../real-etc", root.join("up")).unwrap();
        symlink("usr/lib/../../real-etc/docker", root.join("chain")).unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        symlink(&outside, root.join("real-etc/dangling")).unwrap();
        let canonical_root = std::fs::canonicalize(&root).unwrap();
        for path in [
            "/etc/docker/daemon.json",
            "/etc/os-release",
            "/up/os-release",
            "/chain/daemon.json",
            "/etc/dangling/daemon.json",
            "/etc/new/dir/file",
            "/",
        ] {
            let relative = clean_relative(Path::new(path)).unwrap();
            let by_kernel = resolve(Some(&root), Path::new(path)).unwrap();
            let by_hand = resolve_by_hand(&root, &relative).unwrap();
            assert_eq!(by_hand, by_kernel, "{path}");
            assert!(by_hand.starts_with(&canonical_root), "{path}: {by_hand:?}");
        }
        symlink("/loop-b", root.join("loop-a")).unwrap();
        symlink("/loop-a", root.join("loop-b")).unwrap();
        assert!(resolve_by_hand(&root, Path::new("loop-a/x")).is_err());
    }

    /// Renames elsewhere on the machine race the `..` of /etc/os-release ->
    /// ../usr/lib/os-release: openat2 then says EAGAIN, which is tried again, never
    /// reported as a failure to read the target (seen in CI: "cannot read facts …
    /// Resource temporarily unavailable" while other tests wrote files).
    #[test]
    fn a_rename_racing_the_resolution_is_not_a_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::write(root.join("usr/lib/os-release"), "ID=centos\n").unwrap();
        symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
        let busy = tmp.path().join("busy");
        std::fs::write(&busy, "x").unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let renamer = {
            let stop = stop.clone();
            let (a, b) = (busy.clone(), tmp.path().join("busy-2"));
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::fs::rename(&a, &b).unwrap();
                    std::fs::rename(&b, &a).unwrap();
                }
            })
        };
        let root_dir = File::open(&root).unwrap();
        let mut raced = 0;
        let mut failed = Vec::new();
        for _ in 0..20_000 {
            let how = OpenHow::new()
                .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
                .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            match openat2(&root_dir, Path::new("etc/os-release"), how) {
                Err(nix::errno::Errno::ENOSYS) => break,
                Err(nix::errno::Errno::EAGAIN) => raced += 1,
                _ => {}
            }
            if let Err(err) = resolve(Some(&root), Path::new("/etc/os-release")) {
                failed.push(err.to_string());
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        renamer.join().unwrap();
        eprintln!("openat2 met a concurrent rename {raced} times in 20000");
        assert!(
            failed.is_empty(),
            "{} failures: {:?}",
            failed.len(),
            failed.first()
        );
    }

    #[test]
    fn no_root_means_the_path_itself() {
        assert_eq!(
            resolve(None, Path::new("/etc/x")).unwrap(),
            Path::new("/etc/x")
        );
    }
}
