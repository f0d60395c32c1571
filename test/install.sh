#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Packaging: configure as a distribution does (-DCMAKE_INSTALL_PREFIX=/usr),
# install into DESTDIR, and check that every shipped file lands where Debian
# expects it, that the unit starts the installed binary, that the shipped
# config parses, and that a reinstall keeps the admin's merpati.conf.
set -u
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
fail=0
check() { [ -e "$stage/$1" ] || { echo "missing: /$1"; fail=1; }; }
cmake -S "$src" -B "$work/build" -DCMAKE_INSTALL_PREFIX=/usr -DMERPATI_TESTS=OFF >"$work/log" 2>&1 &&
	cmake --build "$work/build" -j"$(nproc)" >>"$work/log" 2>&1 &&
	DESTDIR=$stage cmake --install "$work/build" >>"$work/log" 2>&1 ||
	{ cat "$work/log"; echo "install: 0 passed, 1 failed"; exit 1; }
for f in usr/sbin/merpatid usr/bin/merpati usr/share/man/man8/merpatid.8 \
	usr/share/man/man1/merpati.1 usr/share/man/man5/merpati.conf.5 \
	usr/share/doc/merpati/examples/merpati.conf usr/share/doc/merpati/examples/users.example \
	usr/share/doc/merpati/examples/merpati.socket \
	etc/pam.d/merpati etc/merpati/merpati.conf; do
	check "$f"
done
unit=$(find "$stage" -name merpati.service | head -n 1)
if [ -z "$unit" ]; then
	echo "missing: merpati.service"
	fail=1
elif ! grep -q '^ExecStart=/usr/sbin/merpatid -f$' "$unit"; then
	echo "merpati.service does not start /usr/sbin/merpatid -f"
	fail=1
fi
# the binary looks for /etc/merpati/merpati.conf by default
"$stage/usr/sbin/merpatid" -h | grep -q '/etc/merpati/merpati.conf' ||
	{ echo "merpatid's default config is not /etc/merpati/merpati.conf"; fail=1; }
# the shipped config is valid as it is
"$stage/usr/sbin/merpatid" -n -c "$stage/etc/merpati/merpati.conf" >/dev/null ||
	{ echo "the shipped merpati.conf does not parse"; fail=1; }
# an admin's edited config survives a reinstall
echo "# edited by the admin" >>"$stage/etc/merpati/merpati.conf"
DESTDIR=$stage cmake --install "$work/build" >"$work/log" 2>&1
grep -q "edited by the admin" "$stage/etc/merpati/merpati.conf" ||
	{ echo "reinstall overwrote /etc/merpati/merpati.conf"; fail=1; }
if [ "$fail" = 0 ]; then
	echo "install: 1 passed, 0 failed"
	exit 0
fi
echo "install: 0 passed, 1 failed"
exit 1
