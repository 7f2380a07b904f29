//! Item 2 of issue 11: every distribution the tool names, read from a real os-release
//! file (tests/data/os-release, sources in SOURCES.md there) through `rdock-setup facts
//! --root`, gets its verdict: supported with its Docker tree, release or suite and
//! package manager, or refused with the reason.

mod support;

use std::path::Path;

use support::{Sandbox, output_text, rdock};

/// What a file must yield.
enum Expect {
    /// Docker tree, the release directory (rpm) or suite (apt), package manager.
    Supported(&'static str, &'static str, &'static str),
    /// Supported, but only through the distribution's own engine: its package.
    DistroOnly(&'static str, &'static str),
    /// Refused, the reason containing this.
    Refused(&'static str),
}

use Expect::{DistroOnly, Refused, Supported};

const CASES: &[(&str, Expect)] = &[
    ("debian-10", Refused("upgrade to Debian 12")),
    ("debian-11", Supported("debian", "bullseye", "apt")),
    ("debian-12", Supported("debian", "bookworm", "apt")),
    ("debian-13", Supported("debian", "trixie", "apt")),
    ("debian-testing", Refused("testing or unstable")),
    ("ubuntu-16.04", Refused("16.04 (xenial)")),
    (
        "ubuntu-18.04",
        Refused("18.04 (bionic) left standard support"),
    ),
    ("ubuntu-20.04", Supported("ubuntu", "focal", "apt")),
    ("ubuntu-22.04", Supported("ubuntu", "jammy", "apt")),
    ("ubuntu-24.04", Supported("ubuntu", "noble", "apt")),
    ("ubuntu-25.04", Refused("not a release this tool knows")),
    // Derivatives name their Ubuntu base in UBUNTU_CODENAME.
    ("pop-22.04", Supported("ubuntu", "jammy", "apt")),
    ("linuxmint-19.2", Refused("18.04 (bionic)")),
    ("fedora-31", Refused("Fedora 40 and later")),
    ("fedora-42", Supported("fedora", "42", "dnf")),
    // RHEL 7: Docker's rhel/7 holds s390x only and centos/7Server is a 404.
    ("rhel-7.0", Supported("centos", "7", "yum")),
    ("rhel-8.7", Supported("rhel", "8", "dnf")),
    ("rhel-9.6", Supported("rhel", "9", "dnf")),
    ("rhel-10.0", Supported("rhel", "10", "dnf")),
    ("centos-6.7.redhat-release", Refused("7 or later")),
    ("centos-7", Supported("centos", "7", "yum")),
    ("centos-stream-8", Supported("centos", "8", "dnf")),
    ("centos-stream-9", Supported("centos", "9", "dnf")),
    ("centos-stream-10", Supported("centos", "10", "dnf")),
    ("rocky-8.3", Supported("centos", "8", "dnf")),
    ("rocky-9", Supported("centos", "9", "dnf")),
    ("almalinux-10", Supported("centos", "10", "dnf")),
    ("ol-7.5", Supported("centos", "7", "yum")),
    ("amzn-2016.03", Refused("end of life")),
    ("amzn-2", DistroOnly("docker", "yum")),
    ("amzn-2023", DistroOnly("docker", "dnf")),
    // The relatives, at the EL release they track.
    ("openeuler-20.03", Supported("centos", "8", "dnf")),
    ("kylin-v10", Supported("centos", "8", "dnf")),
    ("anolis-7.9", Supported("centos", "7", "yum")),
    ("anolis-8.8", Supported("centos", "8", "dnf")),
    (
        "anolis-23",
        Refused("no EL release is known for Anolis OS 23"),
    ),
    ("alinux-3", Supported("centos", "8", "dnf")),
    ("tencentos-3.1", Supported("centos", "8", "dnf")),
    ("arch", Refused("supported are")),
];

fn data_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/os-release"
    ))
}

/// `facts --root` on a root holding only `file` at its place; the JSON verdict.
fn verdict(file: &str) -> serde_json::Value {
    let sandbox = Sandbox::empty("");
    let text = std::fs::read(data_dir().join(file)).unwrap();
    let place = if file.ends_with(".redhat-release") {
        "etc/redhat-release"
    } else {
        "etc/os-release"
    };
    sandbox.write(place, text);
    let out = rdock(&[
        "facts",
        "--root",
        sandbox.root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{file}: {}", output_text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["verdict"].clone()
}

#[test]
fn every_named_distribution_gets_its_verdict() {
    let mut failures = Vec::new();
    for (file, expect) in CASES {
        let v = verdict(file);
        let platform = &v["platform"];
        let release_or_suite = |p: &serde_json::Value| {
            p["repo_release"]
                .as_str()
                .or(p["suite"].as_str())
                .unwrap_or("")
                .to_string()
        };
        let ok = match expect {
            Supported(tree, release, manager) => {
                v["supported"] == true
                    && platform["tree"] == *tree
                    && release_or_suite(platform) == *release
                    && platform["manager"] == *manager
                    && v["reason"].is_null()
            }
            DistroOnly(package, manager) => {
                v["supported"] == true
                    && platform["tree"].is_null()
                    && platform["distro_engine"][0] == *package
                    && platform["manager"] == *manager
                    && v["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains("source = \"distro\""))
            }
            Refused(words) => {
                v["supported"] == false
                    && v["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains(words) && r.starts_with("distribution: "))
            }
        };
        if !ok {
            failures.push(format!("{file}: {v}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_has_a_case_and_a_named_source() {
    let sources = std::fs::read_to_string(data_dir().join("SOURCES.md")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SOURCES.md")
        .collect();
    names.sort();
    for name in names {
        assert!(
            CASES.iter().any(|(file, _)| *file == name),
            "{name} has no expected verdict"
        );
        assert!(
            sources.contains(&format!("`{name}`")),
            "{name} has no source in SOURCES.md"
        );
    }
}

#[test]
fn a_relative_says_which_el_release_it_tracks_and_why() {
    let v = verdict("openeuler-20.03");
    let mapping = v["platform"]["mapping"].as_str().unwrap_or("");
    assert!(
        mapping.contains("tracks EL8") && mapping.contains("kubespray"),
        "{v}"
    );
    assert_eq!(v["platform"]["releasever"], "20.03", "{v}");
    // RHEL 7's own $releasever, beside the directory the repo file names.
    let v = verdict("rhel-7.0");
    assert_eq!(v["platform"]["releasever"], "7Server", "{v}");
}
