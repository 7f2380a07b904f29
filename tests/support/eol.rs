//! End-of-life CentOS as it is in 2026: sandbox roots carrying the stock repo files
//! (mirrorlist.centos.org, which no longer resolves), and runs of the tool in which
//! no name resolves at all, so that the dead hosts fail the way they do outside while
//! no lookup leaves this machine.

use std::path::Path;
use std::process::Command;

use super::run::{Run, apply_args, parse};
use super::{Sandbox, output_text, rdock_cmd, repo, run_retrying_etxtbsy};

const STOCK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/centos-repos");

/// The stock repo files of a release (`7`, `8`, `8-stream`), by name.
pub fn stock_repo_files(release: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(STOCK_DIR).join(release);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "repo"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// CentOS 7.9.2009 with the stock repo files instead of the fixture's working
/// base.repo, the release's key where centos-release puts it (here: the fixture's
/// signing key, which signs the vault trees), `$infra` as yum sets it, and the old
/// docker installed from the vault's extras (a host set up years ago).
pub fn stock_centos7_with_old_docker() -> Sandbox {
    let sandbox = Sandbox::centos7();
    std::fs::remove_file(sandbox.path("etc/yum.repos.d/base.repo")).unwrap();
    for (name, bytes) in stock_repo_files("7") {
        sandbox.write(format!("etc/yum.repos.d/{name}"), bytes);
    }
    sandbox.write("etc/yum/vars/infra", "stock\n");
    sandbox.write(
        "etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
        std::fs::read(repo().dir.join("linux/centos/gpg")).unwrap(),
    );
    // A host that has ever installed from its repos has the key imported. dnf reads a
    // file:// gpgkey from the machine it runs on, not from --installroot, so a root
    // without the imported key could not take a signed package from them at all.
    let import = Command::new("rpm")
        .arg("--root")
        .arg(&sandbox.root)
        .arg("--import")
        .arg(sandbox.path("etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7"))
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", output_text(&import));
    let extras = format!("{}/vault/7.9.2009/extras/x86_64/", repo().base_url);
    let out = sandbox.dnf_output(&[
        &format!("--repofrompath=seed-extras,{extras}"),
        "--repo=seed-extras",
        "--setopt=seed-extras.gpgcheck=0",
        "install",
        "docker",
        "docker-common",
        "docker-client",
    ]);
    assert!(
        out.status.success(),
        "seeding old docker:\n{}",
        output_text(&out)
    );
    sandbox
}

/// `cmd` run where no host name resolves: a private mount namespace whose
/// /etc/resolv.conf names 127.0.0.1, where nothing answers. mirrorlist.centos.org
/// and vault.centos.org then fail with "Could not resolve host", as they do for a
/// real CentOS host today, and the lookups never leave loopback.
pub fn without_dns(cmd: Command) -> Command {
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    )
    .unwrap();
    // The directory must outlive the command: leak it (a few bytes per run).
    let resolv = resolv.display().to_string();
    std::mem::forget(dir);
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg("mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"")
        .arg(resolv)
        .arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    wrapped
}

/// `rdock-setup apply PLAN --root SANDBOX --format json [extra…]`, without DNS.
pub fn apply_without_dns(sandbox: &Sandbox, plan: &Path, extra: &[&str]) -> Run {
    let args = apply_args(sandbox, plan, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    parse(run_retrying_etxtbsy(without_dns(rdock_cmd(&args))))
}
