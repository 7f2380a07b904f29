#!/usr/bin/env bash
# Builds the test fixture: a signed, download.docker.com-shaped Docker CE tree
# plus a fake "base OS" repo (stands for CentOS base/extras), out of tiny rpms
# made with rpmbuild + createrepo_c on this Debian machine.
#
#   tests/support/build-repo.sh OUT_DIR
#
# Layout produced:
#   OUT/linux/centos/gpg                         ASCII-armored public key
#   OUT/linux/centos/docker-ce.repo              like Docker's real one
#   OUT/linux/centos/{7,9}/x86_64/{stable,test}/ Packages/*.rpm + repodata/
#   OUT/linux/centos/8/x86_64/{stable,test}/     (EL8: for CentOS 8 sandboxes)
#   OUT/base/{7,9}/x86_64/                       Packages/*.rpm + repodata/
#   OUT/vault/7.9.2009/{os,updates,extras,centosplus}/x86_64/    CentOS vault trees
#   OUT/vault/8.5.2111/{BaseOS,AppStream,extras,PowerTools}/x86_64/os/
#   OUT/vault-bare/7.9.2009/…                    the 7.9.2009 tree without container-selinux
#   OUT/.complete                                written last
#
# Idempotent: returns at once when OUT/.complete exists. Builds into a
# temporary sibling directory and renames it, so a killed build never looks
# complete. Callers that may race should still hold a lock (tests/support/mod.rs
# does); without one the loser of a race just discards its own tree.
set -euo pipefail
# Unit files shared by the test fixture and the lab repo (absolute before any cd).
UNITS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/units

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT=$1
if [[ -e "$OUT/.complete" ]]; then
    exit 0
fi
for tool in rpmbuild rpmsign createrepo_c gpg; do
    command -v "$tool" >/dev/null || { echo "build-repo.sh: $tool not found (apt-get install -y rpm createrepo-c gnupg)" >&2; exit 1; }
done

mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
TMP_OUT="$OUT.tmp.$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rdock-build-repo.XXXXXX")
cleanup() {
    # stop the gpg-agent that key generation/signing started for this GNUPGHOME
    GNUPGHOME="$WORK/gnupg" gpgconf --kill all >/dev/null 2>&1 || true
    rm -rf "$WORK" "$TMP_OUT"
}
trap cleanup EXIT
rm -rf "$TMP_OUT"
mkdir -p "$TMP_OUT"

export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
KEY_UID='Docker Release (CE rpm) TEST <test@example.invalid>'
KEY_EMAIL='test@example.invalid'

# ---------------------------------------------------------------- packages ---
# Each package gets its own _topdir (so builds can run in parallel), a staging
# tree holding its payload, and a line in $WORK/manifest: "<id> <dest dir>".
# A package built once may be placed into several repos (dest dirs separated
# by ':'); the signed file is hard-linked into the others.
N=0
: >"$WORK/manifest"

# pkg NAME EPOCH VERSION RELEASE ARCH DESTS [TAG LINES...]
#   Starts a package; then call `put`/`putcfg` to add files, and `endpkg`.
pkg() {
    N=$((N + 1))
    CUR="$WORK/pkgs/$N"
    mkdir -p "$CUR/stage" "$CUR/top"
    local name=$1 epoch=$2 version=$3 release=$4 arch=$5 dests=$6
    shift 6
    {
        echo "Name: $name"
        [[ -n "$epoch" ]] && echo "Epoch: $epoch"
        echo "Version: $version"
        echo "Release: $release"
        echo "Summary: $name (rdock-setup test fixture)"
        echo "License: ASL 2.0"
        echo "URL: https://www.docker.com"
        echo "AutoReqProv: no"
        [[ "$arch" == noarch ]] && echo "BuildArch: noarch"
        local t
        for t in "$@"; do echo "$t"; done
        echo
        echo "%description"
        echo "Test fixture package $name $version-$release; not the real thing."
        echo
        echo "%prep"
        echo "%build"
        echo "%install"
        echo "mkdir -p %{buildroot}"
        echo "cp -a $CUR/stage/. %{buildroot}/"
        echo
        echo "%files"
        echo "%defattr(-,root,root,-)"
    } >"$CUR/spec"
    echo "$arch" >"$CUR/arch"
    echo "$N $dests" >>"$WORK/manifest"
}

# put PATH MODE CONTENT  -- a plain file
put() {
    local path=$1 mode=$2 content=$3
    mkdir -p "$CUR/stage$(dirname "$path")"
    [[ "$content" == *$'\n' ]] || content+=$'\n'
    printf '%s' "$content" >"$CUR/stage$path"
    chmod "$mode" "$CUR/stage$path"
    echo "$path" >>"$CUR/spec"
}

# putcfg PATH MODE CONTENT -- a %config(noreplace) file
putcfg() {
    local path=$1 mode=$2 content=$3
    mkdir -p "$CUR/stage$(dirname "$path")"
    printf '%s' "$content" >"$CUR/stage$path"
    chmod "$mode" "$CUR/stage$path"
    echo "%config(noreplace) $path" >>"$CUR/spec"
}

# owndir PATH -- the package owns the directory itself
owndir() {
    mkdir -p "$CUR/stage$1"
    echo "%dir $1" >>"$CUR/spec"
}

doc() {
    put "/usr/share/doc/$1/README" 0644 "$1 - rdock-setup test fixture package.
"
}

# ------------------------------------------------------------------ payloads ---
# docker-ce's and containerd.io's own unit files, shared with the lab's repo builder.
DOCKER_SERVICE=$(<"$UNITS/docker.service")
DOCKER_SOCKET=$(<"$UNITS/docker.socket")
CONTAINERD_SERVICE=$(<"$UNITS/containerd.service")


# docker prints "27.0.0-rc.1" for the rpm version "27.0.0~rc.1"
label() { printf '%s' "${1//\~/-}"; }

dockerd_script() {
    cat <<EOF
#!/bin/sh
# dockerd stub from the rdock-setup test fixture (docker-ce $1)
echo "Docker version $(label "$1"), build test"
EOF
}

docker_cli_script() {
    cat <<EOF
#!/bin/sh
# docker CLI stub from the rdock-setup test fixture (docker-ce-cli $1)
case "\$1" in
    --version|-v) echo "Docker version $(label "$1"), build test" ;;
    version) printf 'Client: Docker Engine - Community\n Version:           %s\n' "$(label "$1")" ;;
    *) echo "docker (test stub $(label "$1")): \$*" >&2; exit 1 ;;
esac
EOF
}

containerd_script() {
    cat <<EOF
#!/bin/sh
# containerd stub from the rdock-setup test fixture (containerd.io $1)
echo "containerd containerd.io $1 test"
EOF
}

# ------------------------------------------------------------- the repos ---
# Names, epochs, versions and Requires follow the real el7 packages:
#  - docker-ce's Requires are those of Docker's docker-ce.spec (docker/docker-ce-packaging,
#    rpm/SPECS/docker-ce.spec) as the el7 26.1.4 build carries them, and as yum 3 reports
#    them on a CentOS 7 host without extras ("Error: Package: 3:docker-ce-26.1.4-1.el7.x86_64
#    (docker-ce-stable) Requires: container-selinux >= 2:2.74"); systemd, libseccomp and
#    /usr/sbin/groupadd are left out: every EL host has them, and nothing in a sandbox
#    root or the Debian-based lab could carry them as rpms;
#  - docker-ce-rootless-extras (from 20.10 on) Requires fuse-overlayfs >= 0.7 and
#    slirp4netns >= 0.4 (rpm/SPECS/docker-ce-rootless-extras.spec);
#  - the plugins are versioned on their own; the el7 tree ends at buildx 0.14.1 and
#    compose 2.27.1, beside docker-ce 26.1.4, as download.docker.com/linux/centos/7 does.
# EL8/EL9 builds: docker-ce Requires no libcgroup on EL9 (the spec's `rhel < 9`).
docker_tree() { # EL RELEASE_DOCKER RELEASE_CONTAINERD RELEASE_RC
    local el=$1 rel=$2 crel=$3 rcrel=$4
    local stable="linux/centos/$el/x86_64/stable/Packages"
    local test="linux/centos/$el/x86_64/test/Packages"
    local v
    for v in 18.09.9 19.03.15 20.10.24 24.0.7 26.1.4; do
        docker_ce "$el" "$v" "$rel" "$stable:$test"
        docker_ce_cli "$v" "$rel" "$stable:$test"
        [[ $v == 1* ]] || rootless_extras "$v" "$rel" "$stable:$test"
    done
    docker_ce "$el" 27.0.0~rc.1 "$rcrel" "$test"
    docker_ce_cli 27.0.0~rc.1 "$rcrel" "$test"
    rootless_extras 27.0.0~rc.1 "$rcrel" "$test"

    pkg containerd.io '' 1.6.33 "$crel" x86_64 "$stable:$test" \
        'Provides: containerd' 'Obsoletes: runc'
    put /usr/bin/containerd 0755 "$(containerd_script 1.6.33)"
    put /usr/lib/systemd/system/containerd.service 0644 "$CONTAINERD_SERVICE"

    local dist=${rel#*.}
    for v in 0.10.5 0.12.1 0.14.1; do
        cli_plugin docker-buildx-plugin buildx "$v" "1.$dist" "$stable:$test" \
            "Docker Buildx" "github.com/docker/buildx v$v rdock-setup-fixture"
    done
    for v in 2.21.0 2.24.7 2.27.1; do
        cli_plugin docker-compose-plugin compose "$v" "1.$dist" "$stable:$test" \
            "Docker Compose" "Docker Compose version v$v"
    done
}

docker_ce() { # EL VERSION RELEASE DESTS
    local el=$1 v=$2 requires=('Requires: docker-ce-cli' 'Requires: containerd.io >= 1.6.4'
        'Requires: container-selinux >= 2:2.74' 'Requires: iptables' 'Requires: tar' 'Requires: xz')
    [[ $el == 9 ]] || requires+=('Requires: libcgroup')
    [[ $v == 1* ]] || requires+=('Requires: docker-ce-rootless-extras')
    pkg docker-ce 3 "$v" "$3" x86_64 "$4" "${requires[@]}" \
        'Conflicts: docker' 'Conflicts: docker-common' 'Conflicts: docker-engine' \
        'Conflicts: docker-io' 'Conflicts: docker-engine-cs' 'Conflicts: docker-ee'
    put /usr/bin/dockerd 0755 "$(dockerd_script "$v")"
    put /usr/lib/systemd/system/docker.service 0644 "$DOCKER_SERVICE"
    put /usr/lib/systemd/system/docker.socket 0644 "$DOCKER_SOCKET"
}

docker_ce_cli() { # VERSION RELEASE DESTS
    pkg docker-ce-cli 1 "$1" "$2" x86_64 "$3" \
        'Conflicts: docker' 'Conflicts: docker-io' 'Conflicts: docker-ee-cli'
    put /usr/bin/docker 0755 "$(docker_cli_script "$1")"
}

rootless_extras() { # VERSION RELEASE DESTS
    pkg docker-ce-rootless-extras '' "$1" "$2" x86_64 "$3" \
        'Requires: fuse-overlayfs >= 0.7' 'Requires: slirp4netns >= 0.4' 'Conflicts: rootlesskit'
    put /usr/bin/dockerd-rootless.sh 0755 '#!/bin/sh
echo "dockerd-rootless.sh (rdock-setup test fixture)" >&2
exit 1
'
}

# A docker CLI plugin that speaks the plugin protocol: the CLI runs
# `docker-NAME docker-cli-plugin-metadata`, then `docker-NAME NAME ARGS…`.
# The real plugins are Go binaries; these are thin scripts (and the lab uses them too).
cli_plugin() { # PACKAGE NAME VERSION RELEASE DESTS DESCRIPTION VERSION_LINE
    pkg "$1" '' "$3" "$4" x86_64 "$5"
    put "/usr/libexec/docker/cli-plugins/docker-$2" 0755 "#!/bin/sh
# docker CLI plugin $2 $3 from the rdock-setup test fixture (a script, not the real plugin)
if [ \"\$1\" = docker-cli-plugin-metadata ]; then
    printf '{\"SchemaVersion\":\"0.1.0\",\"Vendor\":\"Docker Inc.\",\"Version\":\"v$3\",\"ShortDescription\":\"$6\"}\\n'
    exit 0
fi
[ \"\$1\" = $2 ] && shift
case \"\$1\" in
    version|--version) echo \"$7\" ;;
    *) echo \"docker $2 (rdock-setup test fixture $3): \$*\" >&2; exit 1 ;;
esac
"
}

# pkgs_at DEST NAME:EPOCH:VERSION:RELEASE[:REQUIRES,…[:PROVIDES,…]] …
#   plain packages with a doc file
pkgs_at() {
    local dest=$1 spec name epoch version release requires provides r
    shift
    for spec in "$@"; do
        IFS=: read -r name epoch version release requires provides <<<"$spec"
        local tags=() list=()
        IFS=, read -r -a list <<<"$requires"
        for r in "${list[@]}"; do tags+=("Requires: $r"); done
        IFS=, read -r -a list <<<"$provides"
        for r in "${list[@]}"; do tags+=("Provides: $r"); done
        pkg "$name" "$epoch" "$version" "$release" x86_64 "$dest" "${tags[@]}"
        doc "$name"
    done
}

old_docker() { # DEST: the old distribution docker packages (CentOS 7 extras)
    local d=$1 old=1.13.1 oldrel=210.git7d71120.el7.centos
    pkg docker 2 "$old" "$oldrel" x86_64 "$d" \
        "Requires: docker-common = 2:$old-$oldrel" "Requires: docker-client = 2:$old-$oldrel"
    owndir /etc/docker
    putcfg /etc/docker/daemon.json 0644 '{}
'
    put /usr/bin/dockerd-current 0755 '#!/bin/sh
echo "Docker version 1.13.1, build 7d71120/1.13.1"
'
    local n
    for n in docker-common docker-client docker-selinux; do
        pkg "$n" 2 "$old" "$oldrel" x86_64 "$d"
        doc "$n"
    done
    pkg docker-client-latest '' 1.13.1 58.git87f2fab.el7.centos x86_64 "$d"
    doc docker-client-latest
    pkg docker-latest '' 1.13.1 58.git87f2fab.el7.centos x86_64 "$d"
    doc docker-latest
    pkg docker-latest-logrotate '' 1.13.1 58.git87f2fab.el7.centos x86_64 "$d"
    doc docker-latest-logrotate
    pkg docker-logrotate 2 "$old" "$oldrel" x86_64 "$d"
    doc docker-logrotate
    pkg docker-engine '' 17.05.0.ce 1.el7.centos x86_64 "$d"
    put /usr/bin/docker-engine-dockerd 0755 '#!/bin/sh
echo "Docker version 17.05.0-ce, build 89658be"
'
}

el8_old_podman() { # DEST: what EL8/EL9 ship that conflicts with docker-ce
    local d=$1 dist=$2
    pkg podman 2 4.6.1 "5$dist" x86_64 "$d"
    put /usr/bin/podman 0755 '#!/bin/sh
echo "podman version 4.6.1"
'
    pkg buildah 1 1.31.3 "1$dist" x86_64 "$d"
    doc buildah
    pkg runc 4 1.1.9 "1$dist" x86_64 "$d"
    put /usr/bin/runc 0755 '#!/bin/sh
echo "runc version 1.1.9"
'
}

# What docker-ce needs from the distribution, per release (names and EVRs as in the
# CentOS 7.9.2009 / 8.5.2111 vault trees and Rocky 9's BaseOS/AppStream).
EL7_OS_DEPS=(iptables::1.4.21:35.el7 libcgroup::0.41:21.el7 tar:2:1.26:35.el7 xz::5.2.2:1.el7)
EL7_EXTRAS_DEPS=(container-selinux:2:2.119.2:1.911c772.el7_8 fuse3-libs::3.6.1:4.el7
    fuse-overlayfs::0.7.2:6.el7_8:fuse3-libs slirp4netns::0.4.3:4.el7_8)
EL7_PREREQS=(yum-utils::1.1.31:54.el7_8 device-mapper-persistent-data::0.8.5:3.el7_9.2
    lvm2:7:2.02.187:6.el7_9.5)
EL8_BASEOS_DEPS=(iptables::1.8.4:20.el8 libcgroup::0.41:19.el8 tar:2:1.30:5.el8 xz::5.2.4:3.el8
    fuse3-libs::3.2.1:12.el8)
EL8_APPSTREAM_DEPS=(container-selinux:2:2.167.0:1.module_el8.5.0+911+f19012f9
    fuse-overlayfs::1.7.1:1.module_el8.5.0+890+6b136101:fuse3-libs
    slirp4netns::1.1.8:1.module_el8.5.0+890+6b136101)
EL9_DEPS=("iptables-nft::1.8.8:6.el9::iptables = 1.8.8-6.el9" tar:2:1.34:6.el9 xz::5.2.5:8.el9
    container-selinux:3:2.221.0:1.el9 fuse3-libs::3.10.2:6.el9
    fuse-overlayfs::1.12:1.el9:fuse3-libs slirp4netns::1.2.1:1.el9)

# The fixture's own combined "base" repo per EL (os and extras in one), used by the
# sandbox roots whose repos work.
base_tree() { # EL DIST
    local el=$1 dist=$2
    local d="base/$el/x86_64/Packages"
    if [[ $el == 7 ]]; then
        pkgs_at "$d" "${EL7_PREREQS[@]}" "${EL7_OS_DEPS[@]}" "${EL7_EXTRAS_DEPS[@]}"
    else
        pkgs_at "$d" yum-utils::4.3.0:5$dist device-mapper-persistent-data::0.9.0:13$dist \
            lvm2:9:2.03.21:3$dist "${EL9_DEPS[@]}"
        el8_old_podman "$d" "$dist"
    fi
    old_docker "$d"
}

# CentOS vault trees, laid out as vault.centos.org and its mirrors lay them out:
#   vault/7.9.2009/{os,updates,extras,centosplus}/x86_64/
#   vault/8.5.2111/{BaseOS,AppStream,extras,PowerTools}/x86_64/os/
# plus vault-bare/7.9.2009/…: the same without container-selinux (an extras mirror that
# lacks it), for the "a dependency is nowhere" case.
vault_trees() {
    local v7=vault/7.9.2009 v8=vault/8.5.2111 b7=vault-bare/7.9.2009
    pkgs_at "$v7/os/x86_64/Packages:$b7/os/x86_64/Packages" "${EL7_PREREQS[@]}" "${EL7_OS_DEPS[@]}"
    pkgs_at "$v7/updates/x86_64/Packages:$b7/updates/x86_64/Packages" xz::5.2.2:2.el7_9
    pkgs_at "$v7/extras/x86_64/Packages" container-selinux:2:2.119.2:1.911c772.el7_8
    pkgs_at "$v7/extras/x86_64/Packages:$b7/extras/x86_64/Packages" "${EL7_EXTRAS_DEPS[@]:1}"
    old_docker "$v7/extras/x86_64/Packages:$b7/extras/x86_64/Packages"
    pkgs_at "$v7/centosplus/x86_64/Packages:$b7/centosplus/x86_64/Packages" \
        kernel-plus::3.10.0:1160.119.1.el7.centos.plus
    pkgs_at "$v8/BaseOS/x86_64/os/Packages" "${EL8_BASEOS_DEPS[@]}" \
        yum-utils::4.0.21:3.el8 device-mapper-persistent-data::0.9.0:4.el8 lvm2:8:2.03.12:10.el8
    pkgs_at "$v8/AppStream/x86_64/os/Packages" "${EL8_APPSTREAM_DEPS[@]}"
    el8_old_podman "$v8/AppStream/x86_64/os/Packages" .module_el8.5.0+911+f19012f9
    pkgs_at "$v8/extras/x86_64/os/Packages" centos-release-stream::8.1:1.1911.0.7.el8
    pkgs_at "$v8/PowerTools/x86_64/os/Packages" lvm2-devel:8:2.03.12:10.el8
}

docker_tree 7 3.el7 3.1.el7 1.el7
docker_tree 8 1.el8 3.1.el8 1.el8
docker_tree 9 1.el9 3.1.el9 1.el9
base_tree 7 .el7
base_tree 9 .el9
vault_trees

# -------------------------------------------------------------------- build ---
build_one() { # ID
    local dir="$WORK/pkgs/$1"
    rpmbuild -bb --quiet \
        --target "$(cat "$dir/arch")" \
        --define "_topdir $dir/top" \
        --define 'debug_package %{nil}' \
        --define '_build_id_links none' \
        --define '__spec_install_post %{nil}' \
        --define '__os_install_post %{nil}' \
        "$dir/spec" >"$dir/log" 2>&1 || { cat "$dir/log" >&2; return 1; }
}
export -f build_one
export WORK
cut -d' ' -f1 "$WORK/manifest" | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} bash -c 'build_one {}'

# ------------------------------------------------------------------- signing ---
gpg --batch --quiet --passphrase '' --quick-gen-key "$KEY_UID" rsa2048 sign never 2>/dev/null
mkdir -p "$TMP_OUT/linux/centos"
gpg --batch --armor --export "$KEY_EMAIL" >"$TMP_OUT/linux/centos/gpg"

mapfile -t RPMS < <(find "$WORK/pkgs" -path '*/RPMS/*.rpm' | sort)
# (rpmsign warns "Could not set GPG_TTY" once per file when stdin is no tty)
rpmsign --define '__gpg /usr/bin/gpg' --define "_gpg_name $KEY_EMAIL" --addsign "${RPMS[@]}" \
    >"$WORK/rpmsign.log" 2>&1 </dev/null || { cat "$WORK/rpmsign.log" >&2; exit 1; }

while read -r id dests; do
    rpm_file=$(find "$WORK/pkgs/$id/top/RPMS" -name '*.rpm')
    IFS=: read -r -a dest_list <<<"$dests"
    first=
    for dest in "${dest_list[@]}"; do
        mkdir -p "$TMP_OUT/$dest"
        if [[ -z "$first" ]]; then
            cp "$rpm_file" "$TMP_OUT/$dest/"
            first="$TMP_OUT/$dest/$(basename "$rpm_file")"
        else
            ln "$first" "$TMP_OUT/$dest/"
        fi
    done
done <"$WORK/manifest"

# ------------------------------------------------------------------- repodata ---
for repo in "$TMP_OUT"/linux/centos/*/x86_64/* "$TMP_OUT"/base/*/x86_64 \
    "$TMP_OUT"/vault*/7.*/*/x86_64 "$TMP_OUT"/vault*/8.*/*/x86_64/os; do
    createrepo_c --quiet --no-database "$repo" >/dev/null
done

cat >"$TMP_OUT/linux/centos/docker-ce.repo" <<'EOF'
[docker-ce-stable]
name=Docker CE Stable - $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable
enabled=1
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-stable-debuginfo]
name=Docker CE Stable - Debuginfo $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/debug-$basearch/stable
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-stable-source]
name=Docker CE Stable - Sources
baseurl=https://download.docker.com/linux/centos/$releasever/source/stable
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-test]
name=Docker CE Test - $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/test
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-test-debuginfo]
name=Docker CE Test - Debuginfo $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/debug-$basearch/test
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-test-source]
name=Docker CE Test - Sources
baseurl=https://download.docker.com/linux/centos/$releasever/source/test
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-nightly]
name=Docker CE Nightly - $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/nightly
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-nightly-debuginfo]
name=Docker CE Nightly - Debuginfo $basearch
baseurl=https://download.docker.com/linux/centos/$releasever/debug-$basearch/nightly
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg

[docker-ce-nightly-source]
name=Docker CE Nightly - Sources
baseurl=https://download.docker.com/linux/centos/$releasever/source/nightly
enabled=0
gpgcheck=1
gpgkey=https://download.docker.com/linux/centos/gpg
EOF

# ------------------------------------------------------------------- publish ---
touch "$TMP_OUT/.complete"
if [[ -e "$OUT" && ! -e "$OUT/.complete" ]]; then
    rm -rf "$OUT" # a leftover that never completed
fi
if ! mv -T "$TMP_OUT" "$OUT" 2>/dev/null; then
    # somebody else finished first; theirs is as good as ours
    [[ -e "$OUT/.complete" ]] || { echo "build-repo.sh: could not publish $OUT" >&2; exit 1; }
fi
