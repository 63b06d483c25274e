#!/bin/sh
# Install the Debian packages libguard needs to build and test, when any is
# missing: `make deps` (and so `make check` and `make demo`) on a fresh
# machine.  As root it uses apt-get directly, otherwise sudo.
#   --check   install nothing: name the missing build packages and exit 1
#             (plain `make`; the test-only packages are not its business)
set -eu
CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1
BUILD_PACKAGES="gcc make pkg-config libunwind-dev libdw-dev libelf-dev uthash-dev
libjansson-dev libcapstone-dev python3 gzip"
# Debian's Go toolchain builds the Go test programs of the supervised mode
# (testprogs/go/supervise.mk); libc6-dev's libc.a links the static cgo ones.
BUILD_PACKAGES="$BUILD_PACKAGES golang-go libc6-dev"
# What the suite runs real software from: CPython's own tests (under the
# shim and its wrapper), util-linux's unshare/setpriv, groff for the man pages,
# dbus-daemon (a daemon that forks itself away) and make for the children tests.
TEST_PACKAGES="libpython3.11-testsuite python3.11 util-linux groff-base dbus-daemon make"
# The Go test programs (testprogs/go/): Debian's Go toolchain; a static
# shell (busybox-static) for the supervised crash recorder on real software.
TEST_PACKAGES="$TEST_PACKAGES golang-go busybox-static"
PACKAGES=$BUILD_PACKAGES
[ "$CHECK_ONLY" = 1 ] || PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES"
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
    echo "libguard: missing dependencies:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "libguard: installing dependencies:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
