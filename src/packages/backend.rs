//! yum (EL7) and dnf (EL8+) command lines, and reading what they print.

use std::collections::BTreeMap;
use std::path::Path;

use super::rpmver::Evr;
use crate::checks::distro::PackageManager;

/// Builds yum/dnf argv for one target. With a root directory the transaction goes
/// into that tree (`--installroot`), whose release cannot be detected, so it is given.
#[derive(Debug, Clone)]
pub struct PackageTool {
    pub manager: PackageManager,
    installroot: Option<String>,
    releasever: String,
}

impl PackageTool {
    pub fn new(manager: PackageManager, root: Option<&Path>, releasever: Option<u32>) -> Self {
        PackageTool {
            manager,
            installroot: root.map(|r| r.display().to_string()),
            releasever: releasever.map(|m| m.to_string()).unwrap_or_default(),
        }
    }

    fn base(&self) -> Vec<String> {
        let mut argv = vec![
            self.manager.command().to_string(),
            "-y".to_string(),
            // An unreachable repo must fail the run, not be skipped (Debian's dnf.conf
            // and some EL images default to skipping).
            "--setopt=skip_if_unavailable=False".to_string(),
        ];
        if let Some(root) = &self.installroot {
            argv.push(format!("--installroot={root}"));
            if !self.releasever.is_empty() {
                argv.push(format!("--releasever={}", self.releasever));
            }
        }
        argv
    }

    /// Run a transaction script (`yum shell FILE` / `dnf shell FILE`) on the target.
    /// The excludes of Docker's repo (the hold) do not bind the tool's own transaction.
    pub fn shell(&self, script: &Path) -> Vec<String> {
        let mut argv = self.base();
        argv.extend(disable_hold());
        argv.push("shell".into());
        argv.push(script.display().to_string());
        argv
    }

    /// Resolve a transaction script without running it (`--assumeno`) in `shadow`: a
    /// scratch root holding a copy of the target's rpm database and the repo files as
    /// this run will leave them. Everything yum/dnf write lands in `shadow`; plugins are
    /// off so that none of them writes to the machine.
    pub fn resolve(&self, shadow: &Path, script: &Path) -> Vec<String> {
        let mut argv = vec![
            self.manager.command().to_string(),
            "--assumeno".to_string(),
            "--noplugins".to_string(),
            "--setopt=skip_if_unavailable=False".to_string(),
            format!("--installroot={}", shadow.display()),
        ];
        if !self.releasever.is_empty() {
            argv.push(format!("--releasever={}", self.releasever));
        }
        argv.extend(disable_hold());
        argv.push("shell".into());
        argv.push(script.display().to_string());
        argv
    }

    /// The apt backend's command lines, when this target speaks apt.
    pub fn apt(&self) -> Option<super::apt::AptTool> {
        (self.manager == PackageManager::Apt)
            .then(|| super::apt::AptTool::new(self.installroot.as_deref().map(Path::new)))
    }

    /// `yum makecache fast` / `dnf makecache` / `apt-get update`.
    pub fn makecache(&self) -> Vec<String> {
        if let Some(apt) = self.apt() {
            return apt.update();
        }
        let mut argv = self.base();
        argv.push("makecache".into());
        if self.manager == PackageManager::Yum {
            argv.push("fast".into());
        }
        argv
    }

    /// List every version the repo in `scratch/repos` offers, touching nothing of the
    /// target: no installroot, and config, cache, logs and history all in `scratch`.
    pub fn list_offered(&self, scratch: &Path, names: &[String]) -> Vec<String> {
        let dir = |sub: &str| scratch.join(sub).display().to_string();
        let mut argv = vec![
            self.manager.command().to_string(),
            "-q".to_string(),
            "--noplugins".to_string(),
            "--setopt=skip_if_unavailable=False".to_string(),
            format!("--setopt=reposdir={}", dir("repos")),
            format!("--setopt=cachedir={}", dir("cache")),
            format!("--setopt=persistdir={}", dir("persist")),
        ];
        argv.push(match self.manager {
            PackageManager::Yum => format!("--setopt=logfile={}", dir("yum.log")),
            PackageManager::Dnf | PackageManager::Apt => format!("--setopt=logdir={}", dir("log")),
        });
        if !self.releasever.is_empty() {
            argv.push(format!("--releasever={}", self.releasever));
        }
        argv.extend(disable_hold());
        argv.push("list".into());
        argv.push("--showduplicates".into());
        argv.extend(names.iter().cloned());
        argv
    }
}

/// `--disableexcludes` for Docker's repo sections, whose `exclude=` is the hold
/// (`packages::mirrors`): the tool itself installs through it, and lists behind it.
fn disable_hold() -> Vec<String> {
    super::mirrors::REPO_IDS
        .iter()
        .map(|id| format!("--disableexcludes={id}"))
        .collect()
}

/// Versions per package name from `list --showduplicates` output, newest first.
/// Only package lines count: yum's plugin banners, mirror speed lines and translated
/// section headers are ignored, and a line yum wrapped (long name) is joined again.
/// Installed entries (repo `@…` or `installed`) are left out: they are not offers.
pub fn parse_list(output: &str, names: &[String]) -> BTreeMap<String, Vec<Evr>> {
    let mut offered: BTreeMap<String, Vec<Evr>> = BTreeMap::new();
    let mut pending: Option<String> = None;
    for line in output.lines() {
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        let joined;
        if let Some(first) = pending.take() {
            joined = format!("{first} {line}");
            fields = joined.split_whitespace().collect();
        }
        if fields.len() == 1 && package_name(fields[0], names).is_some() {
            pending = Some(fields[0].to_string());
            continue;
        }
        if fields.len() < 3 {
            continue;
        }
        let (Some(name), Some(evr)) = (package_name(fields[0], names), Evr::parse(fields[1]))
        else {
            continue;
        };
        let repo = fields[2];
        if repo.starts_with('@') || repo == "installed" {
            continue;
        }
        let list = offered.entry(name.to_string()).or_default();
        if !list.contains(&evr) {
            list.push(evr);
        }
    }
    for list in offered.values_mut() {
        list.sort_by(|a, b| b.cmp(a));
    }
    offered
}

/// `docker-ce.x86_64` -> `docker-ce` when it is one of `names`.
fn package_name<'a>(field: &str, names: &'a [String]) -> Option<&'a str> {
    let (name, _arch) = field.rsplit_once('.')?;
    names
        .iter()
        .find(|n| n.as_str() == name)
        .map(String::as_str)
}

/// Installed versions from `rpm -q --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}\n' …`.
pub fn parse_rpm_query(output: &str) -> BTreeMap<String, Evr> {
    let mut installed = BTreeMap::new();
    for line in output.lines() {
        if line.starts_with("package ") && line.ends_with("is not installed") {
            continue;
        }
        let mut fields = line.split_whitespace();
        if let (Some(name), Some(evr), None) = (fields.next(), fields.next(), fields.next())
            && let Some(evr) = Evr::parse(evr)
        {
            installed.insert(name.to_string(), evr);
        }
    }
    installed
}

pub const RPM_QUERY_FORMAT: &str = "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}\\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec![
            "docker-ce".into(),
            "docker-ce-cli".into(),
            "containerd.io".into(),
        ]
    }

    #[test]
    fn parses_dnf_and_yum_listings() {
        let out = "Last metadata expiration check: 0:00:01 ago\nInstalled Packages\n\
docker-ce.x86_64      3:19.03.15-3.el7      @docker-ce-stable\n\
Available Packages\n\
docker-ce.x86_64      3:18.09.9-3.el7       docker-ce-stable \n\
docker-ce.x86_64      3:26.1.4-3.el7        docker-ce-stable\n\
Loaded plugins: fastestmirror, langpacks\n\
 * base: mirrors.aliyun.com\n\
可安装的软件包\n\
containerd.io.x86_64\n          1.6.33-3.1.el7        docker-ce-stable\n\
docker-ce-cli.x86_64  1:26.1.4-3.el7        docker-ce-stable\n";
        let offered = parse_list(out, &names());
        let ce: Vec<String> = offered["docker-ce"].iter().map(|e| e.to_string()).collect();
        assert_eq!(ce, ["3:26.1.4-3.el7", "3:18.09.9-3.el7"]);
        assert_eq!(offered["containerd.io"][0].to_string(), "1.6.33-3.1.el7");
        assert_eq!(offered["docker-ce-cli"][0].epoch, 1);
    }

    #[test]
    fn parses_rpm_query() {
        let out = "docker-ce 3:24.0.7-3.el7\ncontainerd.io (none):1.6.33-3.1.el7\npackage docker-ce-cli is not installed\n";
        let installed = parse_rpm_query(out);
        assert_eq!(installed.len(), 2);
        assert_eq!(installed["containerd.io"].to_string(), "1.6.33-3.1.el7");
    }

    #[test]
    fn makecache_speaks_each_dialect() {
        let yum = PackageTool::new(PackageManager::Yum, Some(Path::new("/r")), Some(7));
        assert_eq!(yum.makecache().last().map(String::as_str), Some("fast"));
        assert!(
            yum.shell(Path::new("/s/tx"))
                .contains(&"--installroot=/r".to_string())
        );
        let dnf = PackageTool::new(PackageManager::Dnf, None, Some(9));
        assert_eq!(
            dnf.makecache().last().map(String::as_str),
            Some("makecache")
        );
        let shell = dnf.shell(Path::new("/s/tx"));
        assert!(!shell.iter().any(|a| a.starts_with("--releasever")));
        assert!(shell.contains(&"--disableexcludes=docker-ce-stable".to_string()));
        let resolve = dnf.resolve(Path::new("/s/root"), Path::new("/s/tx"));
        assert!(resolve.contains(&"--assumeno".to_string()));
        assert!(resolve.contains(&"--installroot=/s/root".to_string()));
    }
}
