#!/bin/sh
# The repository stands alone: a clone with nothing beside it builds, tests and installs. This
# fails when a file of the tree names a path outside the tree: the folder of hand-over material
# beside the checkout ("../" + "shared"), the workplace root, the checkout's own absolute path
# or the user's home. Data copied in from elsewhere lives under spec/fixtures/ with its SOURCE note.
# Usage: sh tools/check-self-contained.sh   (from anywhere inside the checkout; outside a git
# checkout, e.g. an unpacked source rock, every file of the tree but build output is read)
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  search() { git grep -nIF -e "$1" -- . ':!tools/check-self-contained.sh'; }
  count=$(git ls-files | wc -l)
else
  search() {
    grep -rnIF --exclude-dir=.git --exclude-dir=build --exclude-dir=node_modules -e "$1" . |
      grep -v '^\./tools/check-self-contained\.sh:'
  }
  count=$(find . -type f -not -path './build/*' -not -path '*/node_modules/*' | wc -l)
fi
# The hand-over folder by its relative and absolute names, the workplace root, this checkout's
# own absolute path, and the home directory.
patterns="../sha""red $(dirname "$top")/sha""red /wo""rk/ $top/"
case "${HOME:-/}" in /|"$top"*) ;; *) patterns="$patterns $HOME/" ;; esac
bad=0
for p in $patterns; do
  hits=$(search "$p" 2>/dev/null | head -20)
  if [ -n "$hits" ]; then
    echo "self-contained: tracked files name '$p', a path outside the repository:"
    echo "$hits"
    bad=1
  fi
done
if [ $bad -ne 0 ]; then exit 1; fi
echo "self-contained: ok ($count files name no path outside the tree)"
