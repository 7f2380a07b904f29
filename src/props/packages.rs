//! yum/dnf `list --showduplicates` and `rpm -q` output: any text reads without a panic,
//! and generated listings (banners, translated headers, wrapped long names, installed
//! entries) give back exactly the offered versions, newest first.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::packages::backend::{parse_list, parse_rpm_query};
use crate::packages::rpmver::Evr;

const NAMES: &[&str] = &[
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-compose-plugin",
];

fn names() -> Vec<String> {
    NAMES.iter().map(|n| n.to_string()).collect()
}

/// An epoch:version-release as rpm allows it (no whitespace, no `-` in the release).
pub fn evr() -> impl Strategy<Value = Evr> {
    (
        prop_oneof![3 => Just(0u64), 1 => 0u64..5, 1 => any::<u64>()],
        "[0-9a-zA-Z~^_+]{1,3}([.][0-9a-zA-Z~^_+]{1,3}){0,3}",
        "([0-9a-zA-Z_+]{1,4}([.][0-9a-zA-Z_+]{1,4}){0,2})?",
    )
        .prop_map(|(epoch, version, release)| Evr {
            epoch,
            version,
            release,
            scheme: Default::default(),
        })
}

/// How yum and dnf print an EVR: the epoch left out when 0, or written `0:`.
fn printed(evr: &Evr, explicit_zero: bool) -> String {
    if evr.epoch == 0 && explicit_zero {
        format!("0:{evr}")
    } else {
        evr.to_string()
    }
}

#[derive(Debug, Clone)]
enum Line {
    Offer {
        name: usize,
        evr: Evr,
        repo: &'static str,
        wrapped: bool,
        zero: bool,
    },
    Installed {
        name: usize,
        evr: Evr,
        repo: &'static str,
    },
    Noise(&'static str),
}

fn line() -> impl Strategy<Value = Line> {
    let repo = proptest::sample::select(&["docker-ce-stable", "docker-ce-test", "aliyun"][..]);
    let installed = proptest::sample::select(&["@docker-ce-stable", "installed", "@System"][..]);
    prop_oneof![
        4 => (0..NAMES.len(), evr(), repo, any::<bool>(), any::<bool>())
            .prop_map(|(name, evr, repo, wrapped, zero)| Line::Offer { name, evr, repo, wrapped, zero }),
        1 => (0..NAMES.len(), evr(), installed)
            .prop_map(|(name, evr, repo)| Line::Installed { name, evr, repo }),
        2 => proptest::sample::select(&[
            "Loaded plugins: fastestmirror, langpacks",
            "Loading mirror speeds from cached hostfile",
            " * base: mirrors.aliyun.com",
            "Available Packages",
            "Installed Packages",
            "可安装的软件包",
            "Last metadata expiration check: 0:00:01 ago on Mon 01 Jan 2024.",
            "docker-ce-stable        | 3.5 kB     00:00",
            "",
            "runc.x86_64   1:1.1.12-1.el7   extras",
        ][..]).prop_map(Line::Noise),
    ]
}

fn listing(lines: &[Line]) -> String {
    let mut out = String::new();
    for line in lines {
        match line {
            Line::Offer {
                name,
                evr,
                repo,
                wrapped,
                zero,
            } => {
                let sep = if *wrapped { "\n    " } else { "    " };
                out.push_str(&format!(
                    "{}.x86_64{sep}{}    {repo}\n",
                    NAMES[*name],
                    printed(evr, *zero)
                ));
            }
            Line::Installed { name, evr, repo } => {
                out.push_str(&format!("{}.x86_64    {}    {repo}\n", NAMES[*name], evr));
            }
            Line::Noise(text) => {
                out.push_str(text);
                out.push('\n');
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_text_reads_without_a_panic(
        text in super::noisy_text(&["docker-ce.x86_64", "containerd.io.noarch", "3:24.0.7-1.el7",
            "(none):1.6.33-3.1.el7", "@docker-ce-stable", "installed", ":", "-", "package", "is not installed"]),
    ) {
        let listed = parse_list(&text, &names());
        for offers in listed.values() {
            prop_assert!(offers.windows(2).all(|w| w[0] >= w[1]));
        }
        let _ = parse_rpm_query(&text);
    }

    #[test]
    fn a_listing_gives_back_the_offers_newest_first(lines in proptest::collection::vec(line(), 0..30)) {
        let listed = parse_list(&listing(&lines), &names());
        let mut expected: BTreeMap<String, Vec<Evr>> = BTreeMap::new();
        for line in &lines {
            if let Line::Offer { name, evr, .. } = line {
                let offers = expected.entry(NAMES[*name].to_string()).or_default();
                if !offers.contains(evr) {
                    offers.push(evr.clone());
                }
            }
        }
        prop_assert_eq!(
            listed.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for (name, offers) in &listed {
            prop_assert!(offers.windows(2).all(|w| w[0] >= w[1]), "{name}: {offers:?}");
            let mut got = offers.clone();
            let mut want = expected[name].clone();
            let by_text = |a: &Evr, b: &Evr| a.to_string().cmp(&b.to_string()).then(a.epoch.cmp(&b.epoch));
            got.sort_by(by_text);
            want.sort_by(by_text);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn an_rpm_query_gives_back_the_installed_versions(
        rows in proptest::collection::vec((0..NAMES.len(), proptest::option::of(evr()), any::<bool>()), 0..8),
    ) {
        let mut text = String::new();
        let mut expected = BTreeMap::new();
        for (name, evr, none_epoch) in &rows {
            match evr {
                // rpm's query format always prints the epoch, `(none)` when unset.
                Some(evr) => {
                    let epoch = if evr.epoch == 0 && *none_epoch { "(none)".to_string() } else { evr.epoch.to_string() };
                    let release = if evr.release.is_empty() { String::new() } else { format!("-{}", evr.release) };
                    text.push_str(&format!("{} {epoch}:{}{release}\n", NAMES[*name], evr.version));
                    expected.insert(NAMES[*name].to_string(), evr.clone());
                }
                None => text.push_str(&format!("package {} is not installed\n", NAMES[*name])),
            }
        }
        prop_assert_eq!(parse_rpm_query(&text), expected);
    }
}
