//! Which distribution the target runs, from os-release (else redhat-release or
//! centos-release), and what that means: supported or not, yum or dnf, defaults.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Distro {
    /// os-release `ID`: centos, rhel, rocky, almalinux, ol, …
    pub id: String,
    pub pretty_name: String,
    pub version_id: String,
    pub major: Option<u32>,
}

/// Distribution IDs Docker CE's EL packages are known to run on.
pub const SUPPORTED_IDS: &[(&str, &str)] = &[
    ("centos", "CentOS"),
    ("rhel", "Red Hat Enterprise Linux"),
    ("rocky", "Rocky Linux"),
    ("almalinux", "AlmaLinux"),
    ("ol", "Oracle Linux"),
];
pub const MIN_MAJOR: u32 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    Yum,
    Dnf,
}

impl PackageManager {
    pub fn command(self) -> &'static str {
        match self {
            PackageManager::Yum => "yum",
            PackageManager::Dnf => "dnf",
        }
    }
}

impl fmt::Display for PackageManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command())
    }
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

impl Distro {
    /// Parse /etc/os-release; `None` when it names no ID.
    pub fn from_os_release(text: &str) -> Option<Distro> {
        let mut id = None;
        let mut pretty = None;
        let mut name = None;
        let mut version_id = String::new();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            match key.trim() {
                "ID" => id = Some(value.to_ascii_lowercase()),
                "PRETTY_NAME" => pretty = Some(value),
                "NAME" => name = Some(value),
                "VERSION_ID" => version_id = value,
                _ => {}
            }
        }
        let id = id.filter(|id| !id.is_empty())?;
        let pretty_name = pretty.or(name).unwrap_or_else(|| id.clone());
        Some(Distro {
            major: major_of(&version_id),
            id,
            pretty_name,
            version_id,
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
            pretty_name: line.to_string(),
            major: major_of(&version_id),
            version_id,
        })
    }

    /// `None` when supported, else the problem as a sentence.
    pub fn check(&self) -> Option<String> {
        let supported = SUPPORTED_IDS.iter().any(|(id, _)| *id == self.id);
        let names: Vec<&str> = SUPPORTED_IDS.iter().map(|(_, name)| *name).collect();
        if !supported {
            return Some(format!(
                "distribution: found {} (ID={}), supported are {} {MIN_MAJOR} and later; \
                 use one of those, or a plan for your distribution's own packages",
                self.pretty_name,
                self.id,
                names.join(", ")
            ));
        }
        match self.major {
            Some(major) if major >= MIN_MAJOR => None,
            _ => Some(format!(
                "distribution: found {} (version {:?}), Docker CE needs release {MIN_MAJOR} or later; \
                 upgrade the OS first",
                self.pretty_name, self.version_id
            )),
        }
    }

    pub fn package_manager(&self) -> PackageManager {
        match self.major {
            Some(major) if major >= 8 => PackageManager::Dnf,
            _ => PackageManager::Yum,
        }
    }

    pub fn is_el7(&self) -> bool {
        self.major == Some(7)
    }

    /// Path segment of the Docker repo tree: `linux/<this>/<major>/…`.
    pub fn docker_repo_os(&self) -> &'static str {
        match (self.id.as_str(), self.major) {
            ("rhel", Some(major)) if major >= 8 => "rhel",
            _ => "centos",
        }
    }

    pub fn default_old_packages(&self) -> Vec<String> {
        let mut list: Vec<&str> = OLD_PACKAGES_EL7.to_vec();
        if !self.is_el7() {
            list.extend_from_slice(OLD_PACKAGES_EL8_EXTRA);
        }
        list.into_iter().map(String::from).collect()
    }

    pub fn default_prerequisites(&self) -> Vec<String> {
        if self.is_el7() {
            PREREQUISITES_EL7.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        }
    }
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
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"",
        )
        .unwrap();
        let problem = d.check().unwrap();
        assert!(problem.contains("Debian GNU/Linux 12"), "{problem}");
        assert!(problem.contains("Rocky Linux"), "{problem}");
    }
}
