//! Preflight: preconditions that stop a run before any change.

pub mod arch;
pub mod distro;
pub mod kernel;
pub mod privileges;

use crate::facts::Facts;
use crate::plan::Plan;

/// Every failed precondition, each a sentence saying what was found, what is needed and
/// what to do. Empty when the run may go on.
pub fn preflight(plan: &Plan, facts: &Facts) -> Vec<String> {
    let mut problems = Vec::new();
    match &facts.distro {
        Some(distro) => problems.extend(distro.check()),
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
