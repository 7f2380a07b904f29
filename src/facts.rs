//! Everything the steps decide on, read from the target in one pass.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::checks::distro::Distro;
use crate::error::Result;
use crate::host::Host;
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

pub fn gather(host: &Host, plan: &Plan) -> Result<Facts> {
    let distro = read_distro(host)?;
    let uname = host.uname()?;
    let offline = host.systemd_online().err();

    // On a tree with no rpm database yet, `rpm -q` would create one: nothing is
    // installed there, so do not ask.
    let mut has_rpmdb = false;
    for dir in RPMDB_DIRS {
        if host.exists(Path::new(dir))? {
            has_rpmdb = true;
            break;
        }
    }
    let installed = if has_rpmdb {
        let names = package_names(plan);
        let mut args = vec!["-q", "--qf", RPM_QUERY_FORMAT];
        args.extend(names.iter().map(String::as_str));
        // rpm's exit status counts the packages that are not installed: not an error.
        let output = host.run(host.rpm_argv(&args))?;
        parse_rpm_query(&output.stdout)
    } else {
        BTreeMap::new()
    };

    let service = read_service_state(host, offline.is_some())?;
    let docker_data_size = if plan.cleanup.purge_data {
        host.tree_size(Path::new(DOCKER_DATA))?
    } else {
        None
    };

    Ok(Facts {
        distro,
        kernel_release: uname.release,
        machine: uname.machine,
        is_root: host.is_root_user(),
        offline,
        installed,
        daemon_json: host.read_file(Path::new(DAEMON_JSON))?,
        repo_file: host.read_file(Path::new(REPO_FILE))?,
        service,
        docker_data_size,
    })
}

fn read_distro(host: &Host) -> Result<Option<Distro>> {
    let os_release = host.read_file(Path::new("/etc/os-release"))?;
    if let Some(distro) =
        os_release.and_then(|text| Distro::from_os_release(&String::from_utf8_lossy(&text)))
    {
        return Ok(Some(distro));
    }
    for file in ["/etc/redhat-release", "/etc/centos-release"] {
        let text = host.read_file(Path::new(file))?;
        if let Some(distro) =
            text.and_then(|text| Distro::from_release_file(&String::from_utf8_lossy(&text)))
        {
            return Ok(Some(distro));
        }
    }
    Ok(None)
}

fn read_service_state(host: &Host, offline: bool) -> Result<ServiceState> {
    if offline {
        // Offline, only the unit files tell: `is-enabled` reads them without systemd.
        let output = host.run(host.systemctl_argv(&["is-enabled", DOCKER_UNIT]))?;
        let state = output.stdout.trim();
        let unit_file_state = (!state.is_empty() && !output.stderr.contains("No such file"))
            .then(|| state.to_string());
        return Ok(ServiceState {
            active: None,
            unit_file_state,
            main_pid: None,
        });
    }
    let output = host.run(host.systemctl_argv(&[
        "show",
        DOCKER_UNIT,
        "--property=LoadState,ActiveState,UnitFileState,MainPID",
    ]))?;
    let mut props = BTreeMap::new();
    for line in output.stdout.lines() {
        if let Some((key, value)) = line.split_once('=') {
            props.insert(key.to_string(), value.to_string());
        }
    }
    let loaded = props.get("LoadState").is_some_and(|s| s == "loaded");
    Ok(ServiceState {
        active: props.get("ActiveState").cloned(),
        unit_file_state: props
            .get("UnitFileState")
            .filter(|s| loaded && !s.is_empty())
            .cloned(),
        main_pid: props
            .get("MainPID")
            .and_then(|p| p.parse().ok())
            .filter(|pid| *pid != 0),
    })
}
