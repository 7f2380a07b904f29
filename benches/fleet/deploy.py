# The pyinfra side of the fleet benchmark (benches/fleet.rs): the same facts and
# operations as rdock-setup's plan, written as a pyinfra 3 deploy (pyinfra-docker 2.1
# requires pyinfra < 3 and installs from download.docker.com, so it cannot run here).
# Each host's target is its sandbox root (host.data.root), as for rdock-setup.
from pyinfra import host
from pyinfra.facts.server import Command
from pyinfra.operations import files, server

root = host.data.root

files.put(
    name="docker-ce repo file",
    src=host.data.repo_file,
    dest=f"{root}/etc/yum.repos.d/docker-ce.repo",
)

installed = host.get_fact(
    Command,
    command=(
        f"rpm --root {root} -q --qf '%{{NAME}} %{{EPOCH}}:%{{VERSION}}-%{{RELEASE}}\\n' "
        "docker docker-common docker-engine yum-utils device-mapper-persistent-data lvm2 "
        "docker-ce docker-ce-cli containerd.io || true"
    ),
) or ""
lines = installed.splitlines() if isinstance(installed, str) else list(installed)
if host.data.engine_line not in lines:
    server.shell(name="install docker-ce", commands=[host.data.install_command])

files.put(
    name="daemon.json",
    src=host.data.daemon_json,
    dest=f"{root}/etc/docker/daemon.json",
)

enabled = host.get_fact(
    Command, command=f"systemctl --root={root} is-enabled docker.service || true"
) or ""
if str(enabled).strip() != "enabled":
    server.shell(
        name="enable docker", commands=[f"systemctl --root={root} enable docker.service"]
    )
