#!/bin/sh
# Build (or reuse) a Debian trixie root with GIMP 3 and its Python bindings, for the GIMP plug-in tests.
#
#   tests/gimp/build_root.sh            -> prints the root's path on its last line
#
# GIMP_ROOT      where the root lives (default: <repo>/.cache/gimp-root, ignored by git)
# DEBIAN_MIRROR  the Debian mirror (default: the first deb.debian.org-style URI apt uses here)
#
# The root is keyed by its package list: a changed list rebuilds it. An existing, complete root is reused
# in well under a second. Needs root privileges (debootstrap, chroot).
set -eu

PACKAGES="gimp,python3-gi,gir1.2-gimp-3.0"
SUITE="trixie"

repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${GIMP_ROOT:-$repo/.cache/gimp-root}
key="$SUITE $PACKAGES"
stamp="$root/.built-for"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    echo "$root"
    exit 0
fi

find_mirror() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
        [ -f "$f" ] || continue
        # deb822 "URIs: http://.../debian" or one-line "deb http://.../debian suite ..."
        sed -n -e 's/^URIs:[[:space:]]*\(http[^[:space:]]*\/debian\)[[:space:]]*$/\1/p' \
               -e 's/^deb[[:space:]]\{1,\}\(http[^[:space:]]*\/debian\)[[:space:]].*/\1/p' "$f"
    done | head -n 1
}
mirror=${DEBIAN_MIRROR:-$(find_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install -y debootstrap)" >&2; exit 2; }

echo "building the $SUITE root with $PACKAGES in $root from $mirror" >&2
rm -rf "$root"
mkdir -p "$(dirname "$root")"
partial="$root.partial"
if mountpoint -q "$partial/proc" 2>/dev/null; then umount "$partial/proc"; fi
rm -rf "$partial"
mkdir -p "$partial"

cleanup() {
    if mountpoint -q "$partial/proc" 2>/dev/null; then umount "$partial/proc" || true; fi
}
trap cleanup EXIT INT TERM

# minbase has no D-Bus session bus, so some packages stay unconfigured (debootstrap then exits non-zero after
# "Failure while configuring base packages"); `apt-get -f install` with /proc mounted finishes them.
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$partial" "$mirror" >&2; then
    echo "debootstrap left packages unconfigured (expected for minbase + gimp); finishing with apt-get -f install" >&2
fi
if [ ! -x "$partial/usr/bin/apt-get" ] || [ ! -e "$partial/var/lib/dpkg/status" ]; then
    echo "debootstrap did not produce a usable root in $partial (network? mirror $mirror)" >&2
    exit 1
fi
mount -t proc proc "$partial/proc"
chroot "$partial" env DEBIAN_FRONTEND=noninteractive apt-get -f install -y >&2
chroot "$partial" apt-get clean >&2
chroot "$partial" sh -c 'command -v gimp-console-3.0 && python3 -c "import gi; gi.require_version(\"Gimp\", \"3.0\")"' >&2
umount "$partial/proc"
trap - EXIT INT TERM

mv "$partial" "$root"
echo "$key" > "$stamp"
echo "$root"
