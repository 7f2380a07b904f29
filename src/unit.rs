//! The docker unit as systemd would run it: the unit file and its drop-ins, ExecStart
//! after resets, variables from Environment= and EnvironmentFile=. Used to refuse
//! daemon.json keys that are also passed as dockerd flags (dockerd refuses to start
//! with both), naming the file and line of the flag.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where systemd looks for docker.service, highest precedence first.
pub const UNIT_PATHS: &[&str] = &[
    "/etc/systemd/system/docker.service",
    "/run/systemd/system/docker.service",
    "/usr/lib/systemd/system/docker.service",
    "/lib/systemd/system/docker.service",
];
/// Drop-in directories, lowest precedence first (a later file of the same name wins).
pub const DROPIN_DIRS: &[&str] = &[
    "/usr/lib/systemd/system/docker.service.d",
    "/run/systemd/system/docker.service.d",
    "/etc/systemd/system/docker.service.d",
];
/// Environment files the EL packages of docker use.
pub const ENV_FILES: &[&str] = &[
    "/etc/sysconfig/docker",
    "/etc/sysconfig/docker-network",
    "/etc/sysconfig/docker-storage",
    "/etc/default/docker",
];
/// The line docker-ce's own unit starts dockerd with.
pub const STOCK_EXEC_START: &str =
    "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock";

/// The `*.conf` files of one directory: (file name, content).
pub type ConfFiles = Vec<(String, Vec<u8>)>;

/// The unit files as read from the target.
#[derive(Debug, Clone, Default)]
pub struct UnitFiles {
    pub main: Option<(PathBuf, Vec<u8>)>,
    /// Effective drop-ins, in the order systemd applies them.
    pub dropins: Vec<(PathBuf, Vec<u8>)>,
    pub env_files: BTreeMap<PathBuf, Vec<u8>>,
}

impl UnitFiles {
    /// Drop-ins from every directory: by file name, a later directory's file replacing
    /// an earlier one of the same name, applied in name order.
    pub fn set_dropins(&mut self, dirs: Vec<(PathBuf, ConfFiles)>) {
        let mut by_name: BTreeMap<String, (PathBuf, Vec<u8>)> = BTreeMap::new();
        for (dir, files) in dirs {
            for (name, bytes) in files {
                by_name.insert(name.clone(), (dir.join(&name), bytes));
            }
        }
        self.dropins = by_name.into_values().collect();
    }
}

/// A dockerd flag that also exists as a daemon.json key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub key: String,
    /// The flag as written, e.g. `-H fd://`.
    pub written: String,
    /// `file:line` of the ExecStart (or environment line) that passes it.
    pub origin: String,
}

/// The flags dockerd gets from the effective ExecStart; `None` when the unit is not
/// on the target (then the caller assumes docker-ce's stock unit).
pub fn dockerd_flags(files: &UnitFiles) -> Option<Vec<Flag>> {
    let (main_path, main_bytes) = files.main.as_ref()?;
    let mut sources = vec![(main_path.as_path(), main_bytes.as_slice())];
    sources.extend(
        files
            .dropins
            .iter()
            .map(|(p, b)| (p.as_path(), b.as_slice())),
    );

    let mut exec: Option<(String, String)> = None;
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut env_files: Vec<PathBuf> = Vec::new();
    for (path, bytes) in sources {
        for (line_no, key, value) in service_entries(&String::from_utf8_lossy(bytes)) {
            let origin = format!("{}:{line_no}", path.display());
            match key.as_str() {
                "ExecStart" if value.trim().is_empty() => exec = None,
                "ExecStart" => exec = Some((value, origin)),
                "Environment" => {
                    for word in shlex::split(&value).unwrap_or_default() {
                        if let Some((k, v)) = word.split_once('=') {
                            env.insert(k.to_string(), v.to_string());
                        }
                    }
                }
                "EnvironmentFile" => {
                    env_files.push(PathBuf::from(value.trim().trim_start_matches('-')))
                }
                _ => {}
            }
        }
    }
    for path in env_files {
        if let Some(bytes) = files.env_files.get(&path) {
            for line in String::from_utf8_lossy(bytes).lines() {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                if let Some((k, v)) = line.split_once('=') {
                    let v = shlex::split(v)
                        .map(|w| w.join(" "))
                        .unwrap_or_else(|| v.to_string());
                    env.insert(k.trim().to_string(), v);
                }
            }
        }
    }
    let (command, origin) = exec?;
    Some(flags_of(&expand(&command, &env), &origin))
}

/// The flags of docker-ce's own unit, for a host where it is about to be installed.
pub fn stock_flags() -> Vec<Flag> {
    flags_of(STOCK_EXEC_START, "docker-ce's docker.service (ExecStart)")
}

/// The unit as it will be once docker-ce is installed: a unit a package ships (under
/// /usr/lib or /lib, e.g. the old docker's, which cleanup removes) gives way to
/// docker-ce's own; the administrator's units and drop-ins in /etc and /run stay.
pub fn after_docker_ce_install(files: &UnitFiles) -> UnitFiles {
    let local = |path: &PathBuf| path.starts_with("/etc") || path.starts_with("/run");
    let main = match &files.main {
        Some((path, bytes)) if local(path) => (path.clone(), bytes.clone()),
        _ => (
            PathBuf::from("docker-ce's /usr/lib/systemd/system/docker.service"),
            format!("[Service]\nExecStart={STOCK_EXEC_START}\n").into_bytes(),
        ),
    };
    UnitFiles {
        main: Some(main),
        dropins: files
            .dropins
            .iter()
            .filter(|(p, _)| local(p))
            .cloned()
            .collect(),
        env_files: files.env_files.clone(),
    }
}

/// (line number, key, value) of every entry in the [Service] section, with
/// backslash line continuations joined.
fn service_entries(text: &str) -> Vec<(usize, String, String)> {
    let mut entries = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let (start, mut line) = match pending.take() {
            Some((start, mut acc)) => {
                acc.push(' ');
                acc.push_str(raw.trim());
                (start, acc)
            }
            None => (index + 1, raw.trim().to_string()),
        };
        if line.ends_with('\\') {
            line.pop();
            pending = Some((start, line));
            continue;
        }
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
            continue;
        }
        if section == "Service"
            && let Some((key, value)) = line.split_once('=')
        {
            entries.push((start, key.trim().to_string(), value.trim().to_string()));
        }
    }
    entries
}

/// `$VAR` and `${VAR}` from the unit's environment (unknown ones expand to nothing, as
/// systemd does).
fn expand(command: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, used) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], len)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
        } else {
            out.push_str(env.get(name).map(String::as_str).unwrap_or(""));
            rest = &after[used..];
        }
    }
    out.push_str(rest);
    out
}

fn flags_of(command: &str, origin: &str) -> Vec<Flag> {
    let words = shlex::split(command)
        .unwrap_or_else(|| command.split_whitespace().map(String::from).collect());
    let mut flags = Vec::new();
    let mut words = words.iter().skip(1).peekable();
    while let Some(word) = words.next() {
        let (name, inline_value) = if let Some(long) = word.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let name = chars.next().map(String::from).unwrap_or_default();
            let rest = chars.as_str();
            (name, (!rest.is_empty()).then(|| rest.to_string()))
        } else {
            continue;
        };
        let value = match inline_value {
            Some(v) => Some(v),
            None if words.peek().is_some_and(|w| !w.starts_with('-')) => words.next().cloned(),
            None => None,
        };
        let written = match &value {
            Some(_) if word.contains('=') => word.clone(),
            Some(v) => format!("{word} {v}"),
            None => word.clone(),
        };
        flags.push(Flag {
            key: key_of(&name).to_string(),
            written,
            origin: origin.to_string(),
        });
    }
    flags
}

/// The daemon.json key a dockerd flag sets.
fn key_of(flag: &str) -> &str {
    match flag {
        "H" | "host" => "hosts",
        "D" => "debug",
        "s" => "storage-driver",
        "g" => "graph",
        "b" => "bridge",
        "l" => "log-level",
        "G" => "group",
        "p" => "pidfile",
        "registry-mirror" => "registry-mirrors",
        "insecure-registry" => "insecure-registries",
        "storage-opt" => "storage-opts",
        "exec-opt" => "exec-opts",
        "log-opt" => "log-opts",
        "dns-opt" => "dns-opts",
        "label" => "labels",
        "add-runtime" => "runtimes",
        "default-ulimit" => "default-ulimits",
        "default-address-pool" => "default-address-pools",
        "authorization-plugin" => "authorization-plugins",
        "allow-nondistributable-artifacts" => "allow-nondistributable-artifacts",
        other => other,
    }
}

/// The conflict of a plan key with the unit, as the operator should read it.
pub fn explain(key: &str, flag: &Flag) -> String {
    format!(
        "daemon.{key} is also passed to dockerd as `{}` by {}: dockerd refuses to start when a setting \
         is given both ways. Either drop `{key}` from the plan, or add a drop-in \
         (/etc/systemd/system/docker.service.d/override.conf) that resets ExecStart (`ExecStart=` \
         then `ExecStart=/usr/bin/dockerd` without the flag)",
        flag.written, flag.origin
    )
}

/// The first flag that sets one of `keys`.
pub fn conflict<'a>(
    keys: impl Iterator<Item = &'a String>,
    flags: &[Flag],
) -> Option<(String, Flag)> {
    for key in keys {
        if let Some(flag) = flags.iter().find(|f| &f.key == key) {
            return Some((key.clone(), flag.clone()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(main: &str, dropins: &[(&str, &str)], env: &[(&str, &str)]) -> UnitFiles {
        let mut files = UnitFiles {
            main: Some((
                PathBuf::from("/usr/lib/systemd/system/docker.service"),
                main.as_bytes().to_vec(),
            )),
            ..UnitFiles::default()
        };
        files.set_dropins(vec![(
            PathBuf::from("/etc/systemd/system/docker.service.d"),
            dropins
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
                .collect(),
        )]);
        for (p, t) in env {
            files
                .env_files
                .insert(PathBuf::from(p), t.as_bytes().to_vec());
        }
        files
    }

    const STOCK: &str = "[Unit]\nDescription=Docker\n\n[Service]\nType=notify\n# the stock line\nExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\nExecReload=/bin/kill -s HUP $MAINPID\n";

    #[test]
    fn stock_unit_passes_hosts_on_its_line() {
        let flags = dockerd_flags(&files(STOCK, &[], &[])).unwrap();
        let (key, flag) = conflict(
            ["registry-mirrors".to_string(), "hosts".to_string()].iter(),
            &flags,
        )
        .unwrap();
        assert_eq!(key, "hosts");
        assert_eq!(flag.written, "-H fd://");
        assert_eq!(flag.origin, "/usr/lib/systemd/system/docker.service:7");
        assert!(explain(&key, &flag).contains("ExecStart="));
        assert_eq!(
            stock_flags()
                .iter()
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>(),
            ["hosts", "containerd"]
        );
    }

    #[test]
    fn a_dropin_reset_replaces_the_line_and_environment_files_expand() {
        let dropin = "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd \\\n  --containerd=/run/containerd/containerd.sock $OPTIONS ${STORAGE}\nEnvironmentFile=-/etc/sysconfig/docker\nEnvironment=\"STORAGE=--storage-driver=overlay2\"\n";
        let env = "# options\nOPTIONS='--selinux-enabled --log-driver=journald --registry-mirror https://m.example'\n";
        let flags = dockerd_flags(&files(
            STOCK,
            &[("override.conf", dropin)],
            &[("/etc/sysconfig/docker", env)],
        ))
        .unwrap();
        let keys: Vec<&str> = flags.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "containerd",
                "selinux-enabled",
                "log-driver",
                "registry-mirrors",
                "storage-driver"
            ]
        );
        assert!(
            flags
                .iter()
                .all(|f| f.origin == "/etc/systemd/system/docker.service.d/override.conf:3")
        );
        assert!(!keys.contains(&"hosts"));
    }

    #[test]
    fn odd_words_do_not_panic() {
        let flags = flags_of("/usr/bin/dockerd -é -—x --=y - --", "t:1");
        assert!(flags.iter().all(|f| f.origin == "t:1"));
    }

    #[test]
    fn no_unit_means_none() {
        assert!(dockerd_flags(&UnitFiles::default()).is_none());
    }
}
