# SPDX-License-Identifier: GPL-2.0-or-later
"""\\Recent (RFC 3501 2.3.2, 6.3.1, 6.3.10, 6.4.4, 7.3.2): a message is
recent in exactly one session, the first read-write one whose view holds
it; EXAMINE sees what no one claimed and claims nothing; the RECENT
response comes with SELECT and with every EXISTS; STATUS RECENT counts
what no session has seen; SEARCH RECENT, NEW and OLD follow; the claim
outlives the session (a later SELECT sees nothing recent)."""

import re
import subprocess
import unittest

import harness
from harness import main
from imap_util import imap_daemon, maildrop, raw_login


def msg(n):
    return ("From: r@example.org\r\nSubject: recent %d\r\n\r\nbody %d\r\n" % (n, n)).encode()


class ImapRecent(unittest.TestCase):
    def setUp(self):
        self.d = imap_daemon()
        maildrop(self.d)
        self.n = 0

    def tearDown(self):
        self.d.stop()
        self.d.cleanup()

    def deliver(self, folder=None):
        self.n += 1
        args = [harness.MERPATI, "deliver", "-c", self.d.conf_path] + \
            (["-m", folder] if folder else []) + ["alice"]
        p = subprocess.run(args, input=msg(self.n), capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def cmd(self, c, tag, line):
        c.cmd("%s %s" % (tag, line))
        lines = c.read_until_tagged(tag)
        self.assertRegex(lines[-1], r"^%s OK " % tag)
        return lines[:-1]

    def select(self, c, tag, cmd="SELECT", folder="INBOX"):
        lines = self.cmd(c, tag, "%s %s" % (cmd, folder))
        exists = [int(x.split()[1]) for x in lines if x.endswith(" EXISTS")]
        recent = [int(x.split()[1]) for x in lines if x.endswith(" RECENT")]
        self.assertEqual(len(exists), 1, lines)
        self.assertEqual(len(recent), 1, lines)
        return exists[0], recent[0]

    def recent_flags(self, c, tag):
        """{seq: True/False}: \\Recent in FETCH 1:* FLAGS."""
        lines = self.cmd(c, tag, "FETCH 1:* (FLAGS)")
        out = {}
        for line in lines:
            m = re.match(r"^\* (\d+) FETCH \(FLAGS \(([^)]*)\)\)$", line)
            self.assertTrue(m, line)
            out[int(m.group(1))] = "\\Recent" in m.group(2).split()
        return out

    def search(self, c, tag, key):
        lines = self.cmd(c, tag, "SEARCH " + key)
        self.assertEqual(len(lines), 1, lines)
        return [int(x) for x in lines[0].split()[2:]]

    def test_one_session_sees_each_message_recent(self):
        for _ in range(3):
            self.deliver()
        a = raw_login(self.d)
        self.assertEqual(self.select(a, "a1"), (3, 3))
        self.assertEqual(self.recent_flags(a, "a2"), {1: True, 2: True, 3: True})
        self.cmd(a, "a3", "STORE 2 +FLAGS.SILENT (\\Seen)")
        self.assertEqual(self.search(a, "a4", "RECENT"), [1, 2, 3])
        self.assertEqual(self.search(a, "a5", "NEW"), [1, 3])
        self.assertEqual(self.search(a, "a6", "OLD"), [])
        self.assertEqual(self.search(a, "a7", "NOT NEW"), [2])
        # a second session: nothing is recent for it
        b = raw_login(self.d)
        self.assertEqual(self.select(b, "b1"), (3, 0))
        self.assertEqual(self.recent_flags(b, "b2"), {1: False, 2: False, 3: False})
        self.assertEqual(self.search(b, "b3", "RECENT"), [])
        self.assertEqual(self.search(b, "b4", "OLD"), [1, 2, 3])
        # a new message: STATUS counts it until a session has seen it
        self.deliver()
        s = raw_login(self.d)
        self.assertIn("* STATUS INBOX (MESSAGES 4 RECENT 1)",
                      self.cmd(s, "s1", "STATUS INBOX (MESSAGES RECENT)"))
        # b sees it first: RECENT with the EXISTS, \Recent in b only
        self.assertEqual(self.cmd(b, "b5", "NOOP"), ["* 4 EXISTS", "* 1 RECENT"])
        self.assertEqual(self.recent_flags(b, "b6"), {1: False, 2: False, 3: False, 4: True})
        self.assertEqual(self.cmd(a, "a8", "NOOP"), ["* 4 EXISTS", "* 3 RECENT"])
        self.assertEqual(self.recent_flags(a, "a9"), {1: True, 2: True, 3: True, 4: False})
        self.assertEqual(self.search(a, "a10", "RECENT"), [1, 2, 3])
        self.assertIn("* STATUS INBOX (MESSAGES 4 RECENT 0)",
                      self.cmd(s, "s2", "STATUS INBOX (MESSAGES RECENT)"))
        # STORE cannot set or clear it
        self.assertEqual(self.cmd(a, "a11", "STORE 1 -FLAGS (\\Seen)"),
                         ["* 1 FETCH (FLAGS (\\Recent))"])
        # an APPEND of a's own is recent for whoever sees it first: a
        c = raw_login(self.d)
        c.cmd("c1 APPEND INBOX {%d+}" % len(msg(99)))
        c.send(msg(99) + b"\r\n")
        self.assertRegex(c.read_until_tagged("c1")[-1], r"^c1 OK ")
        self.assertEqual(self.cmd(a, "a12", "NOOP"), ["* 5 EXISTS", "* 4 RECENT"])
        self.assertEqual(self.cmd(b, "b7", "NOOP"), ["* 5 EXISTS", "* 1 RECENT"])
        # expunged recent messages leave the count
        self.cmd(a, "a13", "STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(self.cmd(a, "a14", "EXPUNGE"), ["* 1 EXPUNGE"])
        self.assertEqual(self.search(a, "a15", "RECENT"), [1, 2, 4])
        # the claims outlive the sessions
        for x in (a, b, c, s):
            x.close()
        e = raw_login(self.d)
        self.assertEqual(self.select(e, "e1"), (4, 0))

    def test_examine_claims_nothing(self):
        a = raw_login(self.d)
        self.cmd(a, "a0", "CREATE Box")
        for _ in range(2):
            self.deliver("Box")
        r = raw_login(self.d)
        self.assertEqual(self.select(r, "r1", "EXAMINE", "Box"), (2, 2))
        self.assertEqual(self.recent_flags(r, "r2"), {1: True, 2: True})
        self.assertEqual(self.search(r, "r3", "NEW"), [1, 2])
        self.assertEqual(self.select(a, "a1", "SELECT", "Box"), (2, 2))
        self.assertEqual(self.select(r, "r4", "EXAMINE", "Box"), (2, 0))
        # a message a has not seen yet is recent for the read-only session
        # too, until a read-write session claims it
        self.deliver("Box")
        self.assertEqual(self.cmd(r, "r5", "NOOP"), ["* 3 EXISTS", "* 1 RECENT"])
        self.assertEqual(self.cmd(a, "a2", "NOOP"), ["* 3 EXISTS", "* 3 RECENT"])
        self.assertEqual(self.select(r, "r6", "EXAMINE", "Box"), (3, 0))


if __name__ == "__main__":
    main()
