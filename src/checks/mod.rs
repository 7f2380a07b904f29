//! Preflight: preconditions that stop a run before any change.

pub mod apt_suites;
pub mod arch;
pub mod distro;
pub mod el_relatives;
pub mod kernel;
pub mod privileges;

use crate::facts::Facts;
use crate::plan::Plan;

/// Every failed precondition, each a sentence saying what was found, what is needed and
/// what to do. Empty when the run may go on.
pub fn preflight(plan: &Plan, facts: &Facts) -> Vec<String> {
    let mut problems = Vec::new();
    match &facts.distro {
        Some(distro) => problems.extend(distro_problem(distro)),
        None => problems.push(
            "distribution: none of /etc/os-release, /etc/redhat-release, /etc/centos-release \
             names one; is this an EL host (or, with --root, an EL tree)?"
                .to_string(),
        ),
    }
    problems.extend(kernel::check(
        &facts.kernel_release,
        &plan.preflight.min_kernel,
    ));
    problems.extend(arch::check(&facts.machine, &plan.preflight.arch));
    problems.extend(privileges::check(facts.is_root, facts.offline.is_some()));
    problems
}

/// Why this build cannot serve `distro`, if it cannot: the distribution's verdict,
/// then what this build lacks for it.
pub fn distro_problem(distro: &distro::Distro) -> Option<String> {
    distro.check().or_else(|| apt_backend_missing(distro))
}

/// The distro model knows Debian and Ubuntu before the apt backend exists: until it
/// lands (issue 11, item 1), such a host is refused here rather than handed to yum.
fn apt_backend_missing(distro: &distro::Distro) -> Option<String> {
    (distro.package_manager() == distro::PackageManager::Apt).then(|| {
        format!(
            "distribution: {} is recognised (Docker's {} tree, suite {}), but this build \
             has no apt backend yet",
            distro.pretty_name,
            distro.docker_repo_os(),
            distro.suite().unwrap_or_default()
        )
    })
}
