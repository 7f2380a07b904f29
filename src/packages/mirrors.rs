//! Where the docker-ce repo comes from, and the .repo file the tool renders for it.

use crate::checks::distro::Distro;
use crate::plan::Channel;
use crate::suggest;

/// Named mirrors of download.docker.com's tree (each serves `linux/centos/…`).
pub const NAMED_MIRRORS: &[(&str, &str)] = &[
    ("official", "https://download.docker.com"),
    ("aliyun", "https://mirrors.aliyun.com/docker-ce"),
    ("tuna", "https://mirrors.tuna.tsinghua.edu.cn/docker-ce"),
    ("ustc", "https://mirrors.ustc.edu.cn/docker-ce"),
    ("tencent", "https://mirrors.cloud.tencent.com/docker-ce"),
];

/// `[repo] source = "distro"`.
pub const DISTRO: &str = "distro";

/// The sections of the repo file the tool renders.
pub const REPO_IDS: &[&str] = &["docker-ce-stable", "docker-ce-test"];

/// Where the repo file lives on the target.
pub const REPO_FILE: &str = "/etc/yum.repos.d/docker-ce.repo";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSource {
    /// The name the plan used, when it used one.
    pub name: Option<String>,
    /// The tree's base URL, without a trailing slash.
    pub base_url: String,
}

impl RepoSource {
    pub fn official() -> RepoSource {
        RepoSource {
            name: Some("official".into()),
            base_url: NAMED_MIRRORS[0].1.into(),
        }
    }

    /// `"distro"`: the distribution's own engine packages (docker.io, moby-engine,
    /// docker) through the repos the host already has; no Docker repo is written.
    pub fn distro() -> RepoSource {
        RepoSource {
            name: Some(DISTRO.into()),
            base_url: String::new(),
        }
    }

    pub fn is_distro(&self) -> bool {
        self.name.as_deref() == Some(DISTRO)
    }

    /// A mirror name, `"distro"`, or the base URL of a download.docker.com-style tree.
    /// Errors are (message, hint).
    pub fn parse(text: &str) -> Result<RepoSource, (String, String)> {
        let text = text.trim();
        if text == DISTRO {
            return Ok(RepoSource::distro());
        }
        if let Some((name, url)) = NAMED_MIRRORS.iter().find(|(name, _)| *name == text) {
            return Ok(RepoSource {
                name: Some(name.to_string()),
                base_url: url.to_string(),
            });
        }
        if let Some(base) = base_url("repo.source", text, "https://mirrors.example.com/docker-ce")?
        {
            // A URL that names a tree (`…/linux/centos`) is cut back to the base: the
            // tree comes from the target's distribution.
            let base = crate::checks::distro::RepoTree::ALL
                .iter()
                .find_map(|tree| base.strip_suffix(&format!("/linux/{}", tree.dir())))
                .unwrap_or(&base);
            return Ok(RepoSource {
                name: None,
                base_url: base.to_string(),
            });
        }
        let mut names: Vec<&str> = NAMED_MIRRORS.iter().map(|(name, _)| *name).collect();
        names.push(DISTRO);
        let hint = match suggest::closest(text, names.iter().copied()) {
            Some(best) => format!("did you mean {best:?}?"),
            None => format!(
                "use one of {} or the base URL of a download.docker.com-style tree",
                names.join(", ")
            ),
        };
        Err((
            format!("repo.source {text:?} is neither a known mirror nor a URL"),
            hint,
        ))
    }

    pub fn describe(&self) -> String {
        if self.is_distro() {
            return "distro (the distribution's own packages, through the host's repos)".into();
        }
        match &self.name {
            Some(name) => format!("{name} ({})", self.base_url),
            None => self.base_url.clone(),
        }
    }
}

/// `text` as the base URL of a tree (http or https, a host, no blanks or control
/// characters), without a trailing slash; `Ok(None)` when it is no URL at all.
/// Errors are (message, hint) naming the plan key.
pub fn base_url(key: &str, text: &str, example: &str) -> Result<Option<String>, (String, String)> {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return Ok(None);
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err((
            format!("{key} {text:?} is not a usable URL"),
            format!("write it like \"{example}\""),
        ));
    }
    Ok(Some(text.trim_end_matches('/').to_string()))
}

/// The docker-ce.repo the tool owns. Both `baseurl` and `gpgkey` point at the chosen
/// tree, so a mirror serves packages and key alike. `held` packages are excluded from
/// the repo, so that a plain `yum update` / `dnf upgrade` cannot move them; the tool's
/// own transactions pass `--disableexcludes` for these sections (the way Kubernetes'
/// EL install holds kubelet: it works alike on yum 3 and dnf, with no plugin).
pub fn render_repo_file(
    source: &RepoSource,
    channel: Channel,
    gpgcheck: bool,
    distro: &Distro,
    held: &[String],
) -> Vec<u8> {
    let os = distro.docker_repo_os();
    // The release is written out rather than left as $releasever: RHEL's $releasever
    // ("7Server", "8.9") does not name a directory in Docker's tree.
    let major = distro
        .repo_release()
        .unwrap_or_else(|| "$releasever".into());
    let base = &source.base_url;
    let gpg = u8::from(gpgcheck);
    let exclude = if held.is_empty() {
        String::new()
    } else {
        format!(
            "# held by rdock-setup (engine.hold): yum/dnf update leave these alone\nexclude={}\n",
            held.join(" ")
        )
    };
    let section = |id: &str, title: &str, enabled: bool| {
        format!(
            "[docker-ce-{id}]\nname=Docker CE {title} - $basearch\nbaseurl={base}/linux/{os}/{major}/$basearch/{id}\n\
             enabled={}\ngpgcheck={gpg}\ngpgkey={base}/linux/{os}/gpg\n{exclude}",
            u8::from(enabled)
        )
    };
    let mut text = String::from(
        "# Docker CE packages, managed by rdock-setup: edit the plan, not this file.\n",
    );
    text.push_str(&section("stable", "Stable", true));
    text.push('\n');
    text.push_str(&section("test", "Test", channel == Channel::Test));
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centos7() -> Distro {
        Distro::from_os_release("ID=centos\nVERSION_ID=7\n").unwrap()
    }

    #[test]
    fn mirror_serves_packages_and_key() {
        let source = RepoSource::parse("aliyun").unwrap();
        let text = String::from_utf8(render_repo_file(
            &source,
            Channel::Stable,
            true,
            &centos7(),
            &[],
        ))
        .unwrap();
        assert!(text.contains(
            "baseurl=https://mirrors.aliyun.com/docker-ce/linux/centos/7/$basearch/stable\n"
        ));
        assert!(text.contains("gpgkey=https://mirrors.aliyun.com/docker-ce/linux/centos/gpg\n"));
        assert!(!text.contains("download.docker.com"));
        assert!(!text.contains("exclude="));
    }

    #[test]
    fn rhel7_and_holds() {
        // RHEL 7's $releasever is "7Server", which names no directory of Docker's tree.
        let rhel7 = Distro::from_os_release("ID=\"rhel\"\nVERSION_ID=\"7.9\"\n").unwrap();
        let held = vec!["docker-ce".to_string(), "containerd.io".to_string()];
        let text = String::from_utf8(render_repo_file(
            &RepoSource::official(),
            Channel::Stable,
            true,
            &rhel7,
            &held,
        ))
        .unwrap();
        assert!(
            text.contains("/linux/centos/7/$basearch/stable\n"),
            "{text}"
        );
        assert!(!text.contains("$releasever"), "{text}");
        assert_eq!(
            text.matches("\nexclude=docker-ce containerd.io\n").count(),
            2
        );
    }

    #[test]
    fn urls_and_typos() {
        let source = RepoSource::parse("https://mirror.internal/docker-ce/").unwrap();
        assert_eq!(source.base_url, "https://mirror.internal/docker-ce");
        let source = RepoSource::parse("https://download.docker.com/linux/centos").unwrap();
        assert_eq!(source.base_url, "https://download.docker.com");
        let (_, hint) = RepoSource::parse("aliyn").unwrap_err();
        assert!(hint.contains("aliyun"), "{hint}");
        assert!(RepoSource::parse("ftp://x").is_err());
    }
}
