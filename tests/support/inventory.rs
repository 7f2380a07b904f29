//! Inventories for the loopback sshd fleets of `sshd.rs`: one entry per server, each
//! host's target its own sandbox root.

use std::fmt::Write as _;
use std::path::Path;

use super::Sandbox;
use super::run::{PlanFile, plan_file};
use super::sshd::SshLab;

/// A host of the inventory: its server's name and port, its root, extra TOML lines.
pub struct Entry<'a> {
    pub name: &'a str,
    pub port: u16,
    pub root: &'a Path,
    pub extra: String,
}

/// One entry a server, each with its own sandbox root, nothing extra.
pub fn entries<'a>(lab: &'a SshLab, sandboxes: &'a [Sandbox]) -> Vec<Entry<'a>> {
    lab.servers
        .iter()
        .zip(sandboxes)
        .map(|(s, sb)| Entry {
            name: &s.name,
            port: s.port,
            root: &sb.root,
            extra: String::new(),
        })
        .collect()
}

pub fn inventory(entries: &[Entry]) -> PlanFile {
    let mut text = String::from("[defaults]\nuser = \"root\"\n");
    for e in entries {
        let _ = write!(
            text,
            "\n[[hosts]]\nname = \"{}\"\naddress = \"127.0.0.1\"\nport = {}\nroot = {}\ngroups = [\"all\"]\n{}",
            e.name,
            e.port,
            toml_string(&e.root.display().to_string()),
            e.extra
        );
    }
    plan_file(&text)
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
