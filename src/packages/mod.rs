//! Packages: yum and dnf backends, the repo file and mirrors, version resolution.

pub mod backend;
pub mod mirrors;
pub mod rpmver;
pub mod version;
