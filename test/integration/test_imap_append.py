# SPDX-License-Identifier: GPL-2.0-or-later
"""APPEND (RFC 3501 6.3.11) streamed to tmp/, MULTIAPPEND (RFC 3502,
all-or-nothing), APPENDUID (RFC 4315), APPENDLIMIT (RFC 7889: refused
before a byte is stored), TRYCREATE, flags and internal dates; a refused
literal's bytes are never run as commands."""

import imaplib
import os
import time
import unittest

from harness import main
from imap_util import imap_daemon, imaplib_login, maildrop, raw_login

MSG = b"From: a@example.org\r\nSubject: appended\r\n\r\nhello\r\n"


def cur_and_new(d, folder=""):
    root = os.path.join(d.mail, "alice", folder)
    out = []
    for sub in ("cur", "new"):
        out += sorted(os.listdir(os.path.join(root, sub)))
    return out


def tmp_files(d, folder=""):
    return os.listdir(os.path.join(d.mail, "alice", folder, "tmp"))


def worker_rss_kb(d):
    """VmRSS of the daemon's worker processes (kB, the largest)."""
    best = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                status = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"merpatid" not in cmd or d.conf_path.encode() not in cmd:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                best = max(best, int(line.split()[1]))
    return best


class ImapAppend(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()
        maildrop(cls.d, "alice")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_append_with_flags_and_date(self):
        m = imaplib_login(self.d)
        m.create("Ap")
        date = imaplib.Time2Internaldate(time.mktime((2020, 5, 17, 10, 0, 0, 0, 0, -1)))
        typ, data = m.append("Ap", "(\\Seen $Work)", date, MSG)
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"^\[APPENDUID \d+ 1\] APPEND completed$")
        names = cur_and_new(self.d, ".Ap")
        self.assertEqual(len(names), 1)
        self.assertTrue(names[0].endswith(":2,Sa"), names)
        st = os.stat(os.path.join(self.d.mail, "alice", ".Ap", "cur", names[0]))
        self.assertEqual(int(st.st_mtime), int(time.mktime((2020, 5, 17, 10, 0, 0, 0, 0, -1))))
        with open(os.path.join(self.d.mail, "alice", ".Ap", "cur", names[0]), "rb") as f:
            self.assertEqual(f.read().replace(b"\r\n", b"\n"), MSG.replace(b"\r\n", b"\n"))
        typ, data = m.append("Nowhere", None, None, MSG)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])
        m.logout()

    def test_append_to_selected_reports_exists(self):
        c = raw_login(self.d)
        c.cmd("a0 CREATE Sel")
        c.expect("^a0 OK")
        c.cmd("a1 SELECT Sel")
        self.assertIn("* 0 EXISTS", c.read_until_tagged("a1"))
        c.send("a2 APPEND Sel {%d+}\r\n" % len(MSG))
        c.send(MSG.decode() + "\r\n")
        lines = c.read_until_tagged("a2")
        self.assertEqual(lines[0], "* 1 EXISTS")
        self.assertRegex(lines[-1], r"^a2 OK \[APPENDUID \d+ 1\] ")

    def test_multiappend_all_or_nothing(self):
        c = raw_login(self.d)
        c.cmd("m0 CREATE Multi")
        c.expect("^m0 OK")
        c.send("m1 APPEND Multi (\\Flagged) {%d+}\r\n%s {%d+}\r\n%s\r\n"
               % (len(MSG), MSG.decode(), len(MSG), MSG.decode()))
        self.assertRegex(c.readline(), r"^m1 OK \[APPENDUID \d+ 1:2\] APPEND completed$")
        self.assertEqual(len(cur_and_new(self.d, ".Multi")), 2)
        # a bad second message's options: nothing of the first is kept
        c.send("m2 APPEND Multi {%d+}\r\n%s (\\Bogus) {%d+}\r\n%s\r\n"
               % (len(MSG), MSG.decode(), len(MSG), MSG.decode()))
        self.assertRegex(c.readline(), r"^m2 (BAD|NO) ")
        c.cmd("m3 NOOP")
        self.assertEqual(c.readline(), "m3 OK NOOP completed")
        self.assertEqual(len(cur_and_new(self.d, ".Multi")), 2)
        self.assertEqual(tmp_files(self.d, ".Multi"), [])

    def test_refused_literal_never_runs_as_commands(self):
        c = raw_login(self.d)
        # synchronizing literal to a missing folder: NO before any byte
        c.cmd("r1 APPEND Missing {20}")
        self.assertRegex(c.readline(), r"^r1 NO \[TRYCREATE\] ")
        c.cmd("r2 NOOP")
        self.assertEqual(c.readline(), "r2 OK NOOP completed")
        # non-synchronizing: the bytes are skipped, not parsed
        payload = "x1 CREATE Injected\r\n"
        c.send("r3 APPEND Missing {%d+}\r\n%s\r\n" % (len(payload), payload))
        self.assertRegex(c.readline(), r"^r3 NO \[TRYCREATE\] ")
        c.cmd("r4 NOOP")
        self.assertEqual(c.readline(), "r4 OK NOOP completed")
        self.assertFalse(os.path.exists(os.path.join(self.d.mail, "alice", ".Injected")))

    def test_appendlimit_and_streaming(self):
        c = raw_login(self.d)
        c.cmd("c0 CAPABILITY")
        caps = c.readline()
        limit = int(caps.split("APPENDLIMIT=")[1].split()[0])
        c.readline()
        c.cmd("c1 APPEND INBOX {%d}" % (limit + 1))
        self.assertRegex(c.readline(), r"^c1 NO \[TOOBIG\] ")
        c.cmd("c2 NOOP")
        self.assertEqual(c.readline(), "c2 OK NOOP completed")
        # a 30 MB message is streamed, never held in memory
        before = len(cur_and_new(self.d))
        size = 30 * 1024 * 1024
        c.cmd("c3 APPEND INBOX {%d}" % size)
        self.assertEqual(c.readline(), "+ OK")
        chunk = (b"x" * 1022 + b"\r\n") * 1024
        sent = 0
        peak = 0
        while sent < size:
            n = min(len(chunk), size - sent)
            c.send(chunk[:n])
            sent += n
            if sent % (8 * len(chunk)) == 0:
                peak = max(peak, worker_rss_kb(self.d))
        c.send(b"\r\n")
        self.assertRegex(c.readline(), r"^c3 OK \[APPENDUID ")
        self.assertEqual(len(cur_and_new(self.d)), before + 1)
        self.assertGreater(peak, 0)  # the worker was found and measured
        self.assertLess(peak, 24 * 1024, "worker RSS %d kB while appending" % peak)


if __name__ == "__main__":
    main()
