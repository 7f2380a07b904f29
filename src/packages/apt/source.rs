//! The deb822 source the tool writes for Docker's apt repo
//! (`/etc/apt/sources.list.d/docker.sources`): one stanza, its suite and architecture
//! from the facts, `Signed-By` the keyring the tool installs from the same source.
//! deb822 rather than a one-line `docker.list`: apt reads it since 1.1 (every
//! supported Debian and Ubuntu), and each field stands on its own line, so a diff of
//! a change (a mirror, a channel) shows exactly that field.

use crate::packages::mirrors::RepoSource;
use crate::plan::Channel;

/// What the stanza is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource<'a> {
    pub source: &'a RepoSource,
    /// Docker's tree under `linux/`: `debian` or `ubuntu`.
    pub tree: &'a str,
    /// `VERSION_CODENAME` (or `UBUNTU_CODENAME` on derivatives).
    pub suite: &'a str,
    /// `dpkg --print-architecture`.
    pub arch: &'a str,
    pub channel: Channel,
}

impl AptSource<'_> {
    /// `{base}/linux/{tree}`: what `URIs:` says, and where the key is (`…/gpg`).
    pub fn uri(&self) -> String {
        format!("{}/linux/{}", self.source.base_url, self.tree)
    }

    pub fn key_url(&self) -> String {
        format!("{}/gpg", self.uri())
    }

    /// The file, with `keyring` as `Signed-By`.
    pub fn render(&self, keyring: &str) -> Vec<u8> {
        let components = match self.channel {
            Channel::Stable => "stable",
            Channel::Test => "stable test",
        };
        format!(
            "# Docker CE packages, managed by rdock-setup: edit the plan, not this file.\n\
             Types: deb\n\
             URIs: {}\n\
             Suites: {}\n\
             Components: {components}\n\
             Architectures: {}\n\
             Signed-By: {keyring}\n",
            self.uri(),
            self.suite,
            self.arch,
        )
        .into_bytes()
    }
}

/// Whether `bytes` look like the ASCII-armored public key Docker publishes as `gpg`.
pub fn is_armored_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.trim_start()
        .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        && text.contains("-----END PGP PUBLIC KEY BLOCK-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanza_names_mirror_suite_arch_and_keyring() {
        let source = RepoSource::parse("tuna").unwrap();
        let apt = AptSource {
            source: &source,
            tree: "ubuntu",
            suite: "jammy",
            arch: "arm64",
            channel: Channel::Test,
        };
        let text = String::from_utf8(apt.render("/etc/apt/keyrings/docker.asc")).unwrap();
        assert!(
            text.contains("\nURIs: https://mirrors.tuna.tsinghua.edu.cn/docker-ce/linux/ubuntu\n")
        );
        assert!(text.contains("\nSuites: jammy\nComponents: stable test\nArchitectures: arm64\n"));
        assert!(text.ends_with("Signed-By: /etc/apt/keyrings/docker.asc\n"));
        assert_eq!(
            apt.key_url(),
            "https://mirrors.tuna.tsinghua.edu.cn/docker-ce/linux/ubuntu/gpg"
        );
        assert!(is_armored_key(
            b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nx\n-----END PGP PUBLIC KEY BLOCK-----\n"
        ));
        assert!(!is_armored_key(b"<html>404</html>"));
    }
}
