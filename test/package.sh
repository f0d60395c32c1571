#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The packaging test (issue 12, items 1 and 2; doc/packaging.md). As root:
#   build the .deb with dpkg-buildpackage and check it with lintian (0 errors,
#   0 warnings) and systemd-analyze verify; install it into a clean Debian 12
#   root (debootstrap, cached as a tarball in $MERPATI_PKG_CACHE); start the
#   packaged merpatid there under the unit's own hardening and see READY=1;
#   log in over IMAPS and POP3S and read a message `merpati deliver` stored;
#   reload (RELOADING=1, READY=1); stop (STOPPING=1); upgrade to a rebuilt
#   package whose merpati.conf changed and check the admin's edit survived;
#   purge and check that what the maintainer scripts made is gone.
# systemd cannot run as PID 1 in a chroot, so merpatid runs directly, with
# what merpati.service asks for applied by hand: CapabilityBoundingSet= and
# NoNewPrivileges= (setpriv, read from the installed unit), ProtectSystem=
# strict with ReadWritePaths=, StateDirectory=, RuntimeDirectory= writable,
# PrivateTmp= and ProtectHome= (a private mount namespace), Type=notify (an
# abstract $NOTIFY_SOCKET the test reads). .ci/run runs it; by hand:
#   test/package.sh [SRC]       (about 5 minutes, 3 more the first time)
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cache=${MERPATI_PKG_CACHE:-/var/cache/merpati-test}
mirror=${MERPATI_PKG_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "test/package.sh must run as root (chroot, mounts)"; exit 1; }
work=$(mktemp -d /var/tmp/merpati-pkgtest-XXXXXX)
root=$work/root
daemon_pid=
passed=0

cleanup() {
	[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
	for m in "$root/dev" "$root/proc"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	# MERPATI_PKG_KEEP=1: keep the work directory (logs, root, packages)
	if [ "${MERPATI_PKG_KEEP:-0}" = 1 ]; then
		echo "kept $work"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "package: $passed passed, 1 failed"
	exit 1
}
ok() {
	echo "ok: $*"
	passed=$((passed + 1))
}
in_root() { chroot "$root" "$@"; }

# --- build -----------------------------------------------------------------
# an out-of-tree copy of the checkout: dpkg-buildpackage writes to ../
build_deb() { # dir, log
	# MERPATI_PKG_PREBUILT=DIR: the packages of a kept run (while working
	# on the test itself)
	if [ -n "${MERPATI_PKG_PREBUILT:-}" ]; then
		local v
		v=$(basename "$(dirname "$1")")
		cp "$MERPATI_PKG_PREBUILT/$v/"*.deb "$MERPATI_PKG_PREBUILT/$v/"*.changes \
			"$MERPATI_PKG_PREBUILT/$v/"*.buildinfo "$work/$v/"
		return 0
	fi
	(cd "$1" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) >"$2" 2>&1 ||
		{ tail -40 "$2"; fail "dpkg-buildpackage in $1 (log above)"; }
}
mkdir -p "$work/v1/merpati"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -co --exclude-standard -z | grep -zv '^build' |
		xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' | tar -cf - --null -T -) |
		tar -xf - -C "$work/v1/merpati"
else
	tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$work/v1/merpati"
fi
cp -a "$work/v1/merpati" "$work/v2"
mv "$work/v2" "$work/v2tmp" && mkdir "$work/v2" && mv "$work/v2tmp" "$work/v2/merpati"
build_deb "$work/v1/merpati" "$work/build1.log"
version=$(dpkg-parsechangelog -l "$work/v1/merpati/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb1=$work/v1/merpati_${version}_$arch.deb
[ -f "$deb1" ] || fail "no $deb1"
ok "dpkg-buildpackage -us -uc -b built merpati_${version}_$arch.deb"

lintian --fail-on error,warning "$work/v1/merpati_${version}_${arch}.changes" \
	>"$work/lintian.log" 2>&1 || true
grep -v '^running with root privileges' "$work/lintian.log" || true
if grep -qE '^[EW]: ' "$work/lintian.log"; then
	fail "lintian reports errors or warnings"
fi
ok "lintian: 0 errors, 0 warnings"

dpkg-deb -c "$deb1" >"$work/contents"
for f in usr/sbin/merpatid usr/bin/merpati etc/merpati/merpati.conf etc/pam.d/merpati \
	lib/systemd/system/merpati.service usr/share/man/man8/merpatid.8.gz \
	usr/share/man/man1/merpati.1.gz usr/share/man/man5/merpati.conf.5.gz \
	usr/share/doc/merpati/copyright usr/share/doc/merpati/examples/merpati.socket; do
	grep -q " \./$f\$" "$work/contents" || fail "the package lacks /$f"
done
dpkg-deb -e "$deb1" "$work/ctl1"
grep -qx /etc/merpati/merpati.conf "$work/ctl1/conffiles" || fail "merpati.conf is no conffile"
grep -qx /etc/pam.d/merpati "$work/ctl1/conffiles" || fail "the PAM file is no conffile"
ok "binaries, man pages, unit, PAM file; merpati.conf and the PAM file are conffiles"

# --- a clean Debian 12 root, cached ---------------------------------------------
# the package's Depends (without versions) are in the root from the start:
# dpkg -i needs no network then
deps=$(dpkg-deb -f "$deb1" Depends | tr ',' '\n' | sed 's/^ *//;s/[ (|].*//' | grep -v '^$' |
	sort -u | tr '\n' ',')
# and systemd, so that systemd-analyze --root= finds its targets
deps="${deps}systemd"
key=$(printf 'bookworm minbase %s %s' "$arch" "$deps" | sha256sum | cut -c1-16)
tarball=$cache/bookworm-$arch-$key.tar
if [ ! -f "$tarball" ]; then
	echo "debootstrap bookworm into $root (cached as $tarball) ..."
	debootstrap --variant=minbase --arch="$arch" --include="$deps" bookworm \
		"$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
	mkdir -p "$cache"
	tar --numeric-owner -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
else
	mkdir -p "$root"
	tar --numeric-owner -C "$root" -xf "$tarball"
fi
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
# a fresh snakeoil pair (the cached root's would be the same on every run),
# made by the package's postinst through make-ssl-cert
rm -f "$root/etc/ssl/certs/ssl-cert-snakeoil.pem" "$root/etc/ssl/private/ssl-cert-snakeoil.key"
in_root getent passwd vmail >/dev/null && fail "the clean root already has vmail"
ok "a clean Debian 12 root ($(cat "$root/etc/debian_version"))"

# --- install --------------------------------------------------------------------
cp "$deb1" "$root/tmp/merpati-1.deb"
in_root dpkg -i /tmp/merpati-1.deb >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "dpkg -i"; }
in_root getent passwd vmail | grep -q ':/var/vmail:/usr/sbin/nologin$' ||
	fail "no vmail system user with home /var/vmail and no login"
[ "$(in_root stat -c %U:%a /var/vmail)" = vmail:750 ] || fail "/var/vmail is not vmail's, 0750"
[ "$(stat -c %a "$root/etc/merpati/users")" = 600 ] || fail "/etc/merpati/users is not 0600"
[ "$(readlink "$root/etc/merpati/tls/fullchain.pem")" = /etc/ssl/certs/ssl-cert-snakeoil.pem ] ||
	fail "tls.cert is not the snakeoil certificate"
[ "$(readlink "$root/etc/merpati/tls/privkey.pem")" = /etc/ssl/private/ssl-cert-snakeoil.key ] ||
	fail "tls.key is not the snakeoil key"
[ -s "$root/etc/ssl/certs/ssl-cert-snakeoil.pem" ] || fail "postinst made no snakeoil certificate"
in_root /usr/sbin/merpatid -t >/dev/null || fail "the installed configuration does not check"
ok "installed: vmail user, /var/vmail, empty users file, snakeoil certificate; merpatid -t passes"

# the unit as installed: verify it against the root, score it
unit=$root/lib/systemd/system/merpati.service
systemd-analyze verify --man=no --root="$root" merpati.service >"$work/verify.log" 2>&1 ||
	{ cat "$work/verify.log"; fail "systemd-analyze verify"; }
[ -s "$work/verify.log" ] && { cat "$work/verify.log"; fail "systemd-analyze verify is not clean"; }
score=$(systemd-analyze security --offline=yes --root="$root" merpati.service 2>/dev/null |
	sed -n 's/^→ Overall exposure level for merpati.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "systemd-analyze security gave no score"
# doc/packaging.md reports the score; a change that weakens the unit fails here
awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }' || fail "exposure $score > 4.0"
ok "systemd-analyze verify clean; security exposure $score"

# --- configure as an admin does, then start under the unit's hardening ----------
ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r imaps pop3s <<<"$ports"
conf=$root/etc/merpati/merpati.conf
sed -i -e "s/^imap  = .*/imap  =/" -e "s/^imaps = .*/imaps = 127.0.0.1:$imaps/" \
	-e "s/^pop3s = .*/pop3s = 127.0.0.1:$pop3s/" "$conf"
echo "# edited by the admin" >>"$conf"
hash=$(printf 'secret\n' | in_root merpati pw)
echo "alice@example.org:$hash::::::" >>"$root/etc/merpati/users"
printf 'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: packaged\r\n\r\nhello from the package test\r\n' |
	in_root merpati deliver alice@example.org || fail "merpati deliver"

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset="$bset,+${c,,}"
done
grep -qx 'NoNewPrivileges=yes' "$unit" || fail "the unit does not set NoNewPrivileges=yes"
grep -qx 'ProtectSystem=strict' "$unit" || fail "the unit does not set ProtectSystem=strict"
rw=$(sed -n 's/^ReadWritePaths=//p' "$unit")
notify=merpati-pkgtest-$$
# Starts merpatid as merpati.service would and waits for READY=1.
start_daemon() {
	local binds="" p
	for p in $rw /var/lib/merpati /run/merpati; do
		p=${p#-}
		[ -d "$root$p" ] || { [ "$p" = /var/lib/merpati ] || [ "$p" = /run/merpati ]; } || continue
		mkdir -p "$root$p"
		binds="$binds mount --bind $root$p $root$p;"
	done
	notify_listen READY=1
	local listener=$notify_pid
	# ProtectSystem=strict: the root read-only but ReadWritePaths= and the
	# state and runtime directories; PrivateTmp=, ProtectHome=: empty tmpfs
	NOTIFY_SOCKET=@$notify unshare --mount --propagation private sh -c "
		set -e
		mount --rbind $root $root
		$binds
		mount -t tmpfs -o mode=1777 tmpfs $root/tmp
		mount -t tmpfs -o mode=0755 tmpfs $root/home
		mount -o remount,bind,ro $root
		exec chroot $root setpriv --bounding-set $bset --no-new-privs \
			/usr/sbin/merpatid -f" >>"$work/merpatid.log" 2>&1 &
	daemon_pid=$!
	wait "$listener" || { cat "$work/merpatid.log"; fail "no READY=1 from merpatid"; }
}
# Waits in the background for the notifications named, in order
# (package_notify.py); returns once its socket is bound.
notify_listen() {
	rm -f "$work/notify.bound"
	python3 "$src/test/package_notify.py" "@$notify" "$work/notify.bound" "$@" >"$work/notify.out" &
	notify_pid=$!
	for _ in $(seq 100); do
		[ -e "$work/notify.bound" ] && return 0
		sleep 0.05
	done
	fail "the notify socket was not bound"
}
# The master: unshare, sh and chroot exec'd into it, keeping the pid.
master_pid() {
	[ "$(readlink "/proc/$daemon_pid/exe")" = "$root/usr/sbin/merpatid" ] ||
		[ "$(readlink "/proc/$daemon_pid/exe")" = /usr/sbin/merpatid ] ||
		fail "process $daemon_pid is not merpatid"
	echo "$daemon_pid"
}
# The kernel's view of the running master: what the unit asks for.
check_confined() {
	local pid=$daemon_pid want=0 c
	declare -A bit=([CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_DAC_READ_SEARCH]=2
		[CAP_FOWNER]=3 [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7
		[CAP_NET_BIND_SERVICE]=10 [CAP_SYS_CHROOT]=18 [CAP_SYS_PTRACE]=19)
	for c in $caps; do
		[ -n "${bit[$c]:-}" ] || fail "no bit known for $c"
		want=$((want | (1 << ${bit[$c]})))
	done
	[ $((0x$(sed -n 's/^CapBnd:\t//p' "/proc/$pid/status"))) = "$want" ] ||
		fail "CapBnd of merpatid is not $caps: $(grep CapBnd "/proc/$pid/status")"
	grep -qP '^NoNewPrivs:\t1$' "/proc/$pid/status" || fail "merpatid runs without no_new_privs"
	# the root mount read-only, the mail root writable
	awk '$5 == "/" { split($6, o, ","); if (o[1] != "ro") exit 1 }' "/proc/$pid/mountinfo" ||
		fail "merpatid's / is not read-only"
	awk '$5 == "/var/vmail" { split($6, o, ","); found = o[1] == "rw" } END { exit !found }' \
		"/proc/$pid/mountinfo" || fail "merpatid's /var/vmail is not writable"
}
start_daemon
grep -q 'READY=1' "$work/notify.out" || fail "READY=1 missing"
check_confined
ok "merpatid sent READY=1 (hardened as the unit: bounding set $caps, no new privileges, read-only root)"

login() { # what
	python3 - "$root/etc/ssl/certs/ssl-cert-snakeoil.pem" "$imaps" "$pop3s" <<'EOF' || fail "$1"
import imaplib, poplib, ssl, sys
cafile, imaps, pop3s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False  # the snakeoil certificate names the host
i = imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=ctx, timeout=10)
i.login("alice@example.org", "secret")
typ, data = i.select("INBOX")
assert typ == "OK" and data == [b"1"], data
typ, data = i.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert b"Subject: packaged" in data[0][1], data
i.logout()
p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx, timeout=10)
p.user("alice@example.org")
p.pass_("secret")
assert p.stat()[0] == 1, p.stat()
resp, lines, _ = p.top(1, 1)
assert b"hello from the package test" in lines, lines
p.quit()  # TOP only: nothing retrieved, nothing deleted
try:
    i = imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=ctx, timeout=10)
    i.login("alice@example.org", "wrong")
    raise SystemExit("a wrong password logged in")
except imaplib.IMAP4.error:
    pass
EOF
}
login "IMAPS/POP3S login with the snakeoil certificate"
ok "IMAPS and POP3S: alice logs in and reads the delivered message; a wrong password is refused"

master=$(master_pid)
notify_listen RELOADING=1 READY=1
kill -HUP "$master"
wait "$notify_pid" || { cat "$work/merpatid.log"; fail "no RELOADING=1, READY=1 on SIGHUP"; }
login "login after the reload"
ok "SIGHUP (ExecReload): RELOADING=1 then READY=1; logins go on"

stop_daemon() {
	local master
	master=$(master_pid)
	notify_listen STOPPING=1
	kill -TERM "$master"
	wait "$notify_pid" || fail "no STOPPING=1 on SIGTERM"
	for _ in $(seq 300); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$daemon_pid" 2>/dev/null && { tail -5 "$work/merpatid.log"; fail "merpatid still runs 30 s after SIGTERM"; }
	wait "$daemon_pid" || fail "merpatid exited with $? on SIGTERM"
	daemon_pid=
	if grep -E 'level=error|worker_died|worker_failed' "$work/merpatid.log"; then
		fail "errors in merpatid's log"
	fi
}
stop_daemon
ok "SIGTERM: STOPPING=1, exit 0, no error logged"

# --- upgrade to a rebuilt package whose merpati.conf changed --------------------
v2="$version+pkgtest1"
(
	cd "$work/v2/merpati"
	{
		printf 'merpati (%s) unstable; urgency=medium\n\n  * Rebuilt by test/package.sh.\n\n' "$v2"
		printf ' -- Merpati test <test@example.org>  %s\n\n' "$(date -R)"
		cat debian/changelog
	} >debian/changelog.new && mv debian/changelog.new debian/changelog
	echo "# shipped by $v2" >>etc/merpati.conf
)
build_deb "$work/v2/merpati" "$work/build2.log"
cp "$work/v2/merpati_${v2}_$arch.deb" "$root/tmp/merpati-2.deb"
before=$(in_root getent passwd vmail)
in_root dpkg -i --force-confdef --force-confold /tmp/merpati-2.deb >"$work/upgrade.log" 2>&1 ||
	{ cat "$work/upgrade.log"; fail "dpkg -i (upgrade)"; }
[ "$(in_root dpkg-query -W -f='${Version}' merpati)" = "$v2" ] || fail "not upgraded to $v2"
grep -q '^# edited by the admin$' "$conf" || fail "the upgrade lost the admin's merpati.conf"
grep -q "imaps = 127.0.0.1:$imaps" "$conf" || fail "the upgrade changed the admin's listeners"
grep -q "^# shipped by $v2\$" "$root/etc/merpati/merpati.conf.dpkg-dist" ||
	fail "the new merpati.conf is not beside it as merpati.conf.dpkg-dist"
[ "$(in_root getent passwd vmail)" = "$before" ] || fail "the upgrade changed the vmail user"
grep -q '^alice@example.org:' "$root/etc/merpati/users" || fail "the upgrade changed the users file"
start_daemon
login "login after the upgrade"
stop_daemon
ok "upgrade to $v2 kept the edited merpati.conf (new one as .dpkg-dist), the user and the users file"

# --- remove, purge ------------------------------------------------------------
in_root dpkg -r merpati >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg -r"; }
[ -f "$conf" ] || fail "remove (not purge) deleted merpati.conf"
in_root getent passwd vmail >/dev/null || fail "remove (not purge) deleted the vmail user"
# mail is never removed: with alice's mail in /var/vmail, purge keeps it
# and the user (and says so) ...
in_root dpkg --purge merpati >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
grep -q '/var/vmail is not empty: kept it and the vmail user' "$work/purge.log" ||
	{ cat "$work/purge.log"; fail "purge did not say it kept the mail"; }
ls "$root"/var/vmail/example.org/alice/new/* >/dev/null 2>&1 ||
	ls "$root"/var/vmail/example.org/alice/cur/* >/dev/null 2>&1 || fail "purge removed mail"
in_root getent passwd vmail >/dev/null || fail "purge removed the owner of the mail left"
[ -e "$root/etc/merpati" ] && fail "purge left /etc/merpati"
ok "purge with mail left: mail and vmail kept, /etc/merpati removed"
# ... and with no mail left, removes both
in_root deluser --system --quiet vmail >/dev/null 2>&1
in_root delgroup --system --quiet vmail 2>/dev/null || true
rm -rf "$root/var/vmail"
in_root dpkg -i /tmp/merpati-2.deb >"$work/install3.log" 2>&1 || { cat "$work/install3.log"; fail "dpkg -i (again)"; }
in_root dpkg --purge merpati >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
in_root getent passwd vmail >/dev/null && fail "purge left the vmail user"
in_root getent group vmail >/dev/null && fail "purge left the vmail group"
for p in /var/vmail /etc/merpati /var/lib/merpati; do
	[ -e "$root$p" ] && fail "purge left $p"
done
[ -s "$root/etc/ssl/certs/ssl-cert-snakeoil.pem" ] || fail "purge removed ssl-cert's snakeoil certificate"
ok "purge removed the vmail user and group, /var/vmail, /etc/merpati, /var/lib/merpati (not ssl-cert's snakeoil)"

# an existing vmail user and certificate are the admin's: used, never removed
in_root adduser --system --group --quiet --home /var/vmail vmail
mkdir -p "$root/etc/merpati/tls"
cp "$root/etc/ssl/certs/ssl-cert-snakeoil.pem" "$root/etc/merpati/tls/fullchain.pem"
install -m 0600 "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/merpati/tls/privkey.pem"
in_root dpkg -i /tmp/merpati-2.deb >"$work/install2.log" 2>&1 || { cat "$work/install2.log"; fail "dpkg -i over an existing vmail"; }
[ -L "$root/etc/merpati/tls/fullchain.pem" ] && fail "postinst replaced the admin's certificate"
in_root dpkg --purge merpati >"$work/purge2.log" 2>&1 || { cat "$work/purge2.log"; fail "dpkg --purge (2)"; }
in_root getent passwd vmail >/dev/null || fail "purge removed a vmail user it did not create"
[ -f "$root/etc/merpati/tls/privkey.pem" ] || fail "purge removed the admin's key"
ok "an existing vmail user and certificate are used, and kept by purge"

echo "package: $passed passed, 0 failed"
