# SPDX-License-Identifier: GPL-2.0-or-later
"""The QUOTA extension (RFC 9208) over Maildir++ quota: the capability
after login, GETQUOTAROOT and GETQUOTA with exact responses (one root ""
for the whole user, STORAGE in KiB and MESSAGE, only limited resources),
a user without limits has no root, SETQUOTA refused, and over the limit
APPEND and COPY answer NO [OVERQUOTA] with nothing written: no file in
tmp/, new/ or cur/, no UID consumed, maildirsize unchanged."""

import imaplib
import os
import unittest

from harness import main
from imap_util import PASSWORDS, imap_daemon, maildrop, raw_login

OVER = "NO [OVERQUOTA] Quota exceeded (mailbox for user is full)"


def body(n):
    """A message of exactly n bytes (CRLF line ends)."""
    head = b"From: a@example.org\r\nSubject: quota\r\n\r\n"
    return head + b"x" * (n - len(head) - 2) + b"\r\n"


def files(root):
    return {sub: sorted(os.listdir(os.path.join(root, sub))) for sub in ("tmp", "new", "cur")}


def maildirsize(root):
    with open(os.path.join(root, "maildirsize")) as f:
        return f.read()


class Quota(unittest.TestCase):
    """alice: 10 KiB and 3 messages from the userdb; bob: no limit."""

    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon(users=[
            "alice:{PLAIN}secret::::::userdb_quota_rule=*:storage=10:messages=3",
            "bob:{PLAIN}hunter2::::::"])
        cls.root = maildrop(cls.d, "alice")
        maildrop(cls.d, "bob")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def login(self, user="alice"):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"], timeout=10)
        m.login(user, PASSWORDS[user])
        self.addCleanup(m.logout)
        return m

    def test_capability(self):
        c = self.d.imap()
        c.expect(r"^\* OK ")
        c.cmd("a1 CAPABILITY")
        self.assertNotIn("QUOTA", c.read_until_tagged("a1")[0])
        c.cmd("a2 LOGIN alice secret")
        c.read_until_tagged("a2")
        c.cmd("a3 CAPABILITY")
        caps = c.read_until_tagged("a3")[0].split()
        for cap in ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"):
            self.assertIn(cap, caps)
        self.assertNotIn("QUOTASET", caps)
        c.close()

    def test_a_transcript(self):
        """RFC 9208 4.2 and 4.3, in the order of the RFC's examples; runs
        first (alphabetically) while the folder is empty."""
        c = raw_login(self.d)
        c.cmd('q1 GETQUOTAROOT INBOX')
        self.assertEqual(c.read_until_tagged("q1"),
                         ['* QUOTAROOT INBOX ""', '* QUOTA "" (STORAGE 0 10 MESSAGE 0 3)',
                          "q1 OK GETQUOTAROOT completed"])
        c.send("q2 APPEND INBOX {3000+}\r\n" + body(3000).decode() + "\r\n")
        self.assertRegex(c.readline(), r"^q2 OK \[APPENDUID \d+ 1\] ")
        c.cmd('q3 GETQUOTA ""')
        self.assertEqual(c.read_until_tagged("q3"),
                         ['* QUOTA "" (STORAGE 2 10 MESSAGE 1 3)', "q3 OK GETQUOTA completed"])
        c.cmd("q4 CREATE Sub")
        c.read_until_tagged("q4")
        c.cmd("q5 GETQUOTAROOT Sub")
        self.assertEqual(c.read_until_tagged("q5"),
                         ['* QUOTAROOT Sub ""', '* QUOTA "" (STORAGE 2 10 MESSAGE 1 3)',
                          "q5 OK GETQUOTAROOT completed"])
        c.cmd("q6 GETQUOTAROOT Nonexistent")
        self.assertEqual(c.read_until_tagged("q6"),
                         ["q6 NO [NONEXISTENT] Mailbox does not exist"])
        c.cmd('q7 GETQUOTA "User quota"')
        self.assertEqual(c.read_until_tagged("q7"),
                         ["q7 NO [NONEXISTENT] No such quota root"])
        c.cmd('q8 SETQUOTA "" (STORAGE 512)')
        self.assertEqual(c.read_until_tagged("q8"),
                         ["q8 NO [NOPERM] Quota limits are set by the administrator"])
        c.cmd('q9 SETQUOTA "" STORAGE')
        self.assertEqual(c.read_until_tagged("q9"),
                         ["q9 BAD SETQUOTA needs a quota root and a list of resource limits"])
        c.cmd("q10 GETQUOTA")
        self.assertEqual(c.read_until_tagged("q10"), ["q10 BAD GETQUOTA needs a quota root"])
        c.cmd("q11 LOGOUT")
        c.read_until_tagged("q11")
        c.close()

    def test_imaplib(self):
        """Python's own client parses what we send."""
        m = self.login()
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b'INBOX ""'])
        self.assertRegex(data[1][0], rb'^"" \(STORAGE \d+ 10 MESSAGE \d+ 3\)$')
        typ, data = m.getquota('""')
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb'^"" \(STORAGE \d+ 10 MESSAGE \d+ 3\)$')
        self.assertEqual(m.setquota('""', "(STORAGE 512)"),
                         ("NO", [b"[NOPERM] Quota limits are set by the administrator"]))

    def test_no_limit_no_root(self):
        c = raw_login(self.d, "bob")
        c.cmd("q1 GETQUOTAROOT INBOX")
        self.assertEqual(c.read_until_tagged("q1"),
                         ["* QUOTAROOT INBOX", "q1 OK GETQUOTAROOT completed"])
        c.cmd('q2 GETQUOTA ""')
        self.assertEqual(c.read_until_tagged("q2"), ["q2 NO [NONEXISTENT] No such quota root"])
        c.close()

    def test_status_deleted_storage(self):
        """RFC 9208 4.4: STATUS DELETED-STORAGE, what EXPUNGE would free
        (the files' sizes, as the quota counts them) in KiB rounded down;
        bob has no limits: the item does not depend on them."""
        c = raw_login(self.d, "bob")
        c.cmd("s1 CREATE Del")
        c.read_until_tagged("s1")
        for n in (3000, 2048, 700):
            c.send("s2 APPEND Del (\\Deleted) {%d+}\r\n" % n + body(n).decode() + "\r\n")
            self.assertRegex(c.readline(), r"^s2 OK ")
        c.send("s3 APPEND Del {5000+}\r\n" + body(5000).decode() + "\r\n")
        self.assertRegex(c.readline(), r"^s3 OK ")
        c.cmd("s4 STATUS Del (MESSAGES DELETED DELETED-STORAGE)")
        self.assertEqual(c.read_until_tagged("s4"),
                         ["* STATUS Del (MESSAGES 4 DELETED 3 DELETED-STORAGE 5)",
                          "s4 OK STATUS completed"])
        c.cmd("s5 SELECT Del")
        c.read_until_tagged("s5")
        c.cmd("s6 EXPUNGE")
        c.read_until_tagged("s6")
        c.cmd("s7 STATUS Del (DELETED-STORAGE SIZE)")
        self.assertEqual(c.read_until_tagged("s7"),
                         ["* STATUS Del (DELETED-STORAGE 0 SIZE 5000)", "s7 OK STATUS completed"])
        c.close()

    def uidnext(self, m, folder):
        typ, data = m.status(folder, "(UIDNEXT)")
        self.assertEqual(typ, "OK")
        return int(data[0].split(b"UIDNEXT ")[1].rstrip(b")"))

    def test_over_quota_writes_nothing(self):
        """APPEND past the byte limit (refused once the size is known),
        past the message limit (refused before the literal), and COPY:
        NO [OVERQUOTA], and nothing changes on disk."""
        m = self.login()
        m.create("Dest")
        typ, data = m.getquota('""')
        used = int(data[0].rstrip(b")").split()[-2])  # MESSAGE used
        while used < 3:  # fill to the message limit, small messages
            self.assertEqual(m.append("INBOX", None, None, body(200))[0], "OK")
            used += 1
        m.select("INBOX")
        root, dest = self.root, os.path.join(self.root, ".Dest")
        before = (files(root), files(dest), maildirsize(root),
                  self.uidnext(m, "INBOX"), self.uidnext(m, "Dest"))
        c = raw_login(self.d)
        # the message limit: refused before the literal is read
        c.cmd("a1 APPEND INBOX {200}")
        self.assertEqual(c.readline(), "a1 " + OVER)
        # LITERAL+: the bytes are skipped, never run as commands
        c.send("a2 APPEND INBOX {200+}\r\n" + body(200).decode() + "\r\n")
        self.assertEqual(c.readline(), "a2 " + OVER)
        c.cmd("a3 SELECT INBOX")
        c.read_until_tagged("a3")
        c.cmd("a4 COPY 1 Dest")
        self.assertEqual(c.read_until_tagged("a4"), ["a4 " + OVER])
        c.cmd("a5 UID COPY 1:* Dest")
        self.assertEqual(c.read_until_tagged("a5"), ["a5 " + OVER])
        after = (files(root), files(dest), maildirsize(root),
                 self.uidnext(m, "INBOX"), self.uidnext(m, "Dest"))
        self.assertEqual(after, before)
        # MOVE within the user does not change the use: allowed
        c.cmd("a6 MOVE 1 Dest")
        self.assertEqual(c.read_until_tagged("a6")[-1], "a6 OK MOVE completed")
        c.cmd('a7 GETQUOTA ""')
        self.assertRegex(c.read_until_tagged("a7")[0], r'^\* QUOTA "" \(STORAGE \d+ 10 MESSAGE 3 3\)$')
        # the byte limit: room for one message of 10 KiB? no: refused at
        # the end, with the size known; the tmp/ file goes
        c.cmd("a8 EXPUNGE")  # nothing to expunge; then free one message
        c.read_until_tagged("a8")
        c.cmd("a9 STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.read_until_tagged("a9")
        c.cmd("a10 EXPUNGE")
        c.read_until_tagged("a10")
        before = (files(root), maildirsize(root), self.uidnext(m, "INBOX"))
        big = body(11 * 1024)
        c.send("a11 APPEND INBOX {%d+}\r\n" % len(big) + big.decode() + "\r\n")
        self.assertEqual(c.readline(), "a11 " + OVER)
        self.assertEqual((files(root), maildirsize(root), self.uidnext(m, "INBOX")), before)
        c.close()


if __name__ == "__main__":
    main()
