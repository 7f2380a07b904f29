//! Plans: any text is a plan or an error with a position, never a panic; the
//! `[daemon]` table of a plan renders as daemon.json at a fixed point; a control
//! character in any key or string value is refused, and only then.

use std::path::Path;

use proptest::prelude::*;

use crate::control_chars;
use crate::daemonjson::{parse_existing, render};
use crate::plan::parse;

/// Every plan key, with values a plan might hold: valid ones and near misses, as TOML.
const KEYS: &[(&str, &str, &[&str])] = &[
    (
        "preflight",
        "min_kernel",
        &[
            "\"3.10\"",
            "\"4.18.0\"",
            "\"3.10.0-1160.el7.x86_64\"",
            "\"x\"",
            "\"\"",
            "3",
        ],
    ),
    (
        "preflight",
        "arch",
        &[
            "[\"x86_64\"]",
            "[]",
            "[\"x86_64\", \"aarch64\"]",
            "\"x86_64\"",
        ],
    ),
    (
        "cleanup",
        "remove",
        &["[\"docker\"]", "[\"docker-ce\"]", "[]"],
    ),
    ("cleanup", "purge_data", &["true", "false", "\"yes\""]),
    (
        "os_repos",
        "source",
        &[
            "\"auto\"",
            "\"keep\"",
            "\"aliyun\"",
            "\"vault\"",
            "\"http://127.0.0.1:8/vault/\"",
            "\"ftp://x\"",
            "\"aliyn\"",
            "\"https://\"",
            "\"http://u:p@h\"",
        ],
    ),
    ("prerequisites", "packages", &["[\"lvm2\"]", "[]"]),
    (
        "repo",
        "source",
        &[
            "\"official\"",
            "\"aliyun\"",
            "\"tuna\"",
            "\"https://mirror.example.com/docker-ce\"",
            "\"https://mirror.example.com/docker-ce/\"",
            "\"http://[::1]:80\"",
            "\"file:///srv/repo\"",
            "\"://\"",
        ],
    ),
    (
        "repo",
        "channel",
        &["\"stable\"", "\"test\"", "\"nightly\""],
    ),
    ("repo", "gpgcheck", &["true", "false"]),
    (
        "engine",
        "packages",
        &[
            "[\"docker-ce\", \"docker-ce-cli\", \"containerd.io\"]",
            "[\"docker-ce\"]",
            "[\"podman\"]",
        ],
    ),
    (
        "engine",
        "version",
        &[
            "\"latest\"",
            "\"20.10\"",
            "\"=24.0.7\"",
            "\"=3:24.0.7-1.el9\"",
            "\">=24, <27\"",
            "\"<=\"",
            "\">= ,\"",
            "\"=\"",
            "\"24.\"",
            "\"~1\"",
            "\"3:\"",
        ],
    ),
    (
        "engine",
        "containerd",
        &["\"latest\"", "\"1.6\"", "\"=1.6.33\"", "\">1.6, <=1.7\""],
    ),
    (
        "engine",
        "plugins",
        &[
            "[\"buildx\", \"compose\"]",
            "[]",
            "[\"compose=2.24\"]",
            "[\"compose==2.24.7\"]",
            "[\"buildx>=0.12, <0.14\"]",
            "[\"compose\", \"compose\"]",
            "[\"=\"]",
            "[\"compose=\"]",
            "[\"x==\"]",
        ],
    ),
    ("engine", "hold", &["true", "false"]),
    ("engine", "enable", &["true", "false"]),
    ("engine", "users", &["[\"alice\"]", "[]"]),
    (
        "proxy",
        "http_proxy",
        &[
            "\"http://proxy.example.com:3128\"",
            "\"http://alice:S3cret@proxy:3128\"",
            "\"\"",
        ],
    ),
    (
        "proxy",
        "https_proxy",
        &["\"http://proxy.example.com:3128\""],
    ),
    ("proxy", "no_proxy", &["\"localhost,127.0.0.1\""]),
    (
        "daemon",
        "registry-mirrors",
        &[
            "[\"https://m.example.com\"]",
            "[\"m.example.com\"]",
            "[]",
            "\"https://m\"",
        ],
    ),
    (
        "daemon",
        "log-opts",
        &[
            "{ max-size = \"100m\", max-file = \"3\" }",
            "{ max-size = 5 }",
            "{}",
        ],
    ),
    (
        "daemon",
        "log-driver",
        &["\"json-file\"", "\"journald\"", "1"],
    ),
    ("daemon", "live-restore", &["true", "\"true\""]),
    (
        "daemon",
        "mtu",
        &["1450", "-1", "1.5", "9223372036854775807"],
    ),
    ("daemon", "max-concurrent-downloads", &["3", "3.0", "0"]),
    (
        "daemon",
        "default-address-pools",
        &[
            "[{ base = \"10.200.0.0/16\", size = 24 }]",
            "[{ base = 1 }]",
        ],
    ),
    ("daemon", "labels", &["[\"a=b\"]", "[\"镜像=1\"]"]),
    ("daemon", "registry-mirror", &["\"https://m\""]),
    ("daemon", "data-root", &["\"/srv/docker\"", "1979-05-27"]),
    (
        "daemon",
        "features",
        &["{ buildkit = true }", "{ buildkit = nan }", "{ x = inf }"],
    ),
    ("daemon", "debg", &["true"]),
    (
        "service",
        "restart",
        &["\"auto\"", "\"always\"", "\"never\"", "\"sometimes\""],
    ),
    (
        "service",
        "health_timeout",
        &["60", "0", "-1", "9223372036854775807", "1.5"],
    ),
    ("engin", "version", &["\"latest\""]),
];

/// A TOML literal for a string value, escaped (control characters as `\u…`).
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// One `key = value` of a plan: a sample, or an arbitrary string or number.
fn entry() -> impl Strategy<Value = (&'static str, String, String)> {
    (
        proptest::sample::select(KEYS),
        any::<proptest::sample::Index>(),
    )
        .prop_flat_map(|((section, key, samples), pick)| {
            let sample = samples[pick.index(samples.len())].to_string();
            let key = if section == "daemon" {
                toml_string(key)
            } else {
                key.to_string()
            };
            prop_oneof![
                6 => Just(sample),
                1 => any::<String>().prop_map(|s| toml_string(&s)),
                1 => any::<i64>().prop_map(|n| n.to_string()),
            ]
            .prop_map(move |value| (section, key.clone(), value))
        })
}

/// A plan's text: its entries grouped by section, in the order drawn.
fn plan_text(entries: &[(&'static str, String, String)]) -> String {
    let mut sections: Vec<(&str, Vec<String>)> = Vec::new();
    for (section, key, value) in entries {
        let line = format!("{key} = {value}");
        match sections.iter_mut().find(|(s, _)| s == section) {
            Some((_, lines)) if !lines.iter().any(|l| l.starts_with(&format!("{key} ="))) => {
                lines.push(line)
            }
            Some(_) => {}
            None => sections.push((section, vec![line])),
        }
    }
    sections
        .iter()
        .map(|(section, lines)| format!("[{section}]\n{}\n", lines.join("\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn plan_entries() -> impl Strategy<Value = Vec<(&'static str, String, String)>> {
    proptest::collection::vec(entry(), 0..12)
}

/// Whether a TOML value holds a control character in a key or a string, anywhere.
fn holds_control(value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => s.chars().any(char::is_control),
        toml::Value::Array(items) => items.iter().any(holds_control),
        toml::Value::Table(table) => table
            .iter()
            .any(|(k, v)| k.chars().any(char::is_control) || holds_control(v)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_text_is_a_plan_or_an_error_with_a_position(
        text in super::noisy_text(&["[engine]", "[daemon]", "[proxy]", "version", "=", "\"", "'",
            "[", "]", "{", "}", ",", "\"latest\"", "registry-mirrors", "\\u0000", "\\n", "#",
            "\"\"\"", "1979-05-27", "nan", "inf", "[[hosts]]", "镜像"]),
    ) {
        if let Err(err) = parse(Path::new("p.toml"), &text) {
            let shown = err.to_string();
            prop_assert!(shown.starts_with("p.toml:"), "{}", shown);
        }
    }

    #[test]
    fn a_plans_daemon_table_renders_at_a_fixed_point(entries in plan_entries()) {
        let text = plan_text(&entries);
        let Ok(plan) = parse(Path::new("p.toml"), &text) else {
            return Ok(());
        };
        let once = render(&plan.daemon);
        let back = parse_existing(&once).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &plan.daemon);
        prop_assert_eq!(render(&back), once);
        // The same text is the same plan.
        let again = parse(Path::new("p.toml"), &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.daemon, plan.daemon);
    }

    #[test]
    fn a_control_character_is_refused_exactly_where_there_is_one(
        entries in plan_entries(),
        bad in r"[^\x00-\x1f\x7f-\x9f]{0,4}[\x00-\x1f\x7f-\x9f][^\x00-\x1f]{0,4}",
        at in any::<proptest::sample::Index>(),
    ) {
        let text = plan_text(&entries);
        let document: Option<toml::Table> = toml::from_str(&text).ok();
        let refused = control_chars::refuse(Path::new("p.toml"), &text);
        match &document {
            Some(table) => prop_assert_eq!(refused.is_err(), holds_control(&toml::Value::Table(table.clone()))),
            None => prop_assert!(refused.is_err()),
        }
        // A plan that parses, with one string value made to hold a control character.
        if document.is_none() || refused.is_err() || parse(Path::new("p.toml"), &text).is_err() {
            return Ok(());
        }
        let strings: Vec<usize> = entries.iter().enumerate()
            .filter(|(_, (_, _, value))| value.starts_with('"'))
            .map(|(i, _)| i)
            .collect();
        if strings.is_empty() {
            return Ok(());
        }
        let mut poisoned = entries.clone();
        let (section, key, _) = entries[strings[at.index(strings.len())]].clone();
        for entry in poisoned.iter_mut().filter(|(s, k, _)| *s == section && *k == key) {
            entry.2 = toml_string(&bad);
        }
        let message = match parse(Path::new("p.toml"), &plan_text(&poisoned)) {
            Ok(_) => return Err(TestCaseError::fail(format!("{section}.{key} = {bad:?} was accepted"))),
            Err(err) => err.to_string(),
        };
        let key = key.trim_matches('"');
        prop_assert!(message.contains("control character") && message.contains(key), "{}", message);
    }
}
