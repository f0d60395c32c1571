#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks test/layering.sh itself: on a small tree it must pass, and fail on
# each kind of upward include (a protocol including server/config.h, the
# login module including a front-end, storage including auth).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
tree() { # fresh tree that passes
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t/doc" "$tmp/t/lib" "$tmp/t/storage" "$tmp/t/auth" \
		"$tmp/t/protocols/imap" "$tmp/t/protocols/pop3" \
		"$tmp/t/protocols/login" "$tmp/t/server"
	printf '## Layers\n' >"$tmp/t/doc/design.md"
	printf '#include "lib/buf.h"\n' >"$tmp/t/storage/s.c"
	printf '#include "server/conn.h"\n#include "auth/auth_client.h"\n' \
		>"$tmp/t/protocols/login/login.c"
	printf '#include "server/conn.h"\n#include "protocols/login/login.h"\n' \
		>"$tmp/t/protocols/pop3/pop3.c"
	printf '#include "protocols/imap/imap.h"\n#include "server/config.h"\n' \
		>"$tmp/t/server/worker.c"
}
expect() { # want-status, what
	bash "$here/layering.sh" "$tmp/t" >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" != "$1" ]; then
		echo "FAIL: $2: exit $rc, wanted $1"
		cat "$tmp/out"
		fail=1
	fi
}
tree
expect 0 "a clean tree"
tree
printf '#include "server/config.h"\n' >>"$tmp/t/protocols/pop3/pop3_capa.c"
expect 1 "pop3 including server/config.h"
tree
printf '#include "server/conn_server.h"\n' >>"$tmp/t/protocols/imap/imap.c"
expect 1 "imap including server/conn_server.h"
tree
printf '#include "protocols/imap/imap.h"\n' >>"$tmp/t/protocols/login/login.c"
expect 1 "login including the IMAP front-end"
tree
printf '#include "auth/auth.h"\n' >>"$tmp/t/storage/s.c"
expect 1 "storage including auth"
if [ "$fail" = 0 ]; then
	echo "layering selftest: 5 passed, 0 failed"
	exit 0
fi
exit 1
