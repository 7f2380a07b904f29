//! What ships: `scripts/dist` builds the portable binary and the packages (here, from
//! this test, so that the test checks what the script makes now), then
//! * the binary needs nothing newer than glibc 2.17 (scripts/check-portable) and runs
//!   the `--root` smoke case: `facts` and `apply --root` on a CentOS 7 sandbox;
//! * the rpm lists the binary, man pages, completions and playbooks; its Requires ask
//!   nothing above GLIBC_2.17 and only rpm features EL7's rpm 4.11 has; real rpm
//!   installs it, dependencies checked, into an EL7 root whose glibc provides exactly
//!   glibc 2.17's symbol versions, and refuses a package that needs 2.34 there;
//! * the deb installs with real dpkg into a Debian root, its libc6 dependency checked.

mod support;

use std::path::Path;
use std::process::Command;

use support::dist::{
    VERSION, aarch64_std_installed, binary, binary_for, build_rpm, deb_file, el7_glibc_standin,
    rpm_file, rpm_file_for, run,
};
use support::run::{parse, plan_file};
use support::{Sandbox, output_text, repo, shimmed_path};

const CHECK_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/check-portable");

/// Files every package carries.
const SHIPPED: &[&str] = &[
    "/usr/bin/rdock-setup",
    "/usr/share/man/man1/rdock-setup.1.gz",
    "/usr/share/man/man1/rdock-setup-status.1.gz",
    "/usr/share/bash-completion/completions/rdock-setup",
    "/usr/share/zsh/site-functions/_rdock-setup",
    "/usr/share/fish/vendor_completions.d/rdock-setup.fish",
    "/usr/share/rdock-setup/playbooks/centos7.toml",
    "/usr/share/rdock-setup/report.schema.json",
];

fn assert_ships_everything(listing: &str, what: &str) {
    for file in SHIPPED {
        assert!(
            listing
                .lines()
                .any(|l| l.trim_end().ends_with(file.trim_start_matches('.'))),
            "{what} lacks {file}:\n{listing}"
        );
    }
}

/// `1.2.3` as numbers, for comparing glibc versions.
fn version_parts(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[test]
fn the_binary_needs_glibc_2_17_at_most_and_runs_the_root_smoke_case() {
    let bin = binary();
    let report = run(CHECK_SCRIPT, &[bin.to_str().unwrap()]);
    assert!(
        report.contains("ok: newest symbol version GLIBC_2.1"),
        "{report}"
    );
    // The check bites: the binary cargo built for these tests links this machine's glibc.
    let native = Command::new(CHECK_SCRIPT)
        .arg(env!("CARGO_BIN_EXE_rdock-setup"))
        .output()
        .unwrap();
    assert_eq!(native.status.code(), Some(1), "{}", output_text(&native));

    root_smoke_case(|args| {
        Command::new(&bin)
            .args(args)
            .env("PATH", shimmed_path())
            .output()
            .unwrap()
    });
}

/// The `--root` smoke case through `tool` (argv after the program): `facts --root` on a
/// CentOS 7 sandbox, then `apply --root` installs the engine there.
fn root_smoke_case(tool: impl Fn(&[&str]) -> std::process::Output) {
    let sandbox = Sandbox::centos7();
    let root = sandbox.root.to_str().unwrap();
    let facts = tool(&["facts", "--root", root, "--format", "json"]);
    assert!(facts.status.success(), "{}", output_text(&facts));
    let json: serde_json::Value = serde_json::from_slice(&facts.stdout).unwrap();
    assert_eq!(json["distro"]["id"], "centos", "{}", output_text(&facts));
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n",
        repo().base_url
    ));
    let applied = parse(tool(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--root",
        root,
        "--format",
        "json",
    ]));
    assert_eq!(applied.code, Some(0), "{}", applied.text);
    assert_eq!(applied.host_status, "changed", "{}", applied.text);
    assert_eq!(
        sandbox.rpm_query().get("docker-ce").map(String::as_str),
        Some("3:20.10.24-3.el7")
    );
}

/// rpm's own features that EL7's rpm 4.11 has (`rpm --showrc` there), for rpmlib()
/// requirements.
const EL7_RPMLIB: &[&str] = &[
    "rpmlib(CompressedFileNames)",
    "rpmlib(FileDigests)",
    "rpmlib(PayloadFilesHavePrefix)",
    "rpmlib(PayloadIsXz)",
    "rpmlib(PayloadIsBzip2)",
    "rpmlib(PayloadIsLzma)",
    "rpmlib(VersionedDependencies)",
    "rpmlib(ExplicitPackageProvide)",
    "rpmlib(PartialHardlinkSets)",
    "rpmlib(ScriptletInterpreterArgs)",
    "rpmlib(TildeInVersions)",
    "rpmlib(FileCaps)",
];

#[test]
fn the_rpm_lists_everything_and_asks_only_for_what_el7_has() {
    check_rpm(&rpm_file());
    if aarch64_std_installed() {
        check_rpm(&rpm_file_for("aarch64"));
    }
}

fn check_rpm(rpm: &Path) {
    let rpm = rpm.to_str().unwrap();
    assert_ships_everything(&run("rpm", &["-qlp", rpm]), "rpm -qlp");
    let requires = run("rpm", &["-qp", "--requires", rpm]);
    let mut glibc_versions = 0;
    for req in requires.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if req.starts_with("rpmlib(") {
            let name = req.split_whitespace().next().unwrap();
            assert!(
                EL7_RPMLIB.contains(&name),
                "EL7's rpm lacks {req}:\n{requires}"
            );
        } else if let Some(rest) = req.split("(GLIBC_").nth(1) {
            let version = rest.split(')').next().unwrap();
            assert!(
                version_parts(version) <= version_parts("2.17"),
                "{req} is newer than EL7's glibc 2.17:\n{requires}"
            );
            glibc_versions += 1;
        } else {
            let soname = req.split('(').next().unwrap();
            assert!(
                soname.starts_with("libc.so.6")
                    || soname.starts_with("ld-linux-aarch64.so.1")
                    || soname.starts_with("libpthread.so.0")
                    || soname.starts_with("libdl.so.2")
                    || soname.starts_with("ld-linux-x86-64.so.2")
                    || soname.starts_with("librt.so.1")
                    || soname.starts_with("libm.so.6"),
                "{req}: not part of a minimal EL7 host's glibc:\n{requires}"
            );
        }
    }
    assert!(
        glibc_versions > 0,
        "rpm generated no glibc requirement:\n{requires}"
    );
}

/// A CentOS 7 root whose rpm database has EL7's glibc (its stand-in).
fn el7_root_with_glibc(dir: &Path) -> Sandbox {
    let sandbox = Sandbox::centos7();
    rpm_in(&sandbox, &["-i", el7_glibc_standin(dir).to_str().unwrap()]);
    sandbox
}

/// `rpm --root ROOT --dbpath /var/lib/rpm ARGS` (the EL layout), checked.
fn rpm_in(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let out = Command::new("rpm")
        .args([
            "--root",
            sandbox.root.to_str().unwrap(),
            "--dbpath",
            "/var/lib/rpm",
        ])
        .args(args)
        .output()
        .expect("rpm");
    assert!(out.status.success(), "rpm {args:?}: {}", output_text(&out));
    out
}

#[test]
fn real_rpm_installs_it_into_an_el7_root_with_its_requires_checked() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = el7_root_with_glibc(dir.path());

    // The root's glibc is EL7's: a package needing glibc 2.34 is refused there.
    let too_new = build_rpm(
        dir.path(),
        "needs-glibc-2-34",
        "Requires: libc.so.6(GLIBC_2.34)(64bit)",
    );
    let refused = Command::new("rpm")
        .args([
            "--root",
            sandbox.root.to_str().unwrap(),
            "--dbpath",
            "/var/lib/rpm",
            "-i",
        ])
        .arg(&too_new)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{}", output_text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("GLIBC_2.34"),
        "{}",
        output_text(&refused)
    );

    rpm_in(&sandbox, &["-i", rpm_file().to_str().unwrap()]);
    let verified = rpm_in(&sandbox, &["-V", "rdock-setup"]);
    assert!(verified.stdout.is_empty(), "{}", output_text(&verified));
    let installed = sandbox.path("usr/bin/rdock-setup");
    let version = run(installed.to_str().unwrap(), &["--version"]);
    assert_eq!(version.trim(), format!("rdock-setup {VERSION}"));
    for file in SHIPPED {
        assert!(sandbox.path(file).exists(), "{file} not installed");
    }
}

#[test]
fn real_dpkg_installs_the_deb_into_a_debian_root() {
    let deb = deb_file();
    let deb = deb.to_str().unwrap();
    assert_ships_everything(&run("dpkg", &["-c", deb]), "dpkg -c");
    let depends = run("dpkg-deb", &["--field", deb, "Depends"]);
    assert_eq!(depends.trim(), "libc6 (>= 2.17)");

    // A Debian root whose dpkg database holds this machine's libc6 (as installed).
    let sandbox = Sandbox::empty("12");
    let admin = sandbox.path("var/lib/dpkg");
    for dir in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(dir)).unwrap();
    }
    let libc6 = run("dpkg-query", &["--status", "libc6"]);
    std::fs::write(admin.join("status"), format!("{}\n", libc6.trim_end())).unwrap();
    std::fs::write(admin.join("available"), "").unwrap();
    run(
        "dpkg",
        &["--root", sandbox.root.to_str().unwrap(), "--install", deb],
    );
    let state = run(
        "dpkg-query",
        &[
            "--admindir",
            admin.to_str().unwrap(),
            "--show",
            "--showformat",
            "${Status} ${Version}",
            "rdock-setup",
        ],
    );
    assert_eq!(state, format!("install ok installed {VERSION}-1"));
    let installed = sandbox.path("usr/bin/rdock-setup");
    let version = run(installed.to_str().unwrap(), &["--version"]);
    assert_eq!(version.trim(), format!("rdock-setup {VERSION}"));
}

/// aarch64: built when this machine has the Rust standard library for it, and then it
/// runs (under qemu-user, with Debian's arm64 glibc as its sysroot); otherwise
/// scripts/dist built none and said so.
#[test]
fn the_aarch64_binary_runs_when_it_is_built() {
    let bin = binary_for("aarch64");
    if !aarch64_std_installed() {
        assert!(
            !bin.exists(),
            "{} built without the aarch64 std?",
            bin.display()
        );
        return;
    }
    let report = run(CHECK_SCRIPT, &[bin.to_str().unwrap()]);
    assert!(
        report.contains("ok: newest symbol version GLIBC_2.17"),
        "{report}"
    );
    let version = run(
        "qemu-aarch64",
        &[
            "-L",
            "/usr/aarch64-linux-gnu",
            bin.to_str().unwrap(),
            "--version",
        ],
    );
    assert_eq!(version.trim(), format!("rdock-setup {VERSION}"));
    // The --root smoke case. qemu-user 7.2 answers openat2 with ENOSYS, as the kernels
    // of CentOS 7 (3.10) and EL8 (4.18) do, so this also runs the tool's resolution
    // by hand inside the root.
    root_smoke_case(|args| {
        Command::new("qemu-aarch64")
            .args(["-L", "/usr/aarch64-linux-gnu", bin.to_str().unwrap()])
            .args(args)
            .env("PATH", shimmed_path())
            .output()
            .expect("qemu-aarch64 (scripts/deps installs qemu-user)")
    });
}
