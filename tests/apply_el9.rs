//! Rocky Linux 9 through dnf: the same scenario as EL7, real rpm and dnf throughout.

mod support;

use support::Sandbox;
use support::converge::{Expect, old_install_to_docker_ce};

#[test]
fn old_docker_and_podman_to_docker_ce_then_converged() {
    old_install_to_docker_ce(
        Sandbox::rocky9(),
        Expect {
            old_packages: &["docker", "docker-common", "podman", "runc"],
            engine: "3:19.03.15-1.el9",
            cli: "1:19.03.15-1.el9",
            refresh: "dnf -y makecache",
        },
    );
}
