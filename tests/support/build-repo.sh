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
#   OUT/base/{7,9}/x86_64/                       Packages/*.rpm + repodata/
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
docker_tree() { # EL RELEASE_DOCKER RELEASE_CONTAINERD RELEASE_RC
    local el=$1 rel=$2 crel=$3 rcrel=$4
    local stable="linux/centos/$el/x86_64/stable/Packages"
    local test="linux/centos/$el/x86_64/test/Packages"
    local v
    for v in 18.09.9 19.03.15 20.10.24 24.0.7 26.1.4; do
        docker_ce "$v" "$rel" "$stable:$test"
        docker_ce_cli "$v" "$rel" "$stable:$test"
    done
    docker_ce 27.0.0~rc.1 "$rcrel" "$test"
    docker_ce_cli 27.0.0~rc.1 "$rcrel" "$test"

    pkg containerd.io '' 1.6.33 "$crel" x86_64 "$stable:$test" \
        'Provides: containerd' 'Obsoletes: runc'
    put /usr/bin/containerd 0755 "$(containerd_script 1.6.33)"
    put /usr/lib/systemd/system/containerd.service 0644 "$CONTAINERD_SERVICE"
}

docker_ce() { # VERSION RELEASE DESTS
    pkg docker-ce 3 "$1" "$2" x86_64 "$3" \
        'Requires: docker-ce-cli' 'Requires: containerd.io' \
        'Conflicts: docker' 'Conflicts: docker-common' 'Conflicts: docker-engine' \
        'Conflicts: docker-io' 'Conflicts: docker-engine-cs' 'Conflicts: docker-ee'
    put /usr/bin/dockerd 0755 "$(dockerd_script "$1")"
    put /usr/lib/systemd/system/docker.service 0644 "$DOCKER_SERVICE"
    put /usr/lib/systemd/system/docker.socket 0644 "$DOCKER_SOCKET"
}

docker_ce_cli() { # VERSION RELEASE DESTS
    pkg docker-ce-cli 1 "$1" "$2" x86_64 "$3" \
        'Conflicts: docker' 'Conflicts: docker-io' 'Conflicts: docker-ee-cli'
    put /usr/bin/docker 0755 "$(docker_cli_script "$1")"
}

base_tree() { # EL DIST
    local el=$1 dist=$2
    local d="base/$el/x86_64/Packages"
    local old=1.13.1 oldrel=210.git7d71120.el7.centos

    pkg yum-utils '' 1.1.31 "54$dist" noarch "$d"
    doc yum-utils
    pkg device-mapper-persistent-data '' 0.8.5 "3$dist" x86_64 "$d"
    doc device-mapper-persistent-data
    pkg lvm2 7 2.02.187 "6$dist" x86_64 "$d"
    doc lvm2

    # The old distribution docker packages (CentOS 7 extras).
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
    if [[ "$el" != 7 ]]; then
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
    fi
}

docker_tree 7 3.el7 3.1.el7 1.el7
docker_tree 9 1.el9 3.1.el9 1.el9
base_tree 7 .el7
base_tree 9 .el9

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
for repo in "$TMP_OUT"/linux/centos/*/x86_64/* "$TMP_OUT"/base/*/x86_64; do
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
