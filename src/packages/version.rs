//! What the plan's `engine.version` means, and which offered version it picks.

use std::fmt;

use super::rpmver::Evr;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSpec {
    /// The newest offered when nothing is installed; an installed engine is left alone.
    Latest,
    /// `"20.10"`: the newest 20.10.x.
    Prefix(String),
    /// `"=24.0.7"` (or with release/epoch: `"=3:24.0.7-1.el9"`): exactly that.
    Exact(String),
    /// `">=24, <27"`: every comparison holds (rpm ordering on the version).
    Range(Vec<(Op, String)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    fn holds(self, order: Ordering) -> bool {
        match self {
            Op::Ge => order.is_ge(),
            Op::Gt => order.is_gt(),
            Op::Le => order.is_le(),
            Op::Lt => order.is_lt(),
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
        }
    }
}

fn looks_like_version(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '~' | '^' | '_' | '+' | '-' | ':')
        })
}

impl VersionSpec {
    pub fn parse(text: &str) -> Result<VersionSpec, String> {
        let text = text.trim();
        let bad = || format!("engine.version {text:?} is not a version, a prefix or a range");
        if text.eq_ignore_ascii_case("latest") {
            return Ok(VersionSpec::Latest);
        }
        if let Some(exact) = text.strip_prefix("==").or_else(|| text.strip_prefix('=')) {
            let exact = exact.trim();
            return if looks_like_version(exact) {
                Ok(VersionSpec::Exact(exact.to_string()))
            } else {
                Err(bad())
            };
        }
        if looks_like_version(text) {
            return Ok(VersionSpec::Prefix(text.to_string()));
        }
        let mut comparisons = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (op, rest) = if let Some(rest) = part.strip_prefix(">=") {
                (Op::Ge, rest)
            } else if let Some(rest) = part.strip_prefix("<=") {
                (Op::Le, rest)
            } else if let Some(rest) = part.strip_prefix('>') {
                (Op::Gt, rest)
            } else if let Some(rest) = part.strip_prefix('<') {
                (Op::Lt, rest)
            } else {
                return Err(bad());
            };
            let rest = rest.trim();
            if !looks_like_version(rest) || rest.contains([':', '-']) {
                return Err(bad());
            }
            comparisons.push((op, rest.to_string()));
        }
        if comparisons.is_empty() {
            return Err(bad());
        }
        Ok(VersionSpec::Range(comparisons))
    }

    /// Whether an installed or offered package version satisfies the plan.
    pub fn matches(&self, evr: &Evr) -> bool {
        match self {
            VersionSpec::Latest => true,
            VersionSpec::Prefix(prefix) => {
                let have: Vec<&str> = evr.version.split('.').collect();
                let want: Vec<&str> = prefix.split('.').collect();
                want.len() <= have.len()
                    && want
                        .iter()
                        .zip(&have)
                        .all(|(w, h)| evr.scheme.vercmp(w, h).is_eq())
            }
            VersionSpec::Exact(exact) => match evr.scheme.parse(exact) {
                Some(want) if exact.contains(':') => want == *evr,
                Some(want) if exact.contains('-') => evr.same_version_release(&want),
                _ => evr.scheme.vercmp(&evr.version, exact).is_eq(),
            },
            VersionSpec::Range(comparisons) => comparisons
                .iter()
                .all(|(op, version)| op.holds(evr.scheme.vercmp(&evr.version, version))),
        }
    }

    /// The newest of `offered` that the plan accepts.
    pub fn pick<'a>(&self, offered: &'a [Evr]) -> Option<&'a Evr> {
        offered.iter().filter(|evr| self.matches(evr)).max()
    }
}

impl fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSpec::Latest => f.write_str("latest"),
            VersionSpec::Prefix(p) => write!(f, "{p}.*"),
            VersionSpec::Exact(e) => write!(f, "={e}"),
            VersionSpec::Range(parts) => {
                let parts: Vec<String> = parts
                    .iter()
                    .map(|(op, v)| format!("{}{v}", op.symbol()))
                    .collect();
                f.write_str(&parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered() -> Vec<Evr> {
        [
            "3:18.09.9-3.el7",
            "3:19.03.15-3.el7",
            "3:20.10.24-3.el7",
            "3:24.0.7-3.el7",
            "3:26.1.4-3.el7",
        ]
        .iter()
        .map(|s| Evr::parse(s).unwrap())
        .collect()
    }

    fn pick(spec: &str) -> Option<String> {
        VersionSpec::parse(spec)
            .unwrap()
            .pick(&offered())
            .map(|e| e.to_string())
    }

    #[test]
    fn specs_pick_like_an_operator_expects() {
        assert_eq!(pick("latest").as_deref(), Some("3:26.1.4-3.el7"));
        assert_eq!(pick("19.03").as_deref(), Some("3:19.03.15-3.el7"));
        assert_eq!(pick("19.3").as_deref(), Some("3:19.03.15-3.el7"));
        assert_eq!(pick("=24.0.7").as_deref(), Some("3:24.0.7-3.el7"));
        assert_eq!(pick("=3:24.0.7-3.el7").as_deref(), Some("3:24.0.7-3.el7"));
        assert_eq!(pick("=24.0.7-3.el7").as_deref(), Some("3:24.0.7-3.el7"));
        assert_eq!(pick(">=24, <27").as_deref(), Some("3:26.1.4-3.el7"));
        assert_eq!(pick(">=19, <24").as_deref(), Some("3:20.10.24-3.el7"));
        assert_eq!(pick("=24.0.8"), None);
        assert_eq!(pick("2"), None);
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in ["", "banana", "=", ">=", ">=24,", "~24", "=>24"] {
            assert!(VersionSpec::parse(bad).is_err(), "{bad:?}");
        }
    }
}
