#!/usr/bin/env bash
# Builds the Debian 12 root the apt sandbox tests copy: debootstrap --variant=minbase
# bookworm plus Debian's own docker.io (with containerd, runc, iptables), the way a host
# that installed "docker" from Debian looks. Its sources.list is emptied afterwards, so
# that a test's apt runs reach only the repos the test serves on loopback, and apt's
# downloaded lists and .debs are dropped.
#
#   tests/support/build-debian-root.sh OUT_DIR
#
# OUT_DIR/tree is the root; OUT_DIR/.complete is written last; exits at once when it
# exists. MIRROR (default: the first deb.debian.org-style URI of this machine's apt
# sources, else http://deb.debian.org/debian). Needs root and debootstrap. About 60 s.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$1
[[ -e "$OUT/.complete" ]] && exit 0
command -v debootstrap >/dev/null || { echo "build-debian-root: debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }
if [[ -z ${MIRROR:-} ]]; then
    MIRROR=$(grep -hoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | head -1 || true)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
TMP=$OUT.tmp
rm -rf "$TMP"
mkdir -p "$TMP"
debootstrap --variant=minbase --include=docker.io bookworm "$TMP/tree" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 \
    || { tail -20 "$TMP/debootstrap.log" >&2; exit 1; }
: >"$TMP/tree/etc/apt/sources.list"
rm -rf "$TMP/tree/var/cache/apt/archives/"*.deb "$TMP/tree/var/lib/apt/lists/"* "$TMP/tree/var/cache/apt/"*.bin
touch "$TMP/.complete"
rm -rf "$OUT"
mv "$TMP" "$OUT"
