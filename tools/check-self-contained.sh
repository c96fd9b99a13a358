#!/bin/sh
# The repository stands alone: a clone with nothing beside it builds, tests and installs. This
# fails when a tracked file names a path outside the tree: the folder of hand-over material
# beside the checkout ("../" + "shared"), the workplace root, the checkout's own parent or the
# user's home. Data copied in from elsewhere lives under spec/fixtures/ with its SOURCE note.
# Usage: sh tools/check-self-contained.sh   (from anywhere inside the checkout)
set -u
top=$(git rev-parse --show-toplevel) || exit 1
cd "$top" || exit 1
parent=$(dirname "$top")
patterns="../sha""red /wo""rk/"
[ "$parent" = "/" ] || patterns="$patterns $parent/"
case "${HOME:-/}" in /|"$top"*) ;; *) patterns="$patterns $HOME/" ;; esac
bad=0
for p in $patterns; do
  hits=$(git grep -nIF -e "$p" -- . ':!tools/check-self-contained.sh' 2>/dev/null | head -20)
  if [ -n "$hits" ]; then
    echo "self-contained: tracked files name '$p', a path outside the repository:"
    echo "$hits"
    bad=1
  fi
done
if [ $bad -ne 0 ]; then exit 1; fi
echo "self-contained: ok ($(git ls-files | wc -l) tracked files name no path outside the tree)"
