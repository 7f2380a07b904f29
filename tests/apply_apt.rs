//! Acceptance (issue 11, a): the apt backend against real dpkg and apt, on a Debian 12
//! root made by debootstrap that holds Debian's docker.io and an operator's
//! daemon.json, and a signed docker-ce-style apt repo served on loopback (see
//! tests/support/apt.rs). The Ubuntu case is the same tree presented as Ubuntu 22.04
//! through its release files. Nothing is faked: apt-get runs in the tree (chroot),
//! dpkg-query reads its database, gpg signed the repo.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::apt::{AptRoot, OPERATOR_DAEMON_JSON, apt_repo};

use support::{digest_diff, output_text, rdock, strip_ansi, tree_digest};

/// What apt and dpkg could change in a tree, in detail: /etc and /var (dpkg's
/// status and info, apt's lists, caches and logs). Files under /usr change only
/// through dpkg, whose status would differ first.
fn digest(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut all = BTreeMap::new();
    for top in ["etc", "var"] {
        for (path, entry) in tree_digest(&root.join(top)) {
            all.insert(Path::new(top).join(path), entry);
        }
    }
    all
}

fn assert_same(before: &BTreeMap<PathBuf, String>, root: &Path, what: &str) {
    let diff = digest_diff(before, &digest(root));
    assert!(
        diff.is_empty(),
        "{what} changed the tree:\n{}",
        diff.join("\n")
    );
}

/// The plan, written beside the tree (never into it).
fn plan(root: &Path, source: &str, version: &str) -> PathBuf {
    plan_at(root, "plan.toml", source, version)
}

fn plan_at(root: &Path, name: &str, source: &str, version: &str) -> PathBuf {
    let path = root.with_file_name(name);
    std::fs::write(
        &path,
        format!(
            "[repo]\nsource = \"{source}\"\n\n[engine]\nversion = \"{version}\"\n\n\
             [mirrors]\ncheck = \"off\"\n\n[daemon]\nregistry-mirrors = [\"https://mirror.example.com\"]\n"
        ),
    )
    .unwrap();
    path
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", output_text(out)))
}

/// (id, summary) of every step but verify, whose wording differs by design.
fn steps(report: &Value) -> Vec<(String, String, String)> {
    report["hosts"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] != "verify")
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
                s["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The commands a `-vv` run started on the target, from its debug log.
fn commands(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(strip_ansi)
        .filter_map(|l| l.split_once("command=").map(|(_, c)| c.to_string()))
        .collect()
}

#[test]
fn docker_repo_replaces_docker_io_as_the_dry_run_said_then_nothing() {
    let repo = apt_repo().scope();
    let apt = AptRoot::debian12();
    let plan = plan(&apt.root, &repo.base_url, "26.1");
    let plan = plan.to_str().unwrap();
    let before = digest(&apt.root);
    assert!(
        apt.installed("docker.io").is_some(),
        "the image holds docker.io"
    );

    let dry = rdock(&[
        "apply",
        plan,
        "--root",
        apt.path(),
        "--dry-run",
        "--format",
        "json",
    ]);
    assert!(dry.status.success(), "{}", output_text(&dry));
    assert_same(&before, &apt.root, "the dry-run");
    let predicted = steps(&json(&dry));

    let applied = rdock(&["apply", plan, "--root", apt.path(), "--format", "json"]);
    assert!(applied.status.success(), "{}", output_text(&applied));
    let done = steps(&json(&applied));
    // Step by step the same summaries; every "would change" became "changed".
    assert_eq!(predicted.len(), done.len());
    for (p, d) in predicted.iter().zip(&done) {
        assert_eq!((&p.0, &p.2), (&d.0, &d.2), "{p:?} vs {d:?}");
        let want = if p.1 == "would_change" {
            "changed"
        } else {
            p.1.as_str()
        };
        assert_eq!(d.1, want, "{d:?}");
    }
    let engine = &done.iter().find(|s| s.0 == "engine").unwrap().2;
    assert!(
        engine.contains("install docker-ce 5:26.1.4-1~debian.12~bookworm"),
        "{engine}"
    );

    // docker.io and its containerd/runc are gone, docker-ce is at the plan's version
    // and held with its companions.
    assert_eq!(apt.installed("docker.io"), None);
    assert_eq!(apt.installed("containerd"), None);
    let have = apt.dpkg(&["docker-ce", "docker-ce-cli", "containerd.io"]);
    assert_eq!(
        have["docker-ce"],
        ("5:26.1.4-1~debian.12~bookworm".into(), "hi".into())
    );
    assert_eq!(have["docker-ce-cli"].0, "5:26.1.4-1~debian.12~bookworm");
    assert_eq!(have["containerd.io"], ("1.6.33-1".into(), "hi".into()));
    // The source file and its keyring, from the same source.
    let source = apt.read("etc/apt/sources.list.d/docker.sources").unwrap();
    assert!(
        source.contains(&format!("URIs: {}/linux/debian\n", repo.base_url)),
        "{source}"
    );
    assert!(source.contains("Suites: bookworm\n") && source.contains("Architectures: amd64\n"));
    assert!(source.contains("Signed-By: /etc/apt/keyrings/docker.asc\n"));
    let key = std::fs::read(apt_repo().dir.join("linux/debian/gpg")).unwrap();
    assert_eq!(
        std::fs::read(apt.root.join("etc/apt/keyrings/docker.asc")).unwrap(),
        key
    );
    // The operator's keys are kept, in place, beside the plan's.
    let daemon: Value = serde_json::from_str(&apt.read("etc/docker/daemon.json").unwrap()).unwrap();
    let operator: Value = serde_json::from_str(OPERATOR_DAEMON_JSON).unwrap();
    for (key, value) in operator.as_object().unwrap() {
        assert_eq!(&daemon[key], value, "{key}");
    }
    assert_eq!(daemon["registry-mirrors"][0], "https://mirror.example.com");

    // A second run changes nothing and runs no apt command: the fact queries only,
    // and the repo is not asked.
    let asked = repo.requests().len();
    let again = rdock(&[
        "-vv",
        "apply",
        plan,
        "--root",
        apt.path(),
        "--format",
        "json",
    ]);
    assert!(again.status.success(), "{}", output_text(&again));
    let report = json(&again);
    assert_eq!(report["hosts"][0]["status"], "ok", "{report}");
    let ran = commands(&again);
    assert!(ran.iter().any(|c| c.starts_with("dpkg-query")), "{ran:?}");
    for command in &ran {
        let first = command.split_whitespace().next().unwrap_or("");
        assert!(
            ["dpkg-query", "chroot", "systemctl", "rpm"].contains(&first)
                && !command.contains("apt-get")
                && !command.contains("apt-cache")
                && !command.contains("apt-mark"),
            "a converged run ran {command}"
        );
    }
    assert_eq!(
        repo.requests().len(),
        asked,
        "a converged run asked the repo"
    );
}

/// A dry-run, then an apply, of `plan` on `apt`: each fails (exit 1) and leaves the
/// tree as it was; `says` holds for what each printed.
fn both_fail_unchanged(apt: &AptRoot, plan: &Path, says: &dyn Fn(&str) -> bool) {
    let before = digest(&apt.root);
    for dry in [true, false] {
        let mut args = vec!["apply", plan.to_str().unwrap(), "--root", apt.path()];
        if dry {
            args.push("--dry-run");
        }
        let out = rdock(&args);
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(says(&text), "not in the output: {text}");
        assert_same(&before, &apt.root, &format!("a failed run (dry-run {dry})"));
    }
}

#[test]
fn a_pinned_version_the_repo_does_not_offer_fails_before_any_change() {
    let repo = apt_repo().scope();
    let apt = AptRoot::debian12();
    let plan = plan(&apt.root, &repo.base_url, "=25.0.9");
    // The offers are listed, newest first.
    both_fail_unchanged(&apt, &plan, &|text| {
        text.contains(
            "5:26.1.4-1~debian.12~bookworm, 5:25.0.5-1~debian.12~bookworm, \
             5:24.0.7-1~debian.12~bookworm",
        )
    });
}

#[test]
fn an_unreachable_repo_fails_in_apts_words_in_dry_run_and_apply() {
    // A port where nothing listens: the keyring (fetched from the same source) does
    // not come.
    let apt = AptRoot::debian12();
    let dead = format!("http://127.0.0.1:{}", support::free_port());
    let plan = plan(&apt.root, &dead, "26.1");
    both_fail_unchanged(&apt, &plan, &|text| {
        text.contains("Connection refused") || text.contains("Could not connect")
    });
    // The repo answers (its key comes) but has no suite for this host: the tree
    // presented as Debian 13 (trixie), which the served repo does not carry. apt's
    // update in the scratch directory fails, and says why.
    let repo = apt_repo().scope();
    let trixie = "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nNAME=\"Debian GNU/Linux\"\n\
                  VERSION_ID=\"13\"\nVERSION_CODENAME=trixie\nID=debian\n";
    let _ = std::fs::remove_file(apt.root.join("etc/os-release"));
    std::fs::write(apt.root.join("etc/os-release"), trixie).unwrap();
    let plan = plan_at(&apt.root, "trixie.toml", &repo.base_url, "26.1");
    both_fail_unchanged(&apt, &plan, &|text| text.contains("trixie Release"));
}

#[test]
fn ubuntu_takes_its_own_tree_and_suite() {
    let repo = apt_repo().scope();
    let apt = AptRoot::ubuntu2204();
    let plan = plan(&apt.root, &repo.base_url, "24.0");
    let out = rdock(&["apply", plan.to_str().unwrap(), "--root", apt.path()]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        apt.installed("docker-ce").as_deref(),
        Some("5:24.0.7-1~ubuntu.22.04~jammy")
    );
    let source = apt.read("etc/apt/sources.list.d/docker.sources").unwrap();
    assert!(
        source.contains("/linux/ubuntu\nSuites: jammy\n"),
        "{source}"
    );
    assert!(
        repo.requests()
            .iter()
            .any(|r| r.starts_with("/linux/ubuntu/dists/jammy/"))
    );
}

#[test]
fn distro_source_keeps_docker_io_and_writes_no_docker_repo() {
    let apt = AptRoot::debian12();
    let plan = plan(&apt.root, "distro", "latest");
    let before = digest(&apt.root);
    let out = rdock(&[
        "apply",
        plan.to_str().unwrap(),
        "--root",
        apt.path(),
        "--dry-run",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", output_text(&out));
    let report = steps(&json(&out));
    let step = |id: &str| report.iter().find(|s| s.0 == id).unwrap().clone();
    assert_eq!(step("engine").1, "unchanged", "{report:?}");
    assert!(
        step("engine").2.starts_with("docker.io 20.10.24"),
        "{report:?}"
    );
    assert_eq!(step("cleanup").1, "unchanged", "{report:?}");
    assert_eq!(step("repo").1, "unchanged", "{report:?}");
    assert_eq!(step("daemon-json").1, "would_change", "{report:?}");
    assert_same(&before, &apt.root, "the dry-run");
}

/// README's playbook with Docker's repo instead of the distribution's engine: the plan
/// replaces docker.io with docker-ce and shows the source file it writes.
#[test]
fn the_readme_playbook_with_dockers_repo_replaces_docker_io() {
    let repo = apt_repo().scope();
    let apt = AptRoot::debian12();
    let playbook = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/playbooks/docker-host.toml"
    ))
    .unwrap();
    assert!(playbook.contains("\nsource = \"distro\"\n"));
    let plan = apt.root.with_file_name("docker-host.toml");
    std::fs::write(
        &plan,
        playbook.replace(
            "\nsource = \"distro\"\n",
            &format!("\nsource = \"{}\"\n", repo.base_url),
        ),
    )
    .unwrap();
    let before = digest(&apt.root);
    let out = rdock(&[
        "apply",
        plan.to_str().unwrap(),
        "--root",
        apt.path(),
        "--dry-run",
    ]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("remove docker.io 20.10.24"), "{text}");
    assert!(
        text.contains("install docker-ce 5:26.1.4-1~debian.12~bookworm"),
        "{text}"
    );
    assert!(
        text.contains("+++ /etc/apt/sources.list.d/docker.sources"),
        "{text}"
    );
    assert!(
        text.contains(&format!("+URIs: {}/linux/debian", repo.base_url)),
        "{text}"
    );
    assert_same(&before, &apt.root, "the dry-run");
}

/// The same through SSH (a real sshd on loopback; the host's target is the Debian root):
/// facts in one script, the scratch-dir resolve staged remotely, `chroot ROOT apt-get`
/// run remotely; a converged host costs one SSH command.
#[test]
fn over_ssh_the_apt_host_converges_and_then_costs_one_command() {
    use support::inventory::{Entry, inventory};
    use support::sshd::SshLab;
    let repo = apt_repo().scope();
    let apt = AptRoot::debian12();
    let lab = SshLab::start("deb", 1);
    let inv = inventory(&[Entry {
        name: &lab.servers[0].name,
        port: lab.servers[0].port,
        root: &apt.root,
        extra: String::new(),
    }]);
    let plan = plan(&apt.root, &repo.base_url, "25.0");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "apply".to_string(),
            plan.display().to_string(),
            "--inventory".into(),
            inv.path.display().to_string(),
            "--ssh-config".into(),
            lab.ssh_config().display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = rdock(&args.iter().map(String::as_str).collect::<Vec<_>>());
        (out.status.code(), json(&out), output_text(&out))
    };
    let before = digest(&apt.root);
    let (code, _, text) = run(&["--dry-run"]);
    assert_eq!(code, Some(0), "{text}");
    assert_same(&before, &apt.root, "the dry-run over SSH");
    let (code, report, text) = run(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["hosts"][0]["status"], "changed", "{text}");
    assert_eq!(
        apt.installed("docker-ce").as_deref(),
        Some("5:25.0.5-1~debian.12~bookworm")
    );
    assert_eq!(apt.installed("docker.io"), None);
    lab.servers[0].clear_log();
    let (code, report, text) = run(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["hosts"][0]["status"], "ok", "{text}");
    let commands = lab.servers[0].commands();
    assert_eq!(commands.len(), 1, "a converged apt host ran {commands:?}");
}

/// What apt adds to the transaction (a dependency the plan does not name: here
/// containerd.io, which docker-ce depends on) is in the plan before apply does it.
#[test]
fn dependencies_apt_pulls_in_are_in_the_plan() {
    let repo = apt_repo().scope();
    let apt = AptRoot::debian12();
    let plan = apt.root.with_file_name("deps.toml");
    std::fs::write(
        &plan,
        format!(
            "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"26.1\"\npackages = [\"docker-ce\", \"docker-ce-cli\"]\nplugins = []\n",
            repo.base_url
        ),
    )
    .unwrap();
    let dry = rdock(&[
        "apply",
        plan.to_str().unwrap(),
        "--root",
        apt.path(),
        "--dry-run",
        "--format",
        "json",
    ]);
    assert!(dry.status.success(), "{}", output_text(&dry));
    let report = json(&dry);
    let notes: Vec<String> = report["hosts"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["notes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    assert!(
        notes.contains(
            &"apt also installs what these depend on: containerd.io 1.6.33-1".to_string()
        ),
        "{notes:?}"
    );
    let out = rdock(&["apply", plan.to_str().unwrap(), "--root", apt.path()]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(apt.installed("containerd.io").as_deref(), Some("1.6.33-1"));
}

/// The machine's own apt hooks run nothing in the scratch runs of a dry-run: a hook
/// of `apt-get update` (given here through APT_CONFIG, which apt reads first, as it
/// would read /etc/apt/apt.conf.d) leaves no trace.
#[test]
fn a_dry_run_runs_no_apt_hook_of_the_machine() {
    let repo = apt_repo().scope();
    let apt = AptRoot::debian12();
    let plan = plan(&apt.root, &repo.base_url, "26.1");
    let marker = apt.root.with_file_name("hook-ran");
    let config = apt.root.with_file_name("hook.conf");
    std::fs::write(
        &config,
        format!(
            "APT::Update::Post-Invoke-Success {{ \"touch {m}\"; }};\nAPT::Update::Post-Invoke {{ \"touch {m}\"; }};\n",
            m = marker.display()
        ),
    )
    .unwrap();
    let mut cmd = support::rdock_cmd(&[
        "apply",
        plan.to_str().unwrap(),
        "--root",
        apt.path(),
        "--dry-run",
    ]);
    cmd.env("APT_CONFIG", &config);
    let out = support::run_retrying_etxtbsy(cmd);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("install docker-ce"));
    assert!(!marker.exists(), "an apt hook ran during the dry-run");
}
