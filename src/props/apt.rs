//! What dpkg-query, apt-cache and apt-get print, read back: any bytes are read without
//! a panic, and a madison listing built from versions gives those versions back, newest
//! first in dpkg's order, whatever the order and repetition of its lines.

use proptest::prelude::*;

use crate::packages::apt::parse;

fn debian_version() -> impl Strategy<Value = String> {
    (
        prop_oneof![3 => Just(0u64), 1 => 1u64..10],
        "[0-9][0-9a-z.+~]{0,10}",
        "[0-9a-z][0-9a-z.+~]{0,8}",
    )
        .prop_map(|(epoch, upstream, revision)| match epoch {
            0 => format!("{upstream}-{revision}"),
            e => format!("{e}:{upstream}-{revision}"),
        })
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn any_output_is_read_without_a_panic(text in any::<String>()) {
        let names = vec!["docker-ce".to_string()];
        let _ = parse::installed(&text);
        let _ = parse::madison(&text, &names);
        let _ = parse::simulation(&text);
        let _ = parse::problems(&text);
    }

    #[test]
    fn madison_gives_the_offers_back_newest_first(
        versions in proptest::collection::vec(debian_version(), 1..8),
        repeat in 1usize..3,
    ) {
        let names = vec!["docker-ce".to_string()];
        let mut lines = String::new();
        for _ in 0..repeat {
            for v in versions.iter().rev() {
                lines.push_str(&format!(
                    " docker-ce | {v} | http://127.0.0.1/linux/debian bookworm/stable amd64 Packages\n"
                ));
            }
        }
        let offered = parse::madison(&lines, &names);
        let got = offered.get("docker-ce").cloned().unwrap_or_default();
        // Newest first (versions dpkg deems equal, `1.0-1` and `1.00-1`, in any order)…
        prop_assert!(got.windows(2).all(|w| w[0] >= w[1]), "{:?}", got);
        // …and each offered version once.
        let mut want: Vec<String> = versions.clone();
        want.sort();
        want.dedup();
        let mut got: Vec<String> = got.iter().map(ToString::to_string).collect();
        got.sort();
        prop_assert_eq!(got, want);
    }
}
