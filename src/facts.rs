//! Everything the steps decide on, read from the target in one pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checks::distro::Distro;
use crate::checks::distro::PackageManager;
use crate::error::{Error, Result};
use crate::host::probe::{Answer, FileMatch, LockSpec, Query, When};
use crate::host::{CmdOutput, Host};
use crate::packages::apt::{self, AptTool};
use crate::packages::backend::{RPM_QUERY_FORMAT, parse_rpm_query};
use crate::packages::mirrors::REPO_FILE;
use crate::packages::os_repos;
use crate::packages::rpmver::Evr;
use crate::plan::Plan;
use crate::state::STATE_FILE;
use crate::unit::{self, UnitFiles};

pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";
pub const DOCKER_DATA: &str = "/var/lib/docker";
pub const DOCKER_UNIT: &str = "docker.service";

/// Where rpm keeps its database in the layouts we meet: EL7 and EL8, EL9's sysimage,
/// and Debian's rpm (used to prepare trees on a Debian controller).
pub const RPMDB_DIRS: &[&str] = &["/var/lib/rpm", "/usr/lib/sysimage/rpm", "/root/.rpmdb"];

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceState {
    /// systemd's ActiveState (`active`, `inactive`, `failed`…); `None` offline.
    pub active: Option<String>,
    /// `enabled`, `disabled`, …; `None` when the unit does not exist.
    pub unit_file_state: Option<String>,
    pub main_pid: Option<u32>,
    /// systemd has unit files or drop-ins newer than what it loaded (a drop-in written
    /// by a run that stopped before its `daemon-reload`).
    pub need_daemon_reload: bool,
}

impl ServiceState {
    pub fn is_active(&self) -> bool {
        matches!(self.active.as_deref(), Some("active" | "reloading"))
    }

    pub fn is_enabled(&self) -> bool {
        matches!(
            self.unit_file_state.as_deref(),
            Some("enabled" | "enabled-runtime" | "static" | "alias")
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    pub distro: Option<Distro>,
    pub kernel_release: String,
    pub machine: String,
    pub is_root: bool,
    /// Why services cannot be started here (`--root` tree, chroot, no systemd); `None`
    /// on a running system.
    pub offline: Option<String>,
    /// Installed versions of every package the plan names (or could name by default).
    pub installed: BTreeMap<String, Evr>,
    #[serde(skip)]
    pub daemon_json: Option<Vec<u8>>,
    /// Docker's repo file as the target's package manager reads it: the .repo of
    /// yum/dnf, or the deb822 source of apt.
    #[serde(skip)]
    pub repo_file: Option<Vec<u8>>,
    /// apt: the keyring Docker's source is signed with (`packages::apt::KEYRING`).
    #[serde(skip)]
    pub repo_key: Option<Vec<u8>>,
    /// apt: `dpkg --print-architecture`.
    pub apt_arch: Option<String>,
    /// apt: installed packages on hold (`apt-mark hold`), among those asked about.
    pub held: Vec<String>,
    /// Every `.repo` file of /etc/yum.repos.d (the docker one too), by name.
    #[serde(skip)]
    pub repo_files: Vec<(String, Vec<u8>)>,
    /// /etc/centos-release: its full release names a vault tree.
    pub centos_release: Option<String>,
    /// The tool's own record on the target (`state::STATE_FILE`).
    #[serde(skip)]
    pub state: Option<Vec<u8>>,
    pub service: ServiceState,
    /// /etc/passwd and /etc/group, read when the plan adds users to the docker group.
    #[serde(skip)]
    pub passwd: Option<Vec<u8>>,
    #[serde(skip)]
    pub group: Option<Vec<u8>>,
    /// The docker unit, its drop-ins and environment files.
    #[serde(skip)]
    pub unit: UnitFiles,
    /// `docker info` of the running daemon, when it answered.
    #[serde(skip)]
    pub docker_info: Option<serde_json::Value>,
    /// Size of /var/lib/docker, read only when the plan may purge it.
    pub docker_data_size: Option<u64>,
}

impl Facts {
    pub fn is_installed(&self, name: &str) -> bool {
        self.installed.contains_key(name)
    }
}

/// Every package name whose state the plan may need, whatever the distro family turns
/// out to be, so that one rpm query answers all.
fn package_names(plan: &Plan) -> Vec<String> {
    let el7 = Distro::from_os_release("ID=centos\nVERSION_ID=7").expect("static os-release parses");
    let el9 = Distro::from_os_release("ID=rocky\nVERSION_ID=9").expect("static os-release parses");
    let debian = Distro::from_os_release("ID=debian\nVERSION_ID=12\nVERSION_CODENAME=bookworm")
        .expect("static os-release parses");
    let mut names: Vec<String> = Vec::new();
    let mut add = |list: Vec<String>| {
        for name in list {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    };
    add(crate::steps::engine::package_names(plan));
    match &plan.cleanup.remove {
        Some(list) => add(list.clone()),
        None => {
            add(el7.default_old_packages());
            add(el9.default_old_packages());
            add(debian.default_old_packages());
        }
    }
    // `[repo] source = "distro"`: the engines distributions ship.
    if plan.repo.source.is_distro() {
        add(DISTRO_ENGINES.iter().map(|s| s.to_string()).collect());
    }
    match &plan.prerequisites {
        Some(list) => add(list.clone()),
        None => {
            add(el7.default_prerequisites());
            add(el9.default_prerequisites());
        }
    }
    names
}

/// The engine packages of every distribution `[repo] source = "distro"` serves.
const DISTRO_ENGINES: &[&str] = &["docker.io", "moby-engine", "docker", "containerd", "runc"];

/// The lock a changing run takes on its target, saying who it is. It lives on the
/// machine that holds the target, under /run (nothing of the target's own files or
/// data is touched by it, and no lock file survives a boot): /run/rdock-setup.lock for
/// the machine itself, /run/rdock-setup/root-HASH.lock for a tree (HASH of its path).
pub fn lock_spec(root: Option<&Path>) -> LockSpec {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let user = std::env::var("USER").unwrap_or_else(|_| nix::unistd::getuid().to_string());
    let args: Vec<String> = std::env::args().collect();
    let path = match root {
        None => PathBuf::from("/run/rdock-setup.lock"),
        Some(root) => PathBuf::from(format!(
            "/run/rdock-setup/root-{:016x}.lock",
            fnv1a(root.as_os_str().as_encoded_bytes())
        )),
    };
    LockSpec {
        path,
        holder: format!(
            "pid {} on {} as {user}: {}",
            std::process::id(),
            host.trim(),
            args.join(" ")
        ),
        wait: crate::host::bounded::get().lock_wait,
    }
}

/// 64-bit FNV-1a: a stable name for a path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Read every fact in one batch (one round trip over SSH).
pub fn gather(host: &Host, plan: &Plan) -> Result<Facts> {
    gather_with(host, plan, None)
}

/// Take the target's lock, held until the host is closed (or this process ends), and
/// read every fact, in the same batch: a run that changes the target excludes every
/// other run on it, from whichever controller, and still costs one SSH command.
pub fn gather_locked(host: &Host, plan: &Plan) -> Result<Facts> {
    gather_with(host, plan, Some(lock_spec(host.root())))
}

fn gather_with(host: &Host, plan: &Plan, lock: Option<LockSpec>) -> Result<Facts> {
    let names = package_names(plan);
    let mut rpm_args = vec!["-q", "--qf", RPM_QUERY_FORMAT];
    rpm_args.extend(names.iter().map(String::as_str));

    // The order is the order of `answers` below; the lock, when taken, comes first.
    let mut queries: Vec<Query> = lock.into_iter().map(Query::Lock).collect();
    queries.extend([
        Query::Uname,
        Query::IsRootUser,
        Query::SystemdOnline,
        Query::Read("/etc/os-release".into()),
        Query::Read("/etc/redhat-release".into()),
        Query::Read("/etc/centos-release".into()),
        Query::Read(DAEMON_JSON.into()),
        Query::Read(REPO_FILE.into()),
        Query::Read(apt::SOURCE_FILE.into()),
        Query::Read(apt::KEYRING.into()),
        Query::Read(STATE_FILE.into()),
    ]);
    if !plan.engine.users.is_empty() {
        queries.push(Query::Read("/etc/passwd".into()));
        queries.push(Query::Read("/etc/group".into()));
    }
    // The docker unit as systemd runs it: unit file, drop-ins, environment files.
    queries.extend(unit::UNIT_PATHS.iter().map(|p| Query::Read(p.into())));
    queries.extend(
        unit::DROPIN_DIRS
            .iter()
            .map(|d| Query::Files(FileMatch::new(*d, "", ".conf"))),
    );
    queries.extend(unit::ENV_FILES.iter().map(|p| Query::Read(p.into())));
    let repos_at = queries.len();
    queries.push(Query::Files(FileMatch::new(
        os_repos::REPOS_DIR,
        "",
        ".repo",
    )));
    // On a tree with no rpm database yet, `rpm -q` would create one: nothing is
    // installed there, so rpm is not asked.
    let rpmdb = queries.len();
    queries.push(Query::AnyExists(
        RPMDB_DIRS.iter().map(PathBuf::from).collect(),
    ));
    let rpm_at = queries.len();
    queries.push(Query::Run {
        argv: host.rpm_argv(&rpm_args),
        when: When::IfExists(rpmdb),
    });
    // A dpkg system (Debian, Ubuntu) answers through dpkg-query: installed versions,
    // holds, and the architecture its apt source names.
    let dpkg = queries.len();
    queries.push(Query::AnyExists(vec![PathBuf::from(apt::DPKG_STATUS)]));
    let apt_tool = AptTool::new(host.root());
    let dpkg_at = queries.len();
    queries.push(Query::Run {
        argv: apt_tool.query(&names),
        when: When::IfExists(dpkg),
    });
    let arch_at = queries.len();
    queries.push(Query::Run {
        argv: apt_tool.print_architecture(),
        when: When::IfExists(dpkg),
    });
    let show_at = queries.len();
    queries.push(Query::Run {
        argv: host.systemctl_argv(&[
            "show",
            DOCKER_UNIT,
            "--property=LoadState,ActiveState,UnitFileState,MainPID,NeedDaemonReload",
        ]),
        when: When::Online,
    });
    // Offline, only the unit files tell: `is-enabled` reads them without systemd.
    let enabled_at = queries.len();
    queries.push(Query::Run {
        argv: host.systemctl_argv(&["is-enabled", DOCKER_UNIT]),
        when: When::Offline,
    });
    // Online, what the running daemon says (version, containers, live settings): a
    // converged host is verified from this answer, with no further command.
    let info_at = queries.len();
    queries.push(Query::Run {
        argv: DOCKER_INFO.iter().map(|s| s.to_string()).collect(),
        when: When::Online,
    });
    if plan.cleanup.purge_data {
        queries.push(Query::TreeSize(DOCKER_DATA.into()));
    }
    let answers = host.probe(&queries)?;
    if answers.len() != queries.len() {
        return Err(Error::other("a fact query went unanswered"));
    }
    // Answers are read back by what was asked, not by position.
    let mut files: BTreeMap<PathBuf, Option<Vec<u8>>> = BTreeMap::new();
    let (mut uname, mut is_root, mut online) = (None, false, Err(String::new()));
    let (mut installed, mut service, mut docker_data_size) =
        (BTreeMap::new(), ServiceState::default(), None);
    let (mut dpkg_installed, mut apt_arch) = (None, None);
    let mut docker_info = None;
    let mut dropin_dirs = Vec::new();
    let mut repo_files = Vec::new();
    for (i, (query, answer)) in queries.iter().zip(answers).enumerate() {
        match (query, answer) {
            (Query::Uname, Answer::Uname(u)) => uname = Some(u),
            (Query::IsRootUser, Answer::Bool(b)) => is_root = b,
            (Query::SystemdOnline, Answer::Online(state)) => online = state,
            (Query::Read(path), Answer::File(bytes)) => {
                files.insert(path.clone(), bytes);
            }
            // rpm's exit status counts the packages not installed: not an error. What
            // it says on stderr is: a damaged database must not read as "nothing
            // installed" (that would reinstall, or even purge a live engine's data).
            (Query::Run { argv, .. }, Answer::Output(Some(output))) if i == rpm_at => {
                if output.stderr.contains("error") {
                    return Err(Error::Command {
                        argv: argv.clone(),
                        status: output.status,
                        stderr: output.stderr,
                        hint: "the rpm database could not be read; check it (`rpm --rebuilddb` \
                               repairs the common BDB0113 damage) and rerun"
                            .into(),
                    });
                }
                installed = parse_rpm_query(&output.stdout)
            }
            // dpkg-query exits 1 for names it never heard of: not an error.
            (_, Answer::Output(Some(output))) if i == dpkg_at => {
                dpkg_installed = Some(apt::parse::installed(&output.stdout))
            }
            (_, Answer::Output(Some(output))) if i == arch_at && output.success() => {
                apt_arch = Some(output.stdout.trim().to_string()).filter(|a| !a.is_empty())
            }
            (_, Answer::Output(Some(output))) if i == show_at => {
                service = parse_systemctl_show(&output.stdout)
            }
            (_, Answer::Output(Some(output))) if i == enabled_at => {
                service = parse_is_enabled(&output)
            }
            (_, Answer::Output(Some(output))) if i == info_at => {
                docker_info = parse_docker_info(&output)
            }
            (Query::TreeSize(_), Answer::Size(size)) => docker_data_size = size,
            (Query::Files(_), Answer::Files(found)) if i == repos_at => repo_files = found,
            (Query::Files(wanted), Answer::Files(found)) => {
                dropin_dirs.push((wanted.dir.clone(), found))
            }
            _ => {}
        }
    }
    let uname = uname.ok_or_else(|| Error::other("the target did not say its kernel release"))?;
    let mut file = |path: &str| files.remove(Path::new(path)).flatten();
    let centos_release = file("/etc/centos-release");
    let distro = distro_from(
        file("/etc/os-release"),
        file("/etc/redhat-release"),
        centos_release.clone(),
    );
    let centos_release = centos_release.map(|b| String::from_utf8_lossy(&b).into_owned());
    let (daemon_json, yum_repo_file, state) =
        (file(DAEMON_JSON), file(REPO_FILE), file(STATE_FILE));
    let (apt_source, repo_key) = (file(apt::SOURCE_FILE), file(apt::KEYRING));
    // The package manager of the distribution decides whose answers count (a Debian
    // controller may have rpm too, and an EL tree a stray dpkg).
    let apt_host = distro
        .as_ref()
        .is_some_and(|d| d.package_manager() == PackageManager::Apt);
    let mut held = Vec::new();
    let repo_file = if apt_host {
        let entries = dpkg_installed.unwrap_or_default();
        held = entries
            .iter()
            .filter(|(_, e)| e.held)
            .map(|(n, _)| n.clone())
            .collect();
        installed = entries.into_iter().map(|(n, e)| (n, e.version)).collect();
        apt_source
    } else {
        apt_arch = None;
        yum_repo_file
    };
    let (passwd, group) = (file("/etc/passwd"), file("/etc/group"));
    let mut unit = UnitFiles {
        main: unit::UNIT_PATHS
            .iter()
            .find_map(|p| file(p).map(|bytes| (PathBuf::from(p), bytes))),
        ..UnitFiles::default()
    };
    unit.set_dropins(dropin_dirs);
    for path in unit::ENV_FILES {
        if let Some(bytes) = file(path) {
            unit.env_files.insert(PathBuf::from(path), bytes);
        }
    }

    Ok(Facts {
        distro,
        kernel_release: uname.release,
        machine: uname.machine,
        is_root,
        offline: online.err(),
        installed,
        daemon_json,
        repo_file,
        repo_key: repo_key.filter(|_| apt_host),
        apt_arch,
        held,
        repo_files,
        centos_release,
        state,
        service,
        docker_info,
        unit,
        passwd,
        group,
        docker_data_size,
    })
}

/// os-release first, else redhat-release, else centos-release.
fn distro_from(
    os_release: Option<Vec<u8>>,
    redhat_release: Option<Vec<u8>>,
    centos_release: Option<Vec<u8>>,
) -> Option<Distro> {
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    os_release
        .and_then(|b| Distro::from_os_release(&text(b)))
        .or_else(|| redhat_release.and_then(|b| Distro::from_release_file(&text(b))))
        .or_else(|| centos_release.and_then(|b| Distro::from_release_file(&text(b))))
}

/// How the running daemon is asked what it runs with. `docker info` waits as long as
/// dockerd does (a frozen daemon: forever), so it is bounded here, where a short bound
/// fits, rather than by the general command bound.
pub const DOCKER_INFO: &[&str] = &["timeout", "20", "docker", "info", "--format", "{{json .}}"];

pub fn parse_docker_info(output: &CmdOutput) -> Option<serde_json::Value> {
    if !output.success() {
        return None;
    }
    serde_json::from_str(output.stdout.trim()).ok()
}

fn parse_is_enabled(output: &CmdOutput) -> ServiceState {
    let state = output.stdout.trim();
    let known = !state.is_empty() && !output.stderr.contains("No such file");
    ServiceState {
        active: None,
        unit_file_state: known.then(|| state.to_string()),
        main_pid: None,
        need_daemon_reload: false,
    }
}

fn parse_systemctl_show(stdout: &str) -> ServiceState {
    let mut props = BTreeMap::new();
    for line in stdout.lines() {
        if let Some((key, value)) = line.split_once('=') {
            props.insert(key.to_string(), value.to_string());
        }
    }
    let loaded = props.get("LoadState").is_some_and(|s| s == "loaded");
    ServiceState {
        active: props.get("ActiveState").cloned(),
        unit_file_state: props
            .get("UnitFileState")
            .filter(|s| loaded && !s.is_empty())
            .cloned(),
        main_pid: props
            .get("MainPID")
            .and_then(|p| p.parse().ok())
            .filter(|pid| *pid != 0),
        need_daemon_reload: loaded && props.get("NeedDaemonReload").is_some_and(|v| v == "yes"),
    }
}
