//! yum/dnf problem lines: any output reads without a panic; every failure line among
//! ordinary output is found once, in its own words, and nothing else is.

use proptest::prelude::*;

use crate::packages::transaction::{failing_repos, problems};

/// Lines yum and dnf print on a transaction that works.
const ORDINARY: &[&str] = &[
    "Loaded plugins: fastestmirror, langpacks",
    "Resolving Dependencies",
    "--> Running transaction check",
    "---> Package docker-ce.x86_64 3:24.0.7-1.el7 will be installed",
    "Dependencies resolved.",
    " perl-Error          noarch   1:0.17020-2.el7   base    32 k",
    "Transaction Summary",
    "Install  3 Packages",
    "Total download size: 100 M",
    "Operation aborted.",
    "Error: Operation aborted.",
    "Exiting on user command",
    "Your transaction was saved, rerun it with:",
    "",
];

/// Failure lines of real runs, with the repo id they name (if any).
const FAILURES: &[(&str, Option<&str>)] = &[
    (
        "Error: Failed to download metadata for repo 'docker-ce-stable': Cannot download repomd.xml: Curl error (6): Couldn't resolve host name",
        Some("docker-ce-stable"),
    ),
    (
        "Cannot find a valid baseurl for repo: base/7/x86_64",
        Some("base"),
    ),
    (
        "Could not retrieve mirrorlist http://mirrorlist.centos.org/?release=7 error was",
        None,
    ),
    (
        "  - nothing provides container-selinux >= 2:2.74 needed by docker-ce-3:24.0.7-1.el7.x86_64",
        None,
    ),
    (
        "Error: Package: docker-ce-24.0.7-1.el7.x86_64 (docker-ce-stable)",
        None,
    ),
    ("           Requires: container-selinux >= 2:2.74", None),
    ("No package docker-ce-99 available.", None),
    ("No match for argument: docker-ce-99", None),
    (
        "failure: Packages/containerd.io-1.6.33.rpm from docker-ce-stable: [Errno 256] No more mirrors to try.",
        Some("docker-ce-stable"),
    ),
    (
        "Errors during downloading metadata for repository 'extras':",
        Some("extras"),
    ),
    ("Problem: package docker-ce conflicts with podman", None),
];

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_output_reads_without_a_panic(
        text in super::noisy_text(&["Error", "error:", "for repo '", "for repository '", "'",
            "Cannot find a valid baseurl for repo: ", "/", "failure:", " from ", ":",
            "nothing provides", "Operation aborted"]),
    ) {
        let found = problems(&text);
        for line in &found {
            prop_assert!(!line.is_empty() && line.trim() == line);
            prop_assert!(text.lines().any(|l| l.trim() == line));
        }
        let _ = failing_repos(&found);
    }

    #[test]
    fn failure_lines_among_ordinary_output_are_found_once(
        ordinary in proptest::collection::vec(proptest::sample::select(ORDINARY), 0..20),
        failures in proptest::collection::vec((proptest::sample::select(FAILURES), any::<proptest::sample::Index>()), 0..6),
    ) {
        let mut lines: Vec<&str> = ordinary.clone();
        for ((line, _), at) in &failures {
            lines.insert(at.index(lines.len() + 1), line);
        }
        let found = problems(&lines.join("\n"));
        let mut expected: Vec<&str> = Vec::new();
        for line in &lines {
            let line = line.trim();
            if FAILURES.iter().any(|(f, _)| f.trim() == line) && !expected.contains(&line) {
                expected.push(line);
            }
        }
        prop_assert_eq!(&found, &expected);
        let mut repos: Vec<&str> = Vec::new();
        for line in &expected {
            if let Some((_, Some(id))) = FAILURES.iter().find(|(f, _)| f.trim() == *line)
                && !repos.contains(id)
            {
                repos.push(id);
            }
        }
        prop_assert_eq!(failing_repos(&found), repos);
    }
}
