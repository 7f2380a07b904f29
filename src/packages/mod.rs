//! Packages: yum and dnf backends, the repo files (Docker's and the distribution's),
//! mirrors and vaults, version resolution, the package transaction.

pub mod apt;
pub mod backend;
pub mod debver;
pub mod mirrors;
pub mod os_repos;
pub mod repo_file;
pub mod rpmver;
pub mod transaction;
pub mod version;
