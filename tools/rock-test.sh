#!/bin/sh
# The LuaRocks install as a user does it, for one Lua, checked end to end:
#   1. `make rock-install` (plain `luarocks make` of both rockspecs, no paths given) into a
#      fresh tree outside the checkout, then tools/rock-smoke.sh on that tree;
#   2. the checkout holds no file it did not hold before (nothing a later build or
#      interpreter could pick up), and each rock installed alone holds only its own modules;
#   3. the source rocks of HEAD (`make dist`) installed with `luarocks install FILE.src.rock`
#      into another fresh tree, then the same smoke test.
# With --make-only, step 1 and the checkout check only: CI runs the whole test for two Luas and
# this for the rest, since steps 2 and 3 test packaging that does not vary with the Lua.
# Usage: sh tools/rock-test.sh <lua: lua5.1 ... lua5.4, luajit> [--make-only]
set -eu
LUA=$1
MODE=${2:-full}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
listing() { git status --porcelain --ignored --untracked-files=all | sort; }

make -s dist >/dev/null
listing > "$work/before"
make -s --no-print-directory LUA="$LUA" TREE="$work/tree" rock-install >"$work/make.log" 2>&1 \
  || { cat "$work/make.log"; echo "rock-test: luarocks make failed ($LUA)"; exit 1; }
listing > "$work/after"
if ! cmp -s "$work/before" "$work/after"; then
  echo "rock-test: luarocks make left files in the checkout:"
  diff "$work/before" "$work/after" || true
  exit 1
fi
sh tools/rock-smoke.sh "$LUA" "$work/tree"
if [ "$MODE" = --make-only ]; then echo "rock-test: ok ($LUA): luarocks make"; exit 0; fi

# Two rocks, each with only its own modules: the mock alone brings no client module, the
# client alone no mock module.
v=$($LUA -e 'print((_VERSION:gsub("Lua ", "")))')
for r in anthropic-mock anthropic; do
  luarocks --lua-version="$v" --tree="$work/only-$r" make --deps-mode=none "rockspec/$r-scm-1.rockspec" \
    >"$work/only.log" 2>&1 || { cat "$work/only.log"; echo "rock-test: luarocks make $r failed"; exit 1; }
  mods=$(cd "$work/only-$r/share/lua/$v" && find . -name '*.lua' | sed 's#^\./##' | sort)
  if [ "$r" = anthropic-mock ]; then stray=$(echo "$mods" | grep -Ev '^anthropic/mock(/|\.lua$)' || true)
  else stray=$(echo "$mods" | grep -E '^anthropic/mock(/|\.lua$)' || true); fi
  [ -z "$stray" ] || { echo "rock-test: the $r rock installs modules that are not its own:"; echo "$stray"; exit 1; }
done
listing > "$work/after"
cmp -s "$work/before" "$work/after" || { echo "rock-test: luarocks make left files in the checkout:"; diff "$work/before" "$work/after"; exit 1; }

for r in anthropic-mock anthropic; do
  (cd "$work" && luarocks --lua-version="$v" --tree="$work/srctree" install --deps-mode=none \
     "$OLDPWD/build/dist/$r-scm-1.src.rock" >"$work/src.log" 2>&1) \
    || { cat "$work/src.log"; echo "rock-test: luarocks install $r-scm-1.src.rock failed ($LUA)"; exit 1; }
done
sh tools/rock-smoke.sh "$LUA" "$work/srctree"
echo "rock-test: ok ($LUA): luarocks make and the source rocks"
