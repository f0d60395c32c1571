#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs Debian 12 packages: `deps.sh build` for building and running,
# `deps.sh test` for that plus everything the test suite drives.
# `deps.sh list build|test` prints a list, one package a line, installing
# nothing (test/integration/harness.py hides what is not in the build list).
set -euo pipefail
build=(build-essential cmake pkg-config libgnutls28-dev gnutls-bin libev-dev
	libinih-dev libcrypt-dev libpam0g-dev zlib1g-dev libseccomp-dev)
test=(libcmocka-dev python3 clang clang-format libclang-rt-14-dev curl
	fetchmail getmail6 isync dovecot-imapd dovecot-pop3d time procps tzdata nodejs
	debhelper lintian debootstrap systemd)
if [ "${1:-}" = list ]; then
	case "${2:-}" in
	build) printf '%s\n' "${build[@]}" ;;
	test) printf '%s\n' "${test[@]}" ;;
	*) echo "usage: deps.sh list build|test" >&2 && exit 64 ;;
	esac
	exit 0
fi
want=("${build[@]}")
[ "${1:-build}" = test ] && want+=("${test[@]}")
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# dovecot's packages try to start a system service: keep them from doing so
	policy=/usr/sbin/policy-rc.d
	created=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
	[ "$created" = 1 ] && rm -f "$policy"
fi
# imapflow (test_imap_clients.py) from npm into a fixed directory; Debian's
# nodejs comes without npm, NodeSource's with it
if [ "${1:-build}" = test ]; then
	command -v npm >/dev/null 2>&1 ||
		apt-get install -y -qq --no-install-recommends npm
	node_dir=/usr/local/lib/merpati-test-node
	[ -d "$node_dir/node_modules/imapflow" ] ||
		npm install --prefix "$node_dir" --no-audit --no-fund imapflow@1
fi
# a system-wide dovecot must not hold ports or run: tests start their own
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
	systemctl stop dovecot || true
fi
exit 0
