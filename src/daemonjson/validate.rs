//! Checking the daemon.json keys a plan names, before anything touches a host.

use serde_json::{Map, Value};

use super::keys::{check_plan_value, closest, lookup, trap};

/// How serious a problem is: an `Error` makes dockerd refuse the file or silently ignore
/// the setting, so the plan must not be applied; a `Warning` deserves a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem with one key of the plan's daemon.json section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub severity: Severity,
    /// A sentence, without the key's location in the plan (the caller adds it).
    pub message: String,
    /// The key that was probably meant, for a "did you mean" line.
    pub suggestion: Option<String>,
}

impl Problem {
    fn new(key: &str, severity: Severity, message: String, suggestion: Option<&str>) -> Self {
        Problem {
            key: key.to_string(),
            severity,
            message,
            suggestion: suggestion.map(str::to_string),
        }
    }
}

/// Every problem with the keys and values of `desired`, in its key order.
///
/// - a flag's name used as a key (`registry-mirror`): error, dockerd ignores it silently;
/// - an unknown key near a known one (`debgu`): error, with the suggestion;
/// - an unknown key near nothing: error too, since dockerd refuses to start with a key
///   it does not know (a key of an engine newer than the table is the price of that);
/// - a value of the wrong type or one dockerd would refuse: error;
/// - a deprecated or removed key, or one with a caveat (`hosts`): warning.
pub fn validate_desired(desired: &Map<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, value) in desired {
        let Some(spec) = lookup(key) else {
            if let Some((right, why)) = trap(key) {
                problems.push(Problem::new(
                    key,
                    Severity::Error,
                    format!("\"{key}\" is not a daemon.json key: {why}"),
                    Some(right),
                ));
            } else if let Some(right) = closest(key) {
                problems.push(Problem::new(
                    key,
                    Severity::Error,
                    format!("\"{key}\" is not a daemon.json key, and dockerd refuses to start with keys it does not know"),
                    Some(right),
                ));
            } else {
                problems.push(Problem::new(
                    key,
                    Severity::Error,
                    format!("\"{key}\" is not a daemon.json key of Docker 20.10 to 27; dockerd refuses to start with keys it does not know, so check it against the engine version"),
                    None,
                ));
            }
            continue;
        };
        if let Err(message) = check_plan_value(key, value) {
            problems.push(Problem::new(key, Severity::Error, message, None));
        }
        if let Some(removed) = spec.removed {
            let since = spec
                .deprecated
                .map(|d| format!(" (deprecated since {d})"))
                .unwrap_or_default();
            let replacement = if key == "graph" {
                Some("data-root")
            } else {
                None
            };
            problems.push(Problem::new(
                key,
                Severity::Warning,
                format!("\"{key}\" was removed in Docker {removed}{since}; newer engines refuse it or ignore it"),
                replacement,
            ));
        } else if let Some(deprecated) = spec.deprecated {
            problems.push(Problem::new(
                key,
                Severity::Warning,
                format!("\"{key}\" is deprecated since Docker {deprecated}"),
                None,
            ));
        }
        if let Some(since) = spec.since {
            problems.push(Problem::new(
                key,
                Severity::Warning,
                format!(
                    "\"{key}\" needs Docker {since} or later; older engines refuse to start with it"
                ),
                None,
            ));
        }
        if let Some(note) = spec.note {
            problems.push(Problem::new(
                key,
                Severity::Warning,
                format!("\"{key}\": {note}"),
                None,
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validate(value: Value) -> Vec<Problem> {
        match value {
            Value::Object(map) => validate_desired(&map),
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_good_plan_has_no_problems() {
        let problems = validate(json!({
            "log-driver": "json-file",
            "log-opts": {"max-size": "100m", "max-file": "3"},
            "exec-opts": ["native.cgroupdriver=systemd"],
            "registry-mirrors": ["https://mirror.example.com"],
            "live-restore": true
        }));
        assert_eq!(problems, []);
    }

    #[test]
    fn the_registry_mirror_trap() {
        let problems = validate(json!({"registry-mirror": ["https://mirror.example.com"]}));
        assert_eq!(problems.len(), 1);
        let p = &problems[0];
        assert_eq!(p.key, "registry-mirror");
        assert_eq!(p.severity, Severity::Error);
        assert_eq!(p.suggestion.as_deref(), Some("registry-mirrors"));
        assert!(p.message.contains("silently ignores"), "{}", p.message);
    }

    #[test]
    fn typos_and_strangers_are_errors() {
        let problems = validate(json!({"debgu": true, "frobnicate-everything": 1}));
        assert_eq!(problems.len(), 2);
        assert_eq!(
            (problems[0].severity, problems[0].suggestion.as_deref()),
            (Severity::Error, Some("debug"))
        );
        assert_eq!(
            (problems[1].severity, problems[1].suggestion.as_deref()),
            (Severity::Error, None)
        );
    }

    #[test]
    fn bad_values_and_caveats() {
        let problems = validate(json!({
            "registry-mirrors": "https://mirror.example.com",
            "hosts": ["unix:///var/run/docker.sock"],
            "graph": "/var/lib/docker",
            "proxies": {"http-proxy": "http://proxy:3128"}
        }));
        let summary: Vec<(&str, Severity)> = problems
            .iter()
            .map(|p| (p.key.as_str(), p.severity))
            .collect();
        assert_eq!(
            summary,
            [
                ("registry-mirrors", Severity::Error),
                ("hosts", Severity::Warning),
                ("graph", Severity::Warning),
                ("proxies", Severity::Warning),
            ]
        );
        assert_eq!(
            problems[0].message,
            "registry-mirrors must be an array of strings, found a string"
        );
        assert_eq!(problems[2].suggestion.as_deref(), Some("data-root"));
        assert!(problems[3].message.contains("23.0"));
    }
}
