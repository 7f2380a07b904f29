//! Merging the plan's keys into an existing daemon.json.
//!
//! The plan owns the keys it names: each is set to exactly the plan's value. Every other
//! key keeps its value and its place. A named key already in the file keeps its place;
//! a new one is appended, in the plan's order. A value that is already equal (as JSON
//! data: object members in any order) is left as the file has it, so an operator's
//! member order inside it survives too.

use serde_json::{Map, Value};

/// `existing` with every key of `desired` set to `desired`'s value.
pub fn merge(existing: &Map<String, Value>, desired: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = existing.clone();
    for (key, value) in desired {
        match merged.get_mut(key) {
            Some(current) => {
                if current != value {
                    *current = value.clone();
                }
            }
            None => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    merged
}

/// The keys of `desired` whose value differs from `existing`'s (or that `existing`
/// lacks), in `desired`'s order.
pub fn changed_keys(existing: &Map<String, Value>, desired: &Map<String, Value>) -> Vec<String> {
    desired
        .iter()
        .filter(|(key, value)| existing.get(key.as_str()) != Some(value))
        .map(|(key, _)| key.clone())
        .collect()
}

/// Whether the file must be rewritten: true exactly when a key of `desired` differs
/// semantically. Formatting, key order and whitespace alone never cause a write.
#[cfg(test)]
pub fn needs_write(existing: &Map<String, Value>, desired: &Map<String, Value>) -> bool {
    desired
        .iter()
        .any(|(key, value)| existing.get(key.as_str()) != Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemonjson::parse::parse_existing;
    use crate::daemonjson::render::render;
    use serde_json::json;

    use crate::daemonjson::object as map;

    fn parse(text: &str) -> Map<String, Value> {
        match parse_existing(text.as_bytes()) {
            Ok(map) => map,
            Err(e) => panic!("{}:{}: {e}", e.line(), e.column()),
        }
    }

    fn keys(map: &Map<String, Value>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    /// Realistic files found on CentOS/RHEL hosts, each with the plan that is merged in.
    fn fixtures() -> Vec<(&'static str, &'static str, Value)> {
        vec![
            (
                "logging",
                r#"{
    "log-driver": "json-file",
    "log-opts": {
        "max-size": "100m",
        "max-file": "3",
        "labels": "production_status",
        "env": "os,customer"
    }
}
"#,
                json!({"live-restore": true, "log-opts": {"max-size": "50m", "max-file": "5"}}),
            ),
            (
                "cgroupdriver (kubeadm guide)",
                "{\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"],\n  \"log-driver\": \"json-file\",\n  \"log-opts\": {\n    \"max-size\": \"100m\"\n  },\n  \"storage-driver\": \"overlay2\"\n}\n",
                json!({"registry-mirrors": ["https://mirror.example.com"], "exec-opts": ["native.cgroupdriver=systemd"]}),
            ),
            (
                "storage",
                "{\n\t\"storage-driver\": \"devicemapper\",\n\t\"storage-opts\": [\n\t\t\"dm.thinpooldev=/dev/mapper/docker-thinpool\",\n\t\t\"dm.use_deferred_removal=true\",\n\t\t\"dm.use_deferred_deletion=true\"\n\t]\n}",
                json!({"storage-driver": "overlay2", "storage-opts": []}),
            ),
            (
                "address pools",
                r#"{"bip": "172.26.0.1/16", "default-address-pools": [{"base": "172.80.0.0/16", "size": 24}, {"base": "172.90.0.0/16", "size": 24}], "mtu": 1450}"#,
                json!({"default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]}),
            ),
            (
                "nvidia runtime",
                r#"{
    "default-runtime": "nvidia",
    "runtimes": {
        "nvidia": {
            "path": "nvidia-container-runtime",
            "runtimeArgs": []
        }
    }
}"#,
                json!({"data-root": "/srv/docker", "max-concurrent-downloads": 10}),
            ),
            (
                "data-root and registries",
                r#"{
  "data-root": "/data/docker",
  "insecure-registries": ["registry.internal:5000", "10.0.0.0/8"],
  "registry-mirrors": ["https://old-mirror.example.com"],
  "debug": false,
  "features": {"buildkit": true}
}
"#,
                json!({"registry-mirrors": ["https://mirror.example.com", "https://mirror2.example.com"], "debug": true}),
            ),
        ]
    }

    #[test]
    fn named_keys_take_the_plan_values_and_the_rest_is_kept_in_place() {
        for (name, text, desired) in fixtures() {
            let existing = parse(text);
            let desired = map(desired);
            let merged = merge(&existing, &desired);

            // Every key the plan does not name keeps its value.
            for (key, value) in &existing {
                if !desired.contains_key(key) {
                    assert_eq!(merged.get(key), Some(value), "{name}: {key}");
                }
            }
            // Every key the plan names has exactly the plan's value.
            for (key, value) in &desired {
                assert_eq!(merged.get(key), Some(value), "{name}: {key}");
            }
            // The file's keys come first, in the file's order; new keys follow in the
            // plan's order.
            let mut expected: Vec<&str> = keys(&existing);
            expected.extend(
                desired
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !existing.contains_key(*k)),
            );
            assert_eq!(keys(&merged), expected, "{name}");
        }
    }

    #[test]
    fn a_second_merge_of_the_rendered_result_is_a_byte_for_byte_no_op() {
        for (name, text, desired) in fixtures() {
            let desired = map(desired);
            let first = render(&merge(&parse(text), &desired));
            let reparsed = parse(std::str::from_utf8(&first).unwrap_or(""));
            assert!(!needs_write(&reparsed, &desired), "{name}");
            assert!(changed_keys(&reparsed, &desired).is_empty(), "{name}");
            let second = render(&merge(&reparsed, &desired));
            assert_eq!(first, second, "{name}");
        }
    }

    #[test]
    fn changed_keys_names_only_real_differences_in_plan_order() {
        let existing = parse(fixtures()[0].1);
        let desired = map(json!({
            "log-driver": "json-file",
            "live-restore": true,
            "log-opts": {"env": "os,customer", "labels": "production_status", "max-file": "3", "max-size": "100m"},
            "debug": false
        }));
        // log-driver is equal; log-opts is equal with members in another order.
        assert_eq!(changed_keys(&existing, &desired), ["live-restore", "debug"]);
        assert!(needs_write(&existing, &desired));
    }

    #[test]
    fn a_converged_file_needs_no_write_whatever_its_formatting() {
        let text = "{\"log-opts\":{\"max-file\":\"3\",\"max-size\":\"10m\"},\n\t\t\"exec-opts\"   :   [\"native.cgroupdriver=systemd\"]}";
        let existing = parse(text);
        let desired = map(json!({
            "exec-opts": ["native.cgroupdriver=systemd"],
            "log-opts": {"max-size": "10m", "max-file": "3"}
        }));
        assert!(!needs_write(&existing, &desired));
        assert!(changed_keys(&existing, &desired).is_empty());
        // And the merge keeps the operator's member order of the equal value.
        let merged = merge(&existing, &desired);
        assert_eq!(merged, existing);
        let inner: Vec<&str> = merged["log-opts"]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(inner, ["max-file", "max-size"]);
    }

    #[test]
    fn types_are_compared_strictly() {
        let existing = parse(r#"{"max-concurrent-downloads": 3.0, "debug": "true", "mtu": 1500}"#);
        let desired = map(json!({"max-concurrent-downloads": 3, "debug": true, "mtu": 1500}));
        assert_eq!(
            changed_keys(&existing, &desired),
            ["max-concurrent-downloads", "debug"]
        );
    }

    #[test]
    fn an_empty_plan_changes_nothing_and_an_empty_file_takes_the_plan() {
        let existing = parse(fixtures()[4].1);
        assert!(!needs_write(&existing, &Map::new()));
        assert_eq!(merge(&existing, &Map::new()), existing);

        let desired = map(json!({"log-driver": "journald", "debug": true}));
        let merged = merge(&Map::new(), &desired);
        assert_eq!(keys(&merged), ["log-driver", "debug"]);
    }
}
