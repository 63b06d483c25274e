#!/bin/sh
# Install the Debian packages libguard needs to build and test, when any is
# missing: `make deps` (and so `make check` and `make demo`) on a fresh
# machine.  As root it uses apt-get directly, otherwise sudo.
#   --check   install nothing: name what is missing and exit 1 (plain `make`)
set -eu
CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1
PACKAGES="gcc make pkg-config libunwind-dev libdw-dev libelf-dev uthash-dev
libjansson-dev libcapstone-dev python3 gzip"
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$CHECK_ONLY" = 1 ]; then
    echo "libguard: missing build dependencies:$missing; run 'make deps' (installs them with apt-get)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "libguard: missing build dependencies:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "libguard: installing build dependencies:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
