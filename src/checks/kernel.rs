//! Kernel release strings such as `3.10.0-1160.el7.x86_64` compared numerically.

use std::cmp::Ordering;
use std::fmt;

/// The leading numeric part of a kernel release: `5.14.0-362.8.1.el9_3.aarch64` -> 5.14.0.
#[derive(Debug, Clone)]
pub struct KernelVersion(Vec<u64>);

impl KernelVersion {
    pub fn parse(release: &str) -> Option<Self> {
        let numeric = release
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or("");
        let parts: Option<Vec<u64>> = numeric
            .split('.')
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().ok())
            .collect();
        parts.filter(|p| !p.is_empty()).map(KernelVersion)
    }
}

impl Ord for KernelVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.0.len().max(other.0.len());
        (0..len)
            .map(|i| {
                let a = self.0.get(i).copied().unwrap_or(0);
                let b = other.0.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

// 3.10 and 3.10.0 are the same release.
impl PartialEq for KernelVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for KernelVersion {}

impl PartialOrd for KernelVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// `None` when the kernel is new enough, else the problem as a sentence.
pub fn check(release: &str, minimum: &KernelVersion) -> Option<String> {
    match KernelVersion::parse(release) {
        None => Some(format!(
            "kernel: cannot read the kernel release {release:?}; Docker CE needs Linux {minimum} or later"
        )),
        Some(found) if found < *minimum => Some(format!(
            "kernel: found {release}, Docker CE needs {minimum} or later; upgrade the kernel \
             (on EL6 and older: move to EL7 or later) and reboot"
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min() -> KernelVersion {
        KernelVersion::parse("3.10").unwrap()
    }

    #[test]
    fn real_el_kernels() {
        assert!(check("3.10.0-1160.el7.x86_64", &min()).is_none());
        assert!(check("4.18.0-513.el8.x86_64", &min()).is_none());
        assert!(check("5.14.0-362.8.1.el9_3.aarch64", &min()).is_none());
        let problem = check("2.6.32-754.el6.x86_64", &min()).unwrap();
        assert!(problem.contains("found 2.6.32-754.el6.x86_64"), "{problem}");
        assert!(problem.contains("3.10 or later"), "{problem}");
    }

    #[test]
    fn ordering_is_numeric() {
        let v = |s| KernelVersion::parse(s).unwrap();
        assert!(v("3.9.0") < v("3.10"));
        assert!(v("3.10.0") == v("3.10"));
        assert!(v("4.1") > v("3.10.1000"));
        assert_eq!(v("5.14.0-362.8.1.el9_3.aarch64").to_string(), "5.14.0");
        assert!(KernelVersion::parse("banana").is_none());
        assert!(check("weird", &min()).is_some());
    }
}
