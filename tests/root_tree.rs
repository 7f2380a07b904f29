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
