//! Target paths inside a root directory are resolved as if that directory were `/`:
//! an absolute symlink such as DIR/etc -> /etc stays inside DIR. The kernel does the
//! resolution (openat2 with RESOLVE_IN_ROOT), so `..` and symlink tricks cannot escape.

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

fn resolve_relative(root_dir: &File, root: &Path, relative: &Path) -> io::Result<PathBuf> {
    resolve_hops(root_dir, root, relative, 0)
}

fn resolve_hops(root_dir: &File, root: &Path, relative: &Path, hops: usize) -> io::Result<PathBuf> {
    if relative.as_os_str().is_empty() {
        return std::fs::canonicalize(root);
    }
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    match openat2(root_dir, relative, how) {
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
        Err(errno) => Err(io::Error::from(errno)),
    }
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

    #[test]
    fn no_root_means_the_path_itself() {
        assert_eq!(
            resolve(None, Path::new("/etc/x")).unwrap(),
            Path::new("/etc/x")
        );
    }
}
