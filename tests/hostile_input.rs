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
