#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Usage: tmp_clean.sh FUZZ_BINARY CORPUS_DIR...
# Each fuzz target runs over its corpus with a /tmp of its own (a private
# mount namespace with an empty tmpfs, TMPDIR unset) and must leave that
# /tmp empty: a harness that kept a file or directory per run filled the
# real /tmp of every fuzzing machine.
set -u
fail=0
n=0
while [ $# -ge 2 ]; do
	bin=$1 corpus=$2
	shift 2
	# -r maps us to root in a new user namespace, so this works unprivileged
	left=$(unshare -rm sh -c 'mount -t tmpfs none /tmp || exit 3
		"$1" "$2" >/dev/null 2>&1 || exit 4
		ls -A /tmp' tmp_clean "$bin" "$corpus" < /dev/null)
	rc=$?
	n=$((n + 1))
	if [ $rc -ne 0 ]; then
		echo "tmp_clean: $(basename "$bin"): exit $rc (3: no tmpfs in a mount namespace, 4: the target failed)"
		fail=$((fail + 1))
	elif [ -n "$left" ]; then
		echo "tmp_clean: $(basename "$bin") left in /tmp:" $left
		fail=$((fail + 1))
	fi
done
echo "tmp_clean: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
