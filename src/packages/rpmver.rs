//! Versions ordered the way rpm orders them: epoch, then version, then release, each
//! compared segment by segment (digits numerically, letters lexically, `~` sorts before
//! everything, `^` after the base version).

use std::cmp::Ordering;
use std::fmt;

/// epoch:version-release as rpm, yum and dnf print it; or, with `scheme` Dpkg,
/// epoch:upstream-revision as dpkg and apt print it (`packages::debver`): the same
/// shape, ordered the way the package manager that printed it orders.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Evr {
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub scheme: VersionScheme,
}

/// Whose ordering a version follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VersionScheme {
    #[default]
    Rpm,
    Dpkg,
}

impl VersionScheme {
    /// Compare two version (or release/revision) strings this scheme's way.
    pub fn vercmp(self, a: &str, b: &str) -> Ordering {
        match self {
            VersionScheme::Rpm => vercmp(a, b),
            VersionScheme::Dpkg => super::debver::verrevcmp(a, b),
        }
    }

    /// Parse a full version this scheme's way.
    pub fn parse(self, text: &str) -> Option<Evr> {
        match self {
            VersionScheme::Rpm => Evr::parse(text),
            VersionScheme::Dpkg => Evr::parse_deb(text),
        }
    }
}

impl Evr {
    /// `3:19.03.15-3.el7`, `19.03.15-3.el7`, `(none):1.6.33-3.1.el7`.
    pub fn parse(text: &str) -> Option<Evr> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((e, rest)) if e == "(none)" || e.is_empty() => (0, rest),
            Some((e, rest)) => (e.parse().ok()?, rest),
            None => (0, text),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, r),
            None => (rest, ""),
        };
        if version.is_empty() {
            return None;
        }
        Some(Evr {
            epoch,
            version: version.to_string(),
            release: release.to_string(),
            scheme: VersionScheme::Rpm,
        })
    }

    /// The same version and release (the epochs of docker-ce and docker-ce-cli differ).
    pub fn same_version_release(&self, other: &Evr) -> bool {
        self.version == other.version && self.release == other.release
    }
}

impl fmt::Display for Evr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch > 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.version)?;
        if !self.release.is_empty() {
            write!(f, "-{}", self.release)?;
        }
        Ok(())
    }
}

impl serde::Serialize for Evr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        let scheme = self.scheme;
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| scheme.vercmp(&self.version, &other.version))
            .then_with(|| scheme.vercmp(&self.release, &other.release))
    }
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// rpm's segment comparison of two version (or release) strings.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let is_separator = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    loop {
        while a.first().is_some_and(is_separator) {
            a = &a[1..];
        }
        while b.first().is_some_and(is_separator) {
            b = &b[1..];
        }
        // A tilde sorts before anything, even the end of the string.
        match (a.first() == Some(&b'~'), b.first() == Some(&b'~')) {
            (true, true) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // A caret sorts after the end of the string but before anything else.
        match (a.first() == Some(&b'^'), b.first() == Some(&b'^')) {
            (true, true) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (true, false) => {
                return if b.is_empty() {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            (false, true) => {
                return if a.is_empty() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            _ => {}
        }
        if a.is_empty() || b.is_empty() {
            break;
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (na, nb) = (take(a), take(b));
        if nb == 0 {
            // Segments of different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[..na], &b[..nb]);
        let order = if numeric {
            let trim = |s: &[u8]| -> Vec<u8> {
                let start = s.iter().position(|c| *c != b'0').unwrap_or(s.len());
                s[start..].to_vec()
            };
            let (ta, tb) = (trim(sa), trim(sb));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(&tb))
        } else {
            sa.cmp(sb)
        };
        if order.is_ne() {
            return order;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn rpm_ordering_cases() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("19.03.15", "19.3.15", Equal),
            ("20.10.24", "19.03.15", Greater),
            ("1.0a", "1.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0^post1", "1.0", Greater),
            ("1.0^post1", "1.0.1", Less),
            ("1.0", "1.a", Greater),
            ("27.0.0~rc.1", "26.1.4", Greater),
            ("27.0.0~rc.1", "27.0.0", Less),
            ("3.el7", "3.1.el7", Less),
            // From rpm's own test suite (rpmvercmp.at).
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p1", Greater),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("5.5p1", "5.5.p1", Equal),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("6.0.rc1", "6.0", Greater),
            ("1b.fc17", "1.fc17", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(vercmp(a, b), want, "{a} vs {b}");
            assert_eq!(vercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    /// Our ordering agrees with rpm's own `rpm.vercmp` on a mixed batch (rpm is
    /// installed wherever the tests run: scripts/deps).
    #[test]
    fn agrees_with_real_rpm() {
        let versions = [
            "1.0",
            "1.0.0",
            "1.0a",
            "1.0~rc1",
            "1.0~rc2",
            "1.0^post1",
            "1.0.1",
            "1.a",
            "2",
            "19.03.15",
            "19.3.15",
            "20.10.24",
            "27.0.0~rc.1",
            "27.0.0",
            "3.el7",
            "3.1.el7",
            "1.13.1",
            "210.git7d71120.el7.centos",
            "17.05.0.ce",
            "0.8.5",
            "a",
            "b10",
            "b9",
        ];
        let mut pairs = Vec::new();
        for a in &versions {
            for b in &versions {
                pairs.push((*a, *b));
            }
        }
        let lua_pairs: Vec<String> = pairs
            .iter()
            .map(|(a, b)| format!("{{'{a}','{b}'}}"))
            .collect();
        let script = format!(
            "%{{lua: for _, p in ipairs({{{}}}) do print(rpm.vercmp(p[1], p[2]) .. ' ') end}}",
            lua_pairs.join(",")
        );
        let out = std::process::Command::new("rpm")
            .args(["--eval", &script])
            .output()
            .expect("rpm (scripts/deps installs it)");
        let text = String::from_utf8_lossy(&out.stdout);
        let answers: Vec<i32> = text
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(answers.len(), pairs.len(), "{text}");
        for ((a, b), rpm_says) in pairs.iter().zip(answers) {
            let ours = match vercmp(a, b) {
                Less => -1,
                Equal => 0,
                Greater => 1,
            };
            assert_eq!(ours, rpm_says, "vercmp({a}, {b})");
        }
    }

    #[test]
    fn epoch_wins() {
        let a = Evr::parse("3:18.09.9-3.el7").unwrap();
        let b = Evr::parse("2:1.13.1-210.git7d71120.el7.centos").unwrap();
        assert!(a > b);
        assert_eq!(a.to_string(), "3:18.09.9-3.el7");
        assert_eq!(Evr::parse("(none):1.6.33-3.1.el7").unwrap().epoch, 0);
    }
}
