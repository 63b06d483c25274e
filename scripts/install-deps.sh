#!/bin/sh
# Install the Debian packages libguard needs to build and test, when any is
# missing.  Run by `make`, `make check` and `make demo` on a fresh machine.
# As root it uses apt-get directly, otherwise sudo.
set -eu
PACKAGES="gcc make pkg-config libunwind-dev libdw-dev libelf-dev uthash-dev
libjansson-dev libcapstone-dev python3 gzip"
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "libguard: missing build dependencies:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "libguard: installing build dependencies:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
