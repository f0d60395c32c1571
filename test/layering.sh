#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the layering of doc/design.md ("Layers"): includes point down the
# table, never up.
#   lib/ includes only lib/; storage/ and auth/ never include server/ or
#   protocols/; a protocol front-end never includes the other one, nor
#   does protocols/login/ include either; protocols/ include nothing from
#   server/ but server/conn.h. test/layering_selftest.sh checks the checks.
set -u
src=${1:-.}
cd "$src" || exit 1
fail=0
if ! grep -q '^## Layers' doc/design.md 2>/dev/null; then
	echo "doc/design.md (the design this checks) is missing or has no '## Layers'"
	fail=1
fi
check() { # folder, forbidden include pattern, reason
	local hits
	hits=$(grep -rnE "#include \"($2)" "$1" --include='*.[ch]' 2>/dev/null)
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed "s|\$|   <- $3|"
		fail=1
	fi
}
check lib 'storage/|auth/|protocols/|server/' 'lib/ is dependency-free'
check storage 'auth/|protocols/|server/' 'storage/ knows no auth, protocol or socket'
check auth 'storage/|protocols/|server/' 'auth/ knows no storage, protocol or socket'
check protocols/imap 'protocols/pop3/' 'IMAP never includes POP3'
check protocols/pop3 'protocols/imap/' 'POP3 never includes IMAP'
check protocols/login 'protocols/imap/|protocols/pop3/' 'the shared login module knows neither front-end'
check protocols/lmtp 'protocols/imap/|protocols/pop3/|protocols/login/' 'LMTP knows no other front-end'
# a protocol reaches server/ only through the connection's header
check protocols 'server/([^c]|c[^o]|co[^n]|con[^n]|conn[^.]|conn\.[^h]|conn\.h[^"])' 'protocols include only server/conn.h from server/'
if [ "$fail" = 0 ]; then
	echo "layering: 1 passed, 0 failed"
	exit 0
fi
echo "layering: 0 passed, 1 failed"
exit 1
