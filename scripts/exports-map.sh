#!/bin/sh
# exports-map.sh HOOK_LIST — the linker version script of libguard.so, made
# from the one list of hooked functions (preload/hook_list.h): its
# GUARD_API and GUARD_HOOK lines are exported, everything else stays local,
# so the shim cannot collide with the symbols of the program it runs in.
set -eu
list=$1
echo "/* made by scripts/exports-map.sh from $list: do not edit */"
echo "{"
echo "  global:"
sed -n -e 's/^GUARD_API(\([A-Za-z0-9_]*\)).*/    \1;/p' \
       -e 's/^GUARD_HOOK(\([A-Za-z0-9_]*\),.*/    \1;/p' "$list"
echo "  local: *;"
echo "};"
