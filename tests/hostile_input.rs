//! Input that tries to get something in: control characters in plan values (systemd
//! unit injection through the proxy drop-in), the same through an inventory's `plan`
//! overrides, and secrets in proxy URLs, which must never be shown or left readable.

mod support;

use support::output_text;
use support::rdock;
use support::run::plan_file;

const INJECTION: &str =
    "[proxy]\nno_proxy = \"localhost\\n[Service]\\nExecStartPre=/bin/touch /tmp/pwned\"\n";

#[test]
fn a_newline_in_a_proxy_value_is_refused_at_validate() {
    let plan = plan_file(INJECTION);
    let out = rdock(&["validate", plan.path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!("{}:2:12: proxy.no_proxy", plan.path.display());
    assert!(stderr.contains(&at), "no {at:?} in\n{}", output_text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ExecStartPre"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn a_newline_in_an_inventory_plan_override_is_refused_before_any_connection() {
    let plan = plan_file("");
    let inventory = plan_file(
        "[[hosts]]\nname = \"web01\"\naddress = \"127.0.0.1:1\"\n\n[hosts.plan.proxy]\n\
         http_proxy = \"http://p:3128\\nExecStartPre=/bin/sh -c id\"\n",
    );
    let out = rdock(&[
        "apply",
        plan.path.to_str().unwrap(),
        "--inventory",
        inventory.path.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!(
        "{}:6:14: hosts[0].plan.proxy.http_proxy",
        inventory.path.display()
    );
    assert!(stderr.contains(&at), "no {at:?} in\n{}", output_text(&out));
    assert!(!stderr.contains("ssh"), "{}", output_text(&out));
}

const SECRET: &str = "S3cretPass";

/// A proxy with a password: never in the human report, the JSON report or `-vv`
/// stderr; the drop-in and its backup are 0600.
#[test]
fn a_proxy_password_is_masked_everywhere_and_its_files_are_0600() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = support::Sandbox::centos7();
    let dropin = "etc/systemd/system/docker.service.d/http-proxy.conf";
    // An older drop-in, world-readable, as Docker's docs leave it.
    sandbox.write(
        dropin,
        "[Service]\nEnvironment=\"HTTP_PROXY=http://alice:OldPass@proxy:3128\"\n",
    );
    std::fs::set_permissions(sandbox.path(dropin), std::fs::Permissions::from_mode(0o644)).unwrap();
    let plan = plan_file(&format!(
        "[repo]\nsource = \"{}\"\n\n[proxy]\nhttp_proxy = \"http://alice:{SECRET}@proxy:3128\"\n\
         https_proxy = \"http://alice:{SECRET}@proxy:3128\"\n",
        support::repo().base_url
    ));
    let root = sandbox.root.to_str().unwrap();
    let plan_path = plan.path.to_str().unwrap();
    for args in [
        vec!["apply", plan_path, "--root", root, "--dry-run", "-vv"],
        vec![
            "apply",
            plan_path,
            "--root",
            root,
            "--dry-run",
            "--format",
            "json",
        ],
        vec![
            "apply", plan_path, "--root", root, "-vv", "--format", "json",
        ],
    ] {
        let out = rdock(&args);
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{text}");
        assert!(
            text.contains("HTTP_PROXY"),
            "{args:?}: no proxy diff\n{text}"
        );
        assert!(text.contains("alice:***@proxy"), "{args:?}\n{text}");
        assert!(
            !text.contains(SECRET) && !text.contains("OldPass"),
            "{args:?}: a password is shown\n{text}"
        );
    }
    let written = sandbox.read_string(dropin).unwrap();
    assert!(written.contains(SECRET), "{written}");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sandbox.path(dropin)), 0o600);
    let dir = sandbox.path("etc/systemd/system/docker.service.d");
    let backups: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".rdock-setup-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(mode(&backups[0]), 0o600, "{}", backups[0].display());
}
