//! The controllers compared, each as one command over the same fleet: rdock-setup, a
//! sequential `ssh` loop, pyinfra and ansible-playbook. Each writes its own inventory
//! of the same hosts (same ports, same roots, same client key and known_hosts).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::hosts::Fleet;
use crate::support::{shimmed_path, without_dns};

/// What every controller is given: the plan's files as rdock-setup renders them on a
/// converged host, and the install it runs on a fresh one.
pub struct Desired {
    pub plan: PathBuf,
    pub repo_file: PathBuf,
    pub daemon_json: PathBuf,
    /// `rpm -q --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}'` of the engine when installed.
    pub engine_line: String,
    /// The packages a fresh host gets, as yum arguments.
    pub packages: Vec<String>,
}

/// Where scripts/bench-deps installs pyinfra and ansible-core.
pub fn venv() -> PathBuf {
    std::env::var_os("RDOCK_BENCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/rdock-bench/venv"))
}

fn under_bench_env(mut cmd: Command) -> Command {
    cmd.env("PATH", shimmed_path());
    without_dns(cmd)
}

pub fn rdock(
    fleet: &Fleet,
    rtt_ms: u64,
    desired: &Desired,
    parallel: usize,
    work: &Path,
) -> Command {
    let mut inv = String::from("[defaults]\nuser = \"root\"\n");
    for h in &fleet.hosts {
        let _ = write!(
            inv,
            "\n[[hosts]]\nname = \"{}\"\naddress = \"127.0.0.1\"\nport = {}\nroot = \"{}\"\n",
            h.name,
            h.front(rtt_ms),
            h.root.display()
        );
    }
    let path = work.join("rdock-inventory.toml");
    fs::write(&path, inv).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdock-setup"));
    cmd.arg("apply")
        .arg(&desired.plan)
        .arg("--inventory")
        .arg(&path)
        .arg("--ssh-config")
        .arg(fleet.ssh_config())
        .args(["--parallel", &parallel.to_string(), "--format", "json"]);
    under_bench_env(cmd)
}

/// POSIX single quotes around `s`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One host after another, each command its own `ssh` (a new connection each, as a
/// shell loop does). `commands[i]` are host i's commands.
pub fn ssh_loop(fleet: &Fleet, rtt_ms: u64, commands: &[Vec<String>], work: &Path) -> Command {
    let mut script = String::from("set -e\n");
    for (h, cmds) in fleet.hosts.iter().zip(commands) {
        for c in cmds {
            let _ = writeln!(
                script,
                "ssh -F {cfg} -p {port} root@127.0.0.1 {c} </dev/null >/dev/null",
                cfg = quote(&fleet.ssh_config().display().to_string()),
                port = h.front(rtt_ms),
                c = quote(c)
            );
        }
    }
    let path = work.join("loop.sh");
    fs::write(&path, script).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg(path);
    under_bench_env(cmd)
}

/// The shell a sequential loop runs on a fresh host: the classic procedure, one command.
pub fn fresh_script(root: &Path, desired: &Desired) -> String {
    let r = quote(&root.display().to_string());
    let repo = fs::read_to_string(&desired.repo_file).unwrap();
    let daemon = fs::read_to_string(&desired.daemon_json).unwrap();
    format!(
        "set -e\nmkdir -p {r}/etc/yum.repos.d {r}/etc/docker\n\
         cat > {r}/etc/yum.repos.d/docker-ce.repo <<'RDOCK_EOF'\n{repo}RDOCK_EOF\n\
         {install}\n\
         cat > {r}/etc/docker/daemon.json <<'RDOCK_EOF'\n{daemon}RDOCK_EOF\n\
         systemctl --root={r} enable docker.service\n",
        install = install_command(root, desired)
    )
}

/// yum into the host's root, as rdock-setup's engine step does it (the yum shim execs
/// dnf); the plan holds the engine's packages with an `exclude=` in the repo file.
pub fn install_command(root: &Path, desired: &Desired) -> String {
    format!(
        "yum --installroot={} --releasever=7 --setopt=skip_if_unavailable=False --disableexcludes=all -y -q install {}",
        quote(&root.display().to_string()),
        desired.packages.join(" ")
    )
}

pub fn pyinfra(
    fleet: &Fleet,
    rtt_ms: u64,
    desired: &Desired,
    parallel: usize,
    work: &Path,
) -> Command {
    let mut inv = String::from("hosts = [\n");
    for h in &fleet.hosts {
        let _ = writeln!(
            inv,
            "    ({name:?}, {{\"ssh_hostname\": \"127.0.0.1\", \"ssh_port\": {port}, \"ssh_user\": \"root\", \
             \"ssh_key\": {key:?}, \"ssh_known_hosts_file\": {kh:?}, \"ssh_strict_host_key_checking\": \"yes\", \
             \"root\": {root:?}, \"repo_file\": {repo:?}, \"daemon_json\": {daemon:?}, \
             \"engine_line\": {engine:?}, \"install_command\": {install:?}}}),",
            name = h.name,
            port = h.front(rtt_ms),
            key = fleet.client_key().display().to_string(),
            kh = fleet.known_hosts().display().to_string(),
            root = h.root.display().to_string(),
            repo = desired.repo_file.display().to_string(),
            daemon = desired.daemon_json.display().to_string(),
            engine = desired.engine_line,
            install = install_command(&h.root, desired),
        );
    }
    inv.push_str("]\n");
    let inv_path = work.join("pyinfra_inventory.py");
    fs::write(&inv_path, inv).unwrap();
    let deploy = work.join("deploy.py");
    fs::write(&deploy, include_str!("deploy.py")).unwrap();
    let mut cmd = Command::new(venv().join("bin/pyinfra"));
    cmd.arg(&inv_path)
        .arg(&deploy)
        .args(["--parallel", &parallel.to_string(), "-y", "--no-wait"])
        .current_dir(work)
        .env("HOME", work);
    under_bench_env(cmd)
}

pub fn ansible(
    fleet: &Fleet,
    rtt_ms: u64,
    desired: &Desired,
    forks: usize,
    work: &Path,
) -> Command {
    let mut inv = String::from("[fleet]\n");
    for h in &fleet.hosts {
        let _ = writeln!(
            inv,
            "{} ansible_host=127.0.0.1 ansible_port={} root={}",
            h.name,
            h.front(rtt_ms),
            h.root.display()
        );
    }
    let _ = write!(
        inv,
        "\n[fleet:vars]\nansible_user=root\nansible_python_interpreter=/usr/bin/python3\n\
         ansible_ssh_private_key_file={}\n",
        fleet.client_key().display()
    );
    let inv_path = work.join("ansible_inventory.ini");
    fs::write(&inv_path, inv).unwrap();
    let cfg = work.join("ansible.cfg");
    fs::write(
        &cfg,
        format!(
            "[defaults]\nforks = {forks}\nhost_key_checking = True\nretry_files_enabled = False\n\
             interpreter_python = /usr/bin/python3\nlocal_tmp = {w}/ansible-local\n\n\
             [ssh_connection]\npipelining = True\n\
             ssh_args = -F {cfg} -o ControlMaster=auto -o ControlPersist=60s\n\
             control_path_dir = {w}/cp\n",
            w = work.display(),
            cfg = fleet.ssh_config().display()
        ),
    )
    .unwrap();
    let playbook = work.join("playbook.yml");
    fs::write(&playbook, include_str!("playbook.yml")).unwrap();
    let repo = fs::read_to_string(&desired.repo_file).unwrap();
    let daemon = fs::read_to_string(&desired.daemon_json).unwrap();
    let vars = serde_json::json!({
        "docker_repo_content": repo,
        "docker_daemon_content": daemon,
        "docker_packages": desired.packages,
    });
    let vars_path = work.join("ansible_vars.json");
    fs::write(&vars_path, vars.to_string()).unwrap();
    let mut cmd = Command::new(venv().join("bin/ansible-playbook"));
    cmd.arg("-i")
        .arg(&inv_path)
        .arg(&playbook)
        .arg("-e")
        .arg(format!("@{}", vars_path.display()))
        .env("ANSIBLE_CONFIG", &cfg)
        .env("HOME", work)
        .current_dir(work);
    under_bench_env(cmd)
}

/// `ssh -O exit` on every control socket under `dir` (Ansible's ControlPersist masters).
pub fn close_masters(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(_) => {
                    let _ = Command::new("ssh")
                        .arg("-o")
                        .arg(format!("ControlPath={}", path.display()))
                        .args(["-O", "exit", "bench-host"])
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status();
                }
                Err(_) => {}
            }
        }
    }
}
