#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks that every source file (C, headers, CMake, Python, shell, JavaScript,
# scripts with a #! line) names its licence in its first two lines:
#   /* SPDX-License-Identifier: GPL-2.0-or-later */   (C and headers)
#   # SPDX-License-Identifier: GPL-2.0-or-later       (after any #! line)
# The identifier must match LICENSE (README.md "Licence"). Run on a git
# checkout (tracked and new files) or, without git, on every file in the tree.
#   test/spdx.sh [SRC]        test/spdx_selftest.sh checks the check
set -u
src=${1:-.}
cd "$src" || exit 1
want='SPDX-License-Identifier: GPL-2.0-or-later'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list() { git ls-files -co --exclude-standard; }
else
	list() { find . -path ./.git -prune -o -path './build*' -prune -o -type f -print | sed 's|^\./||'; }
fi
fail=0
checked=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	case "$f" in
	test/fuzz/corpus/*) continue ;; # data, not source
	*.c | *.h | *.py | *.sh | *.js | *.cmake | CMakeLists.txt | */CMakeLists.txt | *.service.in | .ci/*) ;;
	*) head -c 2 "$f" 2>/dev/null | grep -q '^#!' || continue ;;
	esac
	checked=$((checked + 1))
	if ! head -n 2 "$f" | grep -qF "$want"; then
		echo "$f: no '$want' in its first two lines"
		fail=1
	fi
done < <(list)
if [ ! -f LICENSE ]; then
	echo "LICENSE is missing"
	fail=1
fi
if [ "$fail" = 0 ] && [ "$checked" -gt 0 ]; then
	echo "spdx: 1 passed, 0 failed ($checked files)"
	exit 0
fi
echo "spdx: 0 passed, 1 failed ($checked files)"
exit 1
