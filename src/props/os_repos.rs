//! The EOL repo-file rewrite: any text without a panic; on generated repo files it is
//! idempotent, touches only the enabled sections that point at the dead hosts (every
//! enabled one for an explicit vault), and every other line keeps its place.

use proptest::prelude::*;

use crate::packages::os_repos::{EolRelease, Scope, Vault, points_at_dead_hosts, rewrite};
use crate::packages::repo_file::{self, commented_value, is_continuation, live_value};

const IDS: &[&str] = &[
    "base",
    "updates",
    "extras",
    "centosplus",
    "baseos",
    "appstream",
    "powertools",
    "BaseOS",
    "epel",
    "mystery",
];

const BODY: &[&str] = &[
    "name=CentOS-$releasever - Base",
    "mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=os",
    "#baseurl=http://mirror.centos.org/centos/$releasever/os/$basearch/",
    "baseurl=http://mirror.centos.org/centos/7/os/x86_64/",
    "  http://mirror.centos.org/centos/7/os/x86_64/",
    "baseurl=http://mirror.internal/7/os/",
    "metalink=https://mirrors.centos.org/metalink?repo=x",
    "enabled=0",
    "enabled=1",
    "enabled = no",
    "gpgcheck=1",
    "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
    "",
    "# comment",
    "; comment",
];

fn release() -> impl Strategy<Value = EolRelease> {
    proptest::sample::select(&[(7u32, "7.9.2009"), (8, "8.5.2111"), (8, "8-stream")][..]).prop_map(
        |(major, full)| EolRelease {
            full: full.to_string(),
            major,
            assumed: false,
        },
    )
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![Just(Scope::EnabledAndDead), Just(Scope::Enabled)]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(BODY).prop_map(str::to_string),
        1 => "[^\n\r\\[]{0,20}",
    ]
}

/// A repo file: a preamble and sections, with LF or CRLF line ends.
fn repo_text() -> impl Strategy<Value = String> {
    let section = (
        proptest::sample::select(IDS),
        proptest::collection::vec(line(), 0..8),
    )
        .prop_map(|(id, body)| {
            let mut lines = vec![format!("[{id}]")];
            lines.extend(body);
            lines
        });
    (
        proptest::collection::vec(
            proptest::sample::select(&["# CentOS-Base.repo", "", "#"][..]),
            0..3,
        ),
        proptest::collection::vec(section, 0..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(preamble, sections, crlf, final_newline)| {
            let mut lines: Vec<String> = preamble.into_iter().map(str::to_string).collect();
            lines.extend(sections.into_iter().flatten());
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(eol);
            if final_newline && !text.is_empty() {
                text.push_str(eol);
            }
            text
        })
}

/// A file's lines, each with the `\r` of a CRLF end, so that a lost one is seen.
fn raw_lines(text: &str) -> Vec<&str> {
    text.split('\n').collect()
}

/// The lines of a section that are not the URL lines the rewrite may change.
fn other_lines<'a>(lines: &[&'a str], raw: &[&'a str]) -> Vec<&'a str> {
    let mut kept = Vec::new();
    let mut in_baseurl = false;
    for (line, raw) in lines.iter().zip(raw) {
        if in_baseurl && is_continuation(line) {
            continue;
        }
        in_baseurl = live_value(line, "baseurl").is_some();
        let url_line = ["baseurl", "mirrorlist", "metalink"]
            .iter()
            .any(|key| live_value(line, key).is_some() || commented_value(line, key).is_some());
        if !url_line {
            kept.push(*raw);
        }
    }
    kept
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_text_rewrites_without_a_panic(
        text in super::noisy_text(&["[base]", "[appstream]", "[x]", "baseurl", "mirrorlist",
            "metalink", "#baseurl", "enabled", "0", "http://mirror.centos.org/", "://", "@", ":"]),
        release in release(),
        scope in scope(),
    ) {
        let _ = rewrite("CentOS-Base.repo", &text, &release, &Vault::named("aliyun").unwrap(), scope);
    }

    #[test]
    fn only_enabled_dead_sections_change_and_every_other_line_keeps_its_place(
        text in repo_text(),
        release in release(),
        scope in scope(),
    ) {
        let vault = Vault::named("tuna").unwrap();
        let Ok(rewritten) = rewrite("CentOS-Base.repo", &text, &release, &vault, scope) else {
            return Ok(());
        };
        let new = rewritten.clone().unwrap_or_else(|| text.clone());
        // Idempotent.
        prop_assert_eq!(rewrite("CentOS-Base.repo", &new, &release, &vault, scope), Ok(None));

        let (old_lines, new_lines): (Vec<&str>, Vec<&str>) =
            (text.lines().collect(), new.lines().collect());
        let (old_raw, new_raw) = (raw_lines(&text), raw_lines(&new));
        let (old_sections, new_sections) =
            (repo_file::sections(&old_lines), repo_file::sections(&new_lines));
        let ids = |s: &[repo_file::Section]| s.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        prop_assert_eq!(ids(&old_sections), ids(&new_sections));
        let first = |s: &[repo_file::Section], n: usize| s.first().map_or(n, |s| s.header);
        prop_assert_eq!(
            &old_raw[..first(&old_sections, old_raw.len())],
            &new_raw[..first(&new_sections, new_raw.len())]
        );
        let mut changed = false;
        for (old, section) in old_sections.iter().zip(&new_sections) {
            let (old_range, new_range) = (old.header..old.end, section.header..section.end);
            let wanted = old.enabled(&old_lines)
                && (scope == Scope::Enabled || points_at_dead_hosts(old, &old_lines));
            if old_raw[old_range.clone()] == new_raw[new_range.clone()] {
                continue;
            }
            changed = true;
            prop_assert!(wanted, "[{}] changed: {:?} -> {:?}", old.id, text, rewritten);
            prop_assert_eq!(
                other_lines(&old_lines[old_range.clone()], &old_raw[old_range]),
                other_lines(&new_lines[new_range.clone()], &new_raw[new_range])
            );
            prop_assert!(section.value(&new_lines, "baseurl").is_some_and(|url| url.starts_with(&vault.base_url)));
        }
        prop_assert_eq!(changed, rewritten.is_some(), "{:?} -> {:?}", text, rewritten);
        // Auto leaves no enabled section pointing at the dead hosts.
        for section in &new_sections {
            prop_assert!(!(section.enabled(&new_lines) && points_at_dead_hosts(section, &new_lines)));
        }
    }
}
