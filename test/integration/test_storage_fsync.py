# SPDX-License-Identifier: GPL-2.0-or-later
"""Deliveries and APPENDs with mail.fsync on (every other test runs with
fsync = no): the message file and its directory are flushed, and when
either flush fails (an LD_PRELOAD shim, test/tools/fsync_fail.c, makes
fsync() fail with EIO) the delivery is reported failed -- `merpati
deliver` exits 75, APPEND answers NO [UNAVAILABLE] -- and leaves nothing
behind: no file in tmp/, new/ or cur/, no record in dovecot-uidlist, no
UID consumed. Also: after an IMAP EXPUNGE and a MOVE the UIDs are gone
from dovecot-uidlist on disk at once, not at the next sync."""

import imaplib
import os
import unittest

from harness import Daemon, main
from imap_util import OPEN_AUTH, PASSWORDS, USERS
from storage_util import MERPATI, MailEnv, read_uidlist

SHIM = os.path.join(os.path.dirname(os.path.abspath(MERPATI)), "test", "libfsync_fail.so")
MSG = b"From: a@example.org\r\nSubject: flushed\r\n\r\nbody\r\n"


def shim_env(ctl):
    """The environment that loads the shim, controlled by file ctl. An
    ASan build wants its runtime first in the library list: the shim
    comes first here, which is harmless."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": SHIM, "MERPATI_FSYNC_FAIL": ctl,
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


def set_mode(ctl, mode):
    with open(ctl, "w") as f:
        f.write(mode)
    with open(ctl + ".log", "w"):
        pass  # the log starts empty


def read_log(ctl):
    with open(ctl + ".log") as f:
        return f.read().split("\n")[:-1]


def files(root):
    """{sub: sorted names} of tmp/, new/ and cur/."""
    return {sub: sorted(os.listdir(os.path.join(root, sub))) for sub in ("tmp", "new", "cur")}


def uidlist_uids(root):
    return sorted(read_uidlist(root)[1].values())


class Deliver(unittest.TestCase):
    USER = "fay@example.org"

    def setUp(self):
        self.assertTrue(os.path.exists(SHIM), SHIM)
        self.env = MailEnv(fsync=True)
        self.ctl = os.path.join(self.env.dir, "fsync-fail")
        set_mode(self.ctl, "none")
        for path in (self.ctl, self.ctl + ".log"):
            os.chmod(path, 0o666)

    def tearDown(self):
        self.env.cleanup()

    def deliver(self, subject):
        return self.env.deliver(self.USER, MSG.replace(b"flushed", subject),
                                env=shim_env(self.ctl))

    def test_flushes_file_and_directory(self):
        """With fsync on, the message file and new/ are flushed."""
        p = self.deliver(b"first")
        self.assertEqual(p.returncode, 0, p.stderr)
        set_mode(self.ctl, "none")
        p = self.deliver(b"second")
        self.assertEqual(p.returncode, 0, p.stderr)
        log = read_log(self.ctl)
        # the message, new/, and the UID list's record
        self.assertGreaterEqual(log.count("ok file"), 2, log)
        self.assertGreaterEqual(log.count("ok dir"), 1, log)
        self.assertEqual(uidlist_uids(self.env.root(self.USER)), [1, 2])

    def check_failure(self, mode):
        p = self.deliver(b"first")
        self.assertEqual(p.returncode, 0, p.stderr)
        root = self.env.root(self.USER)
        before, uids = files(root), uidlist_uids(root)
        set_mode(self.ctl, mode)
        p = self.deliver(b"lost")
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertIn("fail " + mode, read_log(self.ctl))
        self.assertEqual(files(root), before)
        self.assertEqual(uidlist_uids(root), uids)
        # the next delivery gets the next UID: none was consumed
        set_mode(self.ctl, "none")
        p = self.deliver(b"next")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(uidlist_uids(root), uids + [max(uids) + 1])
        rows = self.env.ls(self.USER)
        self.assertEqual([r[0] for r in rows], uids + [max(uids) + 1])

    def test_file_fsync_fails(self):
        """The message's own flush fails: exit 75, nothing left."""
        self.check_failure("file")

    def test_directory_fsync_fails(self):
        """The flush of new/ after the rename fails: the message is taken
        back (the MTA retries, no duplicate), exit 75, nothing left."""
        self.check_failure("dir")


class ImapAppend(unittest.TestCase):
    """APPEND through the daemon, with fsync on and the shim loaded."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(sections={"auth": dict(OPEN_AUTH), "mail": {"fsync": "yes"}},
                       users=USERS, start=False)
        # inside the mail root's directory: the sandboxed worker reads it
        cls.ctl = os.path.join(cls.d.mail, "fsync-fail")
        set_mode(cls.ctl, "none")
        for path in (cls.ctl, cls.ctl + ".log"):
            os.chmod(path, 0o666)
        saved = dict(os.environ)
        os.environ.update(shim_env(cls.ctl))
        try:
            cls.d.start()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def setUp(self):
        set_mode(self.ctl, "none")
        self.m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"], timeout=10)
        self.m.login("alice", PASSWORDS["alice"])
        self.m.select("INBOX")
        self.root = os.path.join(self.d.mail, "alice")

    def tearDown(self):
        set_mode(self.ctl, "none")
        self.m.logout()

    def append(self, flags=None):
        return self.m.append("INBOX", flags, None, MSG)

    def next_uid(self):
        typ, data = self.m.status("INBOX", "(UIDNEXT)")
        self.assertEqual(typ, "OK")
        return int(data[0].split(b"UIDNEXT ")[1].rstrip(b")"))

    def test_append_flushes(self):
        typ, data = self.append()
        self.assertEqual(typ, "OK", data)
        log = read_log(self.ctl)
        self.assertIn("ok file", log)
        self.assertIn("ok dir", log)

    def check_failure(self, mode, flags):
        typ, data = self.append(flags)
        self.assertEqual(typ, "OK", data)
        before, uids, uidnext = files(self.root), uidlist_uids(self.root), self.next_uid()
        set_mode(self.ctl, mode)
        typ, data = self.append(flags)
        set_mode(self.ctl, "none")
        self.assertEqual(typ, "NO")
        self.assertEqual(data, [b"[UNAVAILABLE] cannot store the message"])
        self.assertEqual(files(self.root), before)
        self.assertEqual(uidlist_uids(self.root), uids)
        self.assertEqual(self.next_uid(), uidnext)
        typ, data = self.append(flags)
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"[APPENDUID ", data[0])
        self.assertEqual(int(data[0].split()[2].rstrip(b"]")), uidnext)

    def test_file_fsync_fails(self):
        self.check_failure("file", None)

    def test_directory_fsync_fails_new(self):
        self.check_failure("dir", None)

    def test_directory_fsync_fails_cur(self):
        """With flags the message goes to cur/: that flush counts too."""
        self.check_failure("dir", "(\\Seen)")


class UidListAtOnce(unittest.TestCase):
    """An expunge that left the UID in dovecot-uidlist was hidden by the
    next sync: the list on disk is read right after the tagged OK."""

    def test_expunge_and_move(self):
        with Daemon(sections={"auth": dict(OPEN_AUTH)}, users=USERS) as d:
            m = imaplib.IMAP4("127.0.0.1", d.ports["imap"], timeout=10)
            m.login("alice", PASSWORDS["alice"])
            m.create("Other")
            for i in range(5):
                self.assertEqual(m.append("INBOX", None, None, MSG)[0], "OK")
            root = os.path.join(d.mail, "alice")
            self.assertEqual(uidlist_uids(root), [1, 2, 3, 4, 5])
            m.select("INBOX")
            m.uid("STORE", "2,4", "+FLAGS.SILENT", "(\\Deleted)")
            typ, data = m.expunge()
            self.assertEqual((typ, data), ("OK", [b"4", b"2"]))  # highest first
            self.assertEqual(uidlist_uids(root), [1, 3, 5])
            typ, data = m.uid("MOVE", "5", "Other")
            self.assertEqual(typ, "OK", data)
            self.assertEqual(uidlist_uids(root), [1, 3])
            self.assertEqual(uidlist_uids(os.path.join(root, ".Other")), [1])
            m.logout()


if __name__ == "__main__":
    main()
