//! log-opts are checked against the log driver that will be in force: dockerd refuses
//! to start when an option does not belong to the driver ("unknown log opt 'max-size'
//! for journald log driver"), and CentOS 7's old docker set journald in
//! /etc/sysconfig/docker, so a plan's rotation settings can meet a journald host.

/// Options each common driver takes (docker's logging driver reference); a driver not
/// listed is not checked.
const DRIVER_OPTS: &[(&str, &[&str])] = &[
    (
        "json-file",
        &[
            "max-size",
            "max-file",
            "compress",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
            "tag",
        ],
    ),
    ("local", &["max-size", "max-file", "compress"]),
    (
        "journald",
        &["tag", "labels", "labels-regex", "env", "env-regex"],
    ),
    (
        "syslog",
        &[
            "syslog-address",
            "syslog-facility",
            "syslog-tls-ca-cert",
            "syslog-tls-cert",
            "syslog-tls-key",
            "syslog-tls-skip-verify",
            "syslog-format",
            "tag",
            "labels",
            "labels-regex",
            "env",
            "env-regex",
        ],
    ),
    ("none", &[]),
];

/// The first option of `opts` that `driver` does not take.
pub fn foreign_option<'a>(
    driver: &str,
    opts: impl IntoIterator<Item = &'a String>,
) -> Option<&'a String> {
    let (_, allowed) = DRIVER_OPTS.iter().find(|(name, _)| *name == driver)?;
    opts.into_iter()
        .find(|opt| !allowed.contains(&opt.as_str()))
}

#[cfg(test)]
mod tests {
    use super::foreign_option;

    #[test]
    fn rotation_does_not_fit_journald() {
        let opts = ["max-size".to_string(), "tag".to_string()];
        assert_eq!(
            foreign_option("journald", &opts).map(String::as_str),
            Some("max-size")
        );
        assert_eq!(foreign_option("json-file", &opts), None);
        assert_eq!(foreign_option("fluentd", &opts), None, "not checked");
    }
}
