//! Merging against real-world daemon.json files (issue 5, acceptance a).
//!
//! `tests/data/daemon-json/` holds files gathered from public examples (its SOURCES.md
//! says where each comes from), byte for byte as their authors wrote them: tabs, odd
//! indentation, CRLF line ends, no final newline, one compact line, key orders unlike
//! ours. For every file and two plans:
//! - the file parses;
//! - the merge keeps every key the plan does not name, with its value (member order
//!   included) and in its order, and gives the plan's keys the plan's values;
//! - the rendered result is JSON that parses back to the same map, and merging the plan
//!   into it again needs no write and renders the same bytes;
//! - a plan equal to the file's own values needs no write, so the operator's formatting
//!   stays.
//!
//! Then a real dockerd (Debian's docker.io, 20.10) is started on every merged file, one
//! at a time, each in a throwaway directory and in its own mount, network and PID
//! namespaces, and must show the plan's mirror in `docker info`. A file that dockerd
//! refuses is started again as the original sample: when the original is refused too,
//! the sample is skipped (the reason is listed); when only the merge is refused, the test
//! fails, unless `PLAN_CONFLICTS` names the sample and the refusal. See `make_safe` for
//! what is rewritten before a start, and why.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::merge::needs_write;
use super::{changed_keys, merge, object, parse_existing, render};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/daemon-json");

const MIRROR: &str = "https://mirror.example.com";

/// What `docker info` prints for the plan's mirrors (dockerd adds the trailing slash).
const MIRRORS_SHOWN: &str = "[\"https://mirror.example.com/\"]";

/// Samples whose merge dockerd 20.10 refuses although it accepts the original, because
/// the plan's value does not fit a key of the file that the plan does not name: (sample,
/// what dockerd says). The test holds dockerd to exactly this refusal, and to accepting
/// the original.
///
/// The journald driver takes no `max-size`: a plan that sets `log-opts` without
/// `log-driver` breaks dockerd on a host whose daemon.json says `"log-driver":
/// "journald"` (or, on CentOS 7's docker package, `--log-driver=journald` in
/// /etc/sysconfig/docker). Merging is right to set the plan's value; what catches the
/// mismatch has to look at the host's effective log driver, which checking the plan
/// alone cannot do.
const PLAN_CONFLICTS: &[(&str, &str)] = &[(
    "11-journald-tag.json",
    "unknown log opt 'max-size' for journald log driver",
)];

/// Fewer started samples than this fails the dockerd test.
const MIN_STARTED: usize = 10;

struct Sample {
    name: String,
    bytes: Vec<u8>,
    map: Map<String, Value>,
}

/// Every `*.json` file of the samples directory, by name, parsed.
fn samples() -> Vec<Sample> {
    let entries = fs::read_dir(DIR).unwrap_or_else(|e| panic!("{DIR}: {e}"));
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        (12..=20).contains(&names.len()),
        "{DIR} holds {} samples, expected 12 to 20",
        names.len()
    );
    names
        .into_iter()
        .map(|name| {
            let path = Path::new(DIR).join(&name);
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let map = match parse_existing(&bytes) {
                Ok(map) => map,
                Err(e) => panic!("{name}:{}:{}: {e} ({})", e.line(), e.column(), e.advice()),
            };
            Sample { name, bytes, map }
        })
        .collect()
}

/// The two plans merged into every sample: (label, `[daemon]` keys).
fn plans() -> Vec<(&'static str, Map<String, Value>)> {
    vec![
        (
            "mirror and log-opts",
            object(json!({"registry-mirrors": [MIRROR], "log-opts": {"max-size": "10m"}})),
        ),
        ("debug only", object(json!({"debug": true}))),
    ]
}

/// A value's JSON text. Unlike `==` on maps, which ignores member order, equal texts
/// mean equal member order too.
fn text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| panic!("serialize: {e}"))
}

fn keys(map: &Map<String, Value>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

/// `value` with the members of every object, at any depth, in reverse order. Array
/// order means something to dockerd and stays.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_sample_parses_as_serde_json_reads_it_and_has_a_source() {
    let sources = fs::read_to_string(Path::new(DIR).join("SOURCES.md"))
        .unwrap_or_else(|e| panic!("{DIR}/SOURCES.md: {e}"));
    let samples = samples();
    for s in &samples {
        let plain: Map<String, Value> = serde_json::from_slice(&s.bytes)
            .unwrap_or_else(|e| panic!("{}: serde_json refuses it: {e}", s.name));
        assert_eq!(text(&s.map), text(&plain), "{}", s.name);
        assert!(!s.map.is_empty(), "{}", s.name);
        assert!(
            sources.contains(&format!("`{}`", s.name)),
            "{}: no line in SOURCES.md",
            s.name
        );
    }
    // The collection keeps the formats it was gathered for.
    let has = |what: &str, test: &dyn Fn(&[u8]) -> bool| {
        assert!(
            samples.iter().any(|s| test(&s.bytes)),
            "no sample with {what}"
        );
    };
    has("tab indentation", &|b| b.windows(2).any(|w| w == b"\n\t"));
    has("a tab elsewhere", &|b| b.windows(2).any(|w| w == b",\t"));
    has("CRLF line ends", &|b| b.windows(2).any(|w| w == b"\r\n"));
    has("no final newline", &|b| b.last() == Some(&b'}'));
    has("a single line", &|b| {
        b.iter().filter(|&&c| c == b'\n').count() == 1
    });
    has("a space before a colon", &|b| {
        b.windows(3).any(|w| w == b"\" :")
    });
}

#[test]
fn the_merge_keeps_every_original_key_in_place_and_sets_the_plans() {
    for s in samples() {
        for (label, plan) in plans() {
            let at = format!("{} + {label}", s.name);
            let merged = merge(&s.map, &plan);
            for (key, value) in &s.map {
                if !plan.contains_key(key) {
                    let kept = merged.get(key).map(text);
                    assert_eq!(kept, Some(text(value)), "{at}: {key}");
                }
            }
            for (key, value) in &plan {
                assert_eq!(merged.get(key).map(text), Some(text(value)), "{at}: {key}");
            }
            // The file's other keys keep their relative order...
            let others = |map: &Map<String, Value>| -> Vec<String> {
                map.keys()
                    .filter(|key| !plan.contains_key(*key))
                    .cloned()
                    .collect()
            };
            assert_eq!(others(&merged), others(&s.map), "{at}");
            // ...and, as merge promises, every key of the file keeps its place and the
            // plan's new keys follow, in the plan's order.
            let mut expected = keys(&s.map);
            expected.extend(
                plan.keys()
                    .map(String::as_str)
                    .filter(|key| !s.map.contains_key(*key)),
            );
            assert_eq!(keys(&merged), expected, "{at}");
        }
    }
}

#[test]
fn the_rendered_merge_parses_back_and_a_second_merge_is_a_byte_for_byte_no_op() {
    for s in samples() {
        for (label, plan) in plans() {
            let at = format!("{} + {label}", s.name);
            let merged = merge(&s.map, &plan);
            let first = render(&merged);
            serde_json::from_slice::<Value>(&first)
                .unwrap_or_else(|e| panic!("{at}: the rendered file is not JSON: {e}"));
            let reparsed = match parse_existing(&first) {
                Ok(map) => map,
                Err(e) => panic!("{at}: {}:{}: {e}", e.line(), e.column()),
            };
            assert_eq!(text(&reparsed), text(&merged), "{at}");
            assert!(!needs_write(&reparsed, &plan), "{at}");
            assert_eq!(changed_keys(&reparsed, &plan), Vec::<String>::new(), "{at}");
            let second = render(&merge(&reparsed, &plan));
            assert_eq!(
                String::from_utf8_lossy(&second),
                String::from_utf8_lossy(&first),
                "{at}"
            );
            assert_eq!(second, first, "{at}");
        }
    }
}

#[test]
fn a_plan_equal_to_the_files_own_values_needs_no_write() {
    for s in samples() {
        // The whole file as the plan; the same with every object's members reversed (equal
        // as data); and each key alone.
        let mut plans = vec![
            ("the whole file".to_string(), s.map.clone()),
            (
                "the whole file, members reversed".to_string(),
                object(reversed(&Value::Object(s.map.clone()))),
            ),
        ];
        for (key, value) in &s.map {
            let mut one = Map::new();
            one.insert(key.clone(), value.clone());
            plans.push((format!("\"{key}\" alone"), one));
        }
        for (label, plan) in plans {
            let at = format!("{} + {label}", s.name);
            assert!(!needs_write(&s.map, &plan), "{at}");
            assert_eq!(changed_keys(&s.map, &plan), Vec::<String>::new(), "{at}");
            // Nothing to write, and a merge would not even reorder a member.
            assert_eq!(text(&merge(&s.map, &plan)), text(&s.map), "{at}");
        }
    }
}

// ---------------------------------------------------------------------------------
// A real dockerd

/// The programs the dockerd test runs.
struct Tools {
    dockerd: PathBuf,
    docker: PathBuf,
    unshare: PathBuf,
    runc: PathBuf,
}

/// `name` on PATH, or in the sbin directories a non-root PATH lacks.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The tools, or a failure that says how to get them: this test does not skip.
fn tools() -> Tools {
    let need = |name: &str, from: &str| {
        program(name).unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: {from}. This test starts a real dockerd \
                 (Debian 12's docker.io, 20.10) and does not skip without one"
            )
        })
    };
    let deps = |package: &str| format!("scripts/deps installs Debian's {package}");
    let tools = Tools {
        dockerd: need("dockerd", &deps("docker.io")),
        docker: need("docker", &deps("docker.io")),
        unshare: need("unshare", &deps("util-linux")),
        runc: need("runc", &deps("runc")),
    };
    need("ip", &deps("iproute2"));
    need("mount", "it comes with Debian's essential mount package");
    tools
}

/// How one start of dockerd went.
enum Start {
    /// `docker info` answered, with these mirrors (as JSON), after this long; then
    /// dockerd got SIGTERM and exited with this status (None: not within 20 s).
    Answered(String, Duration, Option<ExitStatus>),
    /// dockerd exited at once; the reason is its last words.
    Refused(String),
}

/// Rewrites what would make dockerd touch this machine outside `dir`, without touching
/// the keys under test (the plan's); returns the command-line flags to add and a note per
/// rewrite. Decided key by key:
/// - `data-root`, `exec-root`, `pidfile`, `hosts` (and `graph`, 20.10's old name for
///   data-root) point into `dir`: in the file when the file has the key, else as a flag,
///   since dockerd refuses a setting given both ways;
/// - `containerd` naming a socket (the machine's containerd) becomes "", so that dockerd
///   starts its own containerd under the exec root;
/// - a runtime `path` that is absolute and missing becomes this machine's runc: 20.10
///   refuses to start when an absolute runtime path does not exist (a bare name such as
///   `nvidia-container-runtime` is not looked up until a container starts, and stays);
/// - `log-driver` stays whatever it names: at start 20.10 only checks the driver's
///   options, and it reaches journald, syslog or a network logger only when a container
///   starts, which this test never does;
/// - networking stays: dockerd runs in a network namespace of its own, so a bridge it
///   makes (`bip`, `bridge`), iptables rules, `ip-forward` and listeners (`metrics-addr`)
///   stay in there. `--iptables=false --ip6tables=false --ip-masq=false --bridge=none`
///   are added only for what the file does not set (and no `--bridge` when the file sets
///   `bip`: dockerd refuses the two together);
/// - TLS settings stay: they only make dockerd read files, and a sample whose
///   certificates are missing is refused as it would be anywhere (a skip);
/// - a key the harness cannot make harmless fails the test first (`refuse_unknown_harm`).
///
/// Outside the file, the start itself hides /run, /etc/docker and /opt behind private
/// tmpfs mounts (see `launch`): dockerd 20.10 writes /etc/docker/key.json and
/// /run/docker/plugins, and its containerd /opt/containerd, whatever the flags say.
fn make_safe(
    mut map: Map<String, Value>,
    dir: &Path,
    tools: &Tools,
) -> (Map<String, Value>, Vec<String>, Vec<String>) {
    let mut flags = Vec::new();
    let mut notes = Vec::new();
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let sock = format!("unix://{}", at("docker.sock"));

    let mut set = |map: &mut Map<String, Value>, key: &str, value: Value| {
        if let Some(old) = map.insert(key.to_string(), value) {
            notes.push(format!("{key}: {old} -> the temp dir"));
        }
    };
    // (the flag, the file's names for it, where it points)
    let paths: [(&str, &[&str], &str); 3] = [
        ("data-root", &["data-root", "graph"], "data"),
        ("exec-root", &["exec-root"], "exec"),
        ("pidfile", &["pidfile"], "docker.pid"),
    ];
    for (flag, names, target) in paths {
        let in_file: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| map.contains_key(*name))
            .collect();
        if in_file.is_empty() {
            flags.push(format!("--{flag}={}", at(target)));
        }
        for name in in_file {
            set(&mut map, name, Value::String(at(target)));
        }
    }
    if map.contains_key("hosts") {
        set(&mut map, "hosts", json!([sock]));
    } else {
        flags.push(format!("--host={sock}"));
    }
    if map
        .get("containerd")
        .and_then(Value::as_str)
        .is_some_and(|address| !address.is_empty())
    {
        set(&mut map, "containerd", json!(""));
    }
    if let Some(Value::Object(runtimes)) = map.get_mut("runtimes") {
        for (name, runtime) in runtimes.iter_mut() {
            let Some(path) = runtime.get("path").and_then(Value::as_str) else {
                continue;
            };
            if path.starts_with('/') && !Path::new(path).exists() {
                let runc = tools.runc.to_string_lossy().into_owned();
                notes.push(format!("runtimes.{name}.path: {path} (missing) -> {runc}"));
                runtime["path"] = Value::String(runc);
            }
        }
    }
    for key in ["iptables", "ip6tables", "ip-masq"] {
        if !map.contains_key(key) {
            flags.push(format!("--{key}=false"));
        }
    }
    if !map.contains_key("bridge") && !map.contains_key("bip") {
        flags.push("--bridge=none".to_string());
    }
    (map, flags, notes)
}

/// Fails on a key whose effect on this machine `make_safe` does not undo: `userns-remap`
/// adds users and subordinate ID ranges, `cluster-store` and `cluster-advertise` dial a
/// key-value store. No sample sets them; one that does needs handling in `make_safe`.
fn refuse_unknown_harm(map: &Map<String, Value>) {
    for key in ["userns-remap", "cluster-store", "cluster-advertise"] {
        let harmless = match map.get(key) {
            None => true,
            Some(value) => value.as_str() == Some(""),
        };
        assert!(
            harmless,
            "a sample sets \"{key}\": teach make_safe how to keep it off this machine"
        );
    }
}

/// A started dockerd and its directory: dropping it stops whatever still runs, unmounts
/// whatever is left under the directory and removes the directory, even when the test
/// fails half-way.
struct Daemon {
    /// `unshare`, whose child in the new PID namespace is dockerd.
    launcher: Child,
    dir: PathBuf,
}

impl Daemon {
    /// Starts dockerd on `file` in a new directory, each namespace of its own.
    fn launch(tools: &Tools, file: &Map<String, Value>) -> (Daemon, Vec<String>) {
        refuse_unknown_harm(file);
        let dir = tempfile::Builder::new()
            .prefix("rdock-samples-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"))
            .keep();
        let (file, flags, notes) = make_safe(file.clone(), &dir, tools);
        let config = dir.join("daemon.json");
        let log = dir.join("dockerd.log");
        let written = fs::write(&config, render(&file));
        let log_file = fs::File::create(&log);
        let (Ok(()), Ok(log_file)) = (written, log_file) else {
            let _ = fs::remove_dir_all(&dir);
            panic!("cannot write into {}", dir.display());
        };
        let stderr = log_file
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        // Private tmpfs mounts hide the directories dockerd writes to whatever its
        // configuration says (never the one holding `dir`); the mount namespace goes away
        // with its last process, and --kill-child takes the PID namespace down with the
        // launcher.
        let mut script = String::from("set -e; ");
        for hidden in ["/run", "/etc/docker", "/opt"] {
            if Path::new(hidden).is_dir() && !dir.starts_with(hidden) {
                script.push_str(&format!("mount -t tmpfs -o mode=0755 rdock {hidden}; "));
            }
        }
        script.push_str("ip link set lo up; exec \"$@\"");
        let spawned = Command::new(&tools.unshare)
            .args([
                "--mount",
                "--net",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                "sh",
                "-c",
                &script,
                "sh",
            ])
            .arg(&tools.dockerd)
            .arg(format!("--config-file={}", config.display()))
            .args(&flags)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .spawn();
        match spawned {
            Ok(launcher) => (Daemon { launcher, dir }, notes),
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                panic!("{}: {e}", tools.unshare.display());
            }
        }
    }

    /// Waits (at most `limit`) for `docker info` to answer or for dockerd to exit.
    fn wait_ready(&mut self, tools: &Tools, limit: Duration) -> Start {
        let started = Instant::now();
        let sock = format!("unix://{}", self.dir.join("docker.sock").display());
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.launcher.try_wait() {
                return Start::Refused(self.last_words(status));
            }
            let info = Command::new(&tools.docker)
                .args([
                    "-H",
                    &sock,
                    "info",
                    "--format",
                    "{{json .RegistryConfig.Mirrors}}",
                ])
                .env("DOCKER_CONFIG", self.dir.join("cli"))
                .env_remove("DOCKER_HOST")
                .env_remove("DOCKER_CONTEXT")
                .env_remove("DOCKER_TLS_VERIFY")
                .env_remove("DOCKER_CERT_PATH")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output();
            if let Ok(out) = info
                && out.status.success()
            {
                let mirrors = String::from_utf8_lossy(&out.stdout).trim().to_string();
                return Start::Answered(mirrors, started.elapsed(), None);
            }
            sleep(Duration::from_millis(100));
        }
        Start::Refused(format!(
            "no answer from docker info within {limit:?}; dockerd said: {}",
            self.log_tail()
        ))
    }

    /// What dockerd said last: the line it printed on its way out, else its last error.
    fn last_words(&self, status: ExitStatus) -> String {
        let log = fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let dir = self.dir.to_string_lossy();
        let lines: Vec<String> = log
            .lines()
            .map(|line| line.replace(dir.as_ref(), "<tmp>"))
            .filter(|line| !line.trim().is_empty())
            .collect();
        let plain = lines.iter().rev().find(|line| !line.starts_with("time="));
        let error = lines
            .iter()
            .rev()
            .find(|line| line.contains("level=fatal") || line.contains("level=error"));
        match plain.or(error) {
            Some(line) => line.clone(),
            None => format!("dockerd exited ({status}) without saying why"),
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }

    /// SIGTERM to dockerd, then waits for it to exit (at most 20 s, else SIGKILL).
    fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(pid) = child_of(self.launcher.id()) {
            let _ = Command::new("sh")
                .args(["-c", "kill -TERM \"$1\"", "sh", &pid.to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match self.launcher.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => sleep(Duration::from_millis(50)),
                Err(_) => break,
            }
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGKILL to the launcher: --kill-child then kills dockerd, the init of its PID
        // namespace, and the kernel every process left in there (containerd).
        if let Ok(None) = self.launcher.try_wait() {
            let _ = self.launcher.kill();
        }
        let _ = self.launcher.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !processes_under(&self.dir).is_empty() && Instant::now() < deadline {
            sleep(Duration::from_millis(50));
        }
        // A dockerd that failed can leave mounts under its data root; in its own mount
        // namespace none should reach this one, but look anyway, deepest first.
        for mount in mounts_under(&self.dir).iter().rev() {
            let _ = Command::new("umount").arg("--lazy").arg(mount).status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The first process whose parent is `parent`.
fn child_of(parent: u32) -> Option<u32> {
    let entries = fs::read_dir("/proc").ok()?;
    entries.filter_map(|entry| entry.ok()).find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (ppid == parent).then_some(pid)
    })
}

/// Processes whose command line names `dir` (dockerd, its containerd).
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter_map(|entry| {
            let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then(|| {
                format!(
                    "{}: {}",
                    entry.file_name().to_string_lossy(),
                    cmdline.trim()
                )
            })
        })
        .collect()
}

/// Mount points at or under `dir` in this mount namespace, in mount order.
fn mounts_under(dir: &Path) -> Vec<String> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let dir = dir.to_string_lossy().into_owned();
    info.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|point| point.replace("\\040", " "))
        .filter(|point| point == &dir || point.starts_with(&format!("{dir}/")))
        .collect()
}

/// Starts dockerd on `file`, waits for `docker info`, stops it and cleans up, then
/// checks that nothing is left: no process, no mount, no directory.
fn start_once(tools: &Tools, file: &Map<String, Value>) -> (Start, Vec<String>) {
    let (mut daemon, notes) = Daemon::launch(tools, file);
    let dir = daemon.dir.clone();
    let mut start = daemon.wait_ready(tools, Duration::from_secs(15));
    if let Start::Answered(_, _, exit) = &mut start {
        *exit = daemon.stop();
    }
    drop(daemon);
    let processes = processes_under(&dir);
    assert!(processes.is_empty(), "left running: {processes:?}");
    let mounts = mounts_under(&dir);
    assert!(mounts.is_empty(), "left mounted: {mounts:?}");
    assert!(!dir.exists(), "left behind: {}", dir.display());
    (start, notes)
}

#[test]
fn a_real_dockerd_accepts_every_merged_sample() {
    let tools = tools();
    let plan = object(json!({"registry-mirrors": [MIRROR], "log-opts": {"max-size": "10m"}}));
    let mut started = Vec::new();
    let mut skipped = Vec::new();
    let mut conflicts = Vec::new();
    let mut problems = Vec::new();
    for s in samples() {
        // What would be written: the rendered merge, read back.
        let merged = match parse_existing(&render(&merge(&s.map, &plan))) {
            Ok(map) => map,
            Err(e) => panic!("{}: {e}", s.name),
        };
        let conflict = PLAN_CONFLICTS
            .iter()
            .find(|(name, _)| *name == s.name)
            .map(|(_, reason)| *reason);
        let (start, notes) = start_once(&tools, &merged);
        let rewrites = if notes.is_empty() {
            String::new()
        } else {
            format!(" [rewrote {}]", notes.join("; "))
        };
        match (start, conflict) {
            (Start::Answered(mirrors, took, exit), None) => {
                if mirrors != MIRRORS_SHOWN {
                    problems.push(format!(
                        "{}: docker info shows mirrors {mirrors}, not {MIRRORS_SHOWN}",
                        s.name
                    ));
                } else if let Some(exit) = exit {
                    println!(
                        "started  {} in {took:.1?}, SIGTERM: {exit}{rewrites}",
                        s.name
                    );
                    started.push(s.name.clone());
                } else {
                    problems.push(format!(
                        "{}: dockerd did not exit within 20 s of SIGTERM",
                        s.name
                    ));
                }
            }
            (Start::Answered(..), Some(reason)) => problems.push(format!(
                "{}: dockerd now accepts the merge; drop it from PLAN_CONFLICTS ({reason})",
                s.name
            )),
            (Start::Refused(refusal), conflict) => {
                // Judge by the original: refused too means a reason unrelated to the merge.
                let (original, _) = start_once(&tools, &s.map);
                match (original, conflict) {
                    (Start::Refused(why), None) => {
                        println!(
                            "skipped  {}: dockerd 20.10 refuses the original: {why}",
                            s.name
                        );
                        skipped.push(format!("{}: {why}", s.name));
                    }
                    (Start::Answered(..), Some(reason)) if refusal.contains(reason) => {
                        println!("conflict {}: the merge is refused: {refusal}", s.name);
                        conflicts.push(s.name.clone());
                    }
                    (Start::Answered(..), _) => problems.push(format!(
                        "{}: dockerd accepts the original but refuses the merge: {refusal}",
                        s.name
                    )),
                    (Start::Refused(why), Some(_)) => problems.push(format!(
                        "{}: listed in PLAN_CONFLICTS, but the original is refused too: {why}",
                        s.name
                    )),
                }
            }
        }
    }
    println!(
        "{} started, {} skipped, {} plan conflicts",
        started.len(),
        skipped.len(),
        conflicts.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(conflicts.len(), PLAN_CONFLICTS.len(), "{conflicts:?}");
    assert!(
        started.len() >= MIN_STARTED,
        "only {} samples started ({started:?}); skipped:\n{}",
        started.len(),
        skipped.join("\n")
    );
}
