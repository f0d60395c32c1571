#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks test/spdx.sh itself: a small tree with every kind of source file
# marked passes; each kind left unmarked (or a missing LICENSE) fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
tag='SPDX-License-Identifier: GPL-2.0-or-later'
tree() { # fresh tree that passes (no git: spdx.sh walks the files)
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t/lib" "$tmp/t/scripts" "$tmp/t/test/fuzz/corpus/x" "$tmp/t/.ci"
	printf 'GPL\n' >"$tmp/t/LICENSE"
	printf '/* %s */\nint x;\n' "$tag" >"$tmp/t/lib/a.c"
	printf '/* %s */\n/* a */\n' "$tag" >"$tmp/t/lib/a.h"
	printf '# %s\nproject(x)\n' "$tag" >"$tmp/t/CMakeLists.txt"
	printf '#!/usr/bin/env python3\n# %s\n"""doc"""\n' "$tag" >"$tmp/t/scripts/t.py"
	printf '#!/bin/sh\n# %s\n' "$tag" >"$tmp/t/.ci/run"
	printf 'no header: fuzz data\n' >"$tmp/t/test/fuzz/corpus/x/seed"
	printf 'prose\n' >"$tmp/t/notes.md"
}
expect() { # want-status, what
	bash "$here/spdx.sh" "$tmp/t" >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" != "$1" ]; then
		echo "FAIL: $2: exit $rc, wanted $1"
		cat "$tmp/out"
		fail=1
	fi
}
tree
expect 0 "a marked tree"
for f in lib/a.c lib/a.h CMakeLists.txt scripts/t.py .ci/run; do
	tree
	sed -i "/SPDX/d" "$tmp/t/$f"
	expect 1 "$f without its SPDX line"
done
tree
printf '#!/bin/sh\necho\n# %s\n' "$tag" >"$tmp/t/scripts/late"
expect 1 "an identifier below the first two lines"
tree
printf '/* SPDX-License-Identifier: MIT */\n' >"$tmp/t/lib/a.c"
expect 1 "another licence"
tree
rm "$tmp/t/LICENSE"
expect 1 "no LICENSE"
if [ "$fail" = 0 ]; then
	echo "spdx_selftest: 1 passed, 0 failed"
	exit 0
fi
echo "spdx_selftest: 0 passed, 1 failed"
exit 1
