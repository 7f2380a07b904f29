//! apt sandbox support: a Debian 12 root made by debootstrap (with Debian's docker.io
//! installed, cached under /var/cache/rdock-tests like the lab's images), copied per
//! test; and a signed docker-ce-style apt repo (`build-apt-repo.sh`), served on
//! loopback by this process. An Ubuntu 22.04 root is the same Debian tree presented
//! as Ubuntu through its release files (/etc/os-release, /etc/lsb-release): dpkg and
//! apt are Debian's, the distribution the tool sees and the repo tree it picks are
//! Ubuntu's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{TestRepo, fnv1a, serve, target_dir, with_lock};

const REPO_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/build-apt-repo.sh"
);
const ROOT_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/build-debian-root.sh"
);
/// Kept across `cargo clean`, like the lab's images (lab/lab: /var/cache/rdock-lab).
const ROOT_CACHE: &str = "/var/cache/rdock-tests";

/// Run `script OUT [more]` once per content of the script, under a lock.
fn build_cached(script: &str, parent: &Path, name: &str, more: &[&Path]) -> PathBuf {
    let text = fs::read(script).unwrap_or_else(|e| panic!("read {script}: {e}"));
    let key = format!("{:016x}", fnv1a(&text));
    fs::create_dir_all(parent).unwrap();
    let dir = parent.join(format!("{name}-{key}"));
    if dir.join(".complete").exists() {
        return dir;
    }
    with_lock(&parent.join(format!("{name}-{key}.lock")), || {
        if dir.join(".complete").exists() {
            return;
        }
        let out = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .args(more)
            .output()
            .unwrap_or_else(|e| panic!("run {script}: {e}"));
        assert!(
            out.status.success() && dir.join(".complete").exists(),
            "{script} {} failed ({}):\n{}\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    });
    dir
}

/// The signed apt repo, built once (cached under target/test-fixtures), served here.
pub fn apt_repo() -> &'static TestRepo {
    static REPO: OnceLock<TestRepo> = OnceLock::new();
    REPO.get_or_init(|| {
        let fixtures = target_dir().join("test-fixtures");
        let gpg = fixtures.join("apt-gpg");
        fs::create_dir_all(&gpg).unwrap();
        serve(build_cached(REPO_SCRIPT, &fixtures, "apt-repo", &[&gpg]))
    })
}

/// The cached debootstrap tree (read only; tests copy it).
fn debian_image() -> PathBuf {
    build_cached(
        ROOT_SCRIPT,
        Path::new(ROOT_CACHE),
        "debian12-docker.io",
        &[],
    )
    .join("tree")
}

pub const OPERATOR_DAEMON_JSON: &str = "{\n  \"log-level\": \"warn\",\n  \"data-root\": \"/srv/docker\",\n  \"live-restore\": true\n}\n";

/// A private copy of the Debian 12 root with docker.io installed and an operator's
/// daemon.json; removed on drop.
pub struct AptRoot {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

impl AptRoot {
    pub fn debian12() -> AptRoot {
        let tmp = tempfile::Builder::new()
            .prefix("rdock-apt-")
            .tempdir_in(target_dir())
            .unwrap();
        let root = tmp.path().join("root");
        let status = Command::new("cp")
            .arg("-a")
            .arg(debian_image())
            .arg(&root)
            .status()
            .unwrap();
        assert!(status.success(), "copy the Debian image");
        fs::create_dir_all(root.join("etc/docker")).unwrap();
        fs::write(root.join("etc/docker/daemon.json"), OPERATOR_DAEMON_JSON).unwrap();
        AptRoot { _tmp: tmp, root }
    }

    /// The same tree presented as Ubuntu 22.04 (jammy) through its release files.
    pub fn ubuntu2204() -> AptRoot {
        let apt = AptRoot::debian12();
        let os_release = "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n\
             VERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\n\
             ID_LIKE=debian\nUBUNTU_CODENAME=jammy\n";
        // /etc/os-release is a link to ../usr/lib/os-release on Debian: replace the file.
        let _ = fs::remove_file(apt.root.join("etc/os-release"));
        fs::write(apt.root.join("etc/os-release"), os_release).unwrap();
        fs::write(apt.root.join("usr/lib/os-release"), os_release).unwrap();
        fs::write(
            apt.root.join("etc/lsb-release"),
            "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n",
        )
        .unwrap();
        apt
    }

    pub fn path(&self) -> &str {
        self.root.to_str().unwrap()
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        fs::read_to_string(self.root.join(rel)).ok()
    }

    /// `name -> (version, status abbreviation)` as the tree's dpkg sees it.
    pub fn dpkg(&self, names: &[&str]) -> std::collections::BTreeMap<String, (String, String)> {
        let out = Command::new("dpkg-query")
            .arg(format!("--admindir={}/var/lib/dpkg", self.path()))
            .args([
                "-W",
                "-f",
                "${Package}\\t${Version}\\t${db:Status-Abbrev}\\n",
            ])
            .args(names)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| {
                let mut f = line.split('\t');
                Some((
                    f.next()?.to_string(),
                    (f.next()?.to_string(), f.next()?.trim().to_string()),
                ))
            })
            .collect()
    }

    /// The package installed (`ii`/`hi`) at which version, if it is.
    pub fn installed(&self, name: &str) -> Option<String> {
        self.dpkg(&[name])
            .remove(name)
            .filter(|(_, s)| s.ends_with('i') && s.len() >= 2)
            .map(|(v, _)| v)
    }
}
