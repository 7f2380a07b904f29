//! Which distribution the target runs, from os-release (else redhat-release or
//! centos-release), and what that means: supported or refused with the reason, its
//! family, package manager, Docker repo tree and release, apt suite, and defaults.

use std::fmt;

use super::apt_suites::{self, AptTree};
use super::el_relatives;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Distro {
    /// os-release `ID`, lower case: centos, rhel, rocky, debian, ubuntu, openeuler, …
    pub id: String,
    /// os-release `ID_LIKE`, lower case, in order.
    pub id_like: Vec<String>,
    pub pretty_name: String,
    pub version_id: String,
    /// The first number of `VERSION_ID` (22 for openEuler 22.03: the EL release a
    /// relative tracks is `Platform::el_major`).
    pub major: Option<u32>,
    /// `VERSION_CODENAME`.
    pub version_codename: Option<String>,
    /// `UBUNTU_CODENAME`: set by Ubuntu and by its derivatives (Mint, Pop!_OS, …),
    /// whose own codename names no suite of Docker's tree.
    pub ubuntu_codename: Option<String>,
    /// `DEBIAN_CODENAME`: set by some Debian derivatives (LMDE).
    pub debian_codename: Option<String>,
}

/// Distribution IDs of EL rebuilds that install from Docker's centos (or rhel) tree
/// at their own major release.
pub const SUPPORTED_IDS: &[(&str, &str)] = &[
    ("centos", "CentOS"),
    ("rhel", "Red Hat Enterprise Linux"),
    ("rocky", "Rocky Linux"),
    ("almalinux", "AlmaLinux"),
    ("ol", "Oracle Linux"),
];
/// The lowest EL major release Docker CE runs on.
pub const MIN_MAJOR: u32 = 7;
/// The lowest Fedora release accepted: Docker builds for the releases Fedora still
/// maintains and stops at their end of life; 40 and later are the ones built for the
/// engines this tool targets (26.x and later).
pub const MIN_FEDORA: u32 = 40;

/// How the distribution installs packages and which defaults apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// RHEL, its rebuilds and its relatives (and Amazon Linux): rpm, yum or dnf.
    El,
    /// Fedora: rpm and dnf, Docker's own fedora tree.
    Fedora,
    /// Debian, Ubuntu and their derivatives: dpkg and apt.
    Debian,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    Yum,
    Dnf,
    Apt,
}

impl PackageManager {
    pub fn command(self) -> &'static str {
        match self {
            PackageManager::Yum => "yum",
            PackageManager::Dnf => "dnf",
            PackageManager::Apt => "apt-get",
        }
    }
}

impl fmt::Display for PackageManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command())
    }
}

/// A tree of download.docker.com (and its mirrors): `linux/<tree>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoTree {
    Centos,
    Rhel,
    Fedora,
    Debian,
    Ubuntu,
}

impl RepoTree {
    pub const ALL: &[RepoTree] = &[
        RepoTree::Centos,
        RepoTree::Rhel,
        RepoTree::Fedora,
        RepoTree::Debian,
        RepoTree::Ubuntu,
    ];

    pub fn dir(self) -> &'static str {
        match self {
            RepoTree::Centos => "centos",
            RepoTree::Rhel => "rhel",
            RepoTree::Fedora => "fedora",
            RepoTree::Debian => "debian",
            RepoTree::Ubuntu => "ubuntu",
        }
    }
}

impl fmt::Display for RepoTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir())
    }
}

/// What a supported distribution means for the tool: the facts the backends and the
/// repo source are built from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Platform {
    pub family: Family,
    pub manager: PackageManager,
    /// Docker's tree; `None` where Docker publishes none (Amazon Linux), which only
    /// `[repo] source = "distro"` can serve.
    pub tree: Option<RepoTree>,
    /// rpm trees: the directory under `linux/<tree>/` written into the repo file
    /// ("7", "8", "41"). Written out rather than left as `$releasever`, which is
    /// "7Server" on RHEL 7 and the relative's own release on the relatives.
    pub repo_release: Option<String>,
    /// rpm: the distribution's own yum/dnf `$releasever` ("7Server" on RHEL 7,
    /// "22.03" on openEuler 22.03), for its own repos (e.g. `--installroot`).
    pub releasever: Option<String>,
    /// The Enterprise Linux major release the distribution is or tracks.
    pub el_major: Option<u32>,
    /// apt: the suite (codename) of Docker's apt source: `VERSION_CODENAME`, or
    /// `UBUNTU_CODENAME` / `DEBIAN_CODENAME` on derivatives.
    pub suite: Option<String>,
    /// The distribution's own engine packages (`[repo] source = "distro"`); empty
    /// when it ships none worth installing.
    pub distro_engine: &'static [&'static str],
    /// Packages of the old-package list the distribution's own engine depends on:
    /// kept, not removed, when it is the engine.
    pub distro_engine_needs: &'static [&'static str],
    /// For relatives: which EL release they are mapped to, and the public source.
    pub mapping: Option<String>,
}

/// Docker's documented "uninstall old versions" list for CentOS 7, plus the seed's
/// docker-selinux.
const OLD_PACKAGES_EL7: &[&str] = &[
    "docker",
    "docker-client",
    "docker-client-latest",
    "docker-common",
    "docker-latest",
    "docker-latest-logrotate",
    "docker-logrotate",
    "docker-selinux",
    "docker-engine",
];
/// EL8 and later add podman and runc, which conflict with docker-ce and containerd.io.
const OLD_PACKAGES_EL8_EXTRA: &[&str] = &["podman", "runc"];
const PREREQUISITES_EL7: &[&str] = &["yum-utils", "device-mapper-persistent-data", "lvm2"];
/// Docker's Fedora "uninstall old versions" list is EL7's plus docker-engine-selinux;
/// Fedora's own engine is added, whose files (dockerd, docker.service) docker-ce
/// replaces.
const OLD_PACKAGES_FEDORA_EXTRA: &[&str] = &["docker-engine-selinux", "moby-engine"];
/// Docker's Debian and Ubuntu "uninstall old versions" list.
const OLD_PACKAGES_DEBIAN: &[&str] = &[
    "docker.io",
    "docker-doc",
    "docker-compose",
    "docker-compose-v2",
    "podman-docker",
    "containerd",
    "runc",
];

impl Distro {
    /// Parse /etc/os-release; `None` when it names no ID.
    pub fn from_os_release(text: &str) -> Option<Distro> {
        let mut id = None;
        let mut id_like = Vec::new();
        let mut pretty = None;
        let mut name = None;
        let mut version_id = String::new();
        let (mut version_codename, mut ubuntu_codename, mut debian_codename) = (None, None, None);
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            let word = || Some(value.to_ascii_lowercase()).filter(|v| !v.is_empty());
            match key.trim() {
                "ID" => id = Some(value.to_ascii_lowercase()),
                "ID_LIKE" => {
                    id_like = value
                        .split_whitespace()
                        .map(|w| w.to_ascii_lowercase())
                        .collect()
                }
                "PRETTY_NAME" => pretty = Some(value),
                "NAME" => name = Some(value),
                "VERSION_ID" => version_id = value,
                "VERSION_CODENAME" => version_codename = word(),
                "UBUNTU_CODENAME" => ubuntu_codename = word(),
                "DEBIAN_CODENAME" => debian_codename = word(),
                _ => {}
            }
        }
        let id = id.filter(|id| !id.is_empty())?;
        let pretty_name = pretty.or(name).unwrap_or_else(|| id.clone());
        Some(Distro {
            major: major_of(&version_id),
            id,
            id_like,
            pretty_name,
            version_id,
            version_codename,
            ubuntu_codename,
            debian_codename,
        })
    }

    /// Parse /etc/redhat-release or /etc/centos-release, e.g.
    /// "CentOS Linux release 7.9.2009 (Core)".
    pub fn from_release_file(text: &str) -> Option<Distro> {
        let line = text.lines().next()?.trim();
        if line.is_empty() {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        let id = if lower.starts_with("centos") {
            "centos"
        } else if lower.starts_with("red hat") {
            "rhel"
        } else if lower.starts_with("rocky") {
            "rocky"
        } else if lower.starts_with("almalinux") {
            "almalinux"
        } else if lower.starts_with("oracle") {
            "ol"
        } else {
            "unknown"
        };
        let version_id = line
            .split_whitespace()
            .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or("")
            .to_string();
        Some(Distro {
            id: id.to_string(),
            id_like: Vec::new(),
            pretty_name: line.to_string(),
            major: major_of(&version_id),
            version_id,
            version_codename: None,
            ubuntu_codename: None,
            debian_codename: None,
        })
    }

    /// The verdict: what the distribution means for the tool, or why it is refused
    /// and what to do, as a sentence starting "distribution: ".
    pub fn platform(&self) -> Result<Platform, String> {
        let refuse = |why: String| {
            Err(format!(
                "distribution: found {} (ID={}, VERSION_ID={:?}): {why}",
                self.pretty_name, self.id, self.version_id
            ))
        };
        match self.id.as_str() {
            // Testing and unstable carry the next release's codename and no VERSION_ID.
            "debian" if self.version_id.is_empty() => refuse(format!(
                "Debian testing or unstable (no VERSION_ID): Docker builds for stable \
                 releases only; use Debian {}",
                apt_suites::supported_list(AptTree::Debian)
            )),
            "debian" => self.apt_platform(AptTree::Debian, self.version_codename.as_deref()),
            "ubuntu" => self.apt_platform(
                AptTree::Ubuntu,
                self.ubuntu_codename
                    .as_deref()
                    .or(self.version_codename.as_deref()),
            ),
            "fedora" => match self.major {
                Some(release) if release >= MIN_FEDORA => Ok(Platform {
                    family: Family::Fedora,
                    manager: PackageManager::Dnf,
                    tree: Some(RepoTree::Fedora),
                    repo_release: Some(release.to_string()),
                    releasever: Some(release.to_string()),
                    el_major: None,
                    suite: None,
                    distro_engine: &["moby-engine"],
                    distro_engine_needs: &[],
                    mapping: None,
                }),
                _ => refuse(format!(
                    "Docker builds for the Fedora releases Fedora still maintains, and this \
                     tool for Fedora {MIN_FEDORA} and later; upgrade Fedora"
                )),
            },
            "amzn" => match self.version_id.as_str() {
                "2" | "2023" => Ok(Platform {
                    family: Family::El,
                    manager: if self.version_id == "2" {
                        PackageManager::Yum
                    } else {
                        PackageManager::Dnf
                    },
                    tree: None,
                    repo_release: None,
                    releasever: Some(self.version_id.clone()),
                    el_major: None,
                    suite: None,
                    distro_engine: &["docker"],
                    distro_engine_needs: &["runc"],
                    mapping: Some(
                        "Docker publishes no docker-ce repository for Amazon Linux; \
                         Amazon's own docker package, maintained with the distribution"
                            .into(),
                    ),
                }),
                _ => refuse(
                    "the Amazon Linux AMI (2018.03 and older) reached its end of life on \
                     2023-12-31; move to Amazon Linux 2023"
                        .into(),
                ),
            },
            id if SUPPORTED_IDS.iter().any(|(known, _)| *known == id) => match self.major {
                Some(major) if major >= MIN_MAJOR => Ok(self.el_platform(major, None)),
                _ => refuse(format!(
                    "Docker CE needs release {MIN_MAJOR} or later; upgrade the OS first"
                )),
            },
            id => match el_relatives::find(id) {
                Some(relative) => match (relative.el_major)(&self.version_id) {
                    Some(el) => Ok(self.el_platform(
                        el,
                        Some(format!(
                            "{} {} tracks EL{el} (source: {})",
                            relative.name, self.version_id, relative.source
                        )),
                    )),
                    None => refuse(format!(
                        "no EL release is known for {} {}, so no Docker tree fits it \
                         (known: {}); use [repo] source with a tree built for it",
                        relative.name, self.version_id, relative.source
                    )),
                },
                None => self.derivative_platform().unwrap_or_else(|| {
                    refuse(format!(
                        "supported are {}; run on one of those (README's distribution \
                         table gives each one's mapping)",
                        supported_names().join("; ")
                    ))
                }),
            },
        }
    }

    /// `None` when the distribution can take Docker's own repo, else the problem as
    /// a sentence saying what to do.
    pub fn check(&self) -> Option<String> {
        self.check_for(RepoKind::Docker)
    }

    /// `None` when the distribution can take engines from `kind`, else why not and
    /// what to do.
    pub fn check_for(&self, kind: RepoKind) -> Option<String> {
        let platform = match self.platform() {
            Ok(platform) => platform,
            Err(refusal) => return Some(refusal),
        };
        match kind {
            RepoKind::Docker if platform.tree.is_none() => Some(format!(
                "distribution: {} has no docker-ce repository: Docker publishes none for \
                 it; set [repo] source = \"distro\" to install its own {} package",
                self.pretty_name,
                platform.distro_engine.join(", ")
            )),
            RepoKind::Distro if platform.distro_engine.is_empty() => Some(format!(
                "distribution: {} ships no Docker engine of its own (EL8 and later ship \
                 podman; CentOS 7's docker 1.13 dates from 2017); use Docker's repo \
                 ([repo] source = \"official\" or a mirror)",
                self.pretty_name
            )),
            _ => None,
        }
    }

    pub fn package_manager(&self) -> PackageManager {
        match self.platform() {
            Ok(platform) => platform.manager,
            Err(_) => match self.major {
                Some(major) if major >= 8 => PackageManager::Dnf,
                _ => PackageManager::Yum,
            },
        }
    }

    pub fn family(&self) -> Family {
        self.platform().map_or(Family::El, |p| p.family)
    }

    /// The EL major release the distribution is or tracks.
    pub fn el_major(&self) -> Option<u32> {
        self.platform().ok().and_then(|p| p.el_major)
    }

    pub fn is_el7(&self) -> bool {
        self.el_major() == Some(7)
    }

    /// Path segment of the Docker repo tree: `linux/<this>/<release>/…`.
    pub fn docker_repo_os(&self) -> &'static str {
        self.platform()
            .ok()
            .and_then(|p| p.tree)
            .unwrap_or(RepoTree::Centos)
            .dir()
    }

    /// The rpm tree's release directory: `linux/<tree>/<this>/…` ("7" on RHEL 7 and
    /// on every EL7 relative); `None` for apt trees and distributions refused.
    pub fn repo_release(&self) -> Option<String> {
        match self.platform() {
            Ok(platform) => platform.repo_release,
            Err(_) => self.major.map(|m| m.to_string()),
        }
    }

    /// The apt suite Docker's source names (`bookworm`, `jammy`).
    pub fn suite(&self) -> Option<String> {
        self.platform().ok().and_then(|p| p.suite)
    }

    /// Old packages removed before Docker's engine goes in.
    pub fn default_old_packages(&self) -> Vec<String> {
        let list: Vec<&str> = match self.family() {
            Family::Debian => OLD_PACKAGES_DEBIAN.to_vec(),
            Family::Fedora => [OLD_PACKAGES_EL7, OLD_PACKAGES_FEDORA_EXTRA].concat(),
            Family::El if self.is_el7() => OLD_PACKAGES_EL7.to_vec(),
            Family::El => [OLD_PACKAGES_EL7, OLD_PACKAGES_EL8_EXTRA].concat(),
        };
        list.into_iter().map(String::from).collect()
    }

    /// Old packages removed before the distribution's own engine goes in: the same
    /// list less that engine and what it depends on.
    pub fn old_packages_beside_distro_engine(&self) -> Vec<String> {
        let Ok(platform) = self.platform() else {
            return self.default_old_packages();
        };
        self.default_old_packages()
            .into_iter()
            .filter(|name| {
                !platform.distro_engine.contains(&name.as_str())
                    && !platform.distro_engine_needs.contains(&name.as_str())
            })
            .collect()
    }

    pub fn default_prerequisites(&self) -> Vec<String> {
        if self.is_el7() {
            PREREQUISITES_EL7.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        }
    }

    fn el_platform(&self, el_major: u32, mapping: Option<String>) -> Platform {
        // Docker's rhel tree carries x86_64 from EL8 on; rhel/7 holds s390x only
        // (moby/moby#42086), so RHEL 7 installs from centos/7, written as "7": its
        // $releasever "7Server" names no directory (docker/for-linux#1111).
        let tree = if self.id == "rhel" && el_major >= 8 {
            RepoTree::Rhel
        } else {
            RepoTree::Centos
        };
        let releasever = if self.id == "rhel" && el_major == 7 {
            "7Server".to_string()
        } else if mapping.is_some() {
            self.version_id.clone()
        } else {
            el_major.to_string()
        };
        Platform {
            family: Family::El,
            manager: if el_major >= 8 {
                PackageManager::Dnf
            } else {
                PackageManager::Yum
            },
            tree: Some(tree),
            repo_release: Some(el_major.to_string()),
            releasever: Some(releasever),
            el_major: Some(el_major),
            suite: None,
            distro_engine: &[],
            distro_engine_needs: &[],
            mapping,
        }
    }

    /// Debian or Ubuntu at `codename` (else at its VERSION_ID).
    fn apt_platform(&self, tree: AptTree, codename: Option<&str>) -> Result<Platform, String> {
        let found = match codename {
            Some(codename) => apt_suites::by_codename(tree, codename),
            None => apt_suites::by_version(tree, &self.version_id),
        };
        let name = match tree {
            AptTree::Debian => "Debian",
            AptTree::Ubuntu => "Ubuntu",
        };
        let why = match found {
            Some(suite) => match suite.refusal {
                None => {
                    return Ok(Platform {
                        family: Family::Debian,
                        manager: PackageManager::Apt,
                        tree: Some(match tree {
                            AptTree::Debian => RepoTree::Debian,
                            AptTree::Ubuntu => RepoTree::Ubuntu,
                        }),
                        repo_release: None,
                        releasever: None,
                        el_major: None,
                        suite: Some(suite.codename.to_string()),
                        distro_engine: &["docker.io"],
                        distro_engine_needs: &["containerd", "runc"],
                        mapping: None,
                    });
                }
                Some(why) => why.to_string(),
            },
            None => format!(
                "{name} {} is not a release this tool knows Docker builds for (a testing \
                 or unstable release, or one newer than this tool); supported are {name} {}",
                codename.unwrap_or(&self.version_id),
                apt_suites::supported_list(tree)
            ),
        };
        Err(format!(
            "distribution: found {} (ID={}, VERSION_ID={:?}): {why}",
            self.pretty_name, self.id, self.version_id
        ))
    }

    /// A derivative that says which Ubuntu or Debian release it is built on.
    fn derivative_platform(&self) -> Option<Result<Platform, String>> {
        let like = |word: &str| self.id_like.iter().any(|l| l == word);
        if like("ubuntu") {
            let codename = self.ubuntu_codename.as_deref()?;
            return Some(self.apt_platform(AptTree::Ubuntu, Some(codename)));
        }
        if like("debian") {
            let codename = self.debian_codename.as_deref()?;
            return Some(self.apt_platform(AptTree::Debian, Some(codename)));
        }
        None
    }
}

/// The verdict on a distribution as `facts` shows it: supported with its platform,
/// or refused with the reason; and whether Docker's own repo can serve it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    pub supported: bool,
    pub platform: Option<Platform>,
    /// Why it is refused (or, when supported, why Docker's repo cannot serve it).
    pub reason: Option<String>,
}

impl Distro {
    pub fn verdict(&self) -> Verdict {
        match self.platform() {
            Ok(platform) => Verdict {
                supported: true,
                platform: Some(platform),
                reason: self.check(),
            },
            Err(reason) => Verdict {
                supported: false,
                platform: None,
                reason: Some(reason),
            },
        }
    }
}

/// Where the engine packages come from, as far as the distribution check cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// Docker's repo (download.docker.com or a mirror of its tree).
    Docker,
    /// The distribution's own packages, through the repos the host already has
    /// (`[repo] source = "distro"`).
    Distro,
}

/// Every distribution supported, by name, for refusals.
fn supported_names() -> Vec<String> {
    let mut names: Vec<String> = SUPPORTED_IDS
        .iter()
        .map(|(_, name)| format!("{name} {MIN_MAJOR} and later"))
        .collect();
    names.push(format!("Fedora {MIN_FEDORA} and later"));
    names.push(format!(
        "Debian {}",
        apt_suites::supported_list(AptTree::Debian)
    ));
    names.push(format!(
        "Ubuntu {}",
        apt_suites::supported_list(AptTree::Ubuntu)
    ));
    names.push("Amazon Linux 2 and 2023 (with [repo] source = \"distro\")".into());
    names.extend(el_relatives::RELATIVES.iter().map(|r| r.name.to_string()));
    names
}

fn unquote(value: &str) -> String {
    let trimmed = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    trimmed.to_string()
}

fn major_of(version_id: &str) -> Option<u32> {
    version_id.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centos7_os_release() {
        let d = Distro::from_os_release(
            "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n",
        )
        .unwrap();
        assert_eq!(d.id, "centos");
        assert_eq!(d.major, Some(7));
        assert!(d.check().is_none());
        assert_eq!(d.package_manager(), PackageManager::Yum);
        assert!(d.default_prerequisites().contains(&"lvm2".to_string()));
    }

    #[test]
    fn rocky9_uses_dnf_and_no_prerequisites() {
        let d = Distro::from_os_release("ID=\"rocky\"\nVERSION_ID=\"9.3\"\n").unwrap();
        assert_eq!(d.major, Some(9));
        assert_eq!(d.package_manager(), PackageManager::Dnf);
        assert!(d.default_prerequisites().is_empty());
        assert!(d.default_old_packages().contains(&"podman".to_string()));
    }

    #[test]
    fn release_files_and_unsupported() {
        let d = Distro::from_release_file("CentOS release 6.10 (Final)\n").unwrap();
        assert_eq!(d.major, Some(6));
        assert!(d.check().unwrap().contains("7 or later"));
        let d = Distro::from_release_file("Red Hat Enterprise Linux Server release 7.9 (Maipo)")
            .unwrap();
        assert_eq!((d.id.as_str(), d.major), ("rhel", Some(7)));
        let d = Distro::from_os_release(
            "ID=slackware\nVERSION_ID=\"15.0\"\nPRETTY_NAME=\"Slackware 15.0\"",
        )
        .unwrap();
        let problem = d.check().unwrap();
        assert!(problem.contains("Slackware 15.0"), "{problem}");
        assert!(problem.contains("Rocky Linux"), "{problem}");
        assert!(problem.contains("Debian 11 (bullseye)"), "{problem}");
    }

    #[test]
    fn debian_and_ubuntu_take_their_suite() {
        let d = Distro::from_os_release(
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"",
        )
        .unwrap();
        let p = d.platform().unwrap();
        assert_eq!(p.family, Family::Debian);
        assert_eq!(p.manager, PackageManager::Apt);
        assert_eq!(p.tree, Some(RepoTree::Debian));
        assert_eq!(p.suite.as_deref(), Some("bookworm"));
        assert!(d.default_old_packages().contains(&"docker.io".to_string()));
        assert!(
            !d.old_packages_beside_distro_engine()
                .contains(&"runc".to_string())
        );
        // A derivative names its base through UBUNTU_CODENAME.
        let mint = Distro::from_os_release(
            "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"\nVERSION_CODENAME=virginia\nUBUNTU_CODENAME=jammy\n",
        )
        .unwrap();
        let p = mint.platform().unwrap();
        assert_eq!(
            (p.tree, p.suite.as_deref()),
            (Some(RepoTree::Ubuntu), Some("jammy"))
        );
        let bionic =
            Distro::from_os_release("ID=ubuntu\nVERSION_ID=\"18.04\"\nVERSION_CODENAME=bionic\n")
                .unwrap();
        assert!(bionic.check().unwrap().contains("24.04 (noble)"));
        let sid = Distro::from_os_release("ID=debian\nVERSION_CODENAME=forky\n").unwrap();
        assert!(sid.check().unwrap().contains("testing"));
        let next =
            Distro::from_os_release("ID=debian\nVERSION_ID=14\nVERSION_CODENAME=forky\n").unwrap();
        assert!(next.check().unwrap().contains("newer than this tool"));
    }

    #[test]
    fn rhel_relatives_and_amazon() {
        let rhel7 = Distro::from_os_release("ID=\"rhel\"\nVERSION_ID=\"7.9\"\n").unwrap();
        let p = rhel7.platform().unwrap();
        assert_eq!(p.tree, Some(RepoTree::Centos));
        assert_eq!(p.repo_release.as_deref(), Some("7"));
        assert_eq!(p.releasever.as_deref(), Some("7Server"));
        let rhel9 = Distro::from_os_release("ID=\"rhel\"\nVERSION_ID=\"9.4\"\n").unwrap();
        assert_eq!(rhel9.docker_repo_os(), "rhel");
        let euler = Distro::from_os_release("ID=\"openEuler\"\nVERSION_ID=\"22.03\"\n").unwrap();
        let p = euler.platform().unwrap();
        assert_eq!((p.manager, p.el_major), (PackageManager::Dnf, Some(8)));
        assert_eq!(euler.repo_release().as_deref(), Some("8"));
        assert!(p.mapping.unwrap().contains("kubespray"));
        let amzn = Distro::from_os_release(
            "ID=\"amzn\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023\"\n",
        )
        .unwrap();
        assert!(amzn.check().unwrap().contains("source = \"distro\""));
        assert!(amzn.check_for(RepoKind::Distro).is_none());
        let rocky = Distro::from_os_release("ID=rocky\nVERSION_ID=9.3\n").unwrap();
        assert!(rocky.check_for(RepoKind::Distro).is_some());
    }
}
