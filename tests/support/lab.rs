//! Driving the lab (lab/lab) from tests: hosts, commands on them, rdock-setup runs
//! there, and the check that `lab down` leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use super::output_text;
use super::run::{Run, parse};

pub fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/lab")
}

pub fn lab(args: &[&str]) -> Output {
    Command::new(lab_script())
        .args(args)
        .output()
        .expect("lab/lab")
}

pub fn lab_ok(args: &[&str]) -> String {
    let out = lab(args);
    assert!(
        out.status.success(),
        "lab {args:?} failed:\n{}",
        output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A shell line on a host.
pub fn sh(host: &str, line: &str) -> String {
    lab_ok(&["ssh", host, "sh", "-c", line]).trim().to_string()
}

/// Takes the lab down when the test ends, however it ends.
pub struct Down;

impl Drop for Down {
    fn drop(&mut self) {
        let _ = lab(&["down"]);
    }
}

pub fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    eprintln!("e2e: {what}: {:.1}s", start.elapsed().as_secs_f64());
    value
}

pub const LAB_DAEMON: &str = "storage-driver = \"vfs\"\niptables = false\nip-forward = false\nip-masq = false\nbridge = \"none\"\n";

/// The CentOS vault trees the lab serves (7.9.2009, 8.5.2111, lab/README.md).
pub const LAB_VAULT: &str = "http://10.213.0.1:8080/vault";

/// The lab's CentOS hosts carry the stock repo files, whose mirrorlist host cannot
/// resolve: their plans point os_repos at the lab's vault (Rocky 9 is not end-of-life,
/// and the setting leaves its repos alone).
pub fn lab_os_repos() -> String {
    format!("[os_repos]\nsource = \"{LAB_VAULT}\"\n")
}

pub fn plan_text(mirrors: &[&str], version: &str) -> String {
    let mirrors: Vec<String> = mirrors.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        "{}\n[repo]\nsource = \"http://10.213.0.1:8080\"\n\n[engine]\nversion = \"{version}\"\n\n[daemon]\n\
         registry-mirrors = [{}]\n{LAB_DAEMON}",
        lab_os_repos(),
        mirrors.join(", ")
    )
}

/// Install packages from one repo of the lab (a vault tree), not through rdock-setup:
/// the stock repos are dead, so only that repo is enabled, its signatures checked
/// against the distribution's key file (`yum` is the shim on CentOS 7, dnf on EL8).
pub fn install_from(host: &str, repo_url: &str, gpgkey: &str, packages: &[&str]) {
    let line = format!(
        "yum -y -q --disablerepo='*' --repofrompath=lab-install,{repo_url} --enablerepo=lab-install \
         --setopt=lab-install.gpgcheck=1 --setopt=lab-install.gpgkey=file://{gpgkey} \
         install {} 2>&1",
        packages.join(" ")
    );
    let out = lab(&["ssh", host, "sh", "-c", &line]);
    assert!(
        out.status.success(),
        "{host}: installing {packages:?} from {repo_url}:\n{}",
        output_text(&out)
    );
}

/// Copy the tool (once per host) and the plan, run apply there, parse the JSON report.
pub fn apply_on(host: &str, plan: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, plan).unwrap();
    lab_ok(&["copy", host, plan_path.to_str().unwrap(), "/root/plan.toml"]);
    let mut args = vec![
        "ssh",
        host,
        "/root/rdock-setup",
        "apply",
        "/root/plan.toml",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    parse(lab(&args))
}

pub fn install_tool(host: &str) {
    lab_ok(&[
        "copy",
        host,
        env!("CARGO_BIN_EXE_rdock-setup"),
        "/root/rdock-setup",
    ]);
}

pub fn service_identity(host: &str) -> String {
    sh(
        host,
        "systemctl show docker -p MainPID -p ActiveEnterTimestamp",
    )
}

pub fn mirrors(host: &str) -> String {
    sh(
        host,
        "docker info --format '{{json .RegistryConfig.Mirrors}}'",
    )
}

/// A hash of everything a dry-run must not touch: /etc and the rpm database. SQLite's
/// `-shm` file is left out: it is the shared-memory index any reader (`rpm -q`)
/// rewrites, not data (../shared/TESTBED.md §1).
pub fn state_hash(host: &str) -> String {
    sh(
        host,
        "find /etc /var/lib/rpm -xdev -type f ! -name '*-shm' -print0 | sort -z | xargs -0 sha256sum | sha256sum",
    )
}

pub fn nothing_left(what: &str) {
    // pgrep runs directly (not under sh) so that it never finds its own command line.
    let checks: [(&str, &[&str]); 6] = [
        (
            "network namespaces",
            &["sh", "-c", "ip netns list | grep rdlab || true"],
        ),
        (
            "links",
            &["sh", "-c", "ip -o link show | grep rdlab || true"],
        ),
        (
            "mounts",
            &[
                "sh",
                "-c",
                "findmnt -rn -o TARGET,SOURCE | grep -E 'rdock-lab|rdlab' || true",
            ],
        ),
        (
            "cgroups",
            &[
                "sh",
                "-c",
                "find /sys/fs/cgroup -maxdepth 8 -type d -name 'rdlab-*' 2>/dev/null || true",
            ],
        ),
        ("nspawn processes", &["pgrep", "-a", "-x", "systemd-nspawn"]),
        ("repo server", &["pgrep", "-af", "http.server 8080"]),
    ];
    for (name, argv) in checks {
        let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.trim().is_empty(),
            "{what}: {name} left behind:\n{text}"
        );
    }
}

/// An ssh_config in `dir` that reaches the lab's hosts with the lab's key and known_hosts
/// (for runs from this machine over SSH).
pub fn ssh_config(dir: &Path) -> PathBuf {
    let cache = std::env::var("LAB_CACHE").unwrap_or_else(|_| "/var/cache/rdock-lab".into());
    let config = dir.join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host 10.213.0.*\n  IdentityFile {cache}/id_ed25519\n  IdentitiesOnly yes\n  UserKnownHostsFile {cache}/known_hosts\n"
        ),
    )
    .unwrap();
    config
}
