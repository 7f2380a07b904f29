//! os-release and redhat-release: any text reads without a panic, and the fields of a
//! generated file, quoted as distributions quote them, among noise lines, come back.

use proptest::prelude::*;

use crate::checks::distro::{Distro, Family, PackageManager};

const IDS: &[&str] = &[
    "centos",
    "rhel",
    "rocky",
    "almalinux",
    "ol",
    "fedora",
    "debian",
    "ubuntu",
    "amzn",
    "openeuler",
    "kylin",
    "anolis",
    "alinux",
    "tencentos",
    "tlinux",
];

/// A verdict holds together: refusals say so in a sentence; a supported distribution
/// has the facts its family needs (an apt suite, or an rpm release directory where
/// Docker has a tree), and the accessors agree with it.
fn consistent(distro: &Distro) -> Result<(), TestCaseError> {
    match distro.platform() {
        Err(reason) => prop_assert!(reason.starts_with("distribution: "), "{}", reason),
        Ok(p) => {
            match p.family {
                Family::Debian => {
                    prop_assert!(p.suite.is_some() && p.repo_release.is_none());
                    prop_assert_eq!(p.manager, PackageManager::Apt);
                }
                Family::El | Family::Fedora => {
                    prop_assert!(p.suite.is_none());
                    prop_assert_eq!(p.tree.is_some(), p.repo_release.is_some());
                    prop_assert!(p.manager != PackageManager::Apt);
                }
            }
            prop_assert_eq!(distro.package_manager(), p.manager);
            prop_assert_eq!(distro.repo_release(), p.repo_release.clone());
            prop_assert_eq!(p.tree.is_none(), distro.check().is_some());
            prop_assert!(!p.distro_engine.is_empty() || p.tree.is_some());
        }
    }
    Ok(())
}

fn version_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,2}",
        "[0-9]{1,2}\\.[0-9]{1,2}",
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{4}",
        "[a-z]{0,6}",
    ]
}

/// A value as os-release writers quote it: bare, double or single quotes.
fn quoted(value: &str, style: u8) -> String {
    match style % 3 {
        0 => value.to_string(),
        1 => format!("\"{value}\""),
        _ => format!("'{value}'"),
    }
}

/// Lines that are not ID, VERSION_ID, PRETTY_NAME or NAME.
fn noise_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("# comment".to_string()),
        Just("ID_LIKE=\"rhel fedora\"".to_string()),
        Just("ID_LIKE=\"ubuntu debian\"".to_string()),
        Just("VERSION_CODENAME=bookworm".to_string()),
        Just("UBUNTU_CODENAME=jammy".to_string()),
        Just("VERSION_CODENAME=bionic".to_string()),
        Just("VERSION=\"7 (Core)\"".to_string()),
        Just("HOME_URL=\"https://www.centos.org/\"".to_string()),
        "[A-Z_]{1,12}=[^\n\r]{0,20}".prop_filter("not a field read", |l| {
            !["ID=", "VERSION_ID=", "PRETTY_NAME=", "NAME="]
                .iter()
                .any(|f| l.starts_with(f))
        }),
        "[^\n\r=]{0,20}",
    ]
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_text_reads_without_a_panic(text in any::<String>()) {
        for distro in [Distro::from_os_release(&text), Distro::from_release_file(&text)]
            .into_iter()
            .flatten()
        {
            let _ = (distro.check(), distro.package_manager(), distro.docker_repo_os());
            prop_assert!(!distro.id.is_empty());
            consistent(&distro)?;
        }
    }

    #[test]
    fn os_release_fields_come_back(
        id in proptest::sample::select(IDS),
        version in version_id(),
        pretty in "[A-Za-z0-9.()][A-Za-z0-9 .()]{0,29}",
        styles in any::<[u8; 3]>(),
        noise in proptest::collection::vec(noise_line(), 0..6),
        at in any::<proptest::sample::Index>(),
    ) {
        let mut lines = noise.clone();
        let fields = [
            format!("ID={}", quoted(&id.to_ascii_uppercase(), styles[0])),
            format!("VERSION_ID={}", quoted(&version, styles[1])),
            format!("PRETTY_NAME={}", quoted(pretty.trim(), styles[2])),
        ];
        for field in fields {
            lines.insert(at.index(lines.len() + 1), field);
        }
        let text = lines.join("\n");
        let distro = Distro::from_os_release(&text).expect("an ID is given");
        consistent(&distro)?;
        prop_assert_eq!(distro.id.as_str(), id);
        prop_assert_eq!(&distro.version_id, &version);
        prop_assert_eq!(distro.pretty_name.as_str(), pretty.trim());
        prop_assert_eq!(distro.major, version.split('.').next().and_then(|m| m.parse().ok()));
    }

    #[test]
    fn release_file_lines_come_back(
        (name, id) in proptest::sample::select(&[
            ("CentOS Linux", "centos"),
            ("CentOS Stream", "centos"),
            ("Red Hat Enterprise Linux Server", "rhel"),
            ("Rocky Linux", "rocky"),
            ("AlmaLinux", "almalinux"),
            ("Oracle Linux Server", "ol"),
            ("Scientific Linux", "unknown"),
        ][..]),
        version in "[0-9]{1,2}(\\.[0-9]{1,4}){0,2}",
        codename in "[A-Za-z ]{0,12}",
        rest in "[^\r]{0,40}",
    ) {
        let line = format!("{name} release {version} ({codename})");
        let distro = Distro::from_release_file(&format!("{line}\n{rest}"))
            .expect("a first line is given");
        prop_assert_eq!(distro.id.as_str(), id);
        prop_assert_eq!(&distro.version_id, &version);
        prop_assert_eq!(distro.pretty_name, line);
        prop_assert_eq!(distro.major, version.split('.').next().and_then(|m| m.parse().ok()));
    }
}
