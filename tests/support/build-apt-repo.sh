#!/usr/bin/env bash
# Builds a signed, download.docker.com-shaped Docker CE APT repository for tests and
# the lab: real .deb files (dpkg-deb), indexes by apt-ftparchive, Release/InRelease
# signed with gpg, the public key at linux/<os>/gpg like Docker's own tree.
#
#   tests/support/build-apt-repo.sh OUT_DIR GPG_HOME
#
#   OUT_DIR   the tree to create; serve it over HTTP (it is a mirror root for rdock-setup:
#             repo.source = "http://127.0.0.1:PORT"). Built in OUT_DIR.tmp, renamed when
#             complete; exits at once when OUT_DIR/.complete exists.
#   GPG_HOME  a GnuPG home directory. When it holds no secret key, a passphrase-less
#             signing key 'Docker Release (CE deb) TEST <apt-test@example.invalid>' is made
#             there; otherwise its first secret key signs. Keep it to re-sign later.
#
# Environment:
#   APT_REPO_SUITES   "os:codename:version ..." (default
#                     "debian:bookworm:12 debian:bullseye:11 ubuntu:jammy:22.04 ubuntu:noble:24.04")
#   APT_REPO_ARCH     Debian architecture of the packages (default: dpkg --print-architecture)
#   APT_REPO_BINARIES 1: docker-ce, docker-ce-cli and containerd.io carry this machine's
#                     real dockerd, docker, containerd, containerd-shim-runc-v2 and runc
#                     (Debian's docker.io, containerd and runc must be installed) and
#                     docker-ce the unit files of tests/support/units, so that a host that
#                     installs them runs a real engine. Default: small stand-in scripts.
#
# Layout (per os and codename; like download.docker.com/linux/debian and /linux/ubuntu):
#   OUT/linux/<os>/gpg                                    ASCII-armored public key
#   OUT/linux/<os>/dists/<codename>/{Release,InRelease,Release.gpg}
#   OUT/linux/<os>/dists/<codename>/stable/binary-<arch>/Packages{,.gz}
#   OUT/linux/<os>/dists/<codename>/pool/stable/<arch>/*.deb
#   OUT/packages.txt                                      "os codename package version" lines
#   OUT/.complete                                         written last
#
# Packages, versions spelled as Docker spells them (R = 1~<os>.<version>~<codename>):
#   docker-ce and docker-ce-cli 5:V-R for V in 24.0.7 25.0.5 26.1.4;
#   docker-ce-rootless-extras V-R (no epoch, as Docker ships it);
#   containerd.io 1.6.28-1 and 1.6.33-1 (Conflicts/Replaces/Provides containerd, runc);
#   docker-buildx-plugin 0.13.1-1~… and 0.14.1-1~…; docker-compose-plugin 2.24.7-1~… and 2.27.1-1~….
# Depends/Conflicts/Replaces as on the real packages: docker-ce Depends containerd.io
# (>= 1.6.24), docker-ce-cli, iptables, libseccomp2, libc6; Conflicts docker.io,
# docker-engine; docker-ce-cli Conflicts docker.io. Needs: dpkg-deb, apt-ftparchive
# (apt-utils), gpg (gnupg).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 OUT_DIR GPG_HOME" >&2
    exit 2
fi
OUT=$1
export GNUPGHOME=$2
[[ -e "$OUT/.complete" ]] && exit 0
UNITS=$(cd "$(dirname "${BASH_SOURCE[0]}")/units" && pwd)

die() { printf 'build-apt-repo: %s\n' "$*" >&2; exit 1; }
for tool in dpkg-deb apt-ftparchive gpg gzip; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install dpkg-dev apt-utils gnupg)"
done

SUITES=${APT_REPO_SUITES:-"debian:bookworm:12 debian:bullseye:11 ubuntu:jammy:22.04 ubuntu:noble:24.04"}
ARCH=${APT_REPO_ARCH:-$(dpkg --print-architecture)}
ENGINES=(24.0.7 25.0.5 26.1.4)
CONTAINERDS=(1.6.28-1 1.6.33-1)
BUILDX=(0.13.1 0.14.1)
COMPOSE=(2.24.7 2.27.1)
KEY_UID='Docker Release (CE deb) TEST <apt-test@example.invalid>'

TMP=$OUT.tmp
rm -rf "$TMP"
mkdir -p "$TMP" "$GNUPGHOME"
chmod 700 "$GNUPGHOME"
cleanup() { gpgconf --kill gpg-agent >/dev/null 2>&1 || true; }
trap cleanup EXIT

if ! gpg --batch --list-secret-keys 2>/dev/null | grep -q '^sec'; then
    gpg --batch --quiet --passphrase '' --quick-gen-key "$KEY_UID" rsa2048 sign never 2>/dev/null
fi
KEY=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
[[ -n $KEY ]] || die "no signing key in $GNUPGHOME"

# deb NAME VERSION POOL [control lines...]: one binary package whose payload is under
# $STAGE/NAME (made by the caller, or a stand-in script).
STAGE=$TMP/.stage
deb() {
    local name=$1 version=$2 pool=$3
    shift 3
    local dir=$STAGE/$name-$version
    mkdir -p "$dir/DEBIAN" "$pool"
    if [[ -d $STAGE/payload-$name ]]; then
        cp -a "$STAGE/payload-$name/." "$dir/"
    else
        mkdir -p "$dir/usr/share/doc/$name"
        printf '%s %s (rdock-setup test package)\n' "$name" "$version" >"$dir/usr/share/doc/$name/VERSION"
    fi
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $ARCH"
        echo "Maintainer: Docker <support@docker.com>"
        echo "Installed-Size: 1"
        echo "Section: admin"
        echo "Priority: optional"
        echo "Homepage: https://www.docker.com"
        for line in "$@"; do echo "$line"; done
        echo "Description: $name (rdock-setup test package)"
        echo " Built by tests/support/build-apt-repo.sh."
    } >"$dir/DEBIAN/control"
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$dir" "$pool/${name}_${version#*:}_$ARCH.deb" >/dev/null
    rm -rf "$dir"
}

# Payloads: stand-in scripts that say their version, or the real binaries.
payloads() { # ENGINE_VERSION CONTAINERD_VERSION
    rm -rf "$STAGE"/payload-*
    local d
    if [[ ${APT_REPO_BINARIES:-0} == 1 ]]; then
        d=$STAGE/payload-docker-ce
        mkdir -p "$d/usr/bin" "$d/lib/systemd/system"
        cp "$(command -v dockerd)" "$d/usr/bin/dockerd"
        for b in docker-proxy docker-init; do
            if command -v "$b" >/dev/null; then cp "$(command -v "$b")" "$d/usr/bin/$b"; fi
        done
        cp "$UNITS/docker.service" "$UNITS/docker.socket" "$d/lib/systemd/system/"
        d=$STAGE/payload-docker-ce-cli
        mkdir -p "$d/usr/bin"
        cp "$(command -v docker)" "$d/usr/bin/docker"
        d=$STAGE/payload-containerd.io
        mkdir -p "$d/usr/bin" "$d/lib/systemd/system"
        for b in containerd containerd-shim-runc-v2 runc; do
            cp "$(command -v "$b")" "$d/usr/bin/$b"
        done
        cp "$UNITS/containerd.service" "$d/lib/systemd/system/"
    else
        d=$STAGE/payload-docker-ce
        mkdir -p "$d/usr/bin"
        printf '#!/bin/sh\necho "Docker version %s (rdock-setup test dockerd)"\n' "$1" >"$d/usr/bin/dockerd"
        d=$STAGE/payload-docker-ce-cli
        mkdir -p "$d/usr/bin"
        printf '#!/bin/sh\necho "Docker version %s (rdock-setup test docker)"\n' "$1" >"$d/usr/bin/docker"
        d=$STAGE/payload-containerd.io
        mkdir -p "$d/usr/bin"
        printf '#!/bin/sh\necho "containerd %s (rdock-setup test)"\n' "$2" >"$d/usr/bin/containerd"
        printf '#!/bin/sh\necho "runc (rdock-setup test, containerd.io %s)"\n' "$2" >"$d/usr/bin/runc"
    fi
    chmod -R a+rX "$STAGE"
    find "$STAGE" -path '*/usr/bin/*' -type f -exec chmod 755 {} +
}

: >"$TMP/packages.txt"
for suite in $SUITES; do
    IFS=: read -r os codename release <<<"$suite"
    base=$TMP/linux/$os
    dist=$base/dists/$codename
    pool=$dist/pool/stable/$ARCH
    R="1~$os.$release~$codename"
    mkdir -p "$pool"
    for v in "${ENGINES[@]}"; do
        payloads "$v" "${CONTAINERDS[-1]}"
        deb docker-ce "5:$v-$R" "$pool" \
            "Depends: containerd.io (>= 1.6.24), docker-ce-cli, iptables, libseccomp2 (>= 2.3.0), libc6" \
            "Recommends: ca-certificates, docker-ce-rootless-extras, git, pigz, procps, xz-utils" \
            "Conflicts: docker (<< 1.5~), docker-engine, docker.io" \
            "Replaces: docker-engine"
        deb docker-ce-cli "5:$v-$R" "$pool" \
            "Depends: libc6" \
            "Recommends: docker-buildx-plugin, docker-compose-plugin" \
            "Conflicts: docker (<< 1.5~), docker-engine, docker.io" \
            "Replaces: docker-ce (<< 5:0), docker-engine"
        rm -rf "$STAGE"/payload-*
        deb docker-ce-rootless-extras "$v-$R" "$pool" \
            "Depends: docker-ce" \
            "Conflicts: rootlesskit" \
            "Replaces: rootlesskit"
    done
    for c in "${CONTAINERDS[@]}"; do
        payloads "${ENGINES[-1]}" "$c"
        deb containerd.io "$c" "$pool" \
            "Depends: libc6, libseccomp2 (>= 2.4.1)" \
            "Conflicts: containerd, runc" \
            "Replaces: containerd, runc" \
            "Provides: containerd, runc"
    done
    rm -rf "$STAGE"/payload-*
    for b in "${BUILDX[@]}"; do
        deb docker-buildx-plugin "$b-$R" "$pool" "Depends: libc6" "Enhances: docker-ce-cli"
    done
    for c in "${COMPOSE[@]}"; do
        deb docker-compose-plugin "$c-$R" "$pool" "Depends: libc6" "Enhances: docker-ce-cli"
    done

    mkdir -p "$dist/stable/binary-$ARCH"
    (cd "$base" && apt-ftparchive packages "dists/$codename/pool/stable/$ARCH") >"$dist/stable/binary-$ARCH/Packages"
    gzip -9nkf "$dist/stable/binary-$ARCH/Packages"
    (cd "$dist" && apt-ftparchive \
        -o APT::FTPArchive::Release::Origin=Docker \
        -o APT::FTPArchive::Release::Label=Docker \
        -o APT::FTPArchive::Release::Suite="$codename" \
        -o APT::FTPArchive::Release::Codename="$codename" \
        -o APT::FTPArchive::Release::Architectures="$ARCH" \
        -o APT::FTPArchive::Release::Components=stable \
        release .) >"$TMP/Release"
    mv "$TMP/Release" "$dist/Release"
    gpg --batch --quiet --yes --local-user "$KEY" --clearsign -o "$dist/InRelease" "$dist/Release"
    gpg --batch --quiet --yes --local-user "$KEY" -abs -o "$dist/Release.gpg" "$dist/Release"
    gpg --batch --armor --export "$KEY" >"$base/gpg"
    awk -v os="$os" -v cn="$codename" '/^Package:/ { p = $2 } /^Version:/ { print os, cn, p, $2 }' \
        "$dist/stable/binary-$ARCH/Packages" >>"$TMP/packages.txt"
done
rm -rf "$STAGE"
touch "$TMP/.complete"
rm -rf "$OUT"
mv "$TMP" "$OUT"
