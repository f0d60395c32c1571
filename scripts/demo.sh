#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Starts a demo merpatid in the foreground on loopback:
#   IMAP 127.0.0.1:1143 (STARTTLS), IMAPS 1993, POP3 1110 (STLS), POP3S 1995
# with user "demo", password "demo", a few messages, and a self-signed
# certificate, all under /var/tmp/merpati-demo (override with DEMO_DIR).
# Run as root after building into build/; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BUILD_DIR:-build}
dir=${DEMO_DIR:-/var/tmp/merpati-demo}
port=${DEMO_PORT_BASE:-1000}   # ports are base+143, base+993, base+110, base+995
user=vmail
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (merpatid binds, then drops to $user)" >&2; exit 1; }
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
mkdir -p "$dir/mail" "$dir/tls"
chown "$user:" "$dir/mail"
if [ ! -s "$dir/tls/cert.pem" ]; then
	certtool --generate-privkey --key-type=ecdsa --outfile "$dir/tls/key.pem" 2>/dev/null
	printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\nexpiration_days = 365\ntls_www_server\n' >"$dir/tls/cert.tmpl"
	certtool --generate-self-signed --load-privkey "$dir/tls/key.pem" \
		--template "$dir/tls/cert.tmpl" --outfile "$dir/tls/cert.pem" 2>/dev/null
	chmod 600 "$dir/tls/key.pem"
fi
cat >"$dir/merpati.conf" <<CONF
# demo configuration written by scripts/demo.sh
[server]
user = $user
log = stderr
[listen]
imap  = 127.0.0.1:$((port + 143))
imaps = 127.0.0.1:$((port + 993))
pop3  = 127.0.0.1:$((port + 110))
pop3s = 127.0.0.1:$((port + 995))
[tls]
cert = $dir/tls/cert.pem
key  = $dir/tls/key.pem
[auth]
backend = passwd-file $dir/users
plaintext = tls-or-loopback   # the demo allows passwords on loopback
[mail]
root = $dir/mail/%u
CONF
if [ ! -s "$dir/users" ]; then
	hash=$(printf 'demo\n' | "$bin/merpati" pw)
	echo "demo:$hash::::::" >"$dir/users"
	chmod 600 "$dir/users"
fi
if [ ! -d "$dir/mail/demo" ]; then
	for i in 1 2 3; do
		printf 'From: Merpati <postmaster@localhost>\nTo: demo@localhost\nSubject: Demo message %s\nDate: %s\nMessage-ID: <demo-%s@localhost>\n\nHello from Merpati, message %s.\n' \
			"$i" "$(date -R)" "$i" "$i" | "$bin/merpati" deliver -c "$dir/merpati.conf" demo
	done
fi
echo "merpati demo: user demo, password demo; IMAP $((port + 143)), IMAPS $((port + 993)), POP3 $((port + 110)), POP3S $((port + 995)) on 127.0.0.1"
echo "merpati demo: certificate $dir/tls/cert.pem; try: curl --cacert $dir/tls/cert.pem pop3s://demo:demo@localhost:$((port + 995))/"
exec "$bin/merpatid" -f -c "$dir/merpati.conf"
