//! Seeded property tests of the parsers and renderers that read what a target or an
//! operator wrote: plans, daemon.json, release files, yum/dnf and rpm output, rpm and dpkg version
//! order, apt and dpkg-query output, the EOL repo-file rewrite, yum/dnf problem lines and the
//! fact-script frames.
//!
//! Every property runs with a fixed seed, so CI sees the same cases on every run and a
//! failure reproduces; `PROPTEST_CASES` sets the number of cases of each property (the
//! defaults below keep the whole set to seconds) and `PROPTEST_RNG_SEED` another seed.
//! A case a property found is kept as a plain regression test beside the code it broke.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

mod apt;
mod daemonjson;
mod debver;
mod distro;
mod os_repos;
mod packages;
mod plan;
mod remote_probe;
mod rpmver;
mod transaction;

/// The seed of every property unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 0x7264_6f63_6b10_c0de;

/// Cases of a property when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 1000;

/// Config of the properties: `cases` of each (unless `PROPTEST_CASES`), the fixed seed
/// (unless `PROPTEST_RNG_SEED`), and no failure files written into the source tree.
pub fn config(cases: u32) -> Config {
    // Config::default() has already read the PROPTEST_* variables.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    config.failure_persistence = None;
    config
}

/// Text that is mostly line-structured: pieces of `vocabulary`, arbitrary words
/// (control characters and non-ASCII included), spaces, `=`, quotes and line ends.
pub fn noisy_text(vocabulary: &'static [&'static str]) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(vocabulary).prop_map(str::to_string),
        2 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
        1 => Just("\n".to_string()),
        1 => Just("\r\n".to_string()),
        1 => Just(" ".to_string()),
        1 => Just("\t".to_string()),
        1 => Just("=".to_string()),
        1 => Just("\"".to_string()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// A version order's laws, for any comparison: antisymmetric, reflexive, and
/// transitive on `a`, `b`, `c` (strictly when either step is strict), with "equal" an
/// equivalence (`a ~ b` compare alike with everything).
pub fn total_order_laws(
    cmp: fn(&str, &str) -> std::cmp::Ordering,
    a: &str,
    b: &str,
    c: &str,
) -> Result<(), TestCaseError> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let consistent = |x: &str, y: &str| -> Result<std::cmp::Ordering, TestCaseError> {
        let order = cmp(x, y);
        prop_assert_eq!(cmp(y, x), order.reverse(), "{:?} vs {:?}", x, y);
        Ok(order)
    };
    prop_assert_eq!(cmp(a, a), Equal);
    let (ab, bc, ac) = (consistent(a, b)?, consistent(b, c)?, consistent(a, c)?);
    if ab != Greater && bc != Greater {
        prop_assert!(ac != Greater, "{a:?} <= {b:?} <= {c:?} but {a:?} > {c:?}");
        if ab == Less || bc == Less {
            prop_assert_eq!(ac, Less, "{:?} < {:?}", a, c);
        }
    }
    if ab == Equal {
        prop_assert_eq!(ac, bc, "{:?} ~ {:?} against {:?}", a, b, c);
    }
    Ok(())
}
