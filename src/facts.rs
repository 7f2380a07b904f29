//! Everything the steps decide on, read from the target in one pass.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::checks::distro::Distro;
use crate::error::{Error, Result};
use crate::host::probe::{Answer, Query, When};
use crate::host::{CmdOutput, Host};
use crate::packages::backend::{RPM_QUERY_FORMAT, parse_rpm_query};
use crate::packages::mirrors::REPO_FILE;
use crate::packages::rpmver::Evr;
use crate::plan::Plan;

pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";
pub const DOCKER_DATA: &str = "/var/lib/docker";
pub const DOCKER_UNIT: &str = "docker.service";

/// Where rpm keeps its database in the layouts we meet: EL7 and EL8, EL9's sysimage,
/// and Debian's rpm (used to prepare trees on a Debian controller).
const RPMDB_DIRS: &[&str] = &["/var/lib/rpm", "/usr/lib/sysimage/rpm", "/root/.rpmdb"];

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceState {
    /// systemd's ActiveState (`active`, `inactive`, `failed`…); `None` offline.
    pub active: Option<String>,
    /// `enabled`, `disabled`, …; `None` when the unit does not exist.
    pub unit_file_state: Option<String>,
    pub main_pid: Option<u32>,
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

#[derive(Debug, Clone, Serialize)]
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
    #[serde(skip)]
    pub repo_file: Option<Vec<u8>>,
    pub service: ServiceState,
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
    let mut names: Vec<String> = Vec::new();
    let mut add = |list: Vec<String>| {
        for name in list {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    };
    add(plan.engine.packages.clone());
    match &plan.cleanup.remove {
        Some(list) => add(list.clone()),
        None => {
            add(el7.default_old_packages());
            add(el9.default_old_packages());
        }
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

/// Read every fact in one batch (one round trip over SSH).
pub fn gather(host: &Host, plan: &Plan) -> Result<Facts> {
    let names = package_names(plan);
    let mut rpm_args = vec!["-q", "--qf", RPM_QUERY_FORMAT];
    rpm_args.extend(names.iter().map(String::as_str));

    // The order is the order of `answers` below.
    let mut queries = vec![
        Query::Uname,
        Query::IsRootUser,
        Query::SystemdOnline,
        Query::Read("/etc/os-release".into()),
        Query::Read("/etc/redhat-release".into()),
        Query::Read("/etc/centos-release".into()),
        Query::Read(DAEMON_JSON.into()),
        Query::Read(REPO_FILE.into()),
    ];
    // On a tree with no rpm database yet, `rpm -q` would create one: nothing is
    // installed there, so rpm is not asked.
    let rpmdb = queries.len();
    queries.push(Query::AnyExists(
        RPMDB_DIRS.iter().map(PathBuf::from).collect(),
    ));
    queries.extend([
        Query::Run {
            argv: host.rpm_argv(&rpm_args),
            when: When::IfExists(rpmdb),
        },
        Query::Run {
            argv: host.systemctl_argv(&[
                "show",
                DOCKER_UNIT,
                "--property=LoadState,ActiveState,UnitFileState,MainPID",
            ]),
            when: When::Online,
        },
        // Offline, only the unit files tell: `is-enabled` reads them without systemd.
        Query::Run {
            argv: host.systemctl_argv(&["is-enabled", DOCKER_UNIT]),
            when: When::Offline,
        },
    ]);
    if plan.cleanup.purge_data {
        queries.push(Query::TreeSize(DOCKER_DATA.into()));
    }
    let answers = host.probe(&queries)?;
    let mut answers = answers.into_iter();
    let mut next = || {
        answers
            .next()
            .ok_or_else(|| Error::other("a fact query went unanswered"))
    };
    let (Answer::Uname(uname), Answer::Bool(is_root), Answer::Online(online)) =
        (next()?, next()?, next()?)
    else {
        return Err(Error::other("fact answers out of order"));
    };
    let mut files = Vec::new();
    for _ in 0..5 {
        match next()? {
            Answer::File(bytes) => files.push(bytes),
            _ => return Err(Error::other("fact answers out of order")),
        }
    }
    let [
        os_release,
        redhat_release,
        centos_release,
        daemon_json,
        repo_file,
    ] = <[Option<Vec<u8>>; 5]>::try_from(files)
        .map_err(|_| Error::other("fact answers out of order"))?;
    let _rpmdb = next()?;
    let installed = match next()? {
        // rpm's exit status counts the packages that are not installed: not an error.
        Answer::Output(Some(output)) => parse_rpm_query(&output.stdout),
        _ => BTreeMap::new(),
    };
    let service = match (next()?, next()?) {
        (Answer::Output(Some(show)), _) => parse_systemctl_show(&show.stdout),
        (_, Answer::Output(Some(is_enabled))) => parse_is_enabled(&is_enabled),
        _ => ServiceState::default(),
    };
    let docker_data_size = match next() {
        Ok(Answer::Size(size)) => size,
        _ => None,
    };

    Ok(Facts {
        distro: distro_from(os_release, redhat_release, centos_release),
        kernel_release: uname.release,
        machine: uname.machine,
        is_root,
        offline: online.err(),
        installed,
        daemon_json,
        repo_file,
        service,
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

fn parse_is_enabled(output: &CmdOutput) -> ServiceState {
    let state = output.stdout.trim();
    let known = !state.is_empty() && !output.stderr.contains("No such file");
    ServiceState {
        active: None,
        unit_file_state: known.then(|| state.to_string()),
        main_pid: None,
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
    }
}
