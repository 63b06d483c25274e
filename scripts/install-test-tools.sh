#!/bin/sh
# Tools the test suite needs beyond the build: Microsoft's SARIF multitool
# (the reference SARIF 2.1.0 validator: the official JSON schema plus the
# spec's rules), from the npm registry into BUILD/tools.  Node.js and npm
# come from Debian when missing.  Run by `make check`.
set -eu
BUILD=${1:-build}
TOOLS=$BUILD/tools
VERSION=5.7.0
if [ -x "$TOOLS/node_modules/.bin/sarif-multitool" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "libguard: installing nodejs and npm for the SARIF validator" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >&2
fi
mkdir -p "$TOOLS"
echo "libguard: installing @microsoft/sarif-multitool@$VERSION into $TOOLS" >&2
npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
    "@microsoft/sarif-multitool@$VERSION" >&2
# npm may skip the package's install script (it only makes the binary executable)
chmod u+x "$TOOLS"/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool 2>/dev/null || true
