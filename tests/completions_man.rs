//! Completions and man pages come from the clap definitions: the shells accept the
//! scripts, and man renders the pages (with every subcommand in them).

mod support;

use std::process::Command;

use support::{output_text, rdock};

fn generated(args: &[&str]) -> String {
    let out = rdock(args);
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn shell_accepts(shell: &str, args: &[&str], script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("completion");
    std::fs::write(&path, script).unwrap();
    let out = Command::new(shell)
        .args(args)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{shell} (scripts/deps installs it): {e}"));
    assert!(
        out.status.success(),
        "{shell} refused the completion script: {}",
        output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_sources_the_completion_and_registers_it() {
    let script = generated(&["completions", "bash"]);
    shell_accepts("bash", &["-n"], &script);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rdock-setup.bash");
    std::fs::write(&path, &script).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p rdock-setup")
        .arg("bash")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("rdock-setup"),
        "{}",
        output_text(&out)
    );
    for sub in ["apply", "status", "init", "completions", "rollback"] {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
}

#[test]
fn zsh_and_fish_parse_their_completions() {
    shell_accepts("zsh", &["-n"], &generated(&["completions", "zsh"]));
    shell_accepts(
        "fish",
        &["--no-execute"],
        &generated(&["completions", "fish"]),
    );
}

/// `man -l PAGE` as plain text (the overstrikes nroff uses for bold removed).
fn man(page: &std::path::Path) -> String {
    let out = Command::new("man")
        .env("MANWIDTH", "100")
        .arg("-l")
        .arg(page)
        .output()
        .expect("man (man-db)");
    assert!(
        out.status.success(),
        "{}: {}",
        page.display(),
        output_text(&out)
    );
    let mut plain = String::new();
    for c in String::from_utf8_lossy(&out.stdout).chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn man_renders_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let listed = generated(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(listed.contains("rdock-setup-status.1"), "{listed}");
    for page in [
        "rdock-setup.1",
        "rdock-setup-apply.1",
        "rdock-setup-status.1",
    ] {
        let text = man(&dir.path().join(page));
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page}:\n{text}"
        );
    }
    let top = man(&dir.path().join("rdock-setup.1"));
    assert!(
        top.contains("rdock-setup-status(1)") && top.contains("Exit codes:"),
        "{top}"
    );
    let status = man(&dir.path().join("rdock-setup-status.1"));
    assert!(status.contains("--inventory"), "{status}");
    assert_eq!(
        generated(&["man"]),
        std::fs::read_to_string(dir.path().join("rdock-setup.1")).unwrap()
    );
}
