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
        Some(distro) => problems.extend(distro.check_for(if plan.repo.source.is_distro() {
            distro::RepoKind::Distro
        } else {
            distro::RepoKind::Docker
        })),
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

/// Why `distro` cannot take Docker's repo, if it cannot.
pub fn distro_problem(distro: &distro::Distro) -> Option<String> {
    distro.check()
}
