# SPDX-License-Identifier: GPL-2.0-or-later
"""Authentication against the running daemon: IMAP LOGIN / AUTHENTICATE
(PLAIN with and without SASL-IR, LOGIN, SCRAM-SHA-256 with a stdlib
client), POP3 USER/PASS and AUTH PLAIN, the plaintext policy
(LOGINDISABLED, STARTTLS), the per-IP penalty, max_failures, every
`merpati pw` scheme, checkpassword and PAM backends."""

import base64
import hashlib
import hmac
import os
import stat
import subprocess
import time
import unittest

import harness

MERPATI = harness.MERPATI


def pw(password, scheme=None, rounds=None):
    args = [MERPATI, "pw"]
    if scheme:
        args += ["-s", scheme]
    if rounds:
        args += ["-r", str(rounds)]
    out = subprocess.run(args, input=(password + "\n").encode(), capture_output=True, check=True)
    return out.stdout.decode().strip()


def b64(data):
    return base64.b64encode(data).decode()


OPEN = {"plaintext": "always", "penalty_max": "0", "max_failures": "10"}


def imap_login(d, user, password, **kw):
    c = d.imap(**kw)
    c.expect(r"^\* OK ")
    c.cmd('a LOGIN "%s" "%s"' % (user, password))
    return c, c.read_until_tagged("a")[-1]


def scram_exchange(c, tag, user, password, nonce="fyko+d2lbbFgONRv9qkxdawL"):
    """RFC 5802 client side over IMAP AUTHENTICATE; returns the tagged line."""
    gs2 = "n,,"
    first_bare = "n=%s,r=%s" % (user, nonce)
    c.cmd("%s AUTHENTICATE SCRAM-SHA-256 %s" % (tag, b64((gs2 + first_bare).encode())))
    line = c.readline()
    if not line.startswith("+ "):
        return line
    server_first = base64.b64decode(line[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_wo_proof = "c=%s,r=%s" % (b64(gs2.encode()), attrs["r"])
    auth_msg = ",".join([first_bare, server_first, final_wo_proof]).encode()
    sig = hmac.new(stored_key, auth_msg, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    c.cmd(b64((final_wo_proof + ",p=" + b64(proof)).encode()))
    line = c.readline()
    if not line.startswith("+ "):
        return line
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    expected = "v=" + b64(hmac.new(server_key, auth_msg, "sha256").digest())
    assert base64.b64decode(line[2:]).decode() == expected, "server signature mismatch"
    c.cmd("")
    return c.readline()


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sha = pw("secret", "SHA512-CRYPT", 1000)

    def test_imap_login_and_authenticate_plain(self):
        users = ["alice@example.org:" + self.sha, "bob:" + pw("b0b", "SHA256-CRYPT", 1000)]
        with harness.Daemon(sections={"auth": OPEN}, users=users) as d:
            c, r = imap_login(d, "alice@example.org", "secret")
            self.assertRegex(r, r"^a OK ")
            c.cmd("b NOOP")
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b OK")
            _, r = imap_login(d, "alice@example.org", "wrong")
            self.assertRegex(r, r"^a NO \[AUTHENTICATIONFAILED\]")
            _, r = imap_login(d, "nobody", "secret")
            self.assertRegex(r, r"^a NO \[AUTHENTICATIONFAILED\]")
            _, r = imap_login(d, "../etc/passwd", "x")
            self.assertRegex(r, r"^a NO ")
            _, r = imap_login(d, "bob", "b0b")
            self.assertRegex(r, r"^a OK ")

            c = d.imap()
            c.expect(r"^\* OK .*SASL-IR.*AUTH=PLAIN")
            # SASL-IR
            c.cmd("a AUTHENTICATE PLAIN " + b64(b"\0alice@example.org\0wrong"))
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a NO \[AUTHENTICATIONFAILED\]")
            c.cmd("b AUTHENTICATE PLAIN " + b64(b"\0alice@example.org\0secret"))
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b OK ")
            # without SASL-IR: empty challenge first
            c = d.imap()
            c.expect(r"^\* OK ")
            c.cmd("a AUTHENTICATE PLAIN")
            self.assertEqual(c.readline(), "+ ")
            c.cmd(b64(b"alice@example.org\0alice@example.org\0secret"))
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")
            # cancel, bad base64, unknown mechanism, LOGIN mechanism
            c = d.imap()
            c.expect(r"^\* OK ")
            c.cmd("a AUTHENTICATE PLAIN")
            c.readline()
            c.cmd("*")
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a BAD .*cancel")
            c.cmd("b AUTHENTICATE PLAIN %%%%")
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b BAD .*base64")
            c.cmd("c AUTHENTICATE CRAM-MD5")
            self.assertRegex(c.read_until_tagged("c")[-1], r"^c NO ")
            c.cmd("d AUTHENTICATE LOGIN")
            self.assertEqual(base64.b64decode(c.readline()[2:]), b"Username:")
            c.cmd(b64(b"bob"))
            self.assertEqual(base64.b64decode(c.readline()[2:]), b"Password:")
            c.cmd(b64(b"b0b"))
            self.assertRegex(c.read_until_tagged("d")[-1], r"^d OK ")
            # imaplib as the client
            import imaplib
            m = imaplib.IMAP4("127.0.0.1", d.ports["imap"])
            m.login("alice@example.org", "secret")
            m.logout()
            log = d.read_log()
            self.assertIn("event=auth_failed service=imap ip=127.0.0.1 user=alice@example.org", log)
            self.assertNotIn("wrong", log.replace('reason="wrong password"', ""))

    def test_scram_sha_256(self):
        users = ["carol:" + pw("pencil", "SCRAM-SHA-256"), "alice:" + self.sha]
        with harness.Daemon(sections={"auth": OPEN}, users=users) as d:
            c = d.imap()
            c.expect(r"AUTH=SCRAM-SHA-256")
            self.assertRegex(scram_exchange(c, "a", "carol", "pencil"), r"^a OK ")
            c = d.imap()
            c.expect(r"^\* OK")
            self.assertRegex(scram_exchange(c, "a", "carol", "pencil2"), r"^a NO ")
            # a user without SCRAM keys cannot use SCRAM
            self.assertRegex(scram_exchange(c, "b", "alice", "secret"), r"^b NO ")
            # SCRAM keys verify plaintext logins too
            _, r = imap_login(d, "carol", "pencil")
            self.assertRegex(r, r"^a OK ")

    def test_plaintext_policy(self):
        with harness.Daemon(sections={"auth": {"penalty_max": "0"}}, users=["alice:" + self.sha]) as d:
            c = d.imap()
            greeting = c.expect(r"^\* OK ")
            self.assertIn("LOGINDISABLED", greeting)
            self.assertNotIn("AUTH=PLAIN", greeting)
            self.assertIn("AUTH=SCRAM-SHA-256", greeting)
            c.cmd('a LOGIN alice secret')
            r = c.read_until_tagged("a")[-1]
            self.assertRegex(r, r"^a NO \[PRIVACYREQUIRED\] .*TLS")
            c.cmd("b AUTHENTICATE PLAIN " + b64(b"\0alice\0secret"))
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b NO .*TLS")
            c.cmd("c STARTTLS")
            c.read_until_tagged("c")
            c.starttls()
            c.cmd("d CAPABILITY")
            caps = c.read_until_tagged("d")[0]
            self.assertNotIn("LOGINDISABLED", caps)
            self.assertIn("AUTH=PLAIN", caps)
            c.cmd("e LOGIN alice secret")
            self.assertRegex(c.read_until_tagged("e")[-1], r"^e OK ")
            # implicit TLS
            c = d.imaps()
            c.expect(r"^\* OK ")
            c.cmd("a AUTHENTICATE PLAIN " + b64(b"\0alice\0secret"))
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")
            # POP3 refuses USER without TLS, with a message about TLS
            p = d.pop3()
            p.expect(r"^\+OK")
            p.cmd("USER alice")
            self.assertRegex(p.readline(), r"^-ERR .*TLS")

    def test_pop3(self):
        with harness.Daemon(sections={"auth": OPEN}, users=["alice:" + self.sha]) as d:
            p = d.pop3()
            p.expect(r"^\+OK")
            p.cmd("USER alice")
            p.expect(r"^\+OK")
            p.cmd("PASS wrong")
            p.expect(r"^-ERR")
            p.cmd("USER alice")
            p.expect(r"^\+OK")
            p.cmd("PASS secret")
            p.expect(r"^\+OK")
            p.cmd("QUIT")
            p = d.pop3()
            p.expect(r"^\+OK")
            p.cmd("AUTH PLAIN " + b64(b"\0alice\0secret"))
            p.expect(r"^\+OK")
            p.cmd("QUIT")
            p = d.pop3s()
            p.expect(r"^\+OK")
            p.cmd("AUTH PLAIN")
            p.expect(r"^\+ ?$")
            p.cmd(b64(b"\0alice\0secret"))
            p.expect(r"^\+OK")

    def test_penalty_and_max_failures(self):
        auth = {"plaintext": "always", "penalty_max": "2", "max_failures": "2"}
        with harness.Daemon(sections={"auth": auth}, users=["alice:" + self.sha]) as d:
            times = []
            for _ in range(3):
                t0 = time.monotonic()
                _, r = imap_login(d, "alice", "wrong")
                times.append(time.monotonic() - t0)
                self.assertRegex(r, r"^a NO ")
            print("failed login durations: %s" % ", ".join("%.2fs" % t for t in times))
            self.assertLess(times[0], 0.9)
            self.assertGreaterEqual(times[1], 0.9)   # 1 s after one failure
            self.assertGreaterEqual(times[2], 1.9)   # 2 s (capped) after two
            t0 = time.monotonic()
            _, r = imap_login(d, "alice", "secret")  # still delayed, then resets
            self.assertRegex(r, r"^a OK ")
            _, r = imap_login(d, "alice", "wrong")
            self.assertLess(time.monotonic() - t0, 5)
            # max_failures: the second failure on one connection hangs up
            c = d.imap()
            c.expect(r"^\* OK")
            c.cmd("a LOGIN alice wrong")
            c.read_until_tagged("a")
            c.cmd("b LOGIN alice wrong")
            lines = []
            while True:
                line = c.readline()
                if line is None:
                    break
                lines.append(line)
            self.assertTrue(any(l.startswith("* BYE") for l in lines), lines)

    def test_every_pw_scheme(self):
        schemes = [(None, None), ("SHA512-CRYPT", 1000), ("SHA256-CRYPT", 1000),
                   ("BLF-CRYPT", 4), ("SCRAM-SHA-256", 64), ("PLAIN", None)]
        users = []
        for i, (scheme, rounds) in enumerate(schemes):
            h = pw("pw-%d" % i, scheme, rounds)
            users.append("u%d:%s" % (i, h))
        self.assertTrue(users[0].startswith("u0:{CRYPT}$y$"))
        auth = dict(OPEN, allow_plain_scheme="yes")
        with harness.Daemon(sections={"auth": auth}, users=users) as d:
            for i in range(len(schemes)):
                _, r = imap_login(d, "u%d" % i, "pw-%d" % i)
                self.assertRegex(r, r"^a OK ", schemes[i])
                _, r = imap_login(d, "u%d" % i, "pw-x")
                self.assertRegex(r, r"^a NO ", schemes[i])
            out = subprocess.run([MERPATI, "user", "-c", d.conf_path, "u1"], capture_output=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(b"{SHA512-CRYPT}", out.stdout)
            self.assertIn(os.path.join(d.mail, "u1").encode(), out.stdout)
            self.assertNotIn(users[1].split(":")[1].encode(), out.stdout)
            out = subprocess.run([MERPATI, "user", "-c", d.conf_path, "nobody"], capture_output=True)
            self.assertEqual(out.returncode, 67)

    def test_checkpassword(self):
        d = harness.Daemon(start=False)
        script = os.path.join(d.dir, "checkpw")
        with open(script, "w") as f:
            f.write("#!/bin/bash\n"
                    "IFS= read -r -d '' user <&3\nIFS= read -r -d '' pass <&3\n"
                    "[ \"$user\" = down ] && exit 111\n"
                    "[ \"$user\" = cp ] && [ \"$pass\" = 'good pw' ] && exec \"$@\"\n"
                    "exit 1\n")
        os.chmod(script, 0o755)
        d.config["auth"].update(OPEN, backend="checkpassword " + script)
        d.write_config()
        d.start()
        with d:
            _, r = imap_login(d, "cp", "good pw")
            self.assertRegex(r, r"^a OK ")
            _, r = imap_login(d, "cp", "bad")
            self.assertRegex(r, r"^a NO \[AUTHENTICATIONFAILED\]")
            _, r = imap_login(d, "down", "good pw")
            self.assertRegex(r, r"^a NO \[UNAVAILABLE\]")

    def test_pam(self):
        for name, module in (("permit", "pam_permit.so"), ("deny", "pam_deny.so")):
            with open("/etc/pam.d/merpati-test-" + name, "w") as f:
                f.write("auth required %s\naccount required %s\n" % (module, module))
        try:
            for service, expect in (("merpati-test-permit", r"^a OK "),
                                    ("merpati-test-deny", r"^a NO \[AUTHENTICATIONFAILED\]")):
                auth = dict(OPEN, backend="pam " + service)
                with harness.Daemon(sections={"auth": auth}) as d:
                    _, r = imap_login(d, "root", "whatever")
                    self.assertRegex(r, expect)
        finally:
            for name in ("permit", "deny"):
                os.unlink("/etc/pam.d/merpati-test-" + name)


if __name__ == "__main__":
    harness.main()
