#!/bin/sh
# build_info.sh - writes what a build records of itself: the source tree's git
# revision, whether its tracked files differ from that commit, and the build
# flags, as a C header. The program embeds it, so the revision it reports is the
# one it was built from, wherever it runs (a run from inside another checkout
# records nothing of that one). The header is replaced only when its text
# changes, so an unchanged tree rebuilds nothing.
#
# usage: build_info.sh OUT.h SOURCE-DIR FLAGS...
# Outside a git checkout (an unpacked bundle) the revision is "unknown".
set -u
out=$1 src=$2
shift 2
rev=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null) || rev=unknown
# Untracked files (run folders, data/) do not make a tree dirty; a changed tracked file does.
if [ "$rev" != unknown ] && [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    dirty=1
else
    dirty=0
fi
flags=$(printf '%s' "$*" | sed 's/\\/\\\\/g; s/"/\\"/g')
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
printf '/* Written by scripts/build_info.sh: what this build was made from. */\n#define SB_GIT_REVISION "%s"\n#define SB_GIT_DIRTY %s\n#define SB_BUILD_FLAGS "%s"\n' \
    "$rev" "$dirty" "$flags" > "$tmp"
if cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv "$tmp" "$out"; fi
