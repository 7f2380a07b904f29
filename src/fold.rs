//! Host names folded for people: web01, web02, web03, web07 -> web[01-03,07].

use std::collections::BTreeMap;

/// Names sharing a prefix and a zero-padded numeric suffix become one bracketed range
/// list; others stay as they are. Order: by prefix, then number.
pub fn fold_names<S: AsRef<str>>(names: &[S]) -> String {
    let mut numbered: BTreeMap<(String, usize), Vec<u64>> = BTreeMap::new();
    let mut plain: Vec<String> = Vec::new();
    for name in names {
        let name = name.as_ref();
        let digits = name.chars().rev().take_while(char::is_ascii_digit).count();
        let (prefix, number) = name.split_at(name.len() - digits);
        match number.parse::<u64>() {
            Ok(n) if digits > 0 => numbered
                .entry((prefix.to_string(), digits))
                .or_default()
                .push(n),
            _ => plain.push(name.to_string()),
        }
    }
    let mut parts = plain;
    for ((prefix, width), mut numbers) in numbered {
        numbers.sort_unstable();
        numbers.dedup();
        if numbers.len() == 1 {
            parts.push(format!("{prefix}{:0width$}", numbers[0]));
            continue;
        }
        let mut ranges: Vec<String> = Vec::new();
        let mut start = numbers[0];
        let mut end = start;
        for &n in &numbers[1..] {
            if n == end + 1 {
                end = n;
                continue;
            }
            ranges.push(range(start, end, width));
            start = n;
            end = n;
        }
        ranges.push(range(start, end, width));
        parts.push(format!("{prefix}[{}]", ranges.join(",")));
    }
    parts.join(", ")
}

fn range(start: u64, end: u64, width: usize) -> String {
    if start == end {
        format!("{start:0width$}")
    } else {
        format!("{start:0width$}-{end:0width$}")
    }
}

#[cfg(test)]
mod tests {
    use super::fold_names;

    #[test]
    fn folds_numbered_runs() {
        let names: Vec<String> = (1..=40).map(|n| format!("web{n:02}")).collect();
        assert_eq!(fold_names(&names), "web[01-40]");
        assert_eq!(
            fold_names(&["web01", "web02", "web03", "web07", "db1", "bastion"]),
            "bastion, db1, web[01-03,07]"
        );
        assert_eq!(fold_names(&["h9", "h10", "h11"]), "h9, h[10-11]");
    }
}
