//! The plan: the desired end state, read from TOML strictly. Unknown keys, wrong types
//! and invalid values are errors naming file, line and column; distro-family defaults
//! are filled in later, once the facts are known.

use std::ops::Range;
use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::checks::kernel::KernelVersion;
use crate::daemonjson;
use crate::error::{Error, Result};
use crate::packages::mirrors::RepoSource;
use crate::packages::os_repos::OsRepoSource;
use crate::packages::version::VersionSpec;
use crate::suggest;

/// The 64-bit architectures Docker CE is built for on EL.
pub const DEFAULT_ARCHES: &[&str] = &["x86_64", "aarch64", "ppc64le", "s390x"];
pub const DEFAULT_ENGINE_PACKAGES: &[&str] = &["docker-ce", "docker-ce-cli", "containerd.io"];

#[derive(Debug, Clone)]
pub struct Plan {
    /// Where the plan was read from (errors and overrides name it).
    pub path: std::path::PathBuf,
    pub preflight: Preflight,
    pub cleanup: Cleanup,
    /// What to do about an end-of-life release's dead repo files.
    pub os_repos: OsRepoSource,
    /// `None`: the distro family's default list.
    pub prerequisites: Option<Vec<String>>,
    pub repo: RepoPlan,
    pub engine: EnginePlan,
    /// daemon.json keys the plan owns, in the plan's order.
    pub daemon: serde_json::Map<String, serde_json::Value>,
    pub service: ServicePlan,
    pub proxy: Option<ProxyPlan>,
}

#[derive(Debug, Clone)]
pub struct Preflight {
    pub min_kernel: KernelVersion,
    pub arch: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Cleanup {
    /// `None`: Docker's documented list of old packages for the distro family.
    pub remove: Option<Vec<String>>,
    pub purge_data: bool,
}

#[derive(Debug, Clone)]
pub struct RepoPlan {
    pub source: RepoSource,
    pub channel: Channel,
    pub gpgcheck: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Stable,
    Test,
}

#[derive(Debug, Clone)]
pub struct EnginePlan {
    pub packages: Vec<String>,
    pub version: VersionSpec,
    /// containerd.io's version (engine.containerd); `Latest` leaves an installed one alone.
    pub containerd: VersionSpec,
    /// Docker CLI plugins (engine.plugins), each with its own version.
    pub plugins: Vec<Plugin>,
    /// Keep a plain `yum update` / `dnf upgrade` from moving the packages away from the plan.
    pub hold: bool,
    pub enable: bool,
    /// Users added to the docker group.
    pub users: Vec<String>,
}

/// A docker CLI plugin the plan installs: `"compose"`, `"compose=2.24"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    /// The rpm: docker-compose-plugin, docker-buildx-plugin.
    pub package: String,
    pub version: VersionSpec,
}

/// Plugin short names and their packages.
pub const PLUGINS: &[(&str, &str)] = &[
    ("buildx", "docker-buildx-plugin"),
    ("compose", "docker-compose-plugin"),
];
pub const DEFAULT_PLUGINS: &[&str] = &["buildx", "compose"];

impl Plugin {
    /// `NAME`, `NAME=2.24` (newest 2.24.x), `NAME==2.24.6`, `NAME>=2.20, <3`; NAME is a
    /// short name or the package's. Errors are (message, hint).
    pub fn parse(text: &str) -> std::result::Result<Plugin, (String, String)> {
        let text = text.trim();
        let split = text.find(['=', '<', '>']).unwrap_or(text.len());
        let (name, rest) = text.split_at(split);
        let name = name.trim();
        let spec = rest.strip_prefix('=').unwrap_or(rest).trim();
        let package = PLUGINS
            .iter()
            .find(|(short, package)| *short == name || *package == name)
            .map(|(_, package)| package.to_string())
            .ok_or_else(|| {
                let names = PLUGINS.iter().map(|(short, _)| *short);
                (
                    format!(
                        "engine.plugins: {name:?} is not a docker CLI plugin rdock-setup knows"
                    ),
                    match suggest::closest(name, names.clone()) {
                        Some(best) => format!("did you mean {best:?}?"),
                        None => format!("use {}", names.collect::<Vec<_>>().join(" or ")),
                    },
                )
            })?;
        let version = if spec.is_empty() {
            VersionSpec::Latest
        } else {
            VersionSpec::parse(spec).map_err(|message| {
                (
                    message.replace("engine.version", &format!("engine.plugins {name}")),
                    "write it like \"compose\", \"compose=2.24\" or \"compose==2.24.6\"".into(),
                )
            })?
        };
        Ok(Plugin { package, version })
    }
}

/// docker's proxy settings (a systemd drop-in); `None` when the plan has no [proxy].
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyPlan {
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ServicePlan {
    pub restart: RestartPolicy,
    /// How long a reloaded or restarted docker may take to be active with the new
    /// settings before the change is rolled back.
    pub health_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartPolicy {
    /// Reload when every changed daemon.json key is reloadable, else restart.
    Auto,
    /// Restart whenever anything docker depends on changed.
    Always,
    /// Never restart or reload a running docker; the report says what is pending.
    Never,
}

// The TOML as written, with spans kept where a value is checked after parsing.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawPlan {
    preflight: RawPreflight,
    cleanup: RawCleanup,
    os_repos: RawOsRepos,
    prerequisites: RawPrerequisites,
    repo: RawRepo,
    engine: RawEngine,
    daemon: IndexMap<Spanned<String>, Spanned<toml::Value>>,
    service: RawService,
    proxy: Option<ProxyPlan>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawPreflight {
    min_kernel: Option<Spanned<String>>,
    arch: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawCleanup {
    remove: Option<Spanned<Vec<String>>>,
    purge_data: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawOsRepos {
    source: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawPrerequisites {
    packages: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRepo {
    source: Option<Spanned<String>>,
    channel: Channel,
    gpgcheck: bool,
}

impl Default for RawRepo {
    fn default() -> Self {
        RawRepo {
            source: None,
            channel: Channel::Stable,
            gpgcheck: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEngine {
    packages: Option<Spanned<Vec<String>>>,
    version: Option<Spanned<String>>,
    containerd: Option<Spanned<String>>,
    plugins: Option<Vec<Spanned<String>>>,
    hold: Option<bool>,
    enable: bool,
    users: Vec<String>,
}

impl Default for RawEngine {
    fn default() -> Self {
        RawEngine {
            packages: None,
            version: None,
            containerd: None,
            plugins: None,
            hold: None,
            enable: true,
            users: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawService {
    restart: RestartPolicy,
    health_timeout: u64,
}

impl Default for RawService {
    fn default() -> Self {
        RawService {
            restart: RestartPolicy::Auto,
            health_timeout: 60,
        }
    }
}

/// Read and validate a plan file.
pub fn load(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::PlanRead {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// A plan with overrides (from an inventory's groups and hosts) laid over it, lowest
/// precedence first. Each override is checked on its own first, so an error names it.
pub fn with_overrides(
    base: &Plan,
    text: &str,
    overrides: &[(String, toml::Table)],
) -> Result<Plan> {
    if overrides.is_empty() {
        return Ok(base.clone());
    }
    let mut merged: toml::Table =
        toml::from_str(text).map_err(|err| toml_error(&base.path, text, &err))?;
    for (origin, table) in overrides {
        let override_text =
            toml::to_string(table).map_err(|err| Error::other(format!("{origin}: {err}")))?;
        parse(Path::new(origin), &override_text)?;
        deep_merge(&mut merged, table);
    }
    let merged_text = toml::to_string(&merged)
        .map_err(|err| Error::other(format!("merging overrides: {err}")))?;
    parse(&base.path, &merged_text)
}

fn deep_merge(into: &mut toml::Table, from: &toml::Table) {
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(table)) => {
                deep_merge(existing, table)
            }
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Parse plan text; `path` only names the source in errors.
pub fn parse(path: &Path, text: &str) -> Result<Plan> {
    let raw: RawPlan = toml::from_str(text).map_err(|err| toml_error(path, text, &err))?;
    crate::control_chars::refuse(path, text)?;
    let at = |span: Range<usize>, message: String, hint: Option<String>| {
        let (line, column) = line_column(text, span.start);
        Error::Plan {
            path: path.to_path_buf(),
            line,
            column,
            message,
            hint,
        }
    };

    let min_kernel = match raw.preflight.min_kernel {
        None => KernelVersion::parse("3.10").expect("the default kernel version parses"),
        Some(value) => KernelVersion::parse(value.get_ref()).ok_or_else(|| {
            at(
                value.span(),
                format!(
                    "preflight.min_kernel {:?} is not a kernel version",
                    value.get_ref()
                ),
                Some("write it like \"3.10\" or \"4.18.0\"".into()),
            )
        })?,
    };
    let source = match raw.repo.source {
        None => RepoSource::official(),
        Some(value) => RepoSource::parse(value.get_ref())
            .map_err(|(message, hint)| at(value.span(), message, Some(hint)))?,
    };
    let version = match raw.engine.version {
        None => VersionSpec::Latest,
        Some(value) => VersionSpec::parse(value.get_ref()).map_err(|message| {
            at(
                value.span(),
                message,
                Some("use \"latest\", \"20.10\", \"=24.0.7\" or \">=24, <27\"".into()),
            )
        })?,
    };
    let containerd = match raw.engine.containerd {
        None => VersionSpec::Latest,
        Some(value) => VersionSpec::parse(value.get_ref()).map_err(|message| {
            at(
                value.span(),
                message.replace("engine.version", "engine.containerd"),
                Some("use \"latest\", \"1.6\" or \"=1.6.33\"".into()),
            )
        })?,
    };
    let plugins = match raw.engine.plugins {
        None => DEFAULT_PLUGINS
            .iter()
            .map(|name| Plugin::parse(name).expect("the default plugins parse"))
            .collect(),
        Some(list) => {
            let mut plugins: Vec<Plugin> = Vec::new();
            for item in list {
                let plugin = Plugin::parse(item.get_ref())
                    .map_err(|(message, hint)| at(item.span(), message, Some(hint)))?;
                if plugins.iter().any(|p| p.package == plugin.package) {
                    return Err(at(
                        item.span(),
                        format!("engine.plugins names {} twice", plugin.package),
                        Some("keep one entry per plugin".into()),
                    ));
                }
                plugins.push(plugin);
            }
            plugins
        }
    };
    let os_repos = match raw.os_repos.source {
        None => OsRepoSource::Auto,
        Some(value) => OsRepoSource::parse(value.get_ref())
            .map_err(|(message, hint)| at(value.span(), message, Some(hint)))?,
    };
    let packages = match raw.engine.packages {
        None => DEFAULT_ENGINE_PACKAGES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Some(value) => {
            if !value.get_ref().iter().any(|p| p == "docker-ce") {
                return Err(at(
                    value.span(),
                    "engine.packages must include docker-ce".into(),
                    Some("list docker-ce, docker-ce-cli and containerd.io, plus any extras".into()),
                ));
            }
            value.into_inner()
        }
    };

    let mut daemon = serde_json::Map::new();
    let mut daemon_spans = Vec::new();
    for (key, value) in raw.daemon {
        let json = toml_to_json(value.get_ref()).map_err(|message| {
            at(
                value.span(),
                format!("daemon.{}: {message}", key.get_ref()),
                None,
            )
        })?;
        daemon_spans.push((key.get_ref().clone(), key.span(), value.span()));
        daemon.insert(key.into_inner(), json);
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = daemonjson::validate_desired(&daemon)
        .into_iter()
        .partition(|p| p.severity == daemonjson::Severity::Error);
    for warning in warnings {
        let instead = warning
            .suggestion
            .as_deref()
            .map(|s| format!(" (use `{s}` instead)"))
            .unwrap_or_default();
        tracing::warn!(
            "{}: daemon.{}: {}{instead}",
            path.display(),
            warning.key,
            warning.message
        );
    }
    if let Some(problem) = errors.into_iter().next() {
        let (key_span, value_span) = daemon_spans
            .iter()
            .find(|(key, _, _)| *key == problem.key)
            .map(|(_, k, v)| (k.clone(), v.clone()))
            .unwrap_or((0..0, 0..0));
        let (span, hint) = match &problem.suggestion {
            Some(best) => (key_span, Some(format!("did you mean `{best}`?"))),
            None => (value_span, None),
        };
        return Err(at(
            span,
            format!("daemon.{}: {}", problem.key, problem.message),
            hint,
        ));
    }
    let remove_span = raw
        .cleanup
        .remove
        .as_ref()
        .map(|r| r.span())
        .unwrap_or(0..0);
    for name in raw.cleanup.remove.iter().flat_map(|r| r.get_ref()) {
        if packages.contains(name) {
            return Err(at(
                remove_span.clone(),
                format!("cleanup.remove names {name}, which engine.packages installs"),
                Some(format!("drop {name} from one of the two lists")),
            ));
        }
    }

    Ok(Plan {
        path: path.to_path_buf(),
        preflight: Preflight {
            min_kernel,
            arch: raw
                .preflight
                .arch
                .unwrap_or_else(|| DEFAULT_ARCHES.iter().map(|s| s.to_string()).collect()),
        },
        cleanup: Cleanup {
            remove: raw.cleanup.remove.map(Spanned::into_inner),
            purge_data: raw.cleanup.purge_data,
        },
        os_repos,
        prerequisites: raw.prerequisites.packages,
        repo: RepoPlan {
            source,
            channel: raw.repo.channel,
            gpgcheck: raw.repo.gpgcheck,
        },
        engine: EnginePlan {
            packages,
            hold: raw.engine.hold.unwrap_or(version != VersionSpec::Latest),
            version,
            containerd,
            plugins,
            enable: raw.engine.enable,
            users: raw.engine.users,
        },
        proxy: raw.proxy,
        daemon,
        service: ServicePlan {
            restart: raw.service.restart,
            health_timeout: std::time::Duration::from_secs(raw.service.health_timeout),
        },
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A TOML parse error as a plan error at file:line:column, with a suggestion for a
/// misspelt key.
pub fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> Error {
    let (line, column) = err
        .span()
        .map(|span| line_column(text, span.start))
        .unwrap_or((1, 1));
    let message = err.message().trim().to_string();
    let hint = unknown_field_hint(&message);
    Error::Plan {
        path: path.to_path_buf(),
        line,
        column,
        message,
        hint,
    }
}

/// serde words an unknown key as "unknown field `x`, expected `a` or `b`" (or "one of …");
/// turn that into a suggestion of the closest valid key.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    let valid: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match suggest::closest(unknown, valid.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None if !valid.is_empty() => Some(format!("valid keys here: {}", valid.join(", "))),
        None => None,
    }
}

fn toml_to_json(value: &toml::Value) -> std::result::Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(x) => serde_json::Number::from_f64(*x)
            .map(J::Number)
            .ok_or_else(|| format!("{x} has no JSON form"))?,
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => {
            return Err(format!(
                "{d} is a TOML date, which daemon.json has no use for; quote it"
            ));
        }
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .map(toml_to_json)
                .collect::<std::result::Result<_, _>>()?,
        ),
        toml::Value::Table(table) => {
            let mut map = serde_json::Map::new();
            for (k, v) in table {
                map.insert(k.clone(), toml_to_json(v)?);
            }
            J::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("plan.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_fill_an_empty_plan() {
        let plan = parse(Path::new("p.toml"), "").unwrap();
        assert_eq!(plan.engine.packages, DEFAULT_ENGINE_PACKAGES);
        assert!(plan.engine.enable);
        assert!(plan.repo.gpgcheck);
        assert_eq!(plan.preflight.arch.len(), 4);
        assert_eq!(plan.service.restart, RestartPolicy::Auto);
    }

    #[test]
    fn misspelt_key_names_position_and_suggestion() {
        let message = err("[cleanup]\nremov = [\"docker\"]\n");
        assert!(message.starts_with("plan.toml:2:1:"), "{message}");
        assert!(message.contains("did you mean `remove`?"), "{message}");
        let message = err("[engin]\n");
        assert!(message.contains("did you mean `engine`?"), "{message}");
    }

    #[test]
    fn wrong_type_and_malformed_toml_have_positions() {
        let message = err("[repo]\ngpgcheck = \"yes\"\n");
        assert!(message.starts_with("plan.toml:2:12:"), "{message}");
        let message = err("[repo\n");
        assert!(message.starts_with("plan.toml:1:"), "{message}");
        let message = err("[engine]\nversion = \"banana\"\n");
        assert!(message.starts_with("plan.toml:2:11:"), "{message}");
    }

    #[test]
    fn removing_what_the_engine_installs_is_refused() {
        let message = err("[cleanup]\nremove = [\"docker\", \"docker-ce\"]\n");
        assert!(message.starts_with("plan.toml:2:10:"), "{message}");
        assert!(message.contains("docker-ce"), "{message}");
    }

    #[test]
    fn daemon_keys_keep_plan_order() {
        let plan = parse(
            Path::new("p.toml"),
            "[daemon]\nregistry-mirrors = [\"https://m.example\"]\nlog-driver = \"json-file\"\n",
        )
        .unwrap();
        let keys: Vec<&String> = plan.daemon.keys().collect();
        assert_eq!(keys, ["registry-mirrors", "log-driver"]);
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("镜像\nx", 7), (2, 1));
    }
}
