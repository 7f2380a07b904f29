//! The Debian and Ubuntu releases Docker's apt trees (`linux/debian`, `linux/ubuntu`)
//! are used for, by codename: the apt suite of the source the tool writes.

/// Docker's apt tree a release installs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AptTree {
    Debian,
    Ubuntu,
}

pub struct Suite {
    pub tree: AptTree,
    pub version: &'static str,
    pub codename: &'static str,
    /// `None`: supported. Else why not, and what to do.
    pub refusal: Option<&'static str>,
}

const fn supported(tree: AptTree, version: &'static str, codename: &'static str) -> Suite {
    Suite {
        tree,
        version,
        codename,
        refusal: None,
    }
}

const fn refused(
    tree: AptTree,
    version: &'static str,
    codename: &'static str,
    why: &'static str,
) -> Suite {
    Suite {
        tree,
        version,
        codename,
        refusal: Some(why),
    }
}

pub const SUITES: &[Suite] = &[
    supported(AptTree::Debian, "11", "bullseye"),
    supported(AptTree::Debian, "12", "bookworm"),
    supported(AptTree::Debian, "13", "trixie"),
    refused(
        AptTree::Debian,
        "10",
        "buster",
        "Debian 10 (buster) is past its end of life (LTS ended 2024-06-30) and Docker \
         builds no current engine for it; upgrade to Debian 12 (bookworm) or 13 (trixie)",
    ),
    refused(
        AptTree::Debian,
        "9",
        "stretch",
        "Debian 9 (stretch) is past its end of life and Docker builds no engine for it; \
         upgrade to Debian 12 (bookworm) or 13 (trixie)",
    ),
    supported(AptTree::Ubuntu, "20.04", "focal"),
    supported(AptTree::Ubuntu, "22.04", "jammy"),
    supported(AptTree::Ubuntu, "24.04", "noble"),
    refused(
        AptTree::Ubuntu,
        "18.04",
        "bionic",
        "Ubuntu 18.04 (bionic) left standard support in 2023 and Docker stopped building \
         for it (its last engine is 24.0); upgrade to Ubuntu 22.04 (jammy) or 24.04 (noble)",
    ),
    refused(
        AptTree::Ubuntu,
        "16.04",
        "xenial",
        "Ubuntu 16.04 (xenial) is past standard support and Docker builds no engine for \
         it; upgrade to Ubuntu 22.04 (jammy) or 24.04 (noble)",
    ),
];

/// The release a codename names in `tree`.
pub fn by_codename(tree: AptTree, codename: &str) -> Option<&'static Suite> {
    SUITES
        .iter()
        .find(|s| s.tree == tree && s.codename.eq_ignore_ascii_case(codename))
}

/// The release a VERSION_ID names in `tree` (Ubuntu's "22.04", Debian's "12").
pub fn by_version(tree: AptTree, version: &str) -> Option<&'static Suite> {
    SUITES
        .iter()
        .find(|s| s.tree == tree && s.version == version)
}

/// The supported releases of `tree`, for messages: `12 (bookworm), 13 (trixie)`.
pub fn supported_list(tree: AptTree) -> String {
    let names: Vec<String> = SUITES
        .iter()
        .filter(|s| s.tree == tree && s.refusal.is_none())
        .map(|s| format!("{} ({})", s.version, s.codename))
        .collect();
    names.join(", ")
}
