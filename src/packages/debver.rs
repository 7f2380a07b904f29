//! Versions ordered the way dpkg orders them (deb-version(7)): epoch numerically, then
//! upstream version, then Debian revision, each compared in alternating runs of
//! non-digits (letters before other characters, `~` before everything, even the end)
//! and digits (numerically).

use std::cmp::Ordering;

use super::rpmver::{Evr, VersionScheme};

impl Evr {
    /// `5:26.1.4-1~debian.12~bookworm`, `20.10.24+dfsg1-1+b3`, `1.6.33-1`, `2.27.1`:
    /// the epoch before the first `:`, the revision after the last `-`.
    pub fn parse_deb(text: &str) -> Option<Evr> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((e, rest)) => (e.parse().ok()?, rest),
            None => (0, text),
        };
        let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
        let valid = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-' | ':'))
        };
        if !version.starts_with(|c: char| c.is_ascii_digit())
            || !valid(version)
            || !valid(release)
            || (rest.contains('-') && release.is_empty())
        {
            return None;
        }
        Some(Evr {
            epoch,
            version: version.to_string(),
            release: release.to_string(),
            scheme: VersionScheme::Dpkg,
        })
    }
}

/// The weight dpkg gives a character in a non-digit run; `None` is the end of string.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of two upstream versions (or two revisions).
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff.is_eq() {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff.is_ne() {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn deb(text: &str) -> Evr {
        Evr::parse_deb(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn dpkg_ordering_cases() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.00", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.0a", "1.0+", Less),
            ("1.0+dfsg1", "1.0", Greater),
            ("1.0.", "1.0", Greater),
            ("2.0", "10.0", Less),
            ("1~debian.12~bookworm", "1~debian.11~bullseye", Greater),
            ("1~ubuntu.22.04~jammy", "1~debian.12~bookworm", Greater),
            ("1+deb12u1+b6", "1+deb12u1", Greater),
            ("1", "", Greater),
            ("0", "", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(verrevcmp(a, b), want, "{a} vs {b}");
            assert_eq!(verrevcmp(b, a), want.reverse(), "{b} vs {a}");
        }
        // The epoch wins over everything else: docker-ce 5:… beats Debian's docker.io.
        assert!(deb("5:24.0.7-1~debian.12~bookworm") > deb("20.10.24+dfsg1-1+deb12u1+b6"));
        assert!(deb("5:26.1.4-1~debian.12~bookworm") > deb("5:25.0.5-1~debian.12~bookworm"));
        let e = deb("5:26.1.4-1~debian.12~bookworm");
        assert_eq!(
            (e.epoch, e.version.as_str(), e.release.as_str()),
            (5, "26.1.4", "1~debian.12~bookworm")
        );
        assert_eq!(e.to_string(), "5:26.1.4-1~debian.12~bookworm");
        assert_eq!(deb("1:2.3-4-5").version, "2.3-4");
        for bad in ["", "a1.0", "x:1.0", "1.0-", "1.0 2", "1:"] {
            assert!(Evr::parse_deb(bad).is_none(), "{bad:?}");
        }
    }

    /// Every version string dpkg and apt know on this machine (its dpkg status and
    /// apt's lists, when apt has them), plus Docker's and Debian's docker versions.
    fn real_versions() -> Vec<String> {
        let mut versions: Vec<String> = [
            "5:26.1.4-1~debian.12~bookworm",
            "5:26.1.4-1~ubuntu.22.04~jammy",
            "5:26.1.4-1~ubuntu.24.04~noble",
            "5:24.0.7-1~debian.11~bullseye",
            "5:27.0.0~rc.1-1~debian.12~bookworm",
            "5:20.10.24~3-0~debian-bookworm",
            "20.10.24+dfsg1-1+deb12u1+b6",
            "20.10.24+dfsg1-1+b3",
            "24.0.7-0ubuntu2~22.04.1",
            "26.1.3-0ubuntu1~24.04.1",
            "1.6.33-1",
            "1.6.20~ds1-1+deb12u3",
            "1.7.12-0ubuntu2~22.04.1",
            "26.1.4-1~debian.12~bookworm",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut texts = vec![std::fs::read_to_string("/var/lib/dpkg/status").unwrap_or_default()];
        if let Ok(dir) = std::fs::read_dir("/var/lib/apt/lists") {
            for entry in dir.flatten() {
                if entry.file_name().to_string_lossy().ends_with("_Packages") {
                    texts.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        for text in texts {
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("Version: ")
                    && Evr::parse_deb(v).is_some()
                    && !versions.iter().any(|have| have == v)
                {
                    versions.push(v.to_string());
                }
            }
        }
        versions
    }

    /// Our order agrees with `dpkg --compare-versions` on at least 500 pairs of real
    /// versions: neighbours in sorted order (the close calls), and spread pairs.
    #[test]
    fn agrees_with_real_dpkg() {
        let mut versions = real_versions();
        versions.sort();
        assert!(
            versions.len() >= 100,
            "only {} versions on this machine",
            versions.len()
        );
        let n = versions.len();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for i in 0..n {
            pairs.push((&versions[i], &versions[(i + 1) % n]));
            pairs.push((&versions[i], &versions[(i * 7 + 13) % n]));
        }
        for i in 0..14 {
            for j in 0..14 {
                pairs.push((&versions[i], &versions[j]));
            }
        }
        assert!(pairs.len() >= 500, "{} pairs", pairs.len());
        // One shell, one dpkg per pair: prints -1, 0 or 1.
        let mut input = String::new();
        for (a, b) in &pairs {
            input.push_str(&format!("{a} {b}\n"));
        }
        let script = "while read -r a b; do \
                      if dpkg --compare-versions \"$a\" lt \"$b\"; then echo -1; \
                      elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo 0; \
                      else echo 1; fi; done";
        let mut child = std::process::Command::new("sh")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh and dpkg");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let answers: Vec<i32> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(answers.len(), pairs.len());
        let mut unequal = 0;
        for ((a, b), dpkg_says) in pairs.iter().zip(answers) {
            let ours = match deb(a).cmp(&deb(b)) {
                Less => -1,
                Equal => 0,
                Greater => 1,
            };
            unequal += usize::from(dpkg_says != 0);
            assert_eq!(ours, dpkg_says, "{a} vs {b}");
        }
        assert!(unequal * 2 > pairs.len(), "most pairs differ");
    }
}
