# SPDX-License-Identifier: GPL-2.0-or-later
"""IMAP commands that change messages: STORE (RFC 3501 6.4.6) with every
form and keywords, COPY (6.4.7) with TRYCREATE, MOVE (RFC 6851), UIDPLUS
(RFC 4315: COPYUID, UID EXPUNGE), and IDLE (RFC 2177) pushing other
sessions' changes as they happen."""

import os
import re
import time
import unittest

from harness import main
from imap_util import claim_recent, imap_daemon, maildrop, put_message, raw_login

MSG = b"From: a@example.org\nSubject: hello\n\nbody\n"


def folder(d, name, flags_list, user="alice"):
    """Creates folder .name with one message per entry of flags_list,
    seen by an earlier session (no \\Recent)."""
    root = maildrop(d, user)
    path = os.path.join(root, "." + name)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    os.system("chown -R %s %s" % (d.user, path))
    for flags in flags_list:
        p = put_message(d, MSG, user=user, flags=flags)
        os.rename(p, os.path.join(path, "cur", os.path.basename(p)))
    claim_recent(d, name, user)
    return path


def files(path):
    return sorted(os.listdir(os.path.join(path, "cur")))


class ImapStore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_store_forms(self):
        path = folder(self.d, "St", ["", "S", ""])
        c = raw_login(self.d)
        c.cmd("s0 SELECT St")
        c.read_until_tagged("s0")
        c.cmd("s1 STORE 1 +FLAGS (\\Flagged $Important)")
        self.assertEqual(c.read_until_tagged("s1"),
                         ["* 1 FETCH (FLAGS (\\Flagged $Important))", "s1 OK STORE completed"])
        c.cmd("s2 STORE 1:2 FLAGS.SILENT (\\Seen)")
        self.assertEqual(c.read_until_tagged("s2"), ["s2 OK STORE completed"])
        c.cmd("s3 UID STORE 2:* -FLAGS (\\Seen)")
        self.assertEqual(c.read_until_tagged("s3"),
                         ["* 2 FETCH (FLAGS () UID 2)", "* 3 FETCH (FLAGS () UID 3)",
                          "s3 OK STORE completed"])
        names = files(path)
        self.assertTrue(names[0].endswith(":2,S"), names)
        self.assertTrue(all(n.endswith(":2,") for n in names[1:]), names)
        with open(os.path.join(path, "dovecot-keywords")) as f:
            self.assertIn("$Important", f.read())
        c.cmd("s4 STORE 4 +FLAGS (\\Seen)")
        self.assertRegex(c.readline(), r"^s4 BAD ")
        c.cmd("s5 STORE 1 +FLAGS (\\Recent)")
        self.assertRegex(c.readline(), r"^s5 BAD ")
        c.cmd("s6 STORE 1 FROB (\\Seen)")
        self.assertRegex(c.readline(), r"^s6 BAD ")
        c.cmd("s7 UID STORE 99 +FLAGS (\\Seen)")  # no such UID: nothing
        self.assertEqual(c.readline(), "s7 OK STORE completed")
        # the FLAGS list now names the keyword
        c.cmd("s8 SELECT St")
        self.assertIn("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)",
                      c.read_until_tagged("s8"))
        c.cmd("s9 EXAMINE St")
        c.read_until_tagged("s9")
        c.cmd("s10 STORE 1 +FLAGS (\\Seen)")
        self.assertRegex(c.readline(), r"^s10 NO \[READ-ONLY\]")

    def test_copy_move_uidplus(self):
        src = folder(self.d, "Src", ["S", "", "F"])
        dst = folder(self.d, "Dst", [""])
        c = raw_login(self.d)
        c.cmd("c0 SELECT Src")
        uidvalidity = None
        for line in c.read_until_tagged("c0"):
            m = re.match(r"^\* OK \[UIDVALIDITY (\d+)\]", line)
            if m:
                uidvalidity = m.group(1)
        c.cmd("c1 COPY 1:2 Dst")
        line = c.readline()
        m = re.match(r"^c1 OK \[COPYUID (\d+) 1:2 2:3\] COPY completed$", line)
        self.assertTrue(m, line)
        self.assertEqual(len(files(dst)), 3)
        self.assertEqual(sum(n.endswith(":2,S") for n in files(dst)), 1, files(dst))
        c.cmd("c2 COPY 1 Nowhere")
        self.assertRegex(c.readline(), r"^c2 NO \[TRYCREATE\] ")
        c.cmd("c3 UID MOVE 3 Dst")
        lines = c.read_until_tagged("c3")
        self.assertRegex(lines[0], r"^\* OK \[COPYUID \d+ 3 4\] ")
        self.assertEqual(lines[1:], ["* 3 EXPUNGE", "c3 OK MOVE completed"])
        self.assertEqual(len(files(src)), 2)
        self.assertEqual(sum(n.endswith(":2,F") for n in files(dst)), 1, files(dst))
        # UID EXPUNGE removes only the \Deleted ones among the UIDs
        c.cmd("c4 STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        c.expect("^c4 OK")
        c.cmd("c5 UID EXPUNGE 2")
        self.assertEqual(c.read_until_tagged("c5"), ["* 2 EXPUNGE", "c5 OK EXPUNGE completed"])
        c.cmd("c6 EXPUNGE")
        self.assertEqual(c.read_until_tagged("c6"), ["* 1 EXPUNGE", "c6 OK EXPUNGE completed"])
        self.assertIsNotNone(uidvalidity)

    def test_expunge_not_during_fetch_like_commands(self):
        folder(self.d, "Ord", ["", "", ""])
        a = raw_login(self.d)
        b = raw_login(self.d)
        a.cmd("a0 SELECT Ord")
        a.read_until_tagged("a0")
        b.cmd("b0 SELECT Ord")
        b.read_until_tagged("b0")
        b.cmd("b1 STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.expect("^b1 OK")
        b.cmd("b2 EXPUNGE")
        self.assertEqual(b.read_until_tagged("b2"), ["* 1 EXPUNGE", "b2 OK EXPUNGE completed"])
        # RFC 3501 7.4.1: no EXPUNGE at the end of STORE with sequence
        # numbers; it comes with the next NOOP
        a.cmd("a1 STORE 3 +FLAGS (\\Seen)")
        self.assertEqual(a.read_until_tagged("a1"),
                         ["* 3 FETCH (FLAGS (\\Seen))", "a1 OK STORE completed"])
        a.cmd("a2 NOOP")
        self.assertEqual(a.read_until_tagged("a2"), ["* 1 EXPUNGE", "a2 OK NOOP completed"])

    def test_idle_pushes_changes(self):
        path = folder(self.d, "Idl", ["", ""])
        a = raw_login(self.d)
        a.cmd("a0 SELECT Idl")
        a.read_until_tagged("a0")
        a.cmd("a1 IDLE")
        self.assertEqual(a.readline(), "+ idling")
        b = raw_login(self.d)
        b.cmd("b0 SELECT Idl")
        b.read_until_tagged("b0")
        b.cmd("b1 STORE 2 +FLAGS.SILENT (\\Answered)")
        b.expect("^b1 OK")
        self.assertEqual(a.readline(), "* 2 FETCH (FLAGS (\\Answered))")
        p = put_message(self.d, MSG)  # a delivery into the folder
        os.rename(p, os.path.join(path, "new", os.path.basename(p)))
        self.assertEqual(a.readline(), "* 3 EXISTS")
        # a saw it first: it is \Recent there (RFC 3501 7.3.2)
        self.assertEqual(a.readline(), "* 1 RECENT")
        b.cmd("b2 STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.expect("^b2 OK")
        b.cmd("b3 EXPUNGE")
        b.read_until_tagged("b3")
        line = a.readline()
        if line.startswith("* 1 FETCH"):  # the \Deleted, if seen before the expunge
            self.assertEqual(line, "* 1 FETCH (FLAGS (\\Deleted))")
            line = a.readline()
        self.assertEqual(line, "* 1 EXPUNGE")
        a.cmd("DONE")
        self.assertEqual(a.readline(), "a1 OK IDLE terminated")
        a.cmd("a2 IDLE")
        a.expect(r"^\+ ")
        a.cmd("NOTDONE")
        self.assertRegex(a.readline(), r"^a2 BAD ")
        a.cmd("a3 NOOP")
        self.assertEqual(a.readline(), "a3 OK NOOP completed")


if __name__ == "__main__":
    main()
