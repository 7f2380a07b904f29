//! CentOS 7 through the yum dialect. There is no yum on Debian: the test-only shim
//! (tests/support, `shim_dir`) execs the real dnf with the same arguments, turning
//! `makecache fast` into `makecache`. rpm, dnf, the repo and the packages are real.

mod support;

use support::Sandbox;
use support::converge::{Expect, old_install_to_docker_ce};

#[test]
fn old_docker_to_docker_ce_then_converged() {
    old_install_to_docker_ce(
        Sandbox::centos7(),
        Expect {
            old_packages: &["docker", "docker-common", "docker-client"],
            engine: "3:19.03.15-3.el7",
            cli: "1:19.03.15-3.el7",
            refresh: "yum -y makecache fast",
        },
    );
}
