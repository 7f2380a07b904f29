//! The fleet: hosts from `--host` flags or an inventory file (TOML), each with how to
//! reach it, an optional target root, its groups, and plan overrides.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::host::ssh::SshTarget;
use crate::plan;
use crate::suggest;

/// One host to converge.
#[derive(Debug, Clone)]
pub struct FleetHost {
    /// The name in reports (the inventory's `name`, else `[user@]host[:port]`).
    pub name: String,
    pub target: SshTarget,
    /// The target's root directory on that host (`--root` there).
    pub root: Option<PathBuf>,
    pub groups: Vec<String>,
    /// Plan overrides, lowest precedence first: (where it comes from, table).
    pub overrides: Vec<(String, toml::Table)>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    defaults: RawSettings,
    #[serde(default)]
    groups: IndexMap<String, RawSettings>,
    #[serde(default)]
    hosts: Vec<RawHost>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    user: Option<String>,
    port: Option<u16>,
    identity: Option<PathBuf>,
    root: Option<PathBuf>,
    #[serde(default)]
    plan: toml::Table,
}

/// A host as written. (The settings are spelt out rather than flattened: serde's
/// flatten would lose the positions and valid names of unknown-key errors.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: String,
    /// Address or ssh_config alias; `name` when absent.
    address: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    user: Option<String>,
    port: Option<u16>,
    identity: Option<PathBuf>,
    root: Option<PathBuf>,
    #[serde(default)]
    plan: toml::Table,
}

impl RawHost {
    fn settings(&self) -> RawSettings {
        RawSettings {
            user: self.user.clone(),
            port: self.port,
            identity: self.identity.clone(),
            root: self.root.clone(),
            plan: self.plan.clone(),
        }
    }
}

/// Hosts named on the command line (`--host [user@]host[:port]`).
pub fn from_flags(hosts: &[String], root: Option<&Path>) -> Result<Vec<FleetHost>> {
    hosts
        .iter()
        .map(|text| {
            let target = SshTarget::parse(text)
                .map_err(|message| Error::other(format!("--host {message}")))?;
            Ok(FleetHost {
                name: target.display(),
                target,
                root: root.map(Path::to_path_buf),
                groups: Vec::new(),
                overrides: Vec::new(),
            })
        })
        .collect()
}

pub fn load(path: &Path, root: Option<&Path>) -> Result<Vec<FleetHost>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::File {
        path: path.to_path_buf(),
        action: "read inventory",
        source,
    })?;
    let raw: RawInventory =
        toml::from_str(&text).map_err(|err| plan::toml_error(path, &text, &err))?;
    // Checked here, where positions point into the inventory itself: its `plan` tables
    // are laid over the plan, a path of lower trust than the plan file.
    crate::control_chars::refuse(path, &text)?;
    let shown = path.display();
    let mut hosts = Vec::new();
    for host in raw.hosts {
        let own = host.settings();
        // Precedence, lowest first: defaults, groups in the host's order, the host.
        let mut layers: Vec<(String, &RawSettings)> =
            vec![(format!("{shown} [defaults]"), &raw.defaults)];
        for group in &host.groups {
            if let Some(g) = raw.groups.get(group) {
                layers.push((format!("{shown} [groups.{group}]"), g));
            }
        }
        layers.push((format!("{shown} host {}", host.name), &own));
        let pick = |f: &dyn Fn(&RawSettings) -> Option<String>| {
            layers.iter().rev().find_map(|(_, s)| f(s))
        };
        let address = host.address.clone().unwrap_or_else(|| host.name.clone());
        let mut target = SshTarget::parse(&address).map_err(|message| {
            Error::other(format!("{shown}: host {}: address {message}", host.name))
        })?;
        target.user = target.user.or_else(|| pick(&|s| s.user.clone()));
        target.port = target
            .port
            .or_else(|| layers.iter().rev().find_map(|(_, s)| s.port));
        target.identity = layers
            .iter()
            .rev()
            .find_map(|(_, s)| s.identity.clone())
            .map(|p| expand_home(&p));
        let host_root = layers
            .iter()
            .rev()
            .find_map(|(_, s)| s.root.clone())
            .or_else(|| root.map(Path::to_path_buf));
        let overrides = layers
            .iter()
            .filter(|(_, s)| !s.plan.is_empty())
            .map(|(origin, s)| (format!("{origin} plan"), s.plan.clone()))
            .collect();
        hosts.push(FleetHost {
            name: host.name,
            target,
            root: host_root,
            groups: host.groups,
            overrides,
        });
    }
    if hosts.is_empty() {
        return Err(Error::other(format!(
            "{shown}: no [[hosts]] in the inventory"
        )));
    }
    Ok(hosts)
}

/// Keep the hosts named, or in a group named, by any `--limit`.
pub fn limit(hosts: Vec<FleetHost>, limits: &[String]) -> Result<Vec<FleetHost>> {
    if limits.is_empty() {
        return Ok(hosts);
    }
    let names: Vec<&str> = limits
        .iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .collect();
    for name in &names {
        let known = hosts
            .iter()
            .any(|h| h.name == *name || h.groups.iter().any(|g| g == name));
        if !known {
            let candidates: Vec<&str> = hosts
                .iter()
                .flat_map(|h| {
                    std::iter::once(h.name.as_str()).chain(h.groups.iter().map(String::as_str))
                })
                .collect();
            let hint = suggest::closest(name, candidates)
                .map(|best| format!("; did you mean {best:?}?"))
                .unwrap_or_default();
            return Err(Error::other(format!(
                "--limit {name}: no host or group of that name{hint}"
            )));
        }
    }
    Ok(hosts
        .into_iter()
        .filter(|h| {
            names
                .iter()
                .any(|n| h.name == *n || h.groups.iter().any(|g| g == n))
        })
        .collect())
}

fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// Hosts named twice (the same `[user@]host[:port]` and root, say by `--host` and by
/// the inventory) run once, as first named: two runs on one target would race.
/// Returns the hosts kept and a line for each one dropped.
pub fn dedupe(hosts: Vec<FleetHost>) -> (Vec<FleetHost>, Vec<String>) {
    let mut kept: Vec<FleetHost> = Vec::new();
    let mut dropped = Vec::new();
    for host in hosts {
        let same = |k: &FleetHost| {
            k.target.display() == host.target.display()
                && k.target.port == host.target.port
                && k.root == host.root
        };
        match kept.iter().find(|k| same(k)) {
            Some(first) => dropped.push(format!(
                "{} is {} again (as {}): it runs once",
                host.name,
                host.target.display(),
                first.name
            )),
            None => kept.push(host),
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(text: &str) -> Result<Vec<FleetHost>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inventory.toml");
        std::fs::write(&path, text).unwrap();
        load(&path, None)
    }

    #[test]
    fn layers_defaults_groups_and_host() {
        let hosts = inventory(
            "[defaults]\nuser = \"admin\"\nport = 22\n\n[groups.china]\nport = 2222\n[groups.china.plan.repo]\nsource = \"aliyun\"\n\n\
             [[hosts]]\nname = \"web01\"\naddress = \"10.0.0.1\"\ngroups = [\"china\"]\n[hosts.plan.engine]\nversion = \"20.10\"\n\n\
             [[hosts]]\nname = \"db01\"\nuser = \"root\"\nroot = \"/srv/img\"\n",
        )
        .unwrap();
        assert_eq!(hosts[0].target.display(), "admin@10.0.0.1:2222");
        assert_eq!(hosts[0].overrides.len(), 2);
        assert!(hosts[0].overrides[0].0.contains("[groups.china]"));
        assert_eq!(hosts[1].target.display(), "root@db01:22");
        assert_eq!(hosts[1].root.as_deref(), Some(Path::new("/srv/img")));
        let limited = limit(hosts.clone(), &["china".into()]).unwrap();
        assert_eq!(limited.len(), 1);
        let err = limit(hosts, &["chna".into()]).unwrap_err().to_string();
        assert!(err.contains("did you mean \"china\""), "{err}");
    }

    /// The shipped example parses (it is never connected to).
    #[test]
    fn the_example_inventory_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/inventory.example.toml");
        let hosts = load(&path, None).unwrap();
        assert_eq!(hosts.len(), 4);
        let db = hosts.iter().find(|h| h.name == "db01").unwrap();
        assert_eq!(db.target.display(), "admin@10.0.2.21:2222");
        let builder = hosts.iter().find(|h| h.name == "builder").unwrap();
        assert_eq!(
            builder.root.as_deref(),
            Some(Path::new("/srv/images/el7-docker"))
        );
        assert_eq!(limit(hosts, &["china".into()]).unwrap().len(), 2);
    }

    #[test]
    fn unknown_keys_are_errors_with_positions() {
        let err = inventory("[[hosts]]\nname = \"a\"\nadress = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("inventory.toml:3:1:"), "{err}");
        assert!(err.contains("did you mean `address`?"), "{err}");
    }
}
