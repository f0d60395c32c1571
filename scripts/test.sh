#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds and runs the whole suite through ctest (-DMERPATI_TESTS=ON: a
# missing test package stops the configure instead of skipping the suite).
#   scripts/test.sh            normal build in build/
#   scripts/test.sh asan       AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-normal}
jobs=$(nproc)
case "$mode" in
normal)
	dir=build
	cmake -S . -B "$dir" -DMERPATI_WERROR=ON -DMERPATI_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	;;
asan)
	dir=build-asan
	cmake -S . -B "$dir" -DMERPATI_WERROR=ON -DMERPATI_TESTS=ON -DMERPATI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	;;
*)
	echo "usage: scripts/test.sh [normal|asan]" >&2
	exit 64
	;;
esac
cmake --build "$dir" -j"$jobs"
cd "$dir"
ctest --output-on-failure -j"$jobs" --timeout 900
