//! `--root DIR`: paths stay inside DIR whatever its symlinks say; data is purged only
//! when the plan asks, an old install is being replaced, and the operator said --yes.

mod support;

use std::path::Path;

use support::run::{apply, plan_file};
use support::{Sandbox, digest_diff, repo};

#[test]
fn absolute_symlinks_resolve_inside_the_root() {
    let sandbox = Sandbox::centos7();
    let outside = format!("/tmp/rdock-escape-check-{}", std::process::id());
    // In an image, /etc/docker may point somewhere absolute; here that place exists
    // only inside the root. The controller's own path must never be touched.
    std::fs::create_dir_all(sandbox.path(&outside)).unwrap();
    sandbox.symlink("etc/docker", &outside);
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[daemon]\nregistry-mirrors = [\"https://m.example.com\"]\n",
        repo().base_url
    ));
    let run = apply(&sandbox, &plan.path, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(
        !Path::new(&outside).exists(),
        "the tool wrote outside the root: {outside}"
    );
    let written = sandbox
        .read_string(format!("{outside}/daemon.json"))
        .expect("daemon.json inside the root");
    assert!(written.contains("https://m.example.com"), "{written}");
    assert!(
        run.step("service").summary.contains("not started"),
        "{}",
        run.text
    );
}

#[test]
fn purge_needs_the_plan_an_old_install_and_yes() {
    let sandbox = Sandbox::centos7();
    sandbox.install(&["docker", "docker-common"]);
    sandbox.write(
        "var/lib/docker/image/overlay2/repositories.json",
        vec![b'x'; 4096],
    );
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[cleanup]\npurge_data = true\n",
        repo().base_url
    ));

    let dry = apply(&sandbox, &plan.path, &["--dry-run"]);
    let purge = dry.step("purge-data");
    assert_eq!(purge.status, "would_change", "{}", dry.text);
    assert!(
        purge.summary.contains("delete /var/lib/docker (4.0 KiB)"),
        "size shown: {}",
        dry.text
    );

    let _ = sandbox.rpm_query();
    let before = sandbox.digest();
    let refused = apply(&sandbox, &plan.path, &[]);
    assert_eq!(refused.code, Some(1), "{}", refused.text);
    assert!(
        refused.error.as_deref().unwrap_or("").contains("--yes"),
        "{}",
        refused.text
    );
    let after = sandbox.digest();
    assert!(
        before == after,
        "{}",
        digest_diff(&before, &after).join("\n")
    );

    let run = apply(&sandbox, &plan.path, &["--yes"]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(!sandbox.exists("var/lib/docker"), "purged");

    // The new engine's data is never purged, even with the same plan and --yes.
    sandbox.write("var/lib/docker/volumes/precious/data", "keep me");
    let again = apply(&sandbox, &plan.path, &["--yes"]);
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert_eq!(
        again.step("purge-data").status,
        "unchanged",
        "{}",
        again.text
    );
    assert!(sandbox.exists("var/lib/docker/volumes/precious/data"));
}

/// A build machine preparing an image: the root has docker-ce 26 (whose dockerd has
/// --validate), the machine has no dockerd, or one that is not the root's. Its own
/// dockerd is never asked about the root's file, and a missing one is no I/O error.
#[test]
fn a_root_with_docker_ce_26_needs_no_dockerd_on_this_machine() {
    let sandbox = Sandbox::rocky9();
    sandbox.add_docker_repo(&repo().base_url);
    sandbox.install(&["docker-ce", "docker-ce-cli", "containerd.io"]);
    assert!(
        sandbox.rpm_query()["docker-ce"].starts_with("3:26."),
        "{:?}",
        sandbox.rpm_query()
    );
    sandbox.write("etc/docker/daemon.json", "{\"debug\": true}\n");
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[daemon]\nregistry-mirrors = [\"https://m.example.com\"]\n",
        repo().base_url
    ));

    // The PATH of a machine without dockerd: the shims and the system's directories,
    // less any that holds a dockerd.
    let bin = tempfile::tempdir().unwrap();
    let no_dockerd = support::path_without("dockerd");
    let run_with = |path: &std::ffi::OsStr, extra: &[&str]| {
        let args = support::run::apply_args(&sandbox, &plan.path, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = support::rdock_cmd(&args);
        cmd.env("PATH", path);
        support::run::parse(support::run_retrying_etxtbsy(cmd))
    };
    let dry = run_with(&no_dockerd, &["--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.text);
    assert_eq!(
        dry.step("daemon-json").status,
        "would_change",
        "{}",
        dry.text
    );

    // A dockerd that is not the root's: it must not be asked.
    let asked = bin.path().join("asked");
    let fake = bin.path().join("dockerd");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\ntouch {}\necho refused >&2\nexit 1\n",
            asked.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut with_fake = std::ffi::OsString::from(bin.path());
    with_fake.push(":");
    with_fake.push(&no_dockerd);
    let real = run_with(&with_fake, &[]);
    assert_eq!(real.code, Some(0), "{}", real.text);
    assert!(
        !asked.exists(),
        "the machine's dockerd was asked\n{}",
        real.text
    );
    let written = sandbox.read_string("etc/docker/daemon.json").unwrap();
    assert!(written.contains("https://m.example.com") && written.contains("\"debug\": true"));
}
