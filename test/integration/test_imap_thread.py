# SPDX-License-Identifier: GPL-2.0-or-later
"""THREAD and UID THREAD (RFC 5256 4): REFERENCES (links from
References and In-Reply-To, dummies for missing parents, their pruning,
loops, duplicate IDs, merging by base subject) and ORDEREDSUBJECT, with
exact thread-lists, the RFC's empty answer, UIDs, and errors."""

import os
import pwd
import time
import unittest

from harness import main
from imap_util import imap_daemon, raw_login
from test_imap_search import make_folder, msg


def run(c, tag, line):
    c.cmd("%s %s" % (tag, line))
    return c.read_until_tagged(tag)


def m(n, subject, msgid=None, refs=None, irt=None):
    h = [("Subject", subject),
         ("Date", "Sun, 10 Mar 2024 %02d:%02d:00 +0000" % (n // 60, n % 60))]
    if msgid:
        h.append(("Message-ID", msgid))
    if refs:
        h.append(("References", refs))
    if irt:
        h.append(("In-Reply-To", irt))
    return (msg(h), "", None)


REFS = [
    m(1, "one", "<1@x>"),
    m(2, "two", "<2@x>"),
    m(3, "Re: two", "<3@x>", "<2@x>"),
    m(4, "Re: two", "<4@x>", "<2@x> <3@x>"),
    m(5, "Re: two", "<5@x>", "<2@x>\n <3@x>"),
    m(6, "Re: two", "<6@x>", "<3@x> <4@x>"),
    m(7, "Re: two", "<7@x>", None, "<5@x> (his)"),
    m(8, "Re: two", "<8@x>", "<5@x> <7@x>"),
    # two replies to a message never seen: a dummy holds them
    m(9, "nine", "<9@x>", "<gone@x>"),
    m(10, "ten", "<10@x>", "<gone@x>"),
    # one reply to a message never seen: no dummy at the top
    m(11, "eleven", "<11@x>", "<gone2@x>"),
    # base subjects: a reply goes under the original, two originals
    # under a new dummy
    m(12, "lunch", "<12@x>"),
    m(13, "Re: lunch", "<13@x>"),
    m(14, "dinner", "<14@x>"),
    m(15, "[list] dinner", "<15@x>"),
    # a loop: each references the other
    m(16, "loop a", "<16@x>", "<17@x>"),
    m(17, "loop b", "<17@x>", "<16@x>"),
    # a duplicate Message-ID: the second gets a unique one; no ID at all
    m(18, "dup first", "<18@x>"),
    m(19, "dup second", "<18@x>"),
    m(20, "no id", None, "<18@x>"),
]


class ImapThread(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()
        make_folder(cls.d, "Refs", REFS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def select(self, name):
        c = raw_login(self.d)
        lines = run(c, "s0", "SELECT " + name)
        self.assertTrue(lines[-1].startswith("s0 OK"), lines)
        return c

    def test_capability(self):
        c = raw_login(self.d)
        caps = run(c, "c1", "CAPABILITY")[0].split()
        self.assertIn("THREAD=REFERENCES", caps)
        self.assertIn("THREAD=ORDEREDSUBJECT", caps)

    def test_references(self):
        c = self.select("Refs")
        self.assertEqual(run(c, "A285", "THREAD REFERENCES UTF-8 ALL"), [
            "* THREAD (1)(2 3 (4 6)(5 7 8))((9)(10))(11)(12 13)((14)(15))"
            "(17 16)(18 20)(19)",
            "A285 OK THREAD completed"])
        # only some messages: 3 is missing, 4 and 5 hang from 2 by their
        # References; 12's reply 13 is left out
        self.assertEqual(run(c, "r2", "THREAD REFERENCES UTF-8 1:2,4:12"), [
            "* THREAD (1)(2 (4 6)(5 7 8))((9)(10))(11)(12)",
            "r2 OK THREAD completed"])

    def test_ordered_subject(self):
        make_folder(self.d, "Subj", [
            m(600, "Re: x"), m(540, "y"), m(660, "x"), m(480, "X (fwd)"),
            m(720, "z"), m(780, "[list] y")])
        c = self.select("Subj")
        self.assertEqual(run(c, "A283", "THREAD ORDEREDSUBJECT UTF-8 ALL"), [
            "* THREAD (4 (1)(3))(2 6)(5)", "A283 OK THREAD completed"])
        self.assertEqual(run(c, "A284", 'THREAD ORDEREDSUBJECT US-ASCII '
                             'TEXT "gewp"'), [
            "* THREAD", "A284 OK THREAD completed"])
        self.assertEqual(run(c, "o3", "THREAD orderedsubject utf-8 NOT 4"), [
            "* THREAD (2 6)(1 3)(5)", "o3 OK THREAD completed"])

    def test_uid_thread(self):
        make_folder(self.d, "Uids", REFS[:8])
        c = self.select("Uids")
        run(c, "e1", "STORE 1,3 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(run(c, "e2", "EXPUNGE"), [
            "* 3 EXPUNGE", "* 1 EXPUNGE", "e2 OK EXPUNGE completed"])
        # 3 (<3@x>) is gone: a dummy under 2 is pruned away
        self.assertEqual(run(c, "u1", "UID THREAD REFERENCES UTF-8 ALL"), [
            "* THREAD (2 (4 6)(5 7 8))", "u1 OK THREAD completed"])
        self.assertEqual(run(c, "u2", "THREAD REFERENCES UTF-8 ALL"), [
            "* THREAD (1 (2 4)(3 5 6))", "u2 OK THREAD completed"])

    def test_errors(self):
        c = self.select("Refs")
        bad = {
            "THREAD": "THREAD needs an algorithm, a charset and search keys",
            "THREAD REFERENCES UTF-8": "THREAD needs an algorithm, a "
                                      "charset and search keys",
            "THREAD FOO UTF-8 ALL": "Unknown thread algorithm",
            "THREAD (REFERENCES) UTF-8 ALL": "Unknown thread algorithm",
            "THREAD REFERENCES (x) ALL": "THREAD needs a charset",
            "THREAD REFERENCES UTF-8 FROB": "Unknown search key",
        }
        for i, (line, reason) in enumerate(bad.items()):
            self.assertEqual(run(c, "x%d" % i, line),
                             ["x%d BAD %s" % (i, reason)], line)
        self.assertEqual(run(c, "n1", "THREAD REFERENCES KOI8-R ALL"), [
            "n1 NO [BADCHARSET (UTF-8 US-ASCII)] Unknown charset"])

    def test_long_chain(self):
        """10,000 replies each to the one before, delivered newest first
        (so every link is checked for loops): one thread nested 10,000
        deep, written without recursion."""
        n = 10000
        msgs = [m(i % 1000, "Re: chain", "<c%d@x>" % i,
                  "<c%d@x>" % (i - 1) if i > 0 else None) for i in range(n)]
        path = make_folder(self.d, "Chain", [])
        uid, gid = pwd.getpwnam(self.d.user)[2:4]
        for i, (data, _, _) in enumerate(reversed(msgs)):
            p = os.path.join(path, "cur", "1700000000.M%06dP2.h:2," % i)
            with open(p, "wb") as f:
                f.write(data)
            os.chown(p, uid, gid)
        c = self.select("Chain")
        c.sock.settimeout(120)
        t0 = time.monotonic()
        lines = run(c, "t1", "THREAD REFERENCES UTF-8 ALL")
        print("THREAD of a %d-message chain: %.2f s" % (n, time.monotonic() - t0))
        self.assertEqual(lines[-1], "t1 OK THREAD completed")
        self.assertEqual(lines[0], "* THREAD (%s)" % " ".join(
            str(n - i) for i in range(n)))


if __name__ == "__main__":
    main()
