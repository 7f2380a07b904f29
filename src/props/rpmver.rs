//! rpm version order: a total order (reflexive, antisymmetric, transitive, with
//! "equal" an equivalence) on any strings, agreeing with rpm on the rules it documents,
//! and an EVR prints and parses back unchanged.

use std::cmp::Ordering::{Equal, Greater, Less};

use proptest::prelude::*;

use super::packages::evr;
use crate::packages::rpmver::{Evr, vercmp};

/// Versions built from the pieces that make rpm's comparison interesting: leading
/// zeros, letters against digits, separators, `~` and `^`.
fn version() -> impl Strategy<Value = String> {
    let piece = proptest::sample::select(
        &[
            "0", "00", "1", "01", "2", "10", "9", "a", "b", "rc", "A", ".", "_", "+", "-", "~",
            "^", ".el7",
        ][..],
    );
    prop_oneof![
        3 => proptest::collection::vec(piece, 0..7).prop_map(|p| p.concat()),
        1 => "[0-9a-z.~^_]{0,8}",
        1 => any::<String>(),
    ]
}

/// A plain version: alphanumeric segments joined by dots.
fn plain() -> impl Strategy<Value = String> {
    "[0-9a-z]{1,4}(\\.[0-9a-z]{1,4}){0,3}"
}

proptest! {
    #![proptest_config(super::config(super::DEFAULT_CASES))]

    #[test]
    fn a_total_order(a in version(), b in version(), c in version()) {
        super::total_order_laws(vercmp, &a, &b, &c)?;
    }

    #[test]
    fn rpm_rules_hold(v in plain(), s in "[0-9a-z]{1,4}", letters in "[a-z]{1,4}", n in 0u32..1000) {
        // `~` sorts before the release it precedes, `^` after it and before the next one.
        prop_assert_eq!(vercmp(&format!("{v}~{s}"), &v), Less);
        prop_assert_eq!(vercmp(&format!("{v}^{s}"), &v), Greater);
        prop_assert_eq!(vercmp(&format!("{v}^{s}"), &format!("{v}.{n}")), Less);
        // A further segment is newer; digits beat letters; leading zeros do not count.
        prop_assert_eq!(vercmp(&format!("{v}.{s}"), &v), Greater);
        prop_assert_eq!(vercmp(&format!("{v}.{n}"), &format!("{v}.{letters}")), Greater);
        prop_assert_eq!(vercmp(&format!("{v}.{n}"), &format!("{v}.00{n}")), Equal);
        prop_assert_eq!(vercmp(&format!("{v}.{n}"), &format!("{v}.{}", n + 1)), Less);
    }

    #[test]
    fn an_evr_prints_and_parses_back(e in evr()) {
        prop_assert_eq!(Evr::parse(&e.to_string()), Some(e.clone()));
        prop_assert_eq!(Evr::parse(&format!("{}:{}-{}", e.epoch, e.version, e.release)), Some(e));
    }

    #[test]
    fn any_text_parses_as_an_evr_or_not_without_a_panic(text in any::<String>(), other in evr()) {
        if let Some(e) = Evr::parse(&text) {
            prop_assert!(!e.version.is_empty());
            prop_assert_eq!(e.cmp(&other), other.cmp(&e).reverse());
        }
    }
}
