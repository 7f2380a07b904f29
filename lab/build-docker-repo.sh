#!/usr/bin/env bash
# Builds the lab's package repository: a signed, download.docker.com-shaped
# Docker CE tree whose docker-ce, docker-ce-cli and containerd.io rpms carry the
# REAL binaries of Debian bookworm's docker.io (20.10.24), containerd and runc,
# plus the fake "base OS" repos of the test fixture (tests/support/build-repo.sh).
#
#   lab/build-docker-repo.sh OUT_DIR
#
# Layout produced (serve OUT_DIR over HTTP; it is a mirror root for rdock-setup):
#   OUT/linux/centos/gpg                          ASCII-armored public key (signs every rpm)
#   OUT/linux/centos/docker-ce.repo               like Docker's real one (points at docker.com)
#   OUT/linux/centos/{7,8,9}/x86_64/stable/       Packages/*.rpm + repodata/
#   OUT/base/{7,9}/x86_64/                        the fixture's old docker*, yum-utils, lvm2...
#   OUT/vault/7.9.2009/{os,updates,extras,centosplus}/x86_64/
#   OUT/vault/8.5.2111/{BaseOS,AppStream,extras,PowerTools}/x86_64/os/
#   OUT/vault-bare/7.9.2009/...                   the fixture's CentOS vault trees (vault-bare:
#                                                 without container-selinux), re-signed
#   OUT/packages.txt                              NEVRA of every rpm, and where it is
#   OUT/debian-runtime-packages.txt               Debian packages whose shared libraries the
#                                                 packaged binaries need (the rootfs must have them)
#   OUT/.complete                                 written last
#
# Engine versions: docker-ce 3:V-R and docker-ce-cli 1:V-R for V in 20.10.24 24.0.7 26.1.4,
# R = 3.el7 (EL7) / 1.el8 (EL8) / 1.el9 (EL9); containerd.io 1.6.33-3.1.elN.
# Beside them, from the test fixture (re-signed): docker-ce-rootless-extras V-R,
# docker-buildx-plugin and docker-compose-plugin at versions of their own (their payloads
# are scripts speaking the docker CLI plugin protocol: Debian ships no buildx/compose v2).
# Every V carries the same Debian binaries, with the Go version string patched in place
# (see patch_version below), so `docker version` reports V for both Client and Server,
# and containerd reports 1.6.33. Docker's API version stays 1.41 for all of them.
#
# Idempotent: exits at once when OUT/.complete exists. Builds into OUT.tmp and renames it,
# holding a lock on OUT.lock so that concurrent callers build once.
# Needs root only to apt-get install what is missing:
#   docker.io containerd runc tini rpm createrepo-c gnupg python3
# (on a host whose PID 1 is systemd, installing docker.io starts Debian's docker there).
set -euo pipefail
# Unit files shared by the test fixture and the lab repo (absolute before any cd).
UNITS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/support/units" && pwd)

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT=$1
[[ -e "$OUT/.complete" ]] && exit 0

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURE_BUILDER="$HERE/../tests/support/build-repo.sh"
LABELS=(20.10.24 24.0.7 26.1.4)
CONTAINERD_VERSION=1.6.33
# rpm payload: zstd level 1, threads = cpus (xz, the default, would take minutes)
PAYLOAD=${RDOCK_LAB_RPM_PAYLOAD:-w1T0.zstdio}
KEY_UID='Docker Release (CE rpm) LAB <lab@example.invalid>'
KEY_EMAIL='lab@example.invalid'
SECONDS=0

log() { printf 'build-docker-repo: %s (%ss)\n' "$*" "$SECONDS" >&2; }
die() { printf 'build-docker-repo: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------- host packages ---
need=(docker.io containerd runc tini rpm createrepo-c gnupg python3)
missing=()
for p in "${need[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
fi
for tool in rpmbuild rpmsign createrepo_c gpg flock; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
# Debian's own python (a pyenv shim on PATH costs about a second per call)
PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || PYTHON=$(command -v python3) || die "python3 not found"

# first existing path among the candidates, symlinks resolved
binary() {
    local p
    for p in "$@"; do
        [[ -e "$p" ]] && { readlink -f "$p"; return; }
    done
    die "none of $* exists (is Debian's docker.io/containerd/runc installed?)"
}
DOCKERD=$(binary /usr/sbin/dockerd /usr/bin/dockerd)
DOCKER=$(binary /usr/bin/docker)
DOCKER_PROXY=$(binary /usr/sbin/docker-proxy /usr/bin/docker-proxy /usr/libexec/docker/docker-proxy)
DOCKER_INIT=$(binary /usr/bin/docker-init /usr/sbin/docker-init /usr/bin/tini-static)
CONTAINERD=$(binary /usr/bin/containerd)
SHIM=$(binary /usr/bin/containerd-shim-runc-v2)
CTR=$(binary /usr/bin/ctr)
RUNC=$(binary /usr/sbin/runc /usr/bin/runc)

# --------------------------------------------------------------- lock, dirs ---
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
exec 9>"$OUT.lock"
flock 9
[[ -e "$OUT/.complete" ]] && exit 0 # someone else built it while we waited
TMP_OUT="$OUT.tmp"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rdock-lab-repo.XXXXXX")
FIXTURE_PID=
cleanup() {
    # on failure: stop the fixture build (its own process group) and the patch jobs first
    [[ -z "$FIXTURE_PID" ]] || kill -TERM -- "-$FIXTURE_PID" 2>/dev/null || true
    local j
    for j in $(jobs -p); do kill -TERM "$j" 2>/dev/null || true; done
    wait 2>/dev/null || true
    GNUPGHOME="$WORK/gnupg" gpgconf --kill all >/dev/null 2>&1 || true
    rm -rf "$WORK" "$TMP_OUT"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
rm -rf "$TMP_OUT"
mkdir -p "$TMP_OUT/linux/centos" "$WORK/bin/common"

# ---------------------------------------------- base repos from the fixture ---
# Runs in the background while the binaries are patched and the rpms built.
[[ -x "$FIXTURE_BUILDER" ]] || die "$FIXTURE_BUILDER not found"
TMPDIR="$WORK" setsid -w "$FIXTURE_BUILDER" "$WORK/fixture" >"$WORK/fixture.log" 2>&1 &
FIXTURE_PID=$!

# ------------------------------------------------------ the version labels ---
# Go stores a string variable as a header {pointer, length} (in .data) that points at
# the bytes (in .rodata); -X ldflags set dockerversion.Version (dockerd),
# cli/version.Version (docker) and containerd's version.Version that way. The patch
# finds the one header that points at OLD with length len(OLD) -- through the
# R_X86_64_RELATIVE relocation of a PIE, or the pointer stored in place otherwise --
# overwrites the bytes with NEW + NUL padding and sets the length to len(NEW).
# NEW must not be longer than OLD. Anything but exactly one such header is an error.
cat >"$WORK/patchver.py" <<'EOF'
import struct, sys
src, dst, old, new = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
if len(new) > len(old):
    sys.exit(f'label {new.decode()!r} is longer than {old.decode()!r}')
d = bytearray(open(src, 'rb').read())
if d[:4] != b'\x7fELF' or d[4] != 2 or d[5] != 1:
    sys.exit(f'{src}: not a 64-bit little-endian ELF file')
shoff, = struct.unpack_from('<Q', d, 0x28)
shentsize, shnum = struct.unpack_from('<HH', d, 0x3a)
# (name, type, flags, addr, offset, size)
secs = [struct.unpack_from('<IIQQQQ', d, shoff + i * shentsize) for i in range(shnum)]
def va2off(va):
    for _n, typ, _f, addr, off, size in secs:
        if typ != 8 and addr and addr <= va < addr + size:  # 8: SHT_NOBITS
            return off + va - addr
relative = {}  # R_X86_64_RELATIVE: addend -> [where the pointer is]
for _n, typ, _f, _a, off, size in secs:
    if typ == 4:  # SHT_RELA
        for j in range(off, off + size, 24):
            r_off, r_info, r_add = struct.unpack_from('<QQq', d, j)
            if r_info & 0xffffffff == 8:
                relative.setdefault(r_add, []).append(r_off)
# allocated, non-executable PROGBITS sections (.rodata, .data, .data.rel.ro, ...)
data = [s for s in secs if s[1] == 1 and s[3] and s[2] & 2 and not s[2] & 4]
strings = {}  # va of each occurrence of OLD -> file offset
for _n, _t, _f, addr, off, size in data:
    i = d.find(old, off, off + size)
    while i != -1:
        strings[addr + i - off] = i
        i = d.find(old, i + 1, off + size)
owner = {}  # va of a pointer to an occurrence -> that occurrence's va
for va in strings:
    for r in relative.get(va, []):
        owner[r] = va
lenq = struct.pack('<Q', len(old))
for _n, _t, _f, addr, off, size in data:
    j = d.find(lenq, off + 8, off + size)
    while j != -1:
        if (addr + j - off) % 8 == 0:
            p, = struct.unpack_from('<Q', d, j - 8)
            if p in strings:
                owner[addr + j - off - 8] = p
        j = d.find(lenq, j + 1, off + size)
hits = set()
for ptr_va, s_va in owner.items():
    lo = va2off(ptr_va + 8)
    if lo is not None and struct.unpack_from('<Q', d, lo)[0] == len(old):
        hits.add((strings[s_va], lo))
if len(hits) != 1:
    sys.exit(f'{src}: expected one Go string header for {old.decode()!r}, found {len(hits)}')
(i, lo), = hits
d[i:i + len(old)] = new + b'\0' * (len(old) - len(new))
struct.pack_into('<Q', d, lo, len(new))
with open(dst, 'wb') as f:
    f.write(d)
EOF

# The version each Debian binary reports, as `--version` prints it.
DOCKERD_OLD=$("$DOCKERD" --version | sed -n 's/^Docker version \([^,]*\),.*/\1/p')
DOCKER_OLD=$("$DOCKER" --version | sed -n 's/^Docker version \([^,]*\),.*/\1/p')
CONTAINERD_OLD=$("$CONTAINERD" --version | awk '{print $3}')
[[ -n "$DOCKERD_OLD" && -n "$DOCKER_OLD" && -n "$CONTAINERD_OLD" ]] ||
    die "could not read the versions of $DOCKERD, $DOCKER, $CONTAINERD"
log "Debian binaries: dockerd $DOCKERD_OLD, docker $DOCKER_OLD, containerd $CONTAINERD_OLD"

patch_version() { # SRC DST OLD NEW
    "$PYTHON" "$WORK/patchver.py" "$@" || die "patching $1 failed"
    chmod 0755 "$2"
}
pids=()
for v in "${LABELS[@]}"; do
    mkdir -p "$WORK/bin/$v"
    patch_version "$DOCKERD" "$WORK/bin/$v/dockerd" "$DOCKERD_OLD" "$v" & pids+=($!)
    patch_version "$DOCKER" "$WORK/bin/$v/docker" "$DOCKER_OLD" "$v" & pids+=($!)
done
patch_version "$CONTAINERD" "$WORK/bin/common/containerd" "$CONTAINERD_OLD" "$CONTAINERD_VERSION" & pids+=($!)
for p in "${pids[@]}"; do wait "$p" || die "patching the binaries failed"; done
install -m 0755 "$SHIM" "$WORK/bin/common/containerd-shim-runc-v2"
install -m 0755 "$CTR" "$WORK/bin/common/ctr"
install -m 0755 "$RUNC" "$WORK/bin/common/runc"
install -m 0755 "$DOCKER_PROXY" "$WORK/bin/common/docker-proxy"
install -m 0755 "$DOCKER_INIT" "$WORK/bin/common/docker-init"
for v in "${LABELS[@]}"; do # prove the patch before packaging it
    got_d=$("$WORK/bin/$v/dockerd" --version)
    got_c=$("$WORK/bin/$v/docker" --version)
    [[ "$got_d" == "Docker version $v, build "* && "$got_c" == "Docker version $v, build "* ]] ||
        die "patched binaries for $v report: '$got_d' / '$got_c'"
done
got=$("$WORK/bin/common/containerd" --version)
[[ "$got" == *" $CONTAINERD_VERSION "* ]] || die "patched containerd reports: $got"
log "binaries patched"

# ------------------------------------------------------------------ payloads ---
# docker-ce's and containerd.io's own unit files, shared with the lab's repo builder.
DOCKER_SERVICE=$(<"$UNITS/docker.service")
DOCKER_SOCKET=$(<"$UNITS/docker.socket")
CONTAINERD_SERVICE=$(<"$UNITS/containerd.service")

# As containerd.io ships it: the CRI plugin off (docker does not use it).
CONTAINERD_CONFIG='#   Copyright 2018-2022 Docker Inc.

#   Licensed under the Apache License, Version 2.0 (the "License");
#   you may not use this file except in compliance with the License.
#   You may obtain a copy of the License at

#       http://www.apache.org/licenses/LICENSE-2.0

#   Unless required by applicable law or agreed to in writing, software
#   distributed under the License is distributed on an "AS IS" BASIS,
#   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
#   See the License for the specific language governing permissions and
#   limitations under the License.

disabled_plugins = ["cri"]

#root = "/var/lib/containerd"
#state = "/run/containerd"
#subreaper = true
#oom_score = 0

#[grpc]
#  address = "/run/containerd/containerd.sock"
#  uid = 0
#  gid = 0

#[debug]
#  address = "/run/containerd/debug.sock"
#  uid = 0
#  gid = 0
#  level = "info"
'

# Docker's own %pre is `getent group docker >/dev/null || groupadd -r docker || :`.
# The same in rpm's embedded Lua: it needs no /bin/sh in the target (an empty test root
# installs too), and it never fails the transaction (no groupadd: nothing is done).
PRE_LUA='%pre -p <lua>
local have = false
local f = io.open("/etc/group", "r")
if f then
  for line in f:lines() do
    if line:match("^docker:") then have = true end
  end
  f:close()
end
if not have then
  for _, g in ipairs({"/usr/sbin/groupadd", "/sbin/groupadd"}) do
    if posix.access(g, "x") then
      pcall(rpm.execute, g, "-r", "docker")
      break
    end
  end
end'

# ------------------------------------------------------------ stages, specs ---
# One staging tree per distinct payload (shared by the EL7 and EL9 builds); rpmbuild's
# %install hard-links it into the buildroot, so the only copy is the payload itself.
stage_file() { # STAGE PATH MODE (content on stdin, or LINK=source to hard-link)
    local stage=$1 path=$2 mode=$3
    mkdir -p "$stage$(dirname "$path")"
    if [[ -n "${LINK:-}" ]]; then
        ln "$LINK" "$stage$path"
    else
        cat >"$stage$path"
    fi
    chmod "$mode" "$stage$path"
}

for v in "${LABELS[@]}"; do
    s="$WORK/stage/docker-ce-$v"
    LINK="$WORK/bin/$v/dockerd" stage_file "$s" /usr/bin/dockerd 0755
    LINK="$WORK/bin/common/docker-proxy" stage_file "$s" /usr/bin/docker-proxy 0755
    LINK="$WORK/bin/common/docker-init" stage_file "$s" /usr/bin/docker-init 0755
    printf '%s\n' "$DOCKER_SERVICE" | stage_file "$s" /usr/lib/systemd/system/docker.service 0644
    printf '%s\n' "$DOCKER_SOCKET" | stage_file "$s" /usr/lib/systemd/system/docker.socket 0644
    s="$WORK/stage/docker-ce-cli-$v"
    LINK="$WORK/bin/$v/docker" stage_file "$s" /usr/bin/docker 0755
done
s="$WORK/stage/containerd.io"
for b in containerd containerd-shim-runc-v2 ctr runc; do
    LINK="$WORK/bin/common/$b" stage_file "$s" "/usr/bin/$b" 0755
done
printf '%s\n' "$CONTAINERD_SERVICE" | stage_file "$s" /usr/lib/systemd/system/containerd.service 0644
printf '%s' "$CONTAINERD_CONFIG" | stage_file "$s" /etc/containerd/config.toml 0644

N=0
spec() { # NAME EPOCH VERSION RELEASE STAGE FILES-BLOCK [TAG LINES...] ; extra sections on stdin
    local name=$1 epoch=$2 version=$3 release=$4 stage=$5 files=$6
    shift 6
    N=$((N + 1))
    local dir="$WORK/pkgs/$N"
    mkdir -p "$dir/top"
    {
        echo "Name: $name"
        [[ -n "$epoch" ]] && echo "Epoch: $epoch"
        echo "Version: $version"
        echo "Release: $release"
        echo "Summary: $name for the rdock-setup lab (Debian bookworm binaries)"
        echo "License: ASL 2.0"
        echo "URL: https://www.docker.com"
        echo "Vendor: rdock-setup lab"
        echo "AutoReqProv: no"
        local t
        for t in "$@"; do echo "$t"; done
        echo
        echo "%description"
        echo "The real binaries of Debian bookworm's docker.io $DOCKERD_OLD / containerd $CONTAINERD_OLD /"
        echo "runc packaged as $name $version-$release for the rdock-setup lab; the Go version"
        echo "string of dockerd, docker and containerd is patched to report the package version."
        echo
        echo "%prep"
        echo "%build"
        echo "%install"
        echo "mkdir -p %{buildroot}"
        echo "cp -al $stage/. %{buildroot}/"
        echo
        cat
        echo
        echo "%files"
        echo "%defattr(-,root,root,-)"
        printf '%s\n' "$files"
    } >"$dir/spec"
}

ELS=(7 8 9)
for el in "${ELS[@]}"; do
    case $el in
        7) rel=3.el7 crel=3.1.el7 ;;
        8) rel=1.el8 crel=3.1.el8 ;;
        9) rel=1.el9 crel=3.1.el9 ;;
    esac
    # docker-ce's Requires are the real ones, the same as the test fixture's (see "the
    # repos" in tests/support/build-repo.sh: Docker's rpm/SPECS/docker-ce.spec as the el7
    # 26.1.4 build carries them; no libcgroup on EL9; rootless-extras from 20.10 on, which
    # every lab label is). So a lab host needs CentOS extras (container-selinux,
    # fuse-overlayfs, slirp4netns) to install the engine, as a real one does.
    requires=('Requires: docker-ce-cli' 'Requires: containerd.io >= 1.6.4'
        'Requires: container-selinux >= 2:2.74' 'Requires: iptables' 'Requires: tar' 'Requires: xz'
        'Requires: docker-ce-rootless-extras')
    [[ $el == 9 ]] || requires+=('Requires: libcgroup')
    for v in "${LABELS[@]}"; do
        spec docker-ce 3 "$v" "$rel" "$WORK/stage/docker-ce-$v" '/usr/bin/dockerd
/usr/bin/docker-proxy
/usr/bin/docker-init
/usr/lib/systemd/system/docker.service
/usr/lib/systemd/system/docker.socket' \
            "${requires[@]}" \
            'Conflicts: docker' 'Conflicts: docker-common' 'Conflicts: docker-engine' \
            'Conflicts: docker-io' 'Conflicts: docker-engine-cs' 'Conflicts: docker-ee' \
            <<<"$PRE_LUA"
        echo "$el" >"$WORK/pkgs/$N/el"
        spec docker-ce-cli 1 "$v" "$rel" "$WORK/stage/docker-ce-cli-$v" '/usr/bin/docker' \
            'Conflicts: docker' 'Conflicts: docker-io' 'Conflicts: docker-ee-cli' </dev/null
        echo "$el" >"$WORK/pkgs/$N/el"
    done
    spec containerd.io '' "$CONTAINERD_VERSION" "$crel" "$WORK/stage/containerd.io" '/usr/bin/containerd
/usr/bin/containerd-shim-runc-v2
/usr/bin/ctr
/usr/bin/runc
/usr/lib/systemd/system/containerd.service
%dir /etc/containerd
%config(noreplace) /etc/containerd/config.toml' \
        'Provides: containerd' 'Provides: runc' 'Obsoletes: runc' </dev/null
    echo "$el" >"$WORK/pkgs/$N/el"
done

# ------------------------------------------------------------------- build ---
build_one() { # DIR
    rpmbuild -bb --quiet --target x86_64 \
        --define "_topdir $1/top" \
        --define 'debug_package %{nil}' \
        --define '_build_id_links none' \
        --define '__spec_install_post %{nil}' \
        --define '__os_install_post %{nil}' \
        --define "_binary_payload $PAYLOAD" \
        "$1/spec" >"$1/log" 2>&1 || { cat "$1/log" >&2; return 1; }
}
export -f build_one
export PAYLOAD
# the big ones (docker-ce) first, so that the cores stay busy to the end
{ grep -l '^Name: docker-ce$' "$WORK"/pkgs/*/spec; grep -L '^Name: docker-ce$' "$WORK"/pkgs/*/spec; } |
    xargs -n1 dirname | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} bash -c 'build_one {}' ||
    die "rpmbuild failed"
log "rpms built"

wait "$FIXTURE_PID" || { FIXTURE_PID=; cat "$WORK/fixture.log" >&2; die "$FIXTURE_BUILDER failed"; }
FIXTURE_PID=
cp -a "$WORK/fixture/base" "$TMP_OUT/base"
cp -a "$WORK/fixture/vault" "$TMP_OUT/vault"
cp -a "$WORK/fixture/vault-bare" "$TMP_OUT/vault-bare"
cp "$WORK/fixture/linux/centos/docker-ce.repo" "$TMP_OUT/linux/centos/docker-ce.repo"

# ------------------------------------------------------------------ signing ---
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "$KEY_UID" rsa2048 sign never 2>/dev/null
gpg --batch --armor --export "$KEY_EMAIL" >"$TMP_OUT/linux/centos/gpg"

for d in "$WORK"/pkgs/*; do
    el=$(cat "$d/el")
    dest="$TMP_OUT/linux/centos/$el/x86_64/stable/Packages"
    mkdir -p "$dest"
    mv "$d"/top/RPMS/x86_64/*.rpm "$dest/"
done
# The rest of Docker's package set from the fixture: rootless-extras (one per engine
# label, same release) and the two CLI plugins.
for el in "${ELS[@]}"; do
    src="$WORK/fixture/linux/centos/$el/x86_64/stable/Packages"
    dest="$TMP_OUT/linux/centos/$el/x86_64/stable/Packages"
    for v in "${LABELS[@]}"; do
        f=$(find "$src" -name "docker-ce-rootless-extras-$v-*.rpm")
        [[ -n "$f" && $(wc -l <<<"$f") == 1 ]] || die "the fixture has no single docker-ce-rootless-extras $v for EL$el"
        cp "$f" "$dest/"
    done
    n=$(find "$src" -name 'docker-buildx-plugin-*.rpm' -o -name 'docker-compose-plugin-*.rpm' | wc -l)
    ((n >= 2)) || die "the fixture has no buildx/compose plugins for EL$el"
    cp "$src"/docker-buildx-plugin-*.rpm "$src"/docker-compose-plugin-*.rpm "$dest/"
done
# the fixture's rpms carry the fixture's (discarded) key: re-sign them with this one,
# so that the one published key verifies everything in the tree
mapfile -t RPMS < <(find "$TMP_OUT" -name '*.rpm' | sort)
rpmsign --define '__gpg /usr/bin/gpg' --define "_gpg_name $KEY_EMAIL" --addsign "${RPMS[@]}" \
    >"$WORK/rpmsign.log" 2>&1 </dev/null || { cat "$WORK/rpmsign.log" >&2; die "rpmsign failed"; }
log "rpms signed"

# --------------------------------------------------------------- repodata ---
for repo in "$TMP_OUT"/linux/centos/*/x86_64/stable "$TMP_OUT"/base/*/x86_64 \
    "$TMP_OUT"/vault*/7.*/*/x86_64 "$TMP_OUT"/vault*/8.*/*/x86_64/os; do
    rm -rf "$repo/repodata"
    createrepo_c --quiet --no-database "$repo" >/dev/null &
done
wait

(cd "$TMP_OUT" && find . -name '*.rpm' | sort | while read -r f; do
    printf '%s  %s\n' "$(rpm -qp --nosignature --qf '%{NAME}-%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}.%{ARCH}' "$f")" "${f#./}"
done) >"$TMP_OUT/packages.txt"

# Debian packages holding the shared libraries the packaged binaries load
for b in "$DOCKERD" "$DOCKER" "$CONTAINERD" "$SHIM" "$CTR" "$RUNC" "$DOCKER_PROXY" "$DOCKER_INIT"; do
    { ldd "$b" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | sort -u | while read -r lib; do
    dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || echo "UNKNOWN: $lib"
done | sed 's/:.*//' | sort -u >"$TMP_OUT/debian-runtime-packages.txt"

# ---------------------------------------------------------------- publish ---
touch "$TMP_OUT/.complete"
rm -rf "$OUT" # anything here never completed (we hold the lock)
mv -T "$TMP_OUT" "$OUT"
log "done: $OUT ($(du -sh "$OUT" | cut -f1))"
