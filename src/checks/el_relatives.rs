//! Distributions that are not RHEL rebuilds by name but track an Enterprise Linux
//! release, and which EL release that is. Docker publishes no tree for any of them;
//! each installs from `linux/centos/<EL major>/`, the way the sources below do.

/// One relative: its os-release `ID`s, its name, and the EL major release each of its
/// own major releases tracks (`None`: a release that tracks none we know of).
pub struct Relative {
    pub ids: &'static [&'static str],
    pub name: &'static str,
    /// The EL release a VERSION_ID tracks; `None` when it tracks none the tool knows.
    pub el_major: fn(&str) -> Option<u32>,
    /// Where the mapping comes from, for README and the refusal text.
    pub source: &'static str,
}

pub const RELATIVES: &[Relative] = &[
    Relative {
        ids: &["openeuler"],
        name: "openEuler",
        // 20.03, 22.03 and 24.03 LTS alike: kubespray installs docker-ce on every
        // openEuler from linux/centos/8.
        el_major: |_| Some(8),
        source: "kubespray roles/container-engine/docker/vars/openeuler.yml (a link to \
                 kylin.yml): docker_rh_repo_base_url = linux/centos/8",
    },
    Relative {
        ids: &["kylin"],
        name: "Kylin Linux Advanced Server",
        // VERSION_ID is "V10" on every service pack; V10 is built on openEuler.
        el_major: |version| version.eq_ignore_ascii_case("v10").then_some(8),
        source: "kubespray roles/container-engine/docker/vars/kylin.yml: \
                 docker_rh_repo_base_url = linux/centos/8",
    },
    Relative {
        ids: &["anolis"],
        name: "Anolis OS",
        // Anolis 7 and 8 are CentOS 7 and 8 compatible; Anolis 23 is its own base.
        el_major: |version| match major(version)? {
            7 => Some(7),
            8 => Some(8),
            _ => None,
        },
        source: "OpenAnolis: Anolis OS 7 and 8 are binary compatible with CentOS 7 and 8 \
                 (their os-release says ID_LIKE=\"rhel fedora centos\"); Anolis OS 23 is \
                 built on its own and tracks no EL release",
    },
    Relative {
        ids: &["alinux"],
        name: "Alibaba Cloud Linux",
        // VERSION_ID "2.1903" is release 2, "3" (or "3.2104") release 3.
        el_major: |version| match major(version)? {
            2 => Some(7),
            3 => Some(8),
            _ => None,
        },
        source: "Alibaba Cloud docs: Alibaba Cloud Linux 2 is CentOS 7 compatible, \
                 Alibaba Cloud Linux 3 is RHEL/CentOS 8 compatible (its \
                 dnf-plugin-releasever-adapter maps $releasever 3 to 8 for the docker-ce \
                 repo)",
    },
    Relative {
        ids: &["tencentos", "tlinux"],
        name: "TencentOS Server",
        // TencentOS Server 2 ("tlinux" 2.4) and 3 ("tencentos" 3.1).
        el_major: |version| match major(version)? {
            2 => Some(7),
            3 => Some(8),
            _ => None,
        },
        source: "Tencent Cloud docs, TencentOS Server: TencentOS Server 2 user space is \
                 CentOS 7 compatible, TencentOS Server 3 user space is RHEL 8 compatible",
    },
];

/// The relative an os-release `ID` names.
pub fn find(id: &str) -> Option<&'static Relative> {
    RELATIVES.iter().find(|r| r.ids.contains(&id))
}

fn major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_relative_maps_its_releases() {
        let el = |id: &str, version: &str| find(id).and_then(|r| (r.el_major)(version));
        assert_eq!(el("openeuler", "22.03"), Some(8));
        assert_eq!(el("kylin", "V10"), Some(8));
        assert_eq!(el("kylin", "V11"), None);
        assert_eq!(el("anolis", "7.9"), Some(7));
        assert_eq!(el("anolis", "8.8"), Some(8));
        assert_eq!(el("anolis", "23"), None);
        assert_eq!(el("alinux", "2.1903"), Some(7));
        assert_eq!(el("alinux", "3"), Some(8));
        assert_eq!(el("tlinux", "2.4"), Some(7));
        assert_eq!(el("tencentos", "3.1"), Some(8));
        assert_eq!(el("tencentos", "4"), None);
        assert!(find("centos").is_none());
    }
}
