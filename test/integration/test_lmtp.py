# SPDX-License-Identifier: GPL-2.0-or-later
"""LMTP delivery (RFC 2033) against Python's smtplib.LMTP and raw
transcripts: LHLO's extensions, one reply per recipient after the final
dot, 550 5.1.1 for an unknown user at RCPT time, dot-unstuffing and exact
bytes read back over IMAP and POP3, a 50 MB message, pipelining, a client
that leaves mid-DATA leaving nothing in tmp/, new/ or cur/, the UNIX
socket's mode, the loopback TCP listener, and 452 4.2.2 for a recipient
over its quota (the userdb's quota_rule; 552 5.2.2 with mail.quota_bounce)
or whose file system is full."""

import imaplib
import os
import poplib
import pwd
import smtplib
import socket
import stat
import subprocess
import time
import unittest

from harness import Daemon, LineClient, free_port, main

USERS = ["alice@example.org:{PLAIN}secret::::::",
         "bob@example.org:{PLAIN}hunter2::::::",
         # Maildir++ quota from the userdb: 4 KiB, 2 messages
         "carol@example.org:{PLAIN}x::::::userdb_quota_rule=*:storage=4:messages=2"]
AUTH = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}

# CRLF lines, lines that start with dots (stuffed by smtplib), 8-bit bytes
MSG = (b"From: sender@example.net\r\nTo: alice@example.org\r\n"
       b"Subject: lmtp test\r\n\r\n"
       b".starts with a dot\r\n..two dots\r\n.\r\nmiddle . dot\r\n"
       b"caf\xc3\xa9 8bit\r\nlast line\r\n")


def lmtp_daemon(test, lmtp=None, mail=None):
    d = Daemon(sections={"auth": dict(AUTH), "mail": dict(mail or {})}, users=USERS,
               start=False)
    sock = os.path.join(d.dir, "lmtp.sock")
    d.lmtp_port = free_port()
    d.lmtp_sock = sock
    conf = {"listen": "%s 127.0.0.1:%d" % (sock, d.lmtp_port),
            "socket_mode": "0660"}
    conf.update(lmtp or {})
    d.config["lmtp"] = conf
    d.write_config()
    d.start()
    test.addCleanup(d.cleanup)
    test.addCleanup(d.stop)
    return d


def maildir_files(d, user):
    root = os.path.join(d.mail, user)
    out = {}
    for sub in ("tmp", "new", "cur"):
        path = os.path.join(root, sub)
        out[sub] = sorted(os.listdir(path)) if os.path.isdir(path) else []
    return out


def imap_bodies(d, user, password):
    m = imaplib.IMAP4("127.0.0.1", d.ports["imap"], timeout=60)
    m.login(user, password)
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK"
    n = int(data[0])
    bodies = []
    for i in range(1, n + 1):
        typ, data = m.fetch(str(i), "(BODY.PEEK[])")
        assert typ == "OK", data
        bodies.append(data[0][1])
    m.logout()
    return bodies


def children_kb(d, field):
    """{pid: the field (VmRSS, VmHWM) in kB} of merpatid's child processes."""
    out = {}
    with open("/proc/%d/task/%d/children" % (d.proc.pid, d.proc.pid)) as f:
        pids = [int(p) for p in f.read().split()]
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    out[pid] = int(line.split()[1])
    return out


def send(lm, rcpts, msg, sender="sender@example.net"):
    """MAIL, RCPTs, DATA; returns (rcpt replies, data replies) with one
    DATA reply per accepted recipient (RFC 2033 4.2)."""
    code, _ = lm.mail(sender)
    assert code == 250
    rcpt_replies = [lm.rcpt(r) for r in rcpts]
    accepted = sum(1 for c, _ in rcpt_replies if c == 250)
    replies = [lm.data(msg)]
    for _ in range(accepted - 1):
        replies.append(lm.getreply())
    return rcpt_replies, replies


class LmtpTest(unittest.TestCase):
    def test_lhlo_extensions_and_states(self):
        d = lmtp_daemon(self)
        lm = smtplib.LMTP(d.lmtp_sock)
        code, _ = lm.ehlo("mta.example.org")  # smtplib's LMTP sends LHLO
        self.assertEqual(code, 250)
        for ext in ("pipelining", "enhancedstatuscodes", "8bitmime", "size"):
            self.assertTrue(lm.has_extn(ext), ext)
        self.assertEqual(lm.esmtp_features["size"], str(100 * 1024 * 1024))
        self.assertEqual(lm.rcpt("alice@example.org")[0], 503)
        self.assertEqual(lm.docmd("DATA")[0], 503)
        self.assertEqual(lm.noop()[0], 250)
        self.assertEqual(lm.docmd("HELO", "x")[0], 500)
        self.assertEqual(lm.docmd("MAIL FROM:<a@b> SIZE=999999999999")[0], 552)
        self.assertEqual(lm.docmd("MAIL FROM:<a@b> FOO=1")[0], 555)
        self.assertEqual(lm.docmd("MAIL FROM:a@b")[0], 501)
        lm.quit()

    def test_recipients_unknown_and_exact_bytes(self):
        d = lmtp_daemon(self)
        lm = smtplib.LMTP(d.lmtp_sock)
        lm.ehlo("mta.example.org")
        rcpt, replies = send(lm, ["alice@example.org", "nobody@example.org",
                                  "bob@example.org"], MSG)
        self.assertEqual([c for c, _ in rcpt], [250, 550, 250])
        self.assertIn(b"5.1.1", rcpt[1][1])
        self.assertEqual([c for c, _ in replies], [250, 250])
        self.assertIn(b"<alice@example.org>", replies[0][1])
        self.assertIn(b"<bob@example.org>", replies[1][1])
        # RSET and a second transaction on the same connection
        self.assertEqual(lm.rset()[0], 250)
        rcpt, replies = send(lm, ["alice@example.org"], MSG.replace(b"lmtp test", b"second"))
        self.assertEqual([c for c, _ in replies], [250])
        lm.quit()

        self.assertEqual(maildir_files(d, "nobody@example.org"),
                         {"tmp": [], "new": [], "cur": []})
        self.assertEqual(maildir_files(d, "alice@example.org")["tmp"], [])
        self.assertEqual(imap_bodies(d, "alice@example.org", "secret"),
                         [MSG, MSG.replace(b"lmtp test", b"second")])
        self.assertEqual(imap_bodies(d, "bob@example.org", "hunter2"), [MSG])
        p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=10)
        p.user("bob@example.org")
        p.pass_("hunter2")
        _, lines, _ = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", MSG)
        p.quit()
        log = d.read_log()
        self.assertRegex(log, r"event=lmtp_unknown_user rcpt=nobody@example.org")
        self.assertRegex(log, r"event=lmtp_delivered rcpt=bob@example.org user=bob@example.org uid=1")

    def test_pipelining_over_tcp(self):
        d = lmtp_daemon(self)
        c = LineClient(socket.create_connection(("127.0.0.1", d.lmtp_port), timeout=10))
        c.expect(r"^220 .* LMTP")
        c.send(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.org>\r\n"
               b"RCPT TO:<ghost@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
        for _ in range(4):
            c.expect(r"^250-")
        c.expect(r"^250 SIZE ")
        c.expect(r"^250 2\.1\.0")
        c.expect(r"^250 2\.1\.5")
        c.expect(r"^550 5\.1\.1")
        c.expect(r"^250 2\.1\.5")
        c.expect(r"^354 ")
        c.send(b"Subject: p\r\n\r\n..x\r\n.\r\nNOOP\r\nQUIT\r\n")
        c.expect(r"^250 2\.0\.0 <bob@example\.org>")
        c.expect(r"^250 2\.0\.0 <alice@example\.org>")
        c.expect(r"^250 2\.0\.0 OK")
        c.expect(r"^221 ")
        self.assertTrue(c.at_eof())
        self.assertEqual(imap_bodies(d, "bob@example.org", "hunter2"),
                         [b"Subject: p\r\n\r\n.x\r\n"])

    def test_tcp_only_on_loopback(self):
        d = Daemon(sections={"auth": dict(AUTH)}, users=USERS, start=False)
        self.addCleanup(d.cleanup)
        d.config["lmtp"] = {"listen": "0.0.0.0:%d" % free_port()}
        d.write_config()
        with self.assertRaises(AssertionError) as e:
            d.start()
        self.assertIn("LMTP over TCP only on a loopback address", str(e.exception))

    def test_socket_mode(self):
        d = lmtp_daemon(self, {"socket_mode": "0600"})
        st = os.stat(d.lmtp_sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_disconnect_mid_data_leaves_nothing(self):
        d = lmtp_daemon(self)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.lmtp_sock)
        c = LineClient(s)
        c.expect(r"^220 ")
        c.send(b"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.org>\r\n"
               b"RCPT TO:<bob@example.org>\r\nDATA\r\n")
        for _ in range(4):
            c.expect(r"^250-")
        c.expect(r"^250 SIZE")
        for _ in range(3):
            c.expect(r"^250 ")
        c.expect(r"^354 ")
        line = b"x" * 998 + b"\r\n"
        c.send(b"Subject: cut\r\n\r\n" + line * 1000)
        # both tmp/ files exist while the data arrives
        deadline = time.monotonic() + 10
        while any(maildir_files(d, u)["tmp"] == [] for u in ("alice@example.org", "bob@example.org")):
            self.assertLess(time.monotonic(), deadline, "no tmp/ file appeared")
            time.sleep(0.02)
        s.close()
        deadline = time.monotonic() + 10
        while True:
            files = [maildir_files(d, u) for u in ("alice@example.org", "bob@example.org")]
            if all(f == {"tmp": [], "new": [], "cur": []} for f in files):
                break
            self.assertLess(time.monotonic(), deadline, files)
            time.sleep(0.02)

    def test_50mb_message(self):
        d = lmtp_daemon(self)
        # 50 MB of CRLF lines, every 7th one starting with a dot
        lines = []
        for i in range(50 * 1024 * 1024 // 80):
            lines.append((b"." if i % 7 == 0 else b"") + b"%077d\r\n" % i)
        msg = b"Subject: big\r\n\r\n" + b"".join(lines)
        lm = smtplib.LMTP(d.lmtp_sock, timeout=120)
        lm.ehlo("x")
        rss = children_kb(d, "VmRSS")
        t0 = time.monotonic()
        _, replies = send(lm, ["alice@example.org"], msg)
        took = time.monotonic() - t0
        self.assertEqual(replies[0][0], 250)
        # streamed, never held whole: no process grew by half the message
        for pid, hwm in children_kb(d, "VmHWM").items():
            self.assertLess(hwm - rss.get(pid, 0), 25 * 1024, "pid %d" % pid)
        lm.quit()
        print("50 MB message delivered in %.2f s (%.0f MB/s)" % (took, len(msg) / took / 1e6))
        bodies = imap_bodies(d, "alice@example.org", "secret")
        self.assertEqual(len(bodies), 1)
        self.assertEqual(len(bodies[0]), len(msg))
        self.assertTrue(bodies[0] == msg)

    def test_full_mailbox_gets_452(self):
        """ENOSPC for one recipient (its mail root on a 256 KiB tmpfs, as
        an exhausted file-system quota looks): 452 4.2.2 for it, 250 for
        the other, and its tmp/ file is gone."""
        if os.geteuid() != 0:
            self.fail("mounting the small tmpfs needs root; run the suite as root")
        d = lmtp_daemon(self)
        root = os.path.join(d.mail, "bob@example.org")
        os.mkdir(root)
        pw = pwd.getpwnam(d.user)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700,uid=%d,gid=%d"
                        % (pw.pw_uid, pw.pw_gid), "tmpfs", root], check=True)
        self.addCleanup(subprocess.run, ["umount", root], check=True)
        msg = b"Subject: big\r\n\r\n" + (b"z" * 98 + b"\r\n") * 10000
        lm = smtplib.LMTP(d.lmtp_sock)
        lm.ehlo("x")
        _, replies = send(lm, ["alice@example.org", "bob@example.org"], msg)
        lm.quit()
        self.assertEqual(replies[0][0], 250)
        self.assertEqual(replies[1][0], 452)
        self.assertTrue(replies[1][1].startswith(b"4.2.2 "), replies[1])
        self.assertEqual(maildir_files(d, "bob@example.org"), {"tmp": [], "new": [], "cur": []})
        self.assertEqual(imap_bodies(d, "alice@example.org", "secret"), [msg])

    def test_over_quota_gets_452_per_recipient(self):
        d = lmtp_daemon(self)
        lm = smtplib.LMTP(d.lmtp_sock)
        lm.ehlo("x")
        small = b"Subject: s\r\n\r\nsmall\r\n"
        big = b"Subject: b\r\n\r\n" + b"q" * 6000 + b"\r\n"
        # over the 4 KiB: refused at the end of DATA for carol only
        _, replies = send(lm, ["carol@example.org", "alice@example.org"], big)
        self.assertEqual([c for c, _ in replies], [452, 250])
        self.assertTrue(replies[0][1].startswith(b"4.2.2 "), replies[0])
        self.assertIn(b"<carol@example.org>", replies[0][1])
        # two small ones fit, the third is over the message count
        for want in (250, 250, 452):
            _, replies = send(lm, ["carol@example.org"], small)
            self.assertEqual(replies[0][0], want)
        lm.quit()
        files = maildir_files(d, "carol@example.org")
        self.assertEqual((files["tmp"], len(files["new"]), files["cur"]), ([], 2, []))

    def test_over_quota_bounces_with_quota_bounce(self):
        d = lmtp_daemon(self, mail={"quota_bounce": "yes"})
        lm = smtplib.LMTP(d.lmtp_sock)
        lm.ehlo("x")
        _, replies = send(lm, ["carol@example.org"], b"Subject: b\r\n\r\n" + b"q" * 6000 + b"\r\n")
        self.assertEqual(replies[0][0], 552)
        self.assertTrue(replies[0][1].startswith(b"5.2.2 "), replies[0])
        lm.quit()

    def test_too_big_refused_after_data(self):
        d = lmtp_daemon(self, {"max_size": "100000"})
        lm = smtplib.LMTP(d.lmtp_sock)
        lm.ehlo("x")
        _, replies = send(lm, ["alice@example.org", "bob@example.org"],
                          b"Subject: big\r\n\r\n" + b"y" * 200000 + b"\r\n")
        self.assertEqual([c for c, _ in replies], [552, 552])
        lm.quit()
        for u in ("alice@example.org", "bob@example.org"):
            self.assertEqual(maildir_files(d, u), {"tmp": [], "new": [], "cur": []})


if __name__ == "__main__":
    main()
