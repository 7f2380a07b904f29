//! yum/dnf .repo files read line by line, so that a rewrite changes only the lines it
//! means to and every other line (comments, order, spacing) keeps its place.

/// One `[id]` section: its header line and the lines up to the next header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: String,
    /// Index of the `[id]` line.
    pub header: usize,
    /// One past the last line of the section.
    pub end: usize,
}

/// The sections of a repo file, in order.
pub fn sections(lines: &[&str]) -> Vec<Section> {
    let mut found: Vec<Section> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(id) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            if let Some(last) = found.last_mut() {
                last.end = i;
            }
            found.push(Section {
                id: id.trim().to_string(),
                header: i,
                end: lines.len(),
            });
        }
    }
    found
}

/// A live `key=value` line (not a comment): the value, trimmed.
pub fn live_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (name, value) = line.split_once('=')?;
    (!line.starts_with(|c: char| c == '#' || c == ';' || c.is_whitespace())
        && name.trim().eq_ignore_ascii_case(key))
    .then(|| value.trim())
}

/// A commented-out `#key=value` line: the value, trimmed.
pub fn commented_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix('#')?;
    live_value(rest.trim_start(), key)
}

/// Whether a line continues the value of the line before it (yum allows a `baseurl`
/// spread over indented lines).
pub fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t']) && !line.trim().is_empty()
}

impl Section {
    /// The live value of `key` in this section (the first one, as yum reads it).
    pub fn value<'a>(&self, lines: &[&'a str], key: &str) -> Option<&'a str> {
        lines[self.header + 1..self.end]
            .iter()
            .find_map(|line| live_value(line, key))
    }

    /// Every URL the section would fetch from: baseurl (all of them), mirrorlist, metalink.
    pub fn urls<'a>(&self, lines: &[&'a str]) -> Vec<&'a str> {
        let mut urls = Vec::new();
        let mut in_baseurl = false;
        for line in &lines[self.header + 1..self.end] {
            if in_baseurl && is_continuation(line) {
                urls.extend(line.split_whitespace());
                continue;
            }
            in_baseurl = false;
            if let Some(value) = live_value(line, "baseurl") {
                urls.extend(value.split([' ', ',']).filter(|u| !u.is_empty()));
                in_baseurl = true;
            } else if let Some(value) =
                live_value(line, "mirrorlist").or_else(|| live_value(line, "metalink"))
            {
                urls.push(value);
            }
        }
        urls
    }

    /// yum's reading of `enabled=` (absent means enabled).
    pub fn enabled(&self, lines: &[&str]) -> bool {
        !matches!(
            self.value(lines, "enabled")
                .map(|v| v.to_ascii_lowercase())
                .as_deref(),
            Some("0" | "false" | "no" | "off")
        )
    }
}

/// The host part of a URL (`http://user@host:80/x` -> `host`), lower case.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# top\n[base]\nname=Base\nmirrorlist=http://mirrorlist.centos.org/?r=7\n\
#baseurl=http://mirror.centos.org/centos/7/os/\n\n[other]\nbaseurl=http://a.example/x/\n  http://b.example/y/\n\
enabled = 0\n";

    #[test]
    fn sections_values_and_urls() {
        let lines: Vec<&str> = TEXT.lines().collect();
        let found = sections(&lines);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].id.as_str(), found[0].header, found[0].end),
            ("base", 1, 6)
        );
        assert_eq!(found[0].value(&lines, "name"), Some("Base"));
        assert_eq!(found[0].value(&lines, "baseurl"), None);
        assert_eq!(found[0].urls(&lines), ["http://mirrorlist.centos.org/?r=7"]);
        assert!(found[0].enabled(&lines));
        assert_eq!(
            found[1].urls(&lines),
            ["http://a.example/x/", "http://b.example/y/"]
        );
        assert!(!found[1].enabled(&lines));
        assert_eq!(
            commented_value(lines[4], "baseurl"),
            Some("http://mirror.centos.org/centos/7/os/")
        );
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            url_host("http://mirrorlist.centos.org/?release=7").as_deref(),
            Some("mirrorlist.centos.org")
        );
        assert_eq!(
            url_host("https://u:p@Mirror.CentOS.org:443/c").as_deref(),
            Some("mirror.centos.org")
        );
        assert_eq!(url_host("file:///media/cdrom/"), None);
    }
}
