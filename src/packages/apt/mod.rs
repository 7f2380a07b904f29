//! The apt backend (Debian, Ubuntu): apt-get, apt-cache, apt-mark and dpkg-query
//! command lines, the deb822 source the tool writes, and reading what they print.
//!
//! A `--root DIR` tree is changed through `chroot DIR apt-get …` (dpkg must run the
//! packages' maintainer scripts inside the tree) and read from outside
//! (`dpkg-query --admindir=DIR/var/lib/dpkg`), like rpm's `--root` on EL.

pub mod parse;
pub mod resolve;
pub mod source;
pub mod transaction;

use std::path::Path;

use crate::change::PackageVerb;
use crate::packages::transaction::Transaction;

/// The source file the tool owns (deb822), and the keyring it points at.
pub const SOURCE_FILE: &str = "/etc/apt/sources.list.d/docker.sources";
pub const KEYRING: &str = "/etc/apt/keyrings/docker.asc";
/// Present on every dpkg system: its existence says "ask dpkg-query".
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
/// `name<TAB>version<TAB>status abbreviation` (`ii `, `hi `, `rc `…).
pub const DPKG_QUERY_FORMAT: &str = "${Package}\\t${Version}\\t${db:Status-Abbrev}\\n";

/// apt command lines for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptTool {
    root: Option<String>,
}

impl AptTool {
    pub fn new(root: Option<&Path>) -> AptTool {
        AptTool {
            root: root.map(|r| r.display().to_string()),
        }
    }

    /// `env DEBIAN_FRONTEND=noninteractive [chroot ROOT] TOOL`: nothing may ask.
    fn command(&self, tool: &str) -> Vec<String> {
        let mut argv = vec![
            "env".to_string(),
            "DEBIAN_FRONTEND=noninteractive".to_string(),
        ];
        if let Some(root) = &self.root {
            argv.push("chroot".into());
            argv.push(root.clone());
        }
        argv.push(tool.to_string());
        argv
    }

    /// `apt-get update`, failing when any source did not answer (apt's default exit
    /// status is 0 then; older apt ignores the option and the staged proof catches it).
    pub fn update(&self) -> Vec<String> {
        let mut argv = self.command("apt-get");
        argv.extend(
            ["-q", "-o", "APT::Update::Error-Mode=any", "update"]
                .iter()
                .map(|s| s.to_string()),
        );
        argv
    }

    /// The options of the one transaction: no questions, the operator's conffiles
    /// kept, exactly the packages named (no Recommends: the plan lists what comes in),
    /// downgrades and held packages allowed for the tool's own transaction.
    pub fn install_options() -> Vec<String> {
        [
            "-y",
            "-q",
            "-o",
            "Dpkg::Options::=--force-confold",
            "-o",
            "Dpkg::Options::=--force-confdef",
            "--no-install-recommends",
            "--allow-downgrades",
            "--allow-change-held-packages",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// `apt-get install` of the whole transaction: `name=version` for what comes in
    /// (or moves), `name-` for what goes, in one call.
    pub fn install(&self, transaction: &Transaction) -> Vec<String> {
        let mut argv = self.command("apt-get");
        argv.extend(Self::install_options());
        argv.push("install".into());
        argv.extend(specs(transaction));
        argv
    }

    /// `apt-mark hold NAMES`.
    pub fn hold(&self, names: &[String]) -> Vec<String> {
        let mut argv = self.command("apt-mark");
        argv.push("hold".into());
        argv.extend(names.iter().cloned());
        argv
    }

    /// Installed versions and states of `names`, read from outside a tree.
    pub fn query(&self, names: &[String]) -> Vec<String> {
        let mut argv = vec!["dpkg-query".to_string()];
        if let Some(root) = &self.root {
            argv.push(format!("--admindir={root}/var/lib/dpkg"));
        }
        argv.extend(
            ["-W", "-f", DPKG_QUERY_FORMAT]
                .iter()
                .map(|s| s.to_string()),
        );
        argv.extend(names.iter().cloned());
        argv
    }

    /// `dpkg --print-architecture` of the target (inside a tree: its own dpkg).
    pub fn print_architecture(&self) -> Vec<String> {
        let mut argv = Vec::new();
        if let Some(root) = &self.root {
            argv.push("chroot".to_string());
            argv.push(root.clone());
        }
        argv.extend(
            ["dpkg", "--print-architecture"]
                .iter()
                .map(|s| s.to_string()),
        );
        argv
    }

    /// Where the target's dpkg status is, on the machine that holds it.
    pub fn status_path(&self) -> String {
        match &self.root {
            Some(root) => format!("{root}{DPKG_STATUS}"),
            None => DPKG_STATUS.to_string(),
        }
    }
}

/// The package arguments of `apt-get install` for a transaction.
pub fn specs(transaction: &Transaction) -> Vec<String> {
    let mut specs = Vec::new();
    for (verb, items) in &transaction.ops {
        for item in items {
            specs.push(match (verb, &item.to) {
                (PackageVerb::Remove, _) => format!("{}-", item.name),
                (_, Some(version)) => format!("{}={version}", item.name),
                (_, None) => item.name.clone(),
            });
        }
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::PackageItem;
    use crate::packages::rpmver::Evr;

    #[test]
    fn one_call_removes_and_installs_at_the_plans_versions() {
        let item = |name: &str, to: Option<&str>| PackageItem {
            name: name.into(),
            from: None,
            to: to.and_then(Evr::parse_deb),
        };
        let tx = Transaction {
            ops: vec![
                (
                    PackageVerb::Remove,
                    vec![item("docker.io", None), item("containerd", None)],
                ),
                (
                    PackageVerb::Install,
                    vec![item("docker-ce", Some("5:26.1.4-1~debian.12~bookworm"))],
                ),
            ],
        };
        let argv = AptTool::new(Some(Path::new("/srv/root"))).install(&tx);
        assert_eq!(
            argv[..5],
            [
                "env",
                "DEBIAN_FRONTEND=noninteractive",
                "chroot",
                "/srv/root",
                "apt-get"
            ]
        );
        assert!(argv.contains(&"Dpkg::Options::=--force-confold".to_string()));
        assert_eq!(
            argv[argv.len() - 4..],
            [
                "install",
                "docker.io-",
                "containerd-",
                "docker-ce=5:26.1.4-1~debian.12~bookworm"
            ]
        );
        let query = AptTool::new(Some(Path::new("/srv/root"))).query(&["docker-ce".into()]);
        assert_eq!(query[1], "--admindir=/srv/root/var/lib/dpkg");
        assert_eq!(AptTool::new(None).update()[2], "apt-get");
    }
}
