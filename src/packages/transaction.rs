//! One yum/dnf transaction for every package change of a run (old packages out,
//! prerequisites and the engine in), written as a `yum shell` / `dnf shell` script:
//! when a download fails, yum and dnf stop before the rpm transaction starts, so the
//! host keeps the engine it had. The same script, run with `--assumeno` against a copy
//! of the target's rpm database and the repo files as this run will leave them, proves
//! beforehand that the transaction resolves.

use crate::change::{PackageItem, PackageVerb};
use crate::checks::distro::PackageManager;
use crate::packages::rpmver::Evr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// In the order the script lists them.
    pub ops: Vec<(PackageVerb, Vec<PackageItem>)>,
}

impl Transaction {
    /// The shell script: one line per verb, then `run`. Packages with a target version
    /// are named `name-version-release` for yum 3, whose package specs take an epoch
    /// only together with the arch (`name-epoch:version-release.arch`), and
    /// `name-epoch:version-release` for dnf.
    pub fn script(&self, manager: PackageManager) -> String {
        let mut script = String::new();
        for (verb, items) in &self.ops {
            let word = match (verb, manager) {
                (PackageVerb::Install, _) => "install",
                (PackageVerb::Remove, _) => "remove",
                (PackageVerb::Upgrade, PackageManager::Yum) => "update",
                (PackageVerb::Upgrade, PackageManager::Dnf | PackageManager::Apt) => "upgrade",
                (PackageVerb::Downgrade, _) => "downgrade",
            };
            let specs: Vec<String> = items.iter().map(|item| spec(item, manager)).collect();
            script.push_str(&format!("{word} {}\n", specs.join(" ")));
        }
        script.push_str("run\n");
        script
    }

    /// Names whose state the transaction sets: (name, the version it must end at, or
    /// `None` for "installed, any version"; removed ones are `Some(None)`-free below).
    pub fn expectations(&self) -> Vec<(String, Expect)> {
        let mut out = Vec::new();
        for (verb, items) in &self.ops {
            for item in items {
                let expect = match verb {
                    PackageVerb::Remove => Expect::Absent,
                    _ => match &item.to {
                        Some(evr) => Expect::At(evr.clone()),
                        None => Expect::Present,
                    },
                };
                out.push((item.name.clone(), expect));
            }
        }
        out
    }

    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .ops
            .iter()
            .map(|(verb, items)| {
                let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
                format!("{verb} {}", names.join(", "))
            })
            .collect();
        parts.join("; ")
    }
}

/// The packages that did not end where the transaction put them, each as a sentence;
/// `have` says what the package manager reports installed now.
pub fn unmet(expectations: &[(String, Expect)], have: &dyn Fn(&str) -> Option<Evr>) -> Vec<String> {
    expectations
        .iter()
        .filter_map(|(name, expect)| {
            let now = have(name);
            let fine = match expect {
                Expect::Absent => now.is_none(),
                Expect::Present => now.is_some(),
                Expect::At(evr) => now.as_ref() == Some(evr),
            };
            (!fine).then(|| {
                let now = now
                    .map(|evr| evr.to_string())
                    .unwrap_or_else(|| "not installed".into());
                match expect {
                    Expect::Absent => format!("{name} is still installed ({now})"),
                    Expect::Present => format!("{name} is {now}"),
                    Expect::At(evr) => format!("{name} is {now}, not {evr}"),
                }
            })
        })
        .collect()
}

/// What a package must look like after the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Absent,
    Present,
    At(Evr),
}

fn spec(item: &PackageItem, manager: PackageManager) -> String {
    match (&item.to, manager) {
        (Some(evr), PackageManager::Yum) => {
            format!("{}-{}-{}", item.name, evr.version, evr.release)
        }
        (Some(evr), PackageManager::Dnf | PackageManager::Apt) => format!("{}-{evr}", item.name),
        (None, _) => item.name.clone(),
    }
}

/// What yum/dnf said went wrong, in their own words: the lines that carry a failure
/// (resolution problems, missing packages, repos that did not answer, downloads).
/// Empty when the output holds none; "Operation aborted" and yum's "Exiting on user
/// command" are what `--assumeno` prints on success and do not count.
pub fn problems(output: &str) -> Vec<String> {
    // Line starts (a package called perl-Error must not count) and phrases.
    const STARTS: &[&str] = &[
        "Error",
        "error:",
        "Problem",
        "failure:",
        "No package ",
        "No match for argument",
        "Cannot find a valid baseurl",
        "Could not retrieve mirrorlist",
    ];
    const PHRASES: &[&str] = &[
        "nothing provides",
        "Requires: ",
        "conflicts with",
        "Curl error",
        "Could not resolve host",
        "but none of the providers can be installed",
        "Failed to download",
        "Cannot download",
        "No more mirrors to try",
        "One of the configured repositories failed",
        "Cannot retrieve repository metadata",
        "Errors during downloading metadata",
    ];
    const SUCCESS: &[&str] = &["Error: Operation aborted", "Exiting on user command"];
    let mut found: Vec<String> = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        if line.is_empty() || SUCCESS.iter().any(|s| line.starts_with(s)) {
            continue;
        }
        let failure =
            STARTS.iter().any(|m| line.starts_with(m)) || PHRASES.iter().any(|m| line.contains(m));
        if failure && !found.iter().any(|f| f == line) {
            found.push(line.to_string());
        }
    }
    found
}

/// The repo ids that yum/dnf name as failing in `problems` lines.
pub fn failing_repos(problems: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for line in problems {
        let id = quoted_after(line, "for repo '")
            .or_else(|| quoted_after(line, "for repository '"))
            .or_else(|| between(line, "Cannot find a valid baseurl for repo: ", "/"))
            .or_else(|| between(line, "Cannot find a valid baseurl for repo: ", " "))
            .or_else(|| between(line, " from ", ":").filter(|_| line.starts_with("failure:")));
        if let Some(id) = id
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

fn quoted_after(line: &str, marker: &str) -> Option<String> {
    let rest = &line[line.find(marker)? + marker.len()..];
    Some(rest[..rest.find('\'')?].to_string())
}

fn between(line: &str, start: &str, end: &str) -> Option<String> {
    let rest = &line[line.find(start)? + start.len()..];
    let id = rest.split(end).next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, to: Option<&str>) -> PackageItem {
        PackageItem {
            name: name.into(),
            from: None,
            to: to.and_then(Evr::parse),
        }
    }

    #[test]
    fn script_speaks_each_dialect() {
        let tx = Transaction {
            ops: vec![
                (
                    PackageVerb::Remove,
                    vec![item("docker", None), item("docker-common", None)],
                ),
                (
                    PackageVerb::Install,
                    vec![
                        item("docker-ce", Some("3:26.1.4-1.el7")),
                        item("lvm2", None),
                    ],
                ),
                (
                    PackageVerb::Upgrade,
                    vec![item("containerd.io", Some("1.6.33-3.1.el7"))],
                ),
            ],
        };
        assert_eq!(
            tx.script(PackageManager::Yum),
            "remove docker docker-common\ninstall docker-ce-26.1.4-1.el7 lvm2\n\
             update containerd.io-1.6.33-3.1.el7\nrun\n"
        );
        let dnf = tx.script(PackageManager::Dnf);
        assert!(dnf.contains("\ninstall docker-ce-3:26.1.4-1.el7 lvm2\nupgrade containerd.io"));
        let expect = tx.expectations();
        assert_eq!(expect[0], ("docker".into(), Expect::Absent));
        assert_eq!(expect[3], ("lvm2".into(), Expect::Present));
    }

    #[test]
    fn problems_in_dnf_and_yum_words() {
        let dnf = "Last metadata expiration check: 0:00:01 ago\nNo match for argument: docker-ce-99\n\
                   Error: Unable to find a match: docker-ce-99\n Package Arch\nError: Operation aborted.\n";
        assert_eq!(
            problems(dnf),
            [
                "No match for argument: docker-ce-99",
                "Error: Unable to find a match: docker-ce-99"
            ]
        );
        let dead = "Errors during downloading metadata for repository 'base':\n  - Curl error (6): Couldn't resolve host name for http://mirrorlist.centos.org/?release=7 [Could not resolve host: mirrorlist.centos.org]\n\
                    Error: Failed to download metadata for repo 'base': Cannot prepare internal mirrorlist\n";
        let found = problems(dead);
        assert_eq!(failing_repos(&found), ["base"]);
        let yum = " One of the configured repositories failed (Unknown),\nCould not retrieve mirrorlist http://mirrorlist.centos.org/?release=7&arch=x86_64&repo=os&infra=stock error was\n\
                   14: curl#6 - \"Could not resolve host: mirrorlist.centos.org; Unknown error\"\nCannot find a valid baseurl for repo: base/7/x86_64\n";
        assert_eq!(failing_repos(&problems(yum)), ["base"]);
        let ok = "Transaction Summary\nInstall 3 Packages\nError: Operation aborted.\n";
        assert!(problems(ok).is_empty());
        let yum_ok = "Is this ok [y/d/N]: N\nExiting on user command\n";
        assert!(problems(yum_ok).is_empty());
    }
}
