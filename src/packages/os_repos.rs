//! CentOS releases past their end of life (CentOS Linux 7 and 8, CentOS Stream 8) ship
//! repo files that point at mirrorlist.centos.org / mirror.centos.org, which no longer
//! resolve. Their packages live on in vault trees (vault.centos.org and its mirrors).
//! This module knows those trees and rewrites the distribution's own repo files to one.

use super::repo_file::{self, Section, commented_value, is_continuation, live_value};
use crate::checks::distro::Distro;
use crate::suggest;

/// Vault trees by name: each holds `{release}/{repo}/…` for every CentOS release.
pub const NAMED_VAULTS: &[(&str, &str)] = &[
    ("vault", "https://vault.centos.org"),
    ("aliyun", "https://mirrors.aliyun.com/centos-vault"),
    ("tuna", "https://mirrors.tuna.tsinghua.edu.cn/centos-vault"),
    ("ustc", "https://mirrors.ustc.edu.cn/centos-vault"),
    ("tencent", "https://mirrors.cloud.tencent.com/centos-vault"),
];

/// The hosts the stock repo files name, dead since the releases' end of life.
pub const DEAD_HOSTS: &[&str] = &["mirrorlist.centos.org", "mirror.centos.org"];

/// Where the distribution's own repo files live, and how their names start.
pub const REPOS_DIR: &str = "/etc/yum.repos.d";
const OWN_FILE_PREFIX: &str = "CentOS-";

/// `[os_repos] source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsRepoSource {
    /// On an end-of-life release whose repos point at the dead hosts: the vault of the
    /// `[repo]` mirror's family, else vault.centos.org. Anything else is left alone.
    Auto,
    /// Never touch the distribution's repo files.
    Keep,
    /// This vault tree, for every enabled section of the distribution's repo files.
    Vault(Vault),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    /// The name the plan used, when it used one.
    pub name: Option<String>,
    /// Base URL, without a trailing slash.
    pub base_url: String,
}

impl Vault {
    pub fn named(name: &str) -> Option<Vault> {
        NAMED_VAULTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, url)| Vault {
                name: Some(n.to_string()),
                base_url: url.to_string(),
            })
    }

    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.base_url),
            None => self.base_url.clone(),
        }
    }
}

impl OsRepoSource {
    /// Errors are (message, hint).
    pub fn parse(text: &str) -> Result<OsRepoSource, (String, String)> {
        let text = text.trim();
        match text {
            "auto" => return Ok(OsRepoSource::Auto),
            "keep" => return Ok(OsRepoSource::Keep),
            _ => {}
        }
        if let Some(vault) = Vault::named(text) {
            return Ok(OsRepoSource::Vault(vault));
        }
        if let Some(base_url) = super::mirrors::base_url(
            "os_repos.source",
            text,
            "https://mirrors.example.com/centos-vault",
        )? {
            return Ok(OsRepoSource::Vault(Vault {
                name: None,
                base_url,
            }));
        }
        let mut names = vec!["auto", "keep"];
        names.extend(NAMED_VAULTS.iter().map(|(n, _)| *n));
        let hint = match suggest::closest(text, names.iter().copied()) {
            Some(best) => format!("did you mean {best:?}?"),
            None => format!(
                "use one of {} or the base URL of a vault tree (the one holding 7.9.2009/)",
                names.join(", ")
            ),
        };
        Err((
            format!("os_repos.source {text:?} is neither a known vault nor a URL"),
            hint,
        ))
    }

    pub fn describe(&self) -> String {
        match self {
            OsRepoSource::Auto => "auto".into(),
            OsRepoSource::Keep => "keep".into(),
            OsRepoSource::Vault(vault) => vault.describe(),
        }
    }
}

/// The vault `auto` uses: the `[repo]` mirror's family where it has one.
pub fn auto_vault(repo_mirror_name: Option<&str>) -> Vault {
    repo_mirror_name
        .and_then(Vault::named)
        .unwrap_or_else(|| Vault::named("vault").expect("vault.centos.org is a named vault"))
}

/// An end-of-life CentOS release, as its vault names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EolRelease {
    /// The vault's directory: `7.9.2009`, `8.5.2111`, `8-stream`.
    pub full: String,
    pub major: u32,
    /// Set when /etc/centos-release did not say the full release and the last one of
    /// the major release is assumed.
    pub assumed: bool,
}

/// The end-of-life release the target runs, if it runs one. The full release comes
/// from /etc/centos-release ("CentOS Linux release 7.9.2009 (Core)").
pub fn eol_release(distro: &Distro, centos_release: Option<&str>) -> Option<EolRelease> {
    let major = distro.major.filter(|m| matches!(m, 7 | 8))?;
    if distro.id != "centos" {
        return None;
    }
    let line = centos_release.and_then(|t| t.lines().next()).unwrap_or("");
    if major == 8 && (line.contains("Stream") || distro.pretty_name.contains("Stream")) {
        return Some(EolRelease {
            full: "8-stream".into(),
            major,
            assumed: false,
        });
    }
    let stated = line
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{major}.")) && w.matches('.').count() == 2)
        .filter(|w| w.chars().all(|c| c.is_ascii_digit() || c == '.'));
    Some(match stated {
        Some(full) => EolRelease {
            full: full.to_string(),
            major,
            assumed: false,
        },
        None => EolRelease {
            full: if major == 7 { "7.9.2009" } else { "8.5.2111" }.into(),
            major,
            assumed: true,
        },
    })
}

/// The vault directory of a stock repo id, per major release.
fn vault_dir(major: u32, id: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = if major == 7 {
        &[
            ("base", "os"),
            ("updates", "updates"),
            ("extras", "extras"),
            ("centosplus", "centosplus"),
            ("cr", "cr"),
            ("fasttrack", "fasttrack"),
        ]
    } else {
        &[
            ("baseos", "BaseOS"),
            ("appstream", "AppStream"),
            ("extras", "extras"),
            ("powertools", "PowerTools"),
            ("ha", "HighAvailability"),
            ("plus", "centosplus"),
            ("devel", "Devel"),
            ("cr", "cr"),
        ]
    };
    table
        .iter()
        .find(|(stock, _)| stock.eq_ignore_ascii_case(id))
        .map(|(_, dir)| *dir)
}

/// `{vault}/{release}/{dir}/$basearch/` (EL7) or `…/$basearch/os/` (EL8).
pub fn vault_url(vault: &Vault, release: &EolRelease, dir: &str) -> String {
    let tail = if release.major == 7 { "" } else { "os/" };
    format!("{}/{}/{dir}/$basearch/{tail}", vault.base_url, release.full)
}

/// Whether a repo file is one the distribution ships (and the tool may rewrite).
pub fn is_own_file(name: &str) -> bool {
    name.starts_with(OWN_FILE_PREFIX) && name.ends_with(".repo")
}

/// Whether a section fetches from the dead hosts.
pub fn points_at_dead_hosts(section: &Section, lines: &[&str]) -> bool {
    section
        .urls(lines)
        .iter()
        .any(|url| repo_file::url_host(url).is_some_and(|host| DEAD_HOSTS.contains(&host.as_str())))
}

/// Which sections to rewrite: every enabled one (an explicit vault), or only the
/// enabled ones that point at the dead hosts (`auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Enabled,
    EnabledAndDead,
}

/// What one file becomes: `Ok(None)` when nothing changes. Err names a section that
/// must change but has no known vault path.
pub fn rewrite(
    file_name: &str,
    text: &str,
    release: &EolRelease,
    vault: &Vault,
    scope: Scope,
) -> Result<Option<String>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 4);
    let mut next = 0;
    for section in repo_file::sections(&lines) {
        let wanted = section.enabled(&lines)
            && (scope == Scope::Enabled || points_at_dead_hosts(&section, &lines));
        if !wanted {
            continue;
        }
        let Some(dir) = vault_dir(release.major, &section.id) else {
            if points_at_dead_hosts(&section, &lines) {
                return Err(format!(
                    "[{}] in {REPOS_DIR}/{file_name} is enabled and points at {}, and no vault \
                     path is known for it: disable it (enabled=0) or give it a working baseurl",
                    section.id,
                    DEAD_HOSTS.join(" / ")
                ));
            }
            continue;
        };
        out.extend(lines[next..section.header].iter().map(|l| l.to_string()));
        out.extend(rewrite_section(
            &lines[section.header..section.end],
            &vault_url(vault, release, dir),
        ));
        next = section.end;
    }
    out.extend(lines[next..].iter().map(|l| l.to_string()));
    let mut new = out.join("\n");
    if text.ends_with('\n') {
        new.push('\n');
    }
    Ok((new != text).then_some(new))
}

/// One section pointed at `baseurl`: a live mirrorlist/metalink is commented out, a
/// live baseurl (with its continuation lines) replaced, else the commented-out stock
/// `#baseurl=` line takes the new one in its place, else it goes after the header.
fn rewrite_section(lines: &[&str], baseurl: &str) -> Vec<String> {
    let new_line = format!("baseurl={baseurl}");
    let has_live = lines.iter().any(|l| live_value(l, "baseurl").is_some());
    let mut placed = false;
    let mut out = Vec::with_capacity(lines.len() + 1);
    let mut skipping_continuation = false;
    for (i, line) in lines.iter().enumerate() {
        if skipping_continuation && is_continuation(line) {
            continue;
        }
        skipping_continuation = false;
        if i > 0
            && (live_value(line, "mirrorlist").is_some() || live_value(line, "metalink").is_some())
        {
            out.push(format!("#{line}"));
        } else if i > 0 && live_value(line, "baseurl").is_some() {
            if !placed {
                out.push(new_line.clone());
                placed = true;
            }
            skipping_continuation = true;
        } else if i > 0 && !has_live && !placed && commented_value(line, "baseurl").is_some() {
            out.push(new_line.clone());
            placed = true;
        } else {
            out.push(line.to_string());
        }
    }
    if !placed {
        out.insert(1.min(out.len()), new_line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(os_release: &str) -> Distro {
        Distro::from_os_release(os_release).unwrap()
    }

    fn el7() -> EolRelease {
        EolRelease {
            full: "7.9.2009".into(),
            major: 7,
            assumed: false,
        }
    }

    const STOCK_BASE: &str = include_str!("../../tests/data/centos-repos/7/CentOS-Base.repo");

    #[test]
    fn eol_releases_and_their_vault_names() {
        let c7 = distro("ID=\"centos\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\n");
        assert_eq!(
            eol_release(&c7, Some("CentOS Linux release 7.9.2009 (Core)\n")),
            Some(el7())
        );
        let guessed = eol_release(&c7, None).unwrap();
        assert!(guessed.assumed && guessed.full == "7.9.2009");
        let c8 = distro("ID=\"centos\"\nVERSION_ID=\"8\"\nPRETTY_NAME=\"CentOS Linux 8\"\n");
        assert_eq!(
            eol_release(&c8, Some("CentOS Linux release 8.5.2111\n"))
                .unwrap()
                .full,
            "8.5.2111"
        );
        let s8 = distro("ID=\"centos\"\nVERSION_ID=\"8\"\nPRETTY_NAME=\"CentOS Stream 8\"\n");
        assert_eq!(
            eol_release(&s8, Some("CentOS Stream release 8\n"))
                .unwrap()
                .full,
            "8-stream"
        );
        let s9 = distro("ID=\"centos\"\nVERSION_ID=\"9\"\nPRETTY_NAME=\"CentOS Stream 9\"\n");
        assert_eq!(eol_release(&s9, Some("CentOS Stream release 9\n")), None);
        let rhel7 = distro("ID=\"rhel\"\nVERSION_ID=\"7.9\"\n");
        assert_eq!(eol_release(&rhel7, None), None);
    }

    #[test]
    fn stock_el7_file_goes_to_the_vault_and_stays_put_otherwise() {
        let vault = Vault::named("aliyun").unwrap();
        let new = rewrite(
            "CentOS-Base.repo",
            STOCK_BASE,
            &el7(),
            &vault,
            Scope::EnabledAndDead,
        )
        .unwrap()
        .unwrap();
        let old_lines: Vec<&str> = STOCK_BASE.lines().collect();
        let new_lines: Vec<&str> = new.lines().collect();
        assert_eq!(old_lines.len(), new_lines.len(), "{new}");
        for (old, new) in old_lines.iter().zip(&new_lines) {
            if old == new {
                continue;
            }
            assert!(
                (old.starts_with("mirrorlist=") && new.strip_prefix('#') == Some(old))
                    || (old.starts_with("#baseurl=") && new.starts_with("baseurl=")),
                "{old} -> {new}"
            );
        }
        for repo in ["os", "updates", "extras"] {
            assert!(new.contains(&format!(
                "baseurl=https://mirrors.aliyun.com/centos-vault/7.9.2009/{repo}/$basearch/\n"
            )));
        }
        // centosplus is disabled: left alone
        assert!(new.contains("#baseurl=http://mirror.centos.org/centos/$releasever/centosplus/"));
        // a second pass changes nothing, in either scope
        for scope in [Scope::EnabledAndDead, Scope::Enabled] {
            assert_eq!(
                rewrite("CentOS-Base.repo", &new, &el7(), &vault, scope),
                Ok(None)
            );
        }
    }

    #[test]
    fn el8_paths_live_baseurls_and_unknown_sections() {
        let release = EolRelease {
            full: "8.5.2111".into(),
            major: 8,
            assumed: false,
        };
        let vault = Vault::named("vault").unwrap();
        let text = "[appstream]\nname=A\nbaseurl=http://mirror.centos.org/centos/8/AppStream/x86_64/os/\n  http://mirror.centos.org/x/\nenabled=1\n";
        let new = rewrite(
            "CentOS-Linux-AppStream.repo",
            text,
            &release,
            &vault,
            Scope::EnabledAndDead,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            new,
            "[appstream]\nname=A\nbaseurl=https://vault.centos.org/8.5.2111/AppStream/$basearch/os/\nenabled=1\n"
        );
        let unknown = "[mystery]\nmirrorlist=http://mirrorlist.centos.org/?repo=x\n";
        let err = rewrite("CentOS-X.repo", unknown, &release, &vault, Scope::Enabled).unwrap_err();
        assert!(
            err.contains("[mystery]") && err.contains("enabled=0"),
            "{err}"
        );
        // an enabled section that already works is left alone by auto, moved by a vault
        let working = "[baseos]\nbaseurl=http://mirror.internal/8/BaseOS/\n";
        assert_eq!(
            rewrite(
                "CentOS-Linux-BaseOS.repo",
                working,
                &release,
                &vault,
                Scope::EnabledAndDead
            ),
            Ok(None)
        );
        assert!(
            rewrite(
                "CentOS-Linux-BaseOS.repo",
                working,
                &release,
                &vault,
                Scope::Enabled
            )
            .unwrap()
            .is_some()
        );
    }

    #[test]
    fn sources_parse() {
        assert_eq!(OsRepoSource::parse("auto"), Ok(OsRepoSource::Auto));
        assert_eq!(OsRepoSource::parse("keep"), Ok(OsRepoSource::Keep));
        let OsRepoSource::Vault(v) = OsRepoSource::parse("http://127.0.0.1:8/vault/").unwrap()
        else {
            panic!("a URL is a vault")
        };
        assert_eq!(v.base_url, "http://127.0.0.1:8/vault");
        let (_, hint) = OsRepoSource::parse("aliyn").unwrap_err();
        assert!(hint.contains("aliyun"), "{hint}");
        assert_eq!(auto_vault(Some("tuna")).name.as_deref(), Some("tuna"));
        assert_eq!(auto_vault(Some("official")).name.as_deref(), Some("vault"));
        assert_eq!(auto_vault(None).base_url, "https://vault.centos.org");
    }
}
