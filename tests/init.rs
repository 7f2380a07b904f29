//! `rdock-setup init`: a starter plan with the distribution family's defaults, valid as
//! written, and never written over an existing file.

mod support;

use support::{Sandbox, output_text, rdock};

fn init(sandbox: &Sandbox, plan: &std::path::Path) -> std::process::Output {
    rdock(&[
        "init",
        plan.to_str().unwrap(),
        "--root",
        sandbox.root.to_str().unwrap(),
    ])
}

#[test]
fn el7_and_el9_get_their_defaults_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let el7_plan = dir.path().join("el7.toml");
    let out = init(&Sandbox::centos7(), &el7_plan);
    assert!(out.status.success(), "{}", output_text(&out));
    let text = std::fs::read_to_string(&el7_plan).unwrap();
    assert!(
        text.contains("packages = [\"yum-utils\", \"device-mapper-persistent-data\", \"lvm2\"]"),
        "{text}"
    );
    assert!(text.contains("EL7, yum"), "{text}");
    let valid = rdock(&["validate", el7_plan.to_str().unwrap()]);
    assert!(valid.status.success(), "{}", output_text(&valid));

    let el9_plan = dir.path().join("el9.toml");
    let out = init(&Sandbox::rocky9(), &el9_plan);
    assert!(out.status.success(), "{}", output_text(&out));
    let text = std::fs::read_to_string(&el9_plan).unwrap();
    assert!(text.contains("packages = []"), "{text}");
    assert!(text.contains("\"podman\", \"runc\""), "{text}");

    // A second init on the same path: refused, exit 1, the file as it was.
    std::fs::write(&el9_plan, "# my own plan\n").unwrap();
    let again = init(&Sandbox::rocky9(), &el9_plan);
    assert_eq!(again.status.code(), Some(1), "{}", output_text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        output_text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&el9_plan).unwrap(),
        "# my own plan\n"
    );
}

#[test]
fn a_debian_host_gets_its_family_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    let debian = Sandbox::empty("12");
    debian.write(
        "etc/os-release",
        "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    );
    let out = init(&debian, &plan);
    assert!(out.status.success(), "{}", output_text(&out));
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(text.contains("(Debian, apt-get)"), "{text}");
    assert!(text.contains("\"docker.io\", \"docker-doc\""), "{text}");
    assert!(text.contains("the tool writes the apt source"), "{text}");
    let out = rdock(&["validate", plan.to_str().unwrap()]);
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn a_host_of_another_family_is_told_to_name_one() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    let arch = Sandbox::empty("7");
    arch.write(
        "etc/os-release",
        "ID=arch\nBUILD_ID=rolling\nPRETTY_NAME=\"Arch Linux\"\n",
    );
    let out = init(&arch, &plan);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--family"));
    assert!(!plan.exists());
    let out = rdock(&["init", plan.to_str().unwrap(), "--family", "el8"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(std::fs::read_to_string(&plan).unwrap().contains("EL8, dnf"));
}
