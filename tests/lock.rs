//! One run at a time per target: a run that may change a tree holds its lock (an
//! flock on the machine that holds the tree, outside the tree); a second run waits
//! a bounded time, then fails naming the holder, and changes nothing. A dry-run reads
//! without the lock. Real rpm and dnf; `yum` is the test shim.

mod support;

use support::run::{apply, plan_file};
use support::{HeldLock, Sandbox, digest_diff, repo, tree_lock_path};

#[test]
fn a_second_run_waits_then_names_the_holder_and_changes_nothing() {
    let sandbox = Sandbox::centos7();
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[engine]\nversion = \"20.10\"\n",
        repo().base_url
    ));
    let root = std::fs::canonicalize(&sandbox.root).unwrap();
    let held = HeldLock::take(
        &tree_lock_path(&root),
        "pid 4242 on ops01 as root: rdock-setup apply cron.toml since 2026-11-29T03:00:00Z",
    );
    let before = sandbox.digest();

    let blocked = apply(&sandbox, &plan.path, &["--lock-wait", "1"]);
    assert_eq!(blocked.code, Some(1), "{}", blocked.text);
    let error = blocked.error.clone().unwrap_or_default();
    assert!(error.contains("another run holds the lock"), "{error}");
    assert!(error.contains("pid 4242 on ops01"), "{error}");
    assert!(error.contains("--lock-wait"), "{error}");
    let after = sandbox.digest();
    assert!(
        before == after,
        "a locked-out run changed the tree:\n{}",
        digest_diff(&before, &after).join("\n")
    );

    // A dry-run only reads: it does not wait for the lock.
    let dry = apply(&sandbox, &plan.path, &["--dry-run", "--lock-wait", "1"]);
    assert_eq!(dry.code, Some(0), "{}", dry.text);

    // The holder gone, its lock is gone with it (an flock cannot go stale).
    drop(held);
    let run = apply(&sandbox, &plan.path, &["--lock-wait", "5"]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(
        !sandbox.exists("var/lib/rdock-setup/lock") && !sandbox.exists("run"),
        "the lock lives outside the tree"
    );
}

#[test]
fn a_rollback_waits_for_the_lock_like_an_apply() {
    let sandbox = Sandbox::centos7();
    sandbox.write("etc/docker/daemon.json", "{\"debug\": true}\n");
    sandbox.write(
        "etc/docker/daemon.json.rdock-setup-20261129T000000Z.bak",
        "{\"debug\": false}\n",
    );
    let root = std::fs::canonicalize(&sandbox.root).unwrap();
    let root_arg = root.display().to_string();
    let held = HeldLock::take(
        &tree_lock_path(&root),
        "pid 4343 on ops01 as root: rdock-setup apply nightly.toml",
    );
    let before = sandbox.digest();
    let rollback = |extra: &[&str]| {
        let mut args = vec!["--lock-wait", "1", "rollback", "--root", root_arg.as_str()];
        args.extend(extra);
        support::rdock(&args)
    };

    let blocked = rollback(&["--no-restart"]);
    let text = support::output_text(&blocked);
    assert_eq!(blocked.status.code(), Some(1), "{text}");
    assert!(text.contains("another run holds the lock"), "{text}");
    assert!(text.contains("pid 4343 on ops01"), "{text}");
    let after = sandbox.digest();
    assert!(
        before == after,
        "a locked-out rollback changed the tree:\n{}",
        digest_diff(&before, &after).join("\n")
    );

    // Showing what would be restored only reads: it does not wait.
    let dry = rollback(&["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", support::output_text(&dry));

    drop(held);
    let done = rollback(&["--no-restart"]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        support::output_text(&done)
    );
    assert_eq!(
        sandbox.read_string("etc/docker/daemon.json").as_deref(),
        Some("{\"debug\": false}\n")
    );
}
