//! Docker CE is built for 64-bit machines only.

/// `None` when `machine` (as `uname -m` prints it) is one the plan allows.
pub fn check(machine: &str, allowed: &[String]) -> Option<String> {
    if allowed.iter().any(|a| a == machine) {
        return None;
    }
    let bits = if matches!(
        machine,
        "i386" | "i486" | "i586" | "i686" | "armv7l" | "armv6l"
    ) {
        " (a 32-bit machine)"
    } else {
        ""
    };
    Some(format!(
        "architecture: found {machine}{bits}, the plan allows {}; Docker CE needs a 64-bit \
         installation of the OS",
        allowed.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn sixty_four_bit_only() {
        let allowed: Vec<String> = crate::plan::DEFAULT_ARCHES
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(check("x86_64", &allowed).is_none());
        assert!(check("aarch64", &allowed).is_none());
        let problem = check("i686", &allowed).unwrap();
        assert!(problem.contains("32-bit"), "{problem}");
    }
}
