//! Reading what dpkg-query, apt-cache and apt-get print.

use std::collections::BTreeMap;

use crate::packages::rpmver::Evr;

/// One package as dpkg knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgEntry {
    pub version: Evr,
    /// `apt-mark hold` (the selection is `hold`).
    pub held: bool,
}

/// Installed packages from `dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Abbrev}\n'`.
/// Only unpacked-or-further packages count: `rc` (removed, conffiles left) and `un`
/// (known, not installed) do not. dpkg-query's complaints about unknown names go to
/// stderr and are not read.
pub fn installed(output: &str) -> BTreeMap<String, DpkgEntry> {
    let mut found = BTreeMap::new();
    for line in output.lines() {
        let mut fields = line.split('\t');
        let (Some(name), Some(version), Some(status)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let mut flags = status.chars();
        let (want, state) = (flags.next(), flags.next());
        let present = !matches!(state, None | Some('n' | 'c'));
        if let (true, Some(version)) = (present, Evr::parse_deb(version)) {
            found.insert(
                name.to_string(),
                DpkgEntry {
                    version,
                    held: want == Some('h'),
                },
            );
        }
    }
    found
}

/// Offered versions per package from `apt-cache madison NAMES`, newest first (dpkg's
/// order). Source package lines (`… Sources`) are not offers of a binary.
pub fn madison(output: &str, names: &[String]) -> BTreeMap<String, Vec<Evr>> {
    let mut offered: BTreeMap<String, Vec<Evr>> = BTreeMap::new();
    for line in output.lines() {
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, version, from] = fields[..] else {
            continue;
        };
        if from.ends_with("Sources") || !names.iter().any(|n| n == name) {
            continue;
        }
        let Some(version) = Evr::parse_deb(version) else {
            continue;
        };
        let list = offered.entry(name.to_string()).or_default();
        if !list.contains(&version) {
            list.push(version);
        }
    }
    for list in offered.values_mut() {
        list.sort_by(|a, b| b.cmp(a));
    }
    offered
}

/// What `apt-get -s` would do, from its `Inst` / `Remv` lines: (name, version) each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Simulation {
    pub install: Vec<(String, String)>,
    pub remove: Vec<String>,
}

pub fn simulation(output: &str) -> Simulation {
    let mut sim = Simulation::default();
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("Inst ") {
            let name = rest.split_whitespace().next().unwrap_or("").to_string();
            // `Inst docker-ce (5:26.1.4-1~debian.12~bookworm Docker:bookworm [amd64])`,
            // or with `[old version]` first for an upgrade.
            let version = rest
                .split_once('(')
                .and_then(|(_, v)| v.split_whitespace().next())
                .unwrap_or("")
                .to_string();
            sim.install.push((name, version));
        } else if let Some(rest) = line.strip_prefix("Remv ") {
            sim.remove
                .push(rest.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    sim
}

/// What apt said went wrong, in its own words: `E:` lines, `Err:` fetches and their
/// reason, failed-fetch warnings, and the unmet dependencies apt lists.
pub fn problems(output: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut after_err = false;
    let mut unmet = false;
    for raw in output.lines() {
        let line = raw.trim();
        let keep = if line.starts_with("E:")
            || line.starts_with("Err:")
            || line.starts_with("W: Failed to fetch")
            || line.starts_with("W: Some index files failed")
        {
            after_err = line.starts_with("Err:");
            true
        } else if after_err && raw.starts_with("  ") {
            // The reason under an `Err:` line.
            true
        } else {
            after_err = false;
            unmet |= line.starts_with("The following packages have unmet dependencies");
            unmet && (line.contains("Depends:") || line.contains("Conflicts:"))
        };
        if keep && !line.is_empty() && !found.iter().any(|f| f == line) {
            found.push(line.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_query_states_and_holds() {
        let out = "docker.io\t20.10.24+dfsg1-1+deb12u1+b6\tii \n\
                   containerd\t1.6.20~ds1-1+deb12u3\thi \n\
                   docker-ce\t5:24.0.7-1~debian.12~bookworm\trc \n\
                   runc\t\tun \n";
        let found = installed(out);
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            ["containerd", "docker.io"]
        );
        assert!(found["containerd"].held);
        assert!(!found["docker.io"].held);
        assert_eq!(found["docker.io"].version.release, "1+deb12u1+b6");
    }

    #[test]
    fn madison_newest_first_by_dpkg_order() {
        let names = vec!["docker-ce".to_string(), "containerd.io".to_string()];
        let out = " docker-ce | 5:24.0.7-1~debian.12~bookworm | http://x/linux/debian bookworm/stable amd64 Packages\n\
                    docker-ce | 5:26.1.4-1~debian.12~bookworm | http://x/linux/debian bookworm/stable amd64 Packages\n\
                    docker-ce | 5:26.1.4-1~debian.12~bookworm | http://y/linux/debian bookworm/stable amd64 Packages\n\
                    docker.io | 20.10.24+dfsg1-1 | http://deb.debian.org/debian bookworm/main amd64 Packages\n\
                    containerd.io | 1.6.33-1 | http://x/linux/debian bookworm/stable amd64 Packages\n\
                    docker-ce | 1.0-1 | http://x/debian bookworm/main Sources\n";
        let offer = madison(out, &names);
        let ce: Vec<String> = offer["docker-ce"].iter().map(ToString::to_string).collect();
        assert_eq!(
            ce,
            [
                "5:26.1.4-1~debian.12~bookworm",
                "5:24.0.7-1~debian.12~bookworm"
            ]
        );
        assert_eq!(offer["containerd.io"].len(), 1);
        assert!(!offer.contains_key("docker.io"));
    }

    #[test]
    fn simulation_and_problems() {
        let out = "Remv docker.io [20.10.24+dfsg1-1+deb12u1+b6]\n\
                   Inst containerd.io (1.6.33-1 Docker:bookworm [amd64])\n\
                   Inst docker-ce [5:24.0.7-1~debian.12~bookworm] (5:26.1.4-1~debian.12~bookworm Docker:bookworm [amd64])\n\
                   Conf docker-ce (5:26.1.4-1~debian.12~bookworm Docker:bookworm [amd64])\n";
        let sim = simulation(out);
        assert_eq!(sim.remove, ["docker.io"]);
        assert_eq!(
            sim.install[1],
            ("docker-ce".into(), "5:26.1.4-1~debian.12~bookworm".into())
        );
        let err = "Ign:1 http://127.0.0.1:1/linux/debian bookworm InRelease\n\
                   Err:1 http://127.0.0.1:1/linux/debian bookworm InRelease\n  \
                   Could not connect to 127.0.0.1:1 (127.0.0.1). - connect (111: Connection refused)\n\
                   Reading package lists...\n\
                   W: Failed to fetch http://127.0.0.1:1/linux/debian/dists/bookworm/InRelease  Could not connect\n\
                   E: Version '5:99.0.0' for 'docker-ce' was not found\n";
        let found = problems(err);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[1].starts_with("Could not connect"));
        let unmet = "The following packages have unmet dependencies:\n \
                     docker-ce : Depends: containerd.io (>= 1.6.24) but it is not installable\n\
                     E: Unable to correct problems, you have held broken packages.\n";
        assert_eq!(problems(unmet).len(), 2);
        assert!(problems("Reading package lists...\nInst x (1 a [amd64])\n").is_empty());
    }
}
