//! dpkg version order: a total order (reflexive, antisymmetric, transitive, "equal"
//! an equivalence) on any strings, agreeing with deb-version(7) on the rules it
//! documents, and a Debian version prints and parses back unchanged.

use std::cmp::Ordering::{Equal, Greater, Less};

use proptest::prelude::*;

use crate::packages::debver::verrevcmp;
use crate::packages::rpmver::Evr;

/// Versions built from the pieces that make dpkg's comparison interesting: leading
/// zeros, letters against digits and other characters, `~` and `+`.
fn version() -> impl Strategy<Value = String> {
    let piece = proptest::sample::select(
        &[
            "0", "00", "1", "01", "2", "10", "9", "a", "b", "rc", "A", ".", "+", "-", "~", "~~",
            "dfsg", "deb12u1", "b6",
        ][..],
    );
    prop_oneof![
        3 => proptest::collection::vec(piece, 0..7).prop_map(|p| p.concat()),
        1 => "[0-9a-z.~+]{0,8}",
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn a_total_order(a in version(), b in version(), c in version()) {
        super::total_order_laws(verrevcmp, &a, &b, &c)?;
    }

    #[test]
    fn deb_version_rules_hold(
        v in "[0-9][0-9a-z]{0,3}(\\.[0-9a-z]{1,4}){0,3}",
        s in "[0-9a-z]{1,4}",
        l in "[a-z][0-9a-z]{0,3}",
        n in 0u32..1000,
    ) {
        // `~` sorts before anything, even the end; `+` and a further segment after it.
        prop_assert_eq!(verrevcmp(&format!("{v}~{s}"), &v), Less);
        // (`0~` and `0~0` are equal: trailing zeros do not count, dpkg agrees.)
        prop_assert_eq!(verrevcmp(&format!("{v}~"), &format!("{v}~{l}")), Less);
        prop_assert_eq!(verrevcmp(&format!("{v}+{s}"), &v), Greater);
        prop_assert_eq!(verrevcmp(&format!("{v}.{s}"), &v), Greater);
        // Letters sort before non-letters; leading zeros do not count.
        prop_assert_eq!(verrevcmp(&format!("{v}a"), &format!("{v}+")), Less);
        prop_assert_eq!(verrevcmp(&format!("{v}.{n}"), &format!("{v}.00{n}")), Equal);
        prop_assert_eq!(verrevcmp(&format!("{v}.{n}"), &format!("{v}.{}", n + 1)), Less);
    }

    #[test]
    fn a_debian_version_prints_and_parses_back(
        epoch in prop_oneof![3 => Just(0u64), 1 => 1u64..10],
        upstream in "[0-9][0-9a-z.+~]{0,12}",
        revision in "([0-9a-z][0-9a-z.+~]{0,8})?",
    ) {
        let text = match (epoch, revision.is_empty()) {
            (0, true) => upstream.clone(),
            (0, false) => format!("{upstream}-{revision}"),
            (e, true) => format!("{e}:{upstream}"),
            (e, false) => format!("{e}:{upstream}-{revision}"),
        };
        let parsed = Evr::parse_deb(&text).expect("a valid Debian version parses");
        prop_assert_eq!(&parsed.to_string(), &text);
        prop_assert_eq!((parsed.epoch, parsed.version.as_str(), parsed.release.as_str()),
            (epoch, upstream.as_str(), revision.as_str()));
    }

    #[test]
    fn parsing_never_panics(text in any::<String>()) {
        let _ = Evr::parse_deb(&text);
    }
}
