# SPDX-License-Identifier: GPL-2.0-or-later
"""POP3 front-end against Python's poplib and raw transcripts: every command,
every response code, dot-stuffing, TOP, invalid numbers, wrong states,
pipelining and backpressure, the maildrop lock, after_download in all three
modes, UIDL stability (RFC 1939, 2449, 2595, 3206, 5034)."""

import base64
import os
import poplib
import pwd
import re
import socket
import ssl
import subprocess
import time
import unittest

from harness import CERT, Daemon, LineClient, main, tls_context

USERS = ["alice:{PLAIN}secret::::::", "bob:{PLAIN}hunter2::::::"]
OPEN_AUTH = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}

MSG_PLAIN = b"From: a@example.org\nSubject: plain\n\nline one\nline two\n"
MSG_DOTS = (b"From: a@example.org\nSubject: dots\n\n.starts with a dot\n..two dots\n"
            b".\nmiddle . dot\n.\r\nlast line\n")
MSG_CRLF = b"From: a@example.org\r\nSubject: crlf\r\n\r\nbody\r\nmore\r\n"


# --- helpers shared by the other test_pop3_*.py files (functions only) ---

def pop3_daemon(after_download=None, auth=None, pop3=None, users=None, **kw):
    sections = {"auth": dict(OPEN_AUTH if auth is None else auth)}
    p = dict(pop3 or {})
    if after_download:
        p["after_download"] = after_download
    if p:
        sections["pop3"] = p
    return Daemon(sections=sections, users=USERS if users is None else users, **kw)


def chown_to_daemon(d, path):
    pw = pwd.getpwnam(d.user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def maildrop(d, user="alice"):
    """The user's Maildir root (created, owned by the daemon's user)."""
    root = os.path.join(d.mail, user)
    for sub in ("", "cur", "new", "tmp"):
        path = os.path.join(root, sub)
        os.makedirs(path, exist_ok=True)
        chown_to_daemon(d, path)
    return root


_seq = [0]


def put_message(d, data, user="alice", flags=None, when=None):
    """Writes a message file as an MTA would: into new/, or into cur/ with
    ':2,<flags>' when flags is given. Returns its path."""
    root = maildrop(d, user)
    _seq[0] += 1
    when = when or time.time()
    base = "%d.M%dP%d.testhost" % (int(when), _seq[0], os.getpid())
    if flags is None:
        path = os.path.join(root, "new", base)
    else:
        path = os.path.join(root, "cur", base + ":2," + flags)
    tmp = os.path.join(root, "tmp", base)
    with open(tmp, "wb") as f:
        f.write(data)
    chown_to_daemon(d, tmp)
    os.rename(tmp, path)
    return path


def crlf(data):
    """data with every bare LF as CRLF (what POP3 sends)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def message_files(d, user="alice"):
    root = os.path.join(d.mail, user)
    out = []
    for sub in ("new", "cur"):
        path = os.path.join(root, sub)
        if os.path.isdir(path):
            out += [os.path.join(sub, n) for n in sorted(os.listdir(path))]
    return out


def login(d, user="alice", password=None, kind="pop3"):
    password = password or {"alice": "secret", "bob": "hunter2"}[user]
    if kind == "pop3s":
        p = poplib.POP3_SSL("127.0.0.1", d.ports["pop3s"], context=tls_context(), timeout=10)
    else:
        p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=10)
    p.user(user)
    p.pass_(password)
    return p


def raw_login(d, user="alice", password="secret"):
    c = d.pop3()
    c.expect(r"^\+OK ")
    c.cmd("USER " + user)
    c.expect(r"^\+OK")
    c.cmd("PASS " + password)
    c.expect(r"^\+OK Logged in")
    return c


def read_multiline_raw(c):
    """The raw bytes of a multi-line body up to and including '.\\r\\n'."""
    data = c.buf
    chunks = [data]
    total = len(data)
    tail = data
    while True:
        head = chunks[0] if len(chunks[0]) >= 3 else b"".join(chunks)
        if head[:3] == b".\r\n":
            end = 3
            break
        idx = tail.find(b"\r\n.\r\n")
        if idx >= 0:
            end = total - len(tail) + idx + 5
            break
        chunk = c.sock.recv(1 << 20)
        if not chunk:
            raise AssertionError("EOF inside multi-line response")
        chunks.append(chunk)
        total += len(chunk)
        tail = tail[-4:] + chunk
        if len(chunks) > 64:
            chunks = [b"".join(chunks)]
    data = b"".join(chunks)
    c.buf = data[end:]
    return data[:end]


def worker_pid(d):
    pids = re.findall(r"merpatid\[(\d+)\]: level=info event=worker_started", d.read_log())
    return int(pids[-1])


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Pop3Session(unittest.TestCase):
    """Commands and responses in one daemon with after_download = keep, so
    the tests can share a maildrop."""

    @classmethod
    def setUpClass(cls):
        cls.d = pop3_daemon("keep")
        cls.paths = [put_message(cls.d, m) for m in (MSG_PLAIN, MSG_DOTS, MSG_CRLF)]

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_greeting_and_capa(self):
        c = self.d.pop3()
        self.assertEqual(c.readline(), "+OK Merpati POP3 ready.")
        c.cmd("CAPA")
        self.assertEqual(c.readline(), "+OK Capability list follows")
        caps = c.read_multiline()
        self.assertEqual(caps, ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                                "EXPIRE NEVER", "USER", "SASL PLAIN LOGIN SCRAM-SHA-256", "STLS",
                                "IMPLEMENTATION Merpati"])
        c.cmd("USER alice")
        c.expect(r"^\+OK")
        c.cmd("PASS secret")
        c.expect(r"^\+OK Logged in")
        c.cmd("CAPA")
        c.expect(r"^\+OK")
        caps = c.read_multiline()
        self.assertEqual(caps, ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                                "EXPIRE NEVER", "IMPLEMENTATION Merpati"])
        c.cmd("QUIT")
        self.assertEqual(c.readline(), "+OK Logging out.")
        self.assertTrue(c.at_eof())

    def test_stat_list_uidl_retr(self):
        p = login(self.d)
        sizes = [len(crlf(m)) for m in (MSG_PLAIN, MSG_DOTS, MSG_CRLF)]
        self.assertEqual(p.stat(), (3, sum(sizes)))
        resp, lines, _ = p.list()
        self.assertEqual(resp, b"+OK 3 messages (%d octets)" % sum(sizes))
        self.assertEqual(lines, [b"%d %d" % (i + 1, s) for i, s in enumerate(sizes)])
        self.assertEqual(p.list(2), b"+OK 2 %d" % sizes[1])
        resp, uidls, _ = p.uidl()
        self.assertEqual(resp, b"+OK")
        self.assertEqual(len(uidls), 3)
        for i, line in enumerate(uidls):
            self.assertRegex(line.decode(), r"^%d [0-9a-f]{16}$" % (i + 1))
        self.assertEqual(len(set(u.split()[1] for u in uidls)), 3)
        self.assertEqual(p.uidl(3), b"+OK " + uidls[2])
        for i, m in enumerate((MSG_PLAIN, MSG_DOTS, MSG_CRLF)):
            resp, lines, octets = p.retr(i + 1)
            self.assertEqual(resp, b"+OK %d octets" % sizes[i])
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", crlf(m))
        p.quit()

    def test_uidl_is_uid_and_uidvalidity(self):
        """Dovecot's default pop3_uidl_format %08Xu%08Xv (lowercase hex, as Dovecot prints it)."""
        p = login(self.d)
        uidls = [l.split()[1].decode() for l in p.uidl()[1]]
        p.quit()
        with open(os.path.join(self.d.mail, "alice", "dovecot-uidlist")) as f:
            header = f.readline().split()
            recs = [l.split() for l in f if l.strip()]
        validity = int([h for h in header if h.startswith("V")][0][1:])
        uids = [int(r[0]) for r in recs]
        self.assertEqual(uidls, ["%08x%08x" % (u, validity) for u in sorted(uids)[:3]])

    def test_retr_bytes_exact_with_dot_stuffing(self):
        c = raw_login(self.d)
        c.cmd("RETR 2")
        self.assertEqual(c.readline(), "+OK %d octets" % len(crlf(MSG_DOTS)))
        body = read_multiline_raw(c)
        self.assertEqual(body, b"From: a@example.org\r\nSubject: dots\r\n\r\n..starts with a dot\r\n"
                               b"...two dots\r\n..\r\nmiddle . dot\r\n..\r\nlast line\r\n.\r\n")
        c.cmd("QUIT")
        c.expect(r"^\+OK")

    def test_top(self):
        p = login(self.d)
        resp, lines, _ = p.top(1, 0)
        self.assertEqual(resp, b"+OK")
        self.assertEqual(lines, [b"From: a@example.org", b"Subject: plain", b""])
        resp, lines, _ = p.top(1, 1)
        self.assertEqual(lines, [b"From: a@example.org", b"Subject: plain", b"", b"line one"])
        resp, lines, _ = p.top(1, 1000)
        self.assertEqual(lines, [b"From: a@example.org", b"Subject: plain", b"", b"line one", b"line two"])
        resp, lines, _ = p.top(2, 2)
        self.assertEqual(lines, [b"From: a@example.org", b"Subject: dots", b"", b".starts with a dot",
                                 b"..two dots"])
        for bad in ("TOP 1", "TOP 1 x", "TOP 1 -1", "TOP 9 0", "TOP x 1", "TOP 1 2 3"):
            with self.assertRaises(poplib.error_proto, msg=bad):
                p._shortcmd(bad)
        p.quit()

    def test_invalid_message_numbers(self):
        p = login(self.d)
        cases = {
            "RETR 0": b"-ERR There is no message 0",
            "RETR 4": b"-ERR There is no message 4",
            "LIST 99": b"-ERR There is no message 99",
            "UIDL 4294967295": b"-ERR There is no message 4294967295",
            "DELE 4294967296": b"-ERR Invalid message number: 4294967296",
            "RETR abc": b"-ERR Invalid message number: abc",
            "RETR -1": b"-ERR Invalid message number: -1",
            "RETR +1": b"-ERR Invalid message number: +1",
            "RETR": b"-ERR Missing message number",
            "DELE": b"-ERR Missing message number",
            "RETR 1 2": b"-ERR Too many arguments",
            "LIST 1 2": b"-ERR Too many arguments",
            "STAT 1": b"-ERR Too many arguments",
            "NOOP x": b"-ERR Too many arguments",
        }
        for cmd, want in cases.items():
            with self.assertRaises(poplib.error_proto, msg=cmd) as cm:
                p._shortcmd(cmd)
            self.assertEqual(cm.exception.args[0], want, cmd)
        self.assertEqual(p.noop(), b"+OK")
        p.quit()

    def test_dele_rset(self):
        p = login(self.d)
        total = p.stat()
        self.assertEqual(p.dele(2), b"+OK Marked to be deleted.")
        with self.assertRaises(poplib.error_proto) as cm:
            p.dele(2)
        self.assertEqual(cm.exception.args[0], b"-ERR Message 2 is already deleted")
        for cmd in ("RETR 2", "TOP 2 0", "LIST 2", "UIDL 2"):
            with self.assertRaises(poplib.error_proto):
                p._shortcmd(cmd)
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual([l.split()[0] for l in p.list()[1]], [b"1", b"3"])
        self.assertEqual([l.split()[0] for l in p.uidl()[1]], [b"1", b"3"])
        self.assertEqual(p.rset(), b"+OK maildrop has 3 messages (%d octets)" % total[1])
        self.assertEqual(p.stat(), total)
        self.assertEqual(p.retr(2)[0], b"+OK %d octets" % len(crlf(MSG_DOTS)))
        p.quit()

    def test_wrong_state(self):
        c = self.d.pop3()
        c.readline()
        for cmd in ("STAT", "LIST", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "RSET", "NOOP"):
            c.cmd(cmd)
            self.assertEqual(c.readline(), "-ERR Command not valid in this state: " + cmd.split()[0])
        for cmd in ("CAPA x", "QUIT now", "STLS x"):
            c.cmd(cmd)
            self.assertEqual(c.readline(), "-ERR Too many arguments")
        c.cmd("PASS secret")
        self.assertEqual(c.readline(), "-ERR No user name given, use USER first")
        c.cmd("FROB")
        self.assertEqual(c.readline(), "-ERR Unknown command: FROB")
        c.cmd("")
        self.assertEqual(c.readline(), "-ERR Empty command")
        c.cmd("APOP alice 0123456789abcdef0123456789abcdef")
        self.assertRegex(c.readline(), r"^-ERR \[AUTH\] APOP is not supported")
        c.cmd("USER alice")
        c.expect(r"^\+OK")
        c.cmd("PASS secret")
        c.expect(r"^\+OK Logged in")
        for cmd in ("USER alice", "PASS secret", "AUTH PLAIN", "APOP a b"):
            c.cmd(cmd)
            self.assertEqual(c.readline(), "-ERR Command not valid in this state: " + cmd.split()[0])
        c.cmd("STLS")
        self.assertEqual(c.readline(), "-ERR Command not valid in this state: STLS")
        c.cmd("stat")  # case-insensitive
        c.expect(r"^\+OK 3 ")
        c.cmd("QUIT")
        c.expect(r"^\+OK")

    def test_overlong_lines(self):
        c = self.d.pop3()
        c.readline()
        c.send("USER " + "u" * 5000 + "\r\n")
        self.assertEqual(c.readline(), "-ERR Command line too long")
        c.send("NOOP" + " " * 300000 + "\r\nCAPA\r\n")
        self.assertEqual(c.readline(), "-ERR Command line too long")
        c.expect(r"^\+OK Capability")
        c.read_multiline()
        c.cmd("USER alice")
        c.expect(r"^\+OK")
        c.cmd("PASS secret")
        c.expect(r"^\+OK Logged in")
        c.send("LIST " + "9" * 5000 + "\r\n")
        self.assertEqual(c.readline(), "-ERR Command line too long")
        c.cmd("STAT")
        c.expect(r"^\+OK 3 ")
        c.cmd("QUIT")
        c.expect(r"^\+OK")

    def test_pipelining(self):
        c = self.d.pop3()
        c.readline()
        c.send("CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 1\r\nUIDL 1\r\n"
               "TOP 3 0\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        c.expect(r"^\+OK Capability")
        c.read_multiline()
        c.expect(r"^\+OK$")
        c.expect(r"^\+OK Logged in")
        c.expect(r"^\+OK 3 ")
        c.expect(r"^\+OK 3 messages")
        self.assertEqual(len(c.read_multiline()), 3)
        c.expect(r"^\+OK \d+ octets")
        self.assertEqual(c.read_multiline()[-1], "line two")
        c.expect(r"^\+OK 1 [0-9a-f]{16}$")
        c.expect(r"^\+OK$")
        self.assertEqual(c.read_multiline()[-1], "")
        c.expect(r"^\+OK Marked")
        c.expect(r"^\+OK maildrop has 3")
        c.expect(r"^\+OK$")
        c.expect(r"^\+OK Logging out")
        self.assertTrue(c.at_eof())

    def test_stls_then_login(self):
        p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        self.assertIn("STLS", p.capa())
        p.stls(context=tls_context())
        caps = p.capa()
        self.assertNotIn("STLS", caps)
        self.assertIn("USER", caps)
        p.user("alice")
        p.pass_("secret")
        self.assertEqual(p.stat()[0], 3)
        p.quit()

    def test_pop3s(self):
        p = login(self.d, kind="pop3s")
        self.assertEqual(p.retr(1)[1][-1], b"line two")
        p.quit()

    def test_bad_password_and_failure_limit(self):
        c = self.d.pop3()
        c.readline()
        for i in range(3):
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS wrong")
            c.expect(r"^-ERR \[AUTH\] ")
        self.assertTrue(c.at_eof(10))
        c = self.d.pop3()
        c.readline()
        c.cmd("USER nobody")
        c.expect(r"^\+OK")
        c.cmd("PASS secret")
        c.expect(r"^-ERR \[AUTH\] ")
        c.cmd("USER alice")
        c.expect(r"^\+OK")
        c.cmd("PASS secret")
        c.expect(r"^\+OK Logged in")
        c.cmd("QUIT")
        c.expect(r"^\+OK")

    def test_auth_sasl(self):
        plain = base64.b64encode(b"\0alice\0secret").decode()
        # SASL-IR
        c = self.d.pop3()
        c.readline()
        c.cmd("AUTH PLAIN " + plain)
        c.expect(r"^\+OK Logged in")
        c.cmd("QUIT")
        c.expect(r"^\+OK")
        # continuation with an empty challenge
        c = self.d.pop3()
        c.readline()
        c.cmd("AUTH plain")
        self.assertEqual(c.readline(), "+ ")
        c.cmd(plain)
        c.expect(r"^\+OK Logged in")
        c.cmd("QUIT")
        c.expect(r"^\+OK")
        # LOGIN, two challenges
        c = self.d.pop3()
        c.readline()
        c.cmd("AUTH LOGIN")
        self.assertEqual(base64.b64decode(c.readline()[2:]), b"Username:")
        c.cmd(base64.b64encode(b"alice").decode())
        self.assertEqual(base64.b64decode(c.readline()[2:]), b"Password:")
        c.cmd(base64.b64encode(b"secret").decode())
        c.expect(r"^\+OK Logged in")
        c.cmd("QUIT")
        c.expect(r"^\+OK")
        # wrong password, cancel, unknown mechanism, bad base64, listing
        c = self.d.pop3()
        c.readline()
        c.cmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0nope").decode())
        c.expect(r"^-ERR \[AUTH\] ")
        c.cmd("AUTH PLAIN")
        c.expect(r"^\+ ")
        c.cmd("*")
        self.assertEqual(c.readline(), "-ERR Authentication cancelled")
        c.cmd("AUTH X-UNKNOWN")
        self.assertEqual(c.readline(), "-ERR Unsupported authentication mechanism")
        c.cmd("AUTH")
        c.expect(r"^\+OK")
        self.assertEqual(c.read_multiline(), ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
        c.cmd("AUTH PLAIN %%%")
        c.expect(r"^-ERR ")
        c.cmd("NOOP")
        c.expect(r"^-ERR Command not valid")

    def test_sasl_through_poplib(self):
        p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        resp = p._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0secret").decode())
        self.assertEqual(resp, b"+OK Logged in.")
        self.assertEqual(p.stat()[0], 3)
        p.quit()


class Pop3PlaintextPolicy(unittest.TestCase):
    """auth.plaintext = tls: no USER and no PLAIN/LOGIN before STLS."""

    def test_plaintext_refused_without_tls(self):
        with pop3_daemon(auth={"allow_plain_scheme": "yes", "plaintext": "tls", "penalty_max": "0"}) as d:
            maildrop(d)
            c = d.pop3()
            c.readline()
            c.cmd("CAPA")
            c.expect(r"^\+OK")
            caps = c.read_multiline()
            self.assertNotIn("USER", caps)
            self.assertIn("SASL SCRAM-SHA-256", caps)
            self.assertIn("EXPIRE 0", caps)
            c.cmd("USER alice")
            self.assertEqual(c.readline(), "-ERR [AUTH] Plaintext authentication disallowed on "
                                           "non-secure connections, use TLS (STARTTLS/STLS) first")
            c.cmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0secret").decode())
            c.expect(r"^-ERR \[AUTH\] Plaintext authentication disallowed")
            c.cmd("STLS")
            c.expect(r"^\+OK")
            c.starttls()
            c.cmd("CAPA")
            c.expect(r"^\+OK")
            caps = c.read_multiline()
            self.assertIn("USER", caps)
            self.assertIn("SASL PLAIN LOGIN SCRAM-SHA-256", caps)
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            c.expect(r"^\+OK Logged in")
            c.cmd("QUIT")
            c.expect(r"^\+OK")


class Pop3AuthTempfail(unittest.TestCase):
    def test_auth_outage_is_sys_temp(self):
        """A backend outage is [SYS/TEMP], never a wrong password (RFC 3206)."""
        d = pop3_daemon(start=False)
        try:
            script = os.path.join(d.dir, "checkpw-down")
            with open(script, "w") as f:
                f.write("#!/bin/sh\nexit 111\n")  # qmail: temporary failure
            os.chmod(script, 0o755)
            d.config["auth"]["backend"] = "checkpassword " + script
            d.write_config()
            d.start()
            c = d.pop3()
            c.readline()
            for i in range(4):  # not counted as failed logins
                c.cmd("USER alice")
                c.expect(r"^\+OK")
                c.cmd("PASS secret")
                c.expect(r"^-ERR \[SYS/TEMP\] ")
            c.cmd("CAPA")
            c.expect(r"^\+OK")
            d.stop()
        finally:
            d.cleanup()


class Pop3EmptyMaildrop(unittest.TestCase):
    def test_empty(self):
        with pop3_daemon() as d:
            # no maildrop directory at all: created at login
            c = raw_login(d)
            c.cmd("STAT")
            self.assertEqual(c.readline(), "+OK 0 0")
            c.cmd("LIST")
            self.assertEqual(c.readline(), "+OK 0 messages (0 octets)")
            self.assertEqual(c.read_multiline(), [])
            c.cmd("UIDL")
            self.assertEqual(c.readline(), "+OK")
            self.assertEqual(c.read_multiline(), [])
            c.cmd("LIST 1")
            self.assertEqual(c.readline(), "-ERR There is no message 1")
            c.cmd("RETR 1")
            self.assertEqual(c.readline(), "-ERR There is no message 1")
            c.cmd("QUIT")
            self.assertEqual(c.readline(), "+OK Logging out.")
            self.assertTrue(os.path.isdir(os.path.join(d.mail, "alice", "cur")))


class Pop3AfterDownload(unittest.TestCase):
    """pop3.after_download: what QUIT does to retrieved and DELE'd mail."""

    def run_mode(self, mode):
        with pop3_daemon(mode) as d:
            paths = [put_message(d, b"Subject: %d\n\nbody %d\n" % (i, i)) for i in range(4)]
            p = login(d)
            p.retr(1)          # retrieved
            p.retr(2)
            p.dele(2)          # retrieved and deleted
            p.dele(3)          # deleted only
            p.top(4, 0)        # TOP is not a retrieval
            self.assertEqual(p.quit(), b"+OK Logging out.")
            files = message_files(d)
            # the UIDs left dovecot-uidlist at QUIT, not at the next sync
            with open(os.path.join(d.mail, "alice", "dovecot-uidlist")) as f:
                self.uids = [int(l.split(" ", 1)[0])
                             for l in f.read().split("\n")[1:] if l]
            p = login(d)
            left = [l for l in p.retr(1)[1] if l.startswith(b"Subject")]
            n = p.stat()[0]
            p.quit()
            return files, n, left

    def test_delete(self):
        files, n, left = self.run_mode("delete")
        self.assertEqual(n, 1)
        self.assertEqual(left, [b"Subject: 3"])
        self.assertEqual(len(files), 1)
        self.assertEqual(self.uids, [4])

    def test_default_is_delete(self):
        files, n, left = self.run_mode(None)
        self.assertEqual(n, 1)

    def test_seen(self):
        files, n, left = self.run_mode("seen")
        self.assertEqual(n, 2)
        self.assertEqual(self.uids, [1, 4])
        self.assertEqual(left, [b"Subject: 0"])
        self.assertEqual(len(files), 2)
        flags = sorted(f.split(":2,", 1)[1] for f in files)
        self.assertEqual(flags, ["", "S"])

    def test_keep(self):
        files, n, left = self.run_mode("keep")
        self.assertEqual(n, 2)
        self.assertEqual(self.uids, [1, 4])
        self.assertEqual(left, [b"Subject: 0"])
        flags = sorted(f.split(":2,", 1)[1] for f in files)
        self.assertEqual(flags, ["", ""])

    def test_rset_forgets_retrievals(self):
        with pop3_daemon("delete") as d:
            put_message(d, MSG_PLAIN)
            p = login(d)
            p.retr(1)
            p.dele(1)
            p.rset()
            p.quit()
            self.assertEqual(len(message_files(d)), 1)

    def test_dropped_connection_deletes_nothing(self):
        with pop3_daemon("delete") as d:
            for i in range(3):
                put_message(d, b"Subject: %d\n\nx\n" % i)
            c = raw_login(d)
            c.send("RETR 1\r\nDELE 1\r\nDELE 2\r\nRETR 3\r\n")
            c.expect(r"^\+OK")
            c.read_multiline()
            c.expect(r"^\+OK Marked")
            c.expect(r"^\+OK Marked")
            c.expect(r"^\+OK")
            c.read_multiline()
            c.close()  # no QUIT
            d.wait_log(r"user=alice event=disconnect")
            p = login(d)  # the lock is gone with the session
            self.assertEqual(p.stat()[0], 3)
            p.quit()
            # a server shutdown is no QUIT either
            c = raw_login(d)
            c.cmd("DELE 1")
            c.expect(r"^\+OK")
            d.stop()
            self.assertRegex(c.readline(), r"^-ERR \[SYS/TEMP\] ")
            d.start()
            p = login(d)
            self.assertEqual(p.stat()[0], 3)
            p.quit()

    def test_update_failure_is_sys_temp(self):
        with pop3_daemon("delete") as d:
            for i in range(2):
                put_message(d, b"Subject: %d\n\nx\n" % i)
            p = login(d)
            p.dele(1)
            p.retr(2)
            # the folder lock (dovecot-uidlist.lock) cannot be created
            cur = os.path.join(d.mail, "alice")
            os.chmod(cur, 0o500)
            try:
                with self.assertRaises(poplib.error_proto) as cm:
                    p.quit()
                self.assertRegex(cm.exception.args[0].decode(), r"^-ERR \[SYS/TEMP\] ")
            finally:
                os.chmod(cur, 0o700)
            p = login(d)  # the rest is left for the next session
            self.assertEqual(p.stat()[0], 2)
            p.dele(1)
            p.dele(2)
            p.quit()
            self.assertEqual(message_files(d), [])


class Pop3Lock(unittest.TestCase):
    def test_in_use(self):
        with pop3_daemon("delete") as d:
            put_message(d, MSG_PLAIN)
            put_message(d, MSG_DOTS)
            first = login(d)
            first.dele(1)
            c = d.pop3()
            c.readline()
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            self.assertEqual(c.readline(), "-ERR [IN-USE] Mailbox is locked by another POP3 session")
            # still in AUTHORIZATION: another user may log in on it
            c.cmd("STAT")
            c.expect(r"^-ERR Command not valid")
            self.assertEqual(first.stat()[0], 1)
            self.assertEqual(first.retr(2)[1][-1], b"last line")
            # other users are not affected
            bob = login(d, "bob")
            bob.quit()
            first.quit()
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            c.expect(r"^\+OK Logged in")
            c.cmd("STAT")
            self.assertEqual(c.readline(), "+OK 0 0")

    def test_in_use_across_workers(self):
        with pop3_daemon("keep", workers=2) as d:
            d.wait_log(r"event=worker_started", count=2)
            put_message(d, MSG_PLAIN)
            first = login(d)
            for i in range(6):
                c = d.pop3()
                c.readline()
                c.cmd("USER alice")
                c.expect(r"^\+OK")
                c.cmd("PASS secret")
                c.expect(r"^-ERR \[IN-USE\] ")
                c.close()
            self.assertEqual(first.stat()[0], 1)
            first.quit()
            login(d).quit()

    def test_login_delay(self):
        with pop3_daemon(pop3={"login_delay": "3600"}) as d:
            c = d.pop3()
            c.readline()
            c.cmd("CAPA")
            c.expect(r"^\+OK")
            self.assertIn("LOGIN-DELAY 3600", c.read_multiline())
            p = login(d)
            p.quit()
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            self.assertEqual(c.readline(), "-ERR [LOGIN-DELAY] Minimum time between logins is 3600 seconds")
            # another user is not delayed
            login(d, "bob").quit()


class Pop3View(unittest.TestCase):
    def test_list_fixed_at_login_and_uidl_stable(self):
        with pop3_daemon("keep") as d:
            a = put_message(d, MSG_PLAIN)
            put_message(d, MSG_DOTS)
            p = login(d)
            uidls = p.uidl()[1]
            before = p.stat()
            put_message(d, MSG_CRLF)  # arrives during the session
            self.assertEqual(p.stat(), before)
            self.assertEqual(p.uidl()[1], uidls)
            with self.assertRaises(poplib.error_proto):
                p.retr(3)
            p.quit()
            p = login(d)
            all3 = p.uidl()[1]
            self.assertEqual(all3[:2], uidls)
            self.assertEqual(len(set(all3)), 3)
            p.quit()
            # flags changed behind our back (an IMAP client, a rename)
            for name in os.listdir(os.path.join(d.mail, "alice", "cur")):
                base = name.split(":2,")[0]
                os.rename(os.path.join(d.mail, "alice", "cur", name),
                          os.path.join(d.mail, "alice", "cur", base + ":2,FS"))
            p = login(d)
            self.assertEqual(p.uidl()[1], all3)
            p.quit()
            # a restart
            d.stop()
            d.start()
            p = login(d)
            self.assertEqual(p.uidl()[1], all3)
            p.dele(1)
            p.quit()
            p = login(d)
            self.assertEqual([l.split()[1] for l in p.uidl()[1]], [l.split()[1] for l in all3[1:]])
            p.quit()

    def test_merpati_deliver_then_retr(self):
        """Mail stored by `merpati deliver` (sizes in the name: ,S= ,W=)."""
        import harness
        with pop3_daemon("keep") as d:
            for m in (MSG_DOTS, MSG_CRLF):
                p = subprocess.run([harness.MERPATI, "deliver", "-c", d.conf_path, "alice"],
                                   input=m, capture_output=True, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr.decode())
            names = message_files(d)
            # file names do not sort in delivery order (the microseconds
            # are not zero-padded): compare the sizes as a set; LIST below
            # checks the order, which is by UID
            self.assertEqual(sorted(int(re.search(r",W=(\d+)", n).group(1)) for n in names),
                             sorted([len(crlf(MSG_DOTS)), len(crlf(MSG_CRLF))]))
            p = login(d)
            self.assertEqual(p.list()[1], [b"1 %d" % len(crlf(MSG_DOTS)), b"2 %d" % len(crlf(MSG_CRLF))])
            self.assertEqual(b"\r\n".join(p.retr(1)[1]) + b"\r\n", crlf(MSG_DOTS))
            self.assertEqual(b"\r\n".join(p.retr(2)[1]) + b"\r\n", MSG_CRLF)
            p.quit()

    def test_message_removed_during_session(self):
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            p = login(d)
            for name in os.listdir(os.path.join(d.mail, "alice", "cur")):
                os.unlink(os.path.join(d.mail, "alice", "cur", name))
            with self.assertRaises(poplib.error_proto) as cm:
                p.retr(1)
            self.assertEqual(cm.exception.args[0], b"-ERR [SYS/PERM] Message 1 was removed by another session")
            p.quit()

    def test_broken_mail_root_is_sys_temp(self):
        with pop3_daemon() as d:
            with open(os.path.join(d.mail, "alice"), "w") as f:
                f.write("not a directory")
            c = d.pop3()
            c.readline()
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            c.expect(r"^-ERR \[SYS/TEMP\] ")


class Pop3Backpressure(unittest.TestCase):
    def test_large_retr_streams_with_backpressure(self):
        with pop3_daemon("keep") as d:
            line = b"0123456789" * 7 + b"\n"
            big = b"Subject: big\n\n" + line * (4 * 1024 * 1024 // len(line))
            put_message(d, big)
            c = raw_login(d)
            pid = worker_pid(d)
            rss0 = vm_rss_kb(pid)
            # 20 RETRs of 4 MB pipelined, nothing read: the server must stop
            c.send("RETR 1\r\n" * 20)
            time.sleep(1.5)
            rss1 = vm_rss_kb(pid)
            self.assertLess(rss1 - rss0, 32 * 1024, "worker grew by %d kB" % (rss1 - rss0))
            want = len(crlf(big))
            for i in range(20):
                self.assertEqual(c.readline(), "+OK %d octets" % want)
                body = read_multiline_raw(c)
                self.assertEqual(len(body), want + 3)
            c.cmd("QUIT")
            c.expect(r"^\+OK")


if __name__ == "__main__":
    main()
