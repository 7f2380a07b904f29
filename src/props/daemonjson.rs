//! daemon.json: any bytes parse or fail without a panic; a rendered file is a fixed
//! point; the merge keeps every key the plan does not name, with its value and place.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::daemonjson::{changed_keys, merge, parse_existing, render};

/// Keys operators and plans really use, so that plan and file overlap often.
const KEYS: &[&str] = &[
    "registry-mirrors",
    "insecure-registries",
    "log-driver",
    "log-opts",
    "exec-opts",
    "storage-driver",
    "data-root",
    "live-restore",
    "debug",
    "labels",
    "mtu",
    "default-address-pools",
    "runtimes",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => short_text(),
    ]
}

/// Any characters (control, quotes, backslashes, non-ASCII), a few of them: long
/// strings find nothing more and cost time.
fn short_text() -> impl Strategy<Value = String> {
    "(?s).{0,16}"
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| {
            Number::from_f64(f).map(Value::Number)
        }),
        short_text().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A top-level object: what a daemon.json holds, and what a plan's `[daemon]` becomes.
fn object() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::vec((key(), value()), 0..8)
        .prop_map(|members| members.into_iter().collect())
}

fn reparse(bytes: &[u8]) -> Map<String, Value> {
    match parse_existing(bytes) {
        Ok(map) => map,
        Err(err) => panic!(
            "a rendered file does not parse: {}:{}: {err}\n{}",
            err.line(),
            err.column(),
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// JSON-looking text: the characters a broken daemon.json is made of.
fn jsonish() -> impl Strategy<Value = String> {
    super::noisy_text(&[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\"debug\"",
        "true",
        "null",
        "-",
        "0",
        "1e999",
        "1.5",
        "\\u",
        "\\ud800",
        "\\",
        "//",
        "/*",
        "*/",
        "\u{feff}",
        "\u{201c}",
        "{\"a\":1}",
        "\"registry-mirrors\"",
    ])
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_bytes_parse_or_fail_with_a_position_never_a_panic(bytes in any::<Vec<u8>>()) {
        if let Err(err) = parse_existing(&bytes) {
            prop_assert!(err.line() >= 1 && err.column() >= 1);
        }
    }

    #[test]
    fn json_like_text_parses_or_fails_with_a_position(text in jsonish()) {
        match parse_existing(text.as_bytes()) {
            // What parses renders to a file that parses back to the same map.
            Ok(map) => prop_assert_eq!(reparse(&render(&map)), map),
            Err(err) => prop_assert!(err.line() >= 1 && err.column() >= 1),
        }
    }

    #[test]
    fn render_is_a_fixed_point(map in object()) {
        let once = render(&map);
        let parsed = reparse(&once);
        prop_assert_eq!(&parsed, &map);
        prop_assert_eq!(render(&parsed), once);
    }

    #[test]
    fn the_merge_keeps_every_foreign_key_with_its_value_and_place(
        file in object(),
        plan in object(),
    ) {
        // The operator's file as it is on disk, read back as the run reads it.
        let existing = reparse(&render(&file));
        let merged = merge(&existing, &plan);
        let written = reparse(&render(&merged));
        prop_assert_eq!(&written, &merged);

        // Foreign keys: same values, same order among themselves, and the file's keys
        // keep the file's order, the plan's new ones after them.
        let foreign: Vec<(&String, &Value)> =
            existing.iter().filter(|(k, _)| !plan.contains_key(*k)).collect();
        let kept: Vec<(&String, &Value)> =
            written.iter().filter(|(k, _)| !plan.contains_key(*k)).collect();
        prop_assert_eq!(foreign, kept);
        let mut order: Vec<&String> = existing.keys().collect();
        order.extend(plan.keys().filter(|k| !existing.contains_key(*k)));
        prop_assert_eq!(written.keys().collect::<Vec<_>>(), order);
        for (key, value) in &plan {
            prop_assert_eq!(written.get(key), Some(value));
        }
        // Converged: the next run has nothing to change and writes the same bytes.
        prop_assert!(changed_keys(&written, &plan).is_empty());
        prop_assert_eq!(render(&merge(&written, &plan)), render(&merged));
    }
}
