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

fn resolve_relative(root_dir: &File, root: &Path, relative: &Path) -> io::Result<PathBuf> {
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
            Ok(resolve_relative(root_dir, root, parent)?.join(name))
        }
        Err(errno) => Err(io::Error::from(errno)),
    }
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
    fn no_root_means_the_path_itself() {
        assert_eq!(
            resolve(None, Path::new("/etc/x")).unwrap(),
            Path::new("/etc/x")
        );
    }
}
