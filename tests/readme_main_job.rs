//! Acceptance (issue 11, d): README's first command, on the machine the tests run on
//! (a Debian 12 machine after scripts/deps, which installs Debian's docker.io), exits 0
//! with a complete plan for this host (every step with its decision) and leaves /etc
//! and dpkg's status byte-identical. The binary under test stands for `cargo run
//! --release --` (the same code); scripts/deps ran before the tests (.ci/run). .ci/run
//! also runs the command itself and compares /etc and dpkg's status around it.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{digest_diff, output_text, tree_digest};

const STEPS: &[&str] = &[
    "preflight",
    "os-repos",
    "repo",
    "metadata",
    "cleanup",
    "prerequisites",
    "engine",
    "purge-data",
    "daemon-json",
    "proxy",
    "docker-group",
    "service",
    "verify",
];

/// The arguments README's first command gives the tool.
fn readme_args() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .expect("README has a sh block");
    let first = block.lines().next().unwrap();
    let command = first.split('#').next().unwrap().trim();
    let args = command
        .strip_prefix("scripts/deps && cargo run --release -- ")
        .unwrap_or_else(|| panic!("README's first command changed shape: {command}"));
    args.split_whitespace().map(str::to_string).collect()
}

fn state() -> BTreeMap<PathBuf, String> {
    let mut all = tree_digest(Path::new("/etc"));
    all.insert(
        PathBuf::from("/var/lib/dpkg/status"),
        format!(
            "{:016x}",
            support::fnv1a(&std::fs::read("/var/lib/dpkg/status").unwrap_or_default())
        ),
    );
    all
}

#[test]
fn readme_main_job_plans_this_host_and_changes_nothing() {
    let args = readme_args();
    assert!(args.contains(&"--dry-run".to_string()), "{args:?}");
    let before = state();
    let out = Command::new(env!("CARGO_BIN_EXE_rdock-setup"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    let diff = digest_diff(&before, &state());
    assert!(
        diff.is_empty(),
        "README's main job changed:\n{}",
        diff.join("\n")
    );

    let stdout = String::from_utf8_lossy(&out.stdout);
    for id in STEPS {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no decision for step {id}: {text}"));
        let rest = line.trim_start()[id.len()..].trim();
        assert!(
            rest.split_whitespace().count() >= 2,
            "{id} has no summary: {line}"
        );
    }
    // Truthful: the engine line names what this host has.
    let docker_io = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version} ${db:Status-Abbrev}", "docker.io"])
        .output()
        .unwrap();
    let docker_io = String::from_utf8_lossy(&docker_io.stdout).to_string();
    if let Some(version) = docker_io.strip_suffix(" ii ") {
        let engine = stdout
            .lines()
            .find(|l| l.trim_start().starts_with("engine "))
            .unwrap();
        assert!(
            engine.contains(&format!("docker.io {version} installed")),
            "{engine}"
        );
    }
}
