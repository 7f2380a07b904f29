//! What dockerd (Linux, Docker Engine 20.10 to 27.x) accepts in daemon.json: each key's
//! JSON type, whether a SIGHUP reload applies it, and in which releases it exists.
//!
//! Sources (facts taken, text not copied):
//! - the dockerd reference, "Daemon configuration file" (the full Linux example) and
//!   "Configuration reload behavior" (docker/cli docs/reference/commandline/dockerd.md);
//! - moby's `daemon/config` (the JSON tags of `Config`, `CommonConfig`, `BridgeConfig`,
//!   and how unknown keys are found: a key is refused unless it names a flag or an
//!   option), `daemon/reload.go`, `daemon/reload_unix.go` and `cmd/dockerd`'s
//!   `reloadConfig` (authorization plugins);
//! - Docker's deprecation notes and release notes for `since`/`removed`.
//!
//! Reloadable is decided from the code, conservatively: `cluster-*` reload only when
//! they were not set before, so they count as needing a restart.

use serde_json::Value;

/// The JSON shape dockerd expects for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    String,
    Bool,
    Integer,
    StringArray,
    /// An object whose values are strings (`log-opts`, `cluster-store-opts`).
    StringMap,
    /// An object whose values are booleans (`features`).
    BoolMap,
    /// An object of objects of strings (`default-network-opts`).
    NestedStringMap,
    /// A free-form object (`builder`).
    Object,
    /// `runtimes`: name → `{"path": …, "runtimeArgs": […]}`.
    Runtimes,
    /// `default-ulimits`: name → `{"Name": …, "Hard": …, "Soft": …}`.
    Ulimits,
    /// `default-address-pools`: `[{"base": CIDR, "size": prefix length}, …]`.
    AddressPools,
    /// `proxies`: `{"http-proxy": …, "https-proxy": …, "no-proxy": …}`.
    Proxies,
    /// A size: a string such as "64M" or a number of bytes (`default-shm-size`).
    Size,
}

impl ValueKind {
    /// How the expected type reads in a message ("must be …").
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::String => "a string",
            ValueKind::Bool => "true or false (without quotes)",
            ValueKind::Integer => "an integer",
            ValueKind::StringArray => "an array of strings",
            ValueKind::StringMap => "an object whose values are strings",
            ValueKind::BoolMap => "an object whose values are true or false",
            ValueKind::NestedStringMap => "an object of objects whose values are strings",
            ValueKind::Object => "an object",
            ValueKind::Runtimes => "an object of runtimes, each {\"path\": \"…\"}",
            ValueKind::Ulimits => {
                "an object of ulimits, each {\"Name\": \"…\", \"Hard\": n, \"Soft\": n}"
            }
            ValueKind::AddressPools => {
                "an array of address pools, each {\"base\": \"CIDR\", \"size\": n}"
            }
            ValueKind::Proxies => {
                "an object with \"http-proxy\", \"https-proxy\" and \"no-proxy\" strings"
            }
            ValueKind::Size => "a size such as \"64M\" or a number of bytes",
        }
    }
}

/// One daemon.json key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub name: &'static str,
    pub kind: ValueKind,
    /// dockerd applies a change of this key on `SIGHUP` (`systemctl reload docker`).
    pub reloadable: bool,
    /// First engine release that knows the key, when later than 20.10.
    pub since: Option<&'static str>,
    /// Release that marked it deprecated.
    pub deprecated: Option<&'static str>,
    /// First release that refuses it or ignores it.
    pub removed: Option<&'static str>,
    /// Something an operator must know before setting it.
    pub note: Option<&'static str>,
}

const fn key(name: &'static str, kind: ValueKind) -> KeySpec {
    KeySpec {
        name,
        kind,
        reloadable: false,
        since: None,
        deprecated: None,
        removed: None,
        note: None,
    }
}

impl KeySpec {
    const fn reload(self) -> Self {
        KeySpec {
            reloadable: true,
            ..self
        }
    }
    const fn since(self, release: &'static str) -> Self {
        KeySpec {
            since: Some(release),
            ..self
        }
    }
    const fn deprecated(self, release: &'static str) -> Self {
        KeySpec {
            deprecated: Some(release),
            ..self
        }
    }
    const fn removed(self, release: &'static str) -> Self {
        KeySpec {
            removed: Some(release),
            ..self
        }
    }
    const fn note(self, note: &'static str) -> Self {
        KeySpec {
            note: Some(note),
            ..self
        }
    }
}

use ValueKind as K;

/// Every key, sorted by name (a test holds it to that).
pub static KEYS: &[KeySpec] = &[
    key("allow-nondistributable-artifacts", K::StringArray).reload(),
    key("api-cors-header", K::String).deprecated("27.0").removed("28.0"),
    key("authorization-plugins", K::StringArray).reload(),
    key("bip", K::String),
    key("bridge", K::String),
    key("builder", K::Object),
    key("cdi-spec-dirs", K::StringArray).since("25.0"),
    key("cgroup-parent", K::String),
    // Reloadable only when not configured before: treated as needing a restart.
    key("cluster-advertise", K::String).deprecated("20.10").removed("23.0"),
    key("cluster-store", K::String).deprecated("20.10").removed("23.0"),
    key("cluster-store-opts", K::StringMap).deprecated("20.10").removed("23.0"),
    key("containerd", K::String),
    key("containerd-namespace", K::String),
    key("containerd-plugin-namespace", K::String),
    key("cpu-rt-period", K::Integer),
    key("cpu-rt-runtime", K::Integer),
    key("cri-containerd", K::Bool),
    key("data-root", K::String).note("moving it does not move existing images, containers or volumes"),
    key("debug", K::Bool).reload(),
    key("default-address-pools", K::AddressPools),
    key("default-cgroupns-mode", K::String).reload(),
    key("default-gateway", K::String),
    key("default-gateway-v6", K::String),
    key("default-ipc-mode", K::String).reload(),
    key("default-network-opts", K::NestedStringMap).since("24.0"),
    key("default-runtime", K::String).reload(),
    key("default-shm-size", K::Size).reload(),
    key("default-ulimits", K::Ulimits),
    key("dns", K::StringArray),
    key("dns-opts", K::StringArray),
    key("dns-search", K::StringArray),
    key("exec-opts", K::StringArray),
    key("exec-root", K::String),
    key("experimental", K::Bool),
    key("features", K::BoolMap).reload(),
    key("fixed-cidr", K::String),
    key("fixed-cidr-v6", K::String),
    key("graph", K::String).deprecated("17.05").removed("23.0"),
    key("group", K::String),
    key("host-gateway-ip", K::String),
    key("hosts", K::StringArray).note(
        "the stock docker.service passes -H fd://, and dockerd refuses to start when \"hosts\" is also set in daemon.json; a drop-in must clear ExecStart first",
    ),
    key("icc", K::Bool),
    key("init", K::Bool),
    key("init-path", K::String),
    key("insecure-registries", K::StringArray).reload(),
    key("ip", K::String),
    key("ip-forward", K::Bool),
    key("ip-masq", K::Bool),
    key("ip6tables", K::Bool),
    key("iptables", K::Bool),
    key("ipv6", K::Bool),
    key("labels", K::StringArray).reload(),
    key("live-restore", K::Bool).reload(),
    key("log-driver", K::String),
    key("log-format", K::String).since("25.0"),
    key("log-level", K::String),
    key("log-opts", K::StringMap),
    key("max-concurrent-downloads", K::Integer).reload(),
    key("max-concurrent-uploads", K::Integer).reload(),
    key("max-download-attempts", K::Integer).reload(),
    key("metrics-addr", K::String),
    key("mtu", K::Integer),
    key("network-control-plane-mtu", K::Integer),
    key("network-diagnostic-port", K::Integer).reload(),
    key("no-new-privileges", K::Bool),
    key("node-generic-resources", K::StringArray),
    key("oom-score-adjust", K::Integer).deprecated("24.0").removed("26.0"),
    key("pidfile", K::String),
    key("proxies", K::Proxies).since("23.0"),
    key("raw-logs", K::Bool),
    key("registry-mirrors", K::StringArray).reload(),
    key("rootless", K::Bool),
    key("runtimes", K::Runtimes).reload(),
    key("seccomp-profile", K::String),
    key("selinux-enabled", K::Bool),
    key("shutdown-timeout", K::Integer).reload(),
    key("storage-driver", K::String).note(
        "changing it hides the images and containers stored by the previous driver",
    ),
    key("storage-opts", K::StringArray),
    key("swarm-default-advertise-addr", K::String),
    key("tls", K::Bool),
    key("tlscacert", K::String),
    key("tlscert", K::String),
    key("tlskey", K::String),
    key("tlsverify", K::Bool),
    key("userland-proxy", K::Bool),
    key("userland-proxy-path", K::String),
    key("userns-remap", K::String),
];

/// Names that look right but are not daemon.json keys: (wrong, right, why). Most are the
/// command-line flag's singular name; dockerd accepts those because a flag has that name,
/// then ignores the value, so the setting silently has no effect.
static TRAPS: &[(&str, &str, &str)] = &[
    ("add-runtime", "runtimes", SILENT),
    ("authorization-plugin", "authorization-plugins", SILENT),
    ("cdi-spec-dir", "cdi-spec-dirs", SILENT),
    ("cgroupdriver", "exec-opts", CGROUP),
    ("cluster-store-opt", "cluster-store-opts", SILENT),
    (
        "containerd-plugins-namespace",
        "containerd-plugin-namespace",
        "the flag is --containerd-plugins-namespace, but the daemon.json key has no s; dockerd silently ignores the flag's spelling",
    ),
    ("default-address-pool", "default-address-pools", SILENT),
    ("default-network-opt", "default-network-opts", SILENT),
    ("default-ulimit", "default-ulimits", SILENT),
    ("dns-opt", "dns-opts", SILENT),
    ("exec-opt", "exec-opts", SILENT),
    ("host", "hosts", SILENT),
    ("http-proxy", "proxies", PROXY),
    ("https-proxy", "proxies", PROXY),
    ("insecure-registry", "insecure-registries", SILENT),
    ("label", "labels", SILENT),
    ("log-opt", "log-opts", SILENT),
    ("native.cgroupdriver", "exec-opts", CGROUP),
    ("no-proxy", "proxies", PROXY),
    ("node-generic-resource", "node-generic-resources", SILENT),
    ("registry-mirror", "registry-mirrors", SILENT),
    ("storage-opt", "storage-opts", SILENT),
];

const SILENT: &str = "this is the command-line flag's name; dockerd accepts it in daemon.json because a flag has that name, then silently ignores it";
const PROXY: &str = "in daemon.json the proxy settings go inside \"proxies\": {…} (Docker 23.0 and later); at the top level dockerd 23+ silently ignores them and 20.10 refuses them";
const CGROUP: &str =
    "the cgroup driver is set through \"exec-opts\": [\"native.cgroupdriver=systemd\"]";

/// The key's entry in the table.
pub fn lookup(key: &str) -> Option<&'static KeySpec> {
    KEYS.binary_search_by(|spec| spec.name.cmp(key))
        .ok()
        .and_then(|i| KEYS.get(i))
}

/// Whether dockerd applies a change of `key` on reload. Unknown keys are not.
pub fn is_reloadable(key: &str) -> bool {
    lookup(key).is_some_and(|spec| spec.reloadable)
}

/// The known trap for `key`, if it is one: (right key, why).
pub fn trap(key: &str) -> Option<(&'static str, &'static str)> {
    TRAPS
        .iter()
        .find(|(wrong, _, _)| *wrong == key)
        .map(|&(_, right, why)| (right, why))
}

/// The key that `key` most likely meant, when `key` is not a daemon.json key: a known
/// trap (`registry-mirror` → `registry-mirrors`), else the nearest key by edit distance
/// when within max(2, len/3). None for a valid key or when nothing is close.
pub fn closest(key: &str) -> Option<&'static str> {
    if lookup(key).is_some() {
        return None;
    }
    if let Some((right, _)) = trap(key) {
        return Some(right);
    }
    let normalized = key.trim().to_ascii_lowercase().replace('_', "-");
    if let Some(spec) = lookup(&normalized) {
        return Some(spec.name);
    }
    crate::suggest::closest(&normalized, KEYS.iter().map(|spec| spec.name))
}

/// How a JSON value is named in a message ("found …").
pub fn describe_value(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn mismatch(path: &str, expected: &str, found: &Value) -> String {
    let mut message = format!("{path} must be {expected}, found {}", describe_value(found));
    match found {
        Value::String(s)
            if matches!(s.as_str(), "true" | "false") && expected.starts_with("true or false") =>
        {
            message.push_str(&format!(" (write {s} without quotes)"));
        }
        Value::Number(n) if expected == "a string" => {
            message.push_str(&format!(" (write \"{n}\" in quotes)"));
        }
        _ => {}
    }
    message
}

fn expect_string<'a>(path: &str, value: &'a Value) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| mismatch(path, "a string", value))
}

fn expect_integer(path: &str, value: &Value) -> Result<i64, String> {
    match value.as_i64() {
        Some(i) => Ok(i),
        None if value.is_u64() => Err(format!("{path} is too large")),
        None => Err(mismatch(path, "an integer", value)),
    }
}

fn expect_string_array<'a>(path: &str, value: &'a Value) -> Result<Vec<&'a str>, String> {
    let Some(items) = value.as_array() else {
        return Err(mismatch(path, "an array of strings", value));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| expect_string(&format!("{path}[{i}]"), item))
        .collect()
}

fn expect_object<'a>(
    path: &str,
    expected: &str,
    value: &'a Value,
) -> Result<&'a serde_json::Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| mismatch(path, expected, value))
}

/// Checks the shape of `value` for `key` (and, for some keys, what dockerd would refuse
/// at start: a mirror without a scheme, a label without `=`, a log option that is not a
/// string, …). Keys not in the table pass: `validate_desired` reports them.
pub fn check_plan_value(key: &str, value: &Value) -> Result<(), String> {
    let Some(spec) = lookup(key) else {
        return Ok(());
    };
    check_kind(key, spec.kind, value)?;
    check_semantics(key, value)
}

fn check_kind(key: &str, kind: ValueKind, value: &Value) -> Result<(), String> {
    let expected = kind.describe();
    match kind {
        ValueKind::String => expect_string(key, value).map(drop),
        ValueKind::Bool => match value {
            Value::Bool(_) => Ok(()),
            other => Err(mismatch(key, expected, other)),
        },
        ValueKind::Integer => expect_integer(key, value).map(drop),
        ValueKind::StringArray => expect_string_array(key, value).map(drop),
        ValueKind::StringMap => {
            for (name, item) in expect_object(key, expected, value)? {
                expect_string(&format!("{key}.{name}"), item)?;
            }
            Ok(())
        }
        ValueKind::BoolMap => {
            for (name, item) in expect_object(key, expected, value)? {
                if !item.is_boolean() {
                    return Err(mismatch(
                        &format!("{key}.{name}"),
                        "true or false (without quotes)",
                        item,
                    ));
                }
            }
            Ok(())
        }
        ValueKind::NestedStringMap => {
            for (driver, options) in expect_object(key, expected, value)? {
                let path = format!("{key}.{driver}");
                for (name, item) in
                    expect_object(&path, "an object whose values are strings", options)?
                {
                    expect_string(&format!("{path}.{name}"), item)?;
                }
            }
            Ok(())
        }
        ValueKind::Object => expect_object(key, expected, value).map(drop),
        ValueKind::Runtimes => {
            for (name, runtime) in expect_object(key, expected, value)? {
                let path = format!("{key}.{name}");
                if name == "runc" {
                    return Err(format!(
                        "{path}: the name \"runc\" is reserved for the runtime shipped with dockerd; choose another name"
                    ));
                }
                let fields = expect_object(&path, "an object such as {\"path\": \"…\"}", runtime)?;
                let has_path = fields.contains_key("path");
                if !has_path && !fields.contains_key("runtimeType") {
                    return Err(format!("{path} needs a \"path\" to the runtime binary"));
                }
                for field in ["path", "runtimeType"] {
                    if let Some(v) = fields.get(field) {
                        expect_string(&format!("{path}.{field}"), v)?;
                    }
                }
                if let Some(args) = fields.get("runtimeArgs") {
                    expect_string_array(&format!("{path}.runtimeArgs"), args)?;
                }
            }
            Ok(())
        }
        ValueKind::Ulimits => {
            for (name, limit) in expect_object(key, expected, value)? {
                let path = format!("{key}.{name}");
                let fields = expect_object(
                    &path,
                    "an object {\"Name\": \"…\", \"Hard\": n, \"Soft\": n}",
                    limit,
                )?;
                for field in ["Name", "Hard", "Soft"] {
                    let Some(v) = fields.get(field) else {
                        return Err(format!(
                            "{path} needs \"{field}\" (the field names are capitalised)"
                        ));
                    };
                    if field == "Name" {
                        expect_string(&format!("{path}.{field}"), v)?;
                    } else {
                        expect_integer(&format!("{path}.{field}"), v)?;
                    }
                }
            }
            Ok(())
        }
        ValueKind::AddressPools => {
            let Some(pools) = value.as_array() else {
                return Err(mismatch(key, expected, value));
            };
            for (i, pool) in pools.iter().enumerate() {
                let path = format!("{key}[{i}]");
                let fields =
                    expect_object(&path, "an object {\"base\": \"CIDR\", \"size\": n}", pool)?;
                let Some(base) = fields.get("base") else {
                    return Err(format!(
                        "{path} needs \"base\", a CIDR such as \"10.10.0.0/16\""
                    ));
                };
                let base = expect_string(&format!("{path}.base"), base)?;
                if !base.contains('/') {
                    return Err(format!(
                        "{path}.base must be a CIDR such as \"10.10.0.0/16\", found \"{base}\""
                    ));
                }
                let Some(size) = fields.get("size") else {
                    return Err(format!(
                        "{path} needs \"size\", the prefix length of each network (such as 24)"
                    ));
                };
                let size = expect_integer(&format!("{path}.size"), size)?;
                if !(1..=128).contains(&size) {
                    return Err(format!(
                        "{path}.size must be a prefix length between 1 and 128, found {size}"
                    ));
                }
            }
            Ok(())
        }
        ValueKind::Proxies => {
            for (name, item) in expect_object(key, expected, value)? {
                let path = format!("{key}.{name}");
                if !matches!(name.as_str(), "http-proxy" | "https-proxy" | "no-proxy") {
                    return Err(format!(
                        "{path} is not a proxy setting; use \"http-proxy\", \"https-proxy\" or \"no-proxy\""
                    ));
                }
                expect_string(&path, item)?;
            }
            Ok(())
        }
        ValueKind::Size => match value {
            Value::Number(n) if n.is_u64() => Ok(()),
            Value::String(s) if is_size(s) => Ok(()),
            Value::String(s) => Err(format!(
                "{key} must be a size such as \"64M\" or \"1G\", found \"{s}\""
            )),
            other => Err(mismatch(key, expected, other)),
        },
    }
}

/// A size as docker's units.RAMInBytes reads it: a number, then optionally
/// b/k/m/g/t/p, optionally followed by "b" or "ib", any case.
fn is_size(s: &str) -> bool {
    let s = s.trim();
    let digits_end = s
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (number, unit) = s.split_at(digits_end);
    if number.is_empty() || number.parse::<f64>().is_err() {
        return false;
    }
    let unit = unit.trim().to_ascii_lowercase();
    let mut chars = unit.chars();
    match chars.next() {
        None => true,
        Some('b' | 'k' | 'm' | 'g' | 't' | 'p') => matches!(chars.as_str(), "" | "b" | "ib"),
        Some(_) => false,
    }
}

fn check_semantics(key: &str, value: &Value) -> Result<(), String> {
    match key {
        "registry-mirrors" => {
            for (i, mirror) in expect_string_array(key, value)?.into_iter().enumerate() {
                check_mirror(mirror).map_err(|why| format!("{key}[{i}] {why}"))?;
            }
        }
        "insecure-registries" | "allow-nondistributable-artifacts" => {
            for (i, registry) in expect_string_array(key, value)?.into_iter().enumerate() {
                if registry.contains("://") {
                    let bare = registry
                        .split_once("://")
                        .map_or(registry, |(_, rest)| rest);
                    return Err(format!(
                        "{key}[{i}] must be host[:port] or a CIDR without a scheme: write \"{}\", not \"{registry}\"",
                        bare.trim_end_matches('/')
                    ));
                }
                if registry.is_empty() || registry.contains(char::is_whitespace) {
                    return Err(format!(
                        "{key}[{i}] must be host[:port] or a CIDR, found \"{registry}\""
                    ));
                }
            }
        }
        "labels" | "node-generic-resources" => {
            for (i, label) in expect_string_array(key, value)?.into_iter().enumerate() {
                if !label.contains('=') {
                    return Err(format!(
                        "{key}[{i}] must be written key=value, found \"{label}\""
                    ));
                }
            }
        }
        "exec-opts" => {
            for (i, option) in expect_string_array(key, value)?.into_iter().enumerate() {
                let Some((name, setting)) = option.split_once('=') else {
                    return Err(format!(
                        "{key}[{i}] must be written option=value (such as \"native.cgroupdriver=systemd\"), found \"{option}\""
                    ));
                };
                let name = name.trim().to_ascii_lowercase();
                let setting = setting.trim();
                if name == "native.cgroupdriver" && !matches!(setting, "systemd" | "cgroupfs") {
                    return Err(format!(
                        "{key}[{i}]: native.cgroupdriver must be \"systemd\" or \"cgroupfs\", found \"{setting}\""
                    ));
                }
                if name != "native.cgroupdriver" {
                    return Err(format!(
                        "{key}[{i}]: dockerd on Linux knows only the native.cgroupdriver option, found \"{name}\""
                    ));
                }
            }
        }
        "log-level" => one_of(
            key,
            value,
            &[
                "trace", "debug", "info", "warn", "warning", "error", "fatal", "panic",
            ],
        )?,
        "log-format" => one_of(key, value, &["text", "json"])?,
        "default-cgroupns-mode" => one_of(key, value, &["host", "private"])?,
        "default-ipc-mode" => one_of(key, value, &["private", "shareable"])?,
        "data-root" | "exec-root" => {
            let path = expect_string(key, value)?;
            if !path.starts_with('/') {
                return Err(format!("{key} must be an absolute path, found \"{path}\""));
            }
        }
        "max-concurrent-downloads"
        | "max-concurrent-uploads"
        | "max-download-attempts"
        | "mtu"
        | "network-control-plane-mtu" => {
            let n = expect_integer(key, value)?;
            if n < 0 {
                return Err(format!("{key} must not be negative, found {n}"));
            }
        }
        "network-diagnostic-port" => {
            let n = expect_integer(key, value)?;
            if !(0..=65535).contains(&n) {
                return Err(format!(
                    "{key} must be a port between 0 and 65535, found {n}"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

fn one_of(key: &str, value: &Value, allowed: &[&str]) -> Result<(), String> {
    let s = expect_string(key, value)?;
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
        Ok(())
    } else {
        Err(format!(
            "{key} must be one of {}, found \"{s}\"",
            allowed.join(", ")
        ))
    }
}

/// What dockerd 20.10's registry code requires of a mirror: an http or https URL with a
/// host, and no credentials, path, query or fragment.
fn check_mirror(mirror: &str) -> Result<(), String> {
    let Some((scheme, rest)) = mirror.split_once("://") else {
        return Err(format!(
            "must be a URL with a scheme, such as \"https://{mirror}\", found \"{mirror}\""
        ));
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(format!("must use http:// or https://, found \"{mirror}\""));
    }
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    if authority.is_empty() {
        return Err(format!("has no host: \"{mirror}\""));
    }
    if authority.contains('@') {
        return Err(
            "must not contain a username or password; dockerd refuses credentials in a mirror URL"
                .to_string(),
        );
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(format!(
            "must not have a query or fragment, found \"{mirror}\""
        ));
    }
    if !path.is_empty() {
        return Err(format!(
            "must not have a path (dockerd 20.10 refuses one), found \"{mirror}\""
        ));
    }
    if authority.contains(char::is_whitespace) {
        return Err(format!("contains a space: \"{mirror}\""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_is_sorted_unique_and_sized() {
        for pair in KEYS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        assert_eq!(KEYS.len(), 87);
        for spec in KEYS {
            assert_eq!(lookup(spec.name), Some(spec));
            assert!(
                trap(spec.name).is_none(),
                "{} is both a key and a trap",
                spec.name
            );
        }
        for (wrong, right, _) in TRAPS {
            assert!(lookup(right).is_some(), "{wrong} points at unknown {right}");
        }
    }

    #[test]
    fn reloadable_set() {
        let reloadable: Vec<&str> = KEYS
            .iter()
            .filter(|s| s.reloadable)
            .map(|s| s.name)
            .collect();
        assert_eq!(
            reloadable,
            [
                "allow-nondistributable-artifacts",
                "authorization-plugins",
                "debug",
                "default-cgroupns-mode",
                "default-ipc-mode",
                "default-runtime",
                "default-shm-size",
                "features",
                "insecure-registries",
                "labels",
                "live-restore",
                "max-concurrent-downloads",
                "max-concurrent-uploads",
                "max-download-attempts",
                "network-diagnostic-port",
                "registry-mirrors",
                "runtimes",
                "shutdown-timeout",
            ]
        );
        assert!(is_reloadable("registry-mirrors"));
        assert!(!is_reloadable("log-driver"));
        assert!(!is_reloadable("log-level"));
        assert!(!is_reloadable("storage-driver"));
        assert!(!is_reloadable("cluster-store"));
        assert!(!is_reloadable("no-such-key"));
    }

    #[test]
    fn closest_catches_traps_and_typos_only() {
        assert_eq!(closest("registry-mirror"), Some("registry-mirrors"));
        assert_eq!(closest("insecure-registry"), Some("insecure-registries"));
        assert_eq!(closest("log-opt"), Some("log-opts"));
        assert_eq!(closest("http-proxy"), Some("proxies"));
        assert_eq!(
            closest("containerd-plugins-namespace"),
            Some("containerd-plugin-namespace")
        );
        assert_eq!(closest("debgu"), Some("debug"));
        assert_eq!(closest("log_driver"), Some("log-driver"));
        assert_eq!(closest("Live-Restore"), Some("live-restore"));
        assert_eq!(closest("storage-drvier"), Some("storage-driver"));
        assert_eq!(
            closest("max-concurent-downloads"),
            Some("max-concurrent-downloads")
        );
        assert_eq!(closest("registry-mirrors"), None);
        assert_eq!(closest("something-else-entirely"), None);
        assert_eq!(closest("xyz"), None);
        assert_eq!(closest(""), None);
    }

    fn check(key: &str, value: Value) -> Result<(), String> {
        check_plan_value(key, &value)
    }

    #[test]
    fn type_checks_name_the_key_the_expected_and_the_found_type() {
        assert_eq!(
            check("registry-mirrors", json!("https://m.example")),
            Err("registry-mirrors must be an array of strings, found a string".to_string())
        );
        assert_eq!(
            check("live-restore", json!("true")),
            Err("live-restore must be true or false (without quotes), found a string (write true without quotes)".to_string())
        );
        assert_eq!(
            check("log-opts", json!({"max-size": "10m", "max-file": 3})),
            Err(
                "log-opts.max-file must be a string, found a number (write \"3\" in quotes)"
                    .to_string()
            )
        );
        assert_eq!(
            check("max-concurrent-downloads", json!(3.5)),
            Err("max-concurrent-downloads must be an integer, found a decimal number".to_string())
        );
        assert_eq!(
            check("dns", json!(["8.8.8.8", 1])),
            Err("dns[1] must be a string, found a number (write \"1\" in quotes)".to_string())
        );
        assert!(check("features", json!({"buildkit": "yes"})).is_err());
        assert!(
            check(
                "default-network-opts",
                json!({"bridge": {"com.docker.network.driver.mtu": 1450}})
            )
            .is_err()
        );
        assert!(
            check(
                "default-network-opts",
                json!({"bridge": {"com.docker.network.driver.mtu": "1450"}})
            )
            .is_ok()
        );
        assert!(check("builder", json!({"gc": {"enabled": true}})).is_ok());
        assert!(check("builder", json!(true)).is_err());
        assert!(check("not-a-key", json!(1)).is_ok());
    }

    #[test]
    fn realistic_values_pass() {
        let ok = [
            ("log-driver", json!("json-file")),
            ("log-opts", json!({"max-size": "100m", "max-file": "3"})),
            ("exec-opts", json!(["native.cgroupdriver=systemd"])),
            ("storage-driver", json!("overlay2")),
            (
                "storage-opts",
                json!(["overlay2.override_kernel_check=true"]),
            ),
            (
                "default-address-pools",
                json!([{"base": "172.80.0.0/16", "size": 24}]),
            ),
            (
                "runtimes",
                json!({"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}}),
            ),
            ("default-runtime", json!("nvidia")),
            ("data-root", json!("/data/docker")),
            (
                "insecure-registries",
                json!(["registry.internal:5000", "10.0.0.0/8"]),
            ),
            (
                "registry-mirrors",
                json!(["https://mirror.example.com", "http://10.0.0.5:5000/"]),
            ),
            (
                "default-ulimits",
                json!({"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}),
            ),
            ("default-shm-size", json!("64M")),
            ("default-shm-size", json!(67108864)),
            ("live-restore", json!(true)),
            ("labels", json!(["env=prod"])),
            ("log-level", json!("warn")),
            (
                "proxies",
                json!({"http-proxy": "http://proxy:3128", "no-proxy": "localhost"}),
            ),
            ("max-concurrent-downloads", json!(10)),
        ];
        for (key, value) in ok {
            assert_eq!(check(key, value.clone()), Ok(()), "{key}: {value}");
        }
    }

    #[test]
    fn what_dockerd_would_refuse_is_refused() {
        let bad: &[(&str, Value, &str)] = &[
            (
                "registry-mirrors",
                json!(["mirror.example.com"]),
                "with a scheme",
            ),
            (
                "registry-mirrors",
                json!(["ftp://mirror.example.com"]),
                "http:// or https://",
            ),
            (
                "registry-mirrors",
                json!(["https://u:p@mirror.example.com"]),
                "password",
            ),
            (
                "registry-mirrors",
                json!(["https://mirror.example.com/v2/"]),
                "path",
            ),
            ("registry-mirrors", json!(["https://"]), "no host"),
            (
                "insecure-registries",
                json!(["http://registry.internal:5000"]),
                "\"registry.internal:5000\"",
            ),
            ("labels", json!(["prod"]), "key=value"),
            ("exec-opts", json!(["native.cgroupdriver"]), "option=value"),
            (
                "exec-opts",
                json!(["native.cgroupdriver=system"]),
                "\"systemd\" or \"cgroupfs\"",
            ),
            (
                "exec-opts",
                json!(["isolation=hyperv"]),
                "only the native.cgroupdriver",
            ),
            ("log-level", json!("verbose"), "one of"),
            ("default-cgroupns-mode", json!("shared"), "one of"),
            ("data-root", json!("docker-data"), "absolute"),
            ("mtu", json!(-1), "negative"),
            (
                "network-diagnostic-port",
                json!(70000),
                "between 0 and 65535",
            ),
            ("default-shm-size", json!("lots"), "size"),
            ("default-shm-size", json!(-1), "size"),
            (
                "runtimes",
                json!({"runc": {"path": "/usr/bin/runc"}}),
                "reserved",
            ),
            (
                "runtimes",
                json!({"nvidia": {"runtimeArgs": []}}),
                "\"path\"",
            ),
            (
                "runtimes",
                json!({"nvidia": "nvidia-container-runtime"}),
                "runtimes.nvidia must be",
            ),
            (
                "default-ulimits",
                json!({"nofile": {"name": "nofile", "hard": 1, "soft": 1}}),
                "capitalised",
            ),
            (
                "default-address-pools",
                json!({"base": "10.0.0.0/8", "size": 24}),
                "an array of address pools",
            ),
            (
                "default-address-pools",
                json!([{"base": "10.0.0.0", "size": 24}]),
                "CIDR",
            ),
            (
                "default-address-pools",
                json!([{"base": "10.0.0.0/8"}]),
                "\"size\"",
            ),
            (
                "default-address-pools",
                json!([{"base": "10.0.0.0/8", "size": "24"}]),
                "must be an integer",
            ),
            (
                "proxies",
                json!({"http_proxy": "http://p:3128"}),
                "not a proxy setting",
            ),
        ];
        for (key, value, needle) in bad {
            match check(key, value.clone()) {
                Ok(()) => panic!("{key}: {value} was accepted"),
                Err(message) => {
                    assert!(
                        message.contains(needle),
                        "{key}: {message} (wanted {needle:?})"
                    );
                    assert!(message.starts_with(key), "{message}");
                }
            }
        }
    }

    #[test]
    fn sizes() {
        for ok in [
            "64M", "64m", "1g", "512MiB", "1.5GB", "1024", "100k", "2 GB",
        ] {
            assert!(is_size(ok), "{ok}");
        }
        for bad in ["", "M", "64X", "64MBB", "-1M", "lots"] {
            assert!(!is_size(bad), "{bad}");
        }
    }
}
