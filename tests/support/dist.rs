//! What `scripts/dist` ships, for the tests that check it: the script run once per test
//! process (under a lock across processes), its files, and an rpm stand-in for EL7's
//! glibc for installing the rpm with its dependencies checked.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{output_text, target_dir, with_lock};

const DIST_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/dist");
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `target/dist`, built once per test process (and under a lock across processes).
pub fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let lock = target_dir().join("dist.lock");
        with_lock(&lock, || {
            let out = Command::new(DIST_SCRIPT)
                .env_remove("CARGO_TARGET_DIR")
                .output()
                .expect("scripts/dist");
            assert!(
                out.status.success(),
                "scripts/dist failed:\n{}",
                output_text(&out)
            );
        });
        target_dir().join("dist")
    })
}

pub fn binary() -> PathBuf {
    binary_for("x86_64")
}

/// The portable binary for `arch` (`uname -m`).
pub fn binary_for(arch: &str) -> PathBuf {
    dist().join(format!("rdock-setup-{VERSION}-{arch}-linux-gnu"))
}

pub fn rpm_file() -> PathBuf {
    rpm_file_for("x86_64")
}

pub fn rpm_file_for(arch: &str) -> PathBuf {
    dist().join(format!("rdock-setup-{VERSION}-1.{arch}.rpm"))
}

/// Whether this machine can build for aarch64 (scripts/dist builds it then).
pub fn aarch64_std_installed() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l == "aarch64-unknown-linux-gnu")
        })
        .unwrap_or(false)
}

pub fn deb_file() -> PathBuf {
    dist().join(format!("rdock-setup_{VERSION}-1_amd64.deb"))
}

/// Runs a program to success; its stdout.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds a package with rpmbuild into `dir`: name, spec preamble lines.
pub fn build_rpm(dir: &Path, name: &str, preamble: &str) -> PathBuf {
    let spec = dir.join(format!("{name}.spec"));
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: 1\nRelease: 1.el7\nSummary: {name}\nLicense: none\nAutoReqProv: no\n\
             {preamble}\n%description\n{name}\n%files\n"
        ),
    )
    .unwrap();
    let topdir = dir.join("rpmbuild");
    run(
        "rpmbuild",
        &[
            "-bb",
            "--quiet",
            "--target",
            "x86_64",
            "--define",
            &format!("_topdir {}", topdir.display()),
            "--define",
            "_binary_payload w9.gzdio",
            spec.to_str().unwrap(),
        ],
    );
    topdir.join(format!("RPMS/x86_64/{name}-1-1.el7.x86_64.rpm"))
}

/// A package named glibc that provides what CentOS 7's glibc-2.17 provides: each of
/// its libraries, unversioned and at each symbol version up to GLIBC_2.17. It carries
/// no files; installed into a root's rpm database, it lets rpm make the dependency
/// check `yum install ./rdock-setup….rpm` makes on a real EL7 host.
pub fn el7_glibc_standin(dir: &Path) -> PathBuf {
    const GLIBC_2_17_VERSIONS: &[&str] = &[
        "2.2.5", "2.2.6", "2.3", "2.3.2", "2.3.3", "2.3.4", "2.4", "2.5", "2.6", "2.7", "2.8",
        "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16", "2.17",
    ];
    const LIBS: &[&str] = &[
        "libc.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libm.so.6",
        "ld-linux-x86-64.so.2",
    ];
    let mut provides = String::new();
    for lib in LIBS {
        provides.push_str(&format!("Provides: {lib}()(64bit)\n"));
        for v in GLIBC_2_17_VERSIONS {
            provides.push_str(&format!("Provides: {lib}(GLIBC_{v})(64bit)\n"));
        }
    }
    build_rpm(dir, "glibc", &provides)
}
