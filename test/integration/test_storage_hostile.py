# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile Maildir contents (the hardening issue's storage items): a FIFO,
symlinks, unreadable files and directories named like messages, control
characters in file names, an exhausted UID space, a wrapped UIDVALIDITY
counter, tmp files planted as symlinks, mail.root expansions into another
user's Maildir, an unwritable Maildir, an mbox "From " line split across
reads and sizes in file names that lie. Each is checked through POP3
(poplib, raw transcripts) or `merpati deliver` / `merpati ls`."""

import os
import poplib
import re
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Daemon, main
from storage_util import MailEnv
from test_pop3 import (MSG_CRLF, MSG_PLAIN, OPEN_AUTH, USERS, chown_to_daemon, crlf, login,
                       maildrop, put_message)

_seq = [0]


def pop3_daemon(after_download):
    """A daemon with only the POP3 listener (fewer ports to race for)."""
    return Daemon(sections={"auth": dict(OPEN_AUTH), "pop3": {"after_download": after_download},
                            "listen": {"imap": "", "imaps": "", "pop3s": ""}},
                  users=USERS)


def msg_name(info=":2,", when=None):
    """A fresh Maildir base name (plus info), as an MTA would make it."""
    _seq[0] += 1
    return "%d.M%dP%d.hostile%s" % (int(when or time.time()), _seq[0], os.getpid(), info)


def uidlist_header(root):
    with open(os.path.join(root, "dovecot-uidlist")) as f:
        head = f.readline().split()
    return {h[0]: h[1:] for h in head[1:]}


def damaged_files(root):
    return sorted(n for n in os.listdir(root) if n.startswith("dovecot-uidlist.damaged."))


class NotMessages(unittest.TestCase):
    """Items 3, 4 and 6: only regular files are messages; one bad entry
    never stops a login."""

    def test_fifo_does_not_freeze_the_worker(self):
        """Item 3: a FIFO in cur/ (opening it blocked the worker forever)."""
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            maildrop(d, "bob")
            fifo = os.path.join(d.mail, "alice", "cur", msg_name())
            os.mkfifo(fifo)
            chown_to_daemon(d, fifo)
            try:
                c = d.pop3()
                c.expect(r"^\+OK ")
                c.cmd("USER alice")
                c.expect(r"^\+OK")
                c.cmd("PASS secret")
                # meanwhile a second client of the same (only) worker is
                # answered promptly
                t0 = time.monotonic()
                other = d.pop3()
                other.sock.settimeout(3)
                other.expect(r"^\+OK ")
                other.cmd("USER bob")
                other.expect(r"^\+OK")
                other.cmd("PASS hunter2")
                other.expect(r"^\+OK Logged in")
                other.cmd("NOOP")
                other.expect(r"^\+OK")
                self.assertLess(time.monotonic() - t0, 3)
                c.expect(r"^\+OK Logged in")
                c.cmd("STAT")
                c.expect(r"^\+OK 1 %d$" % len(crlf(MSG_PLAIN)))
                c.cmd("RETR 1")
                c.expect(r"^\+OK")
                self.assertEqual(c.read_multiline(), crlf(MSG_PLAIN).decode().split("\r\n")[:-1])
                c.cmd("QUIT")
                c.expect(r"^\+OK")
                other.cmd("QUIT")
                other.expect(r"^\+OK")
            finally:
                # unblock a reader stuck in open() so that the daemon stops
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass
            self.assertTrue(stat_is_fifo(fifo))
            log = d.read_log()
            self.assertRegex(log, r"event=msg_skip path=\S*/cur/%s reason=\"not a regular file\""
                             % re.escape(os.path.basename(fifo)))

    def test_symlink_is_not_a_message(self):
        """Item 4: a symlink in cur/ or new/ to another user's file."""
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            secret_dir = tempfile.mkdtemp(prefix="merpati-secret-")
            try:
                os.chmod(secret_dir, 0o755)
                secret = os.path.join(secret_dir, "other-users-mail")
                with open(secret, "wb") as f:
                    f.write(b"Subject: SECRET\n\nthe other user's mail\n")
                os.chmod(secret, 0o644)
                root = maildrop(d)
                links = [os.path.join(root, "cur", msg_name()),
                         os.path.join(root, "new", msg_name(info="")),
                         os.path.join(root, "cur", msg_name(",S=40,W=42:2,S"))]
                for link in links:
                    os.symlink(secret, link)
                p = login(d)
                self.assertEqual(p.stat(), (1, len(crlf(MSG_PLAIN))))
                self.assertEqual(len(p.uidl()[1]), 1)
                self.assertNotIn(b"SECRET", b"\n".join(p.retr(1)[1]))
                p.quit()
                for link in links:
                    self.assertTrue(os.path.islink(link), link)
                with open(os.path.join(root, "dovecot-uidlist")) as f:
                    self.assertNotIn("hostile", f.read())
                self.assertEqual(len(re.findall(r"event=msg_skip .*reason=\"not a regular file\"",
                                                d.read_log())), 3)
            finally:
                subprocess.run(["rm", "-rf", secret_dir])

    def test_unreadable_entries_do_not_lock_the_user_out(self):
        """Item 6: a root-owned 0600 (here mode 000) message and a
        directory named like a message."""
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            put_message(d, MSG_CRLF, flags="S")
            root = maildrop(d)
            locked = os.path.join(root, "cur", msg_name(":2,S"))
            with open(locked, "wb") as f:
                f.write(b"Subject: locked\n\nnot for the daemon\n")
            os.chmod(locked, 0)   # and owned by root when we are root
            dirmsg = os.path.join(root, "cur", msg_name())
            os.mkdir(dirmsg)
            chown_to_daemon(d, dirmsg)
            for _ in range(2):
                p = login(d)
                self.assertEqual(p.stat(), (2, len(crlf(MSG_PLAIN)) + len(MSG_CRLF)))
                self.assertEqual(b"\r\n".join(p.retr(1)[1]) + b"\r\n", crlf(MSG_PLAIN))
                self.assertEqual(b"\r\n".join(p.retr(2)[1]) + b"\r\n", MSG_CRLF)
                p.quit()
            log = d.read_log()
            self.assertRegex(log, r"event=msg_skip path=\S*/cur/%s reason=\"not a regular file\""
                             % re.escape(os.path.basename(dirmsg)))
            if os.geteuid() == 0:
                self.assertRegex(log, r"event=msg_skip path=\S*/cur/%s reason=\"open: Permission denied\""
                                 % re.escape(os.path.basename(locked)))


def stat_is_fifo(path):
    import stat
    return stat.S_ISFIFO(os.lstat(path).st_mode)


class UidList(unittest.TestCase):
    """Items 7 and 8: the UID list survives odd names and odd numbers."""

    def test_newline_in_a_file_name(self):
        """Item 7: the name is skipped (and logged), the list stays intact,
        UIDVALIDITY and UIDLs stay the same on every open."""
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            put_message(d, MSG_CRLF)
            root = maildrop(d)
            bad = os.path.join(root, "cur", msg_name(info="") + "\nevil:2,")
            with open(bad, "wb") as f:
                f.write(b"Subject: newline\n\nx\n")
            chown_to_daemon(d, bad)
            ctl = os.path.join(root, "new", msg_name(info="") + "\x01ctl")
            with open(ctl, "wb") as f:
                f.write(b"Subject: control\n\nx\n")
            chown_to_daemon(d, ctl)
            p = login(d)
            first = p.uidl()[1]
            self.assertEqual(len(first), 2)
            p.quit()
            v = uidlist_header(root)["V"]
            for _ in range(3):
                p = login(d)
                self.assertEqual(p.uidl()[1], first)
                p.quit()
                self.assertEqual(uidlist_header(root)["V"], v)
            self.assertEqual(damaged_files(root), [])
            with open(os.path.join(root, "dovecot-uidlist"), "rb") as f:
                self.assertNotIn(b"evil", f.read())
            self.assertTrue(os.path.exists(bad) and os.path.exists(ctl))
            # the name is logged quoted, its control characters escaped
            self.assertRegex(d.read_log(), r'event=msg_skip path="\S*/cur/\S+\\x0aevil:2," '
                             r'reason="control character in the file name"')

    def test_damaged_copies_are_bounded(self):
        """Item 7: at most a few dovecot-uidlist.damaged.* files stay."""
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            root = maildrop(d)
            for i in range(10):
                path = os.path.join(root, "dovecot-uidlist.damaged.%d" % (1000 + i))
                with open(path, "w") as f:
                    f.write("old\n")
                chown_to_daemon(d, path)
            for i in range(3):
                path = os.path.join(root, "dovecot-uidlist")
                with open(path, "w") as f:
                    f.write("3 V12345 N5\nthis is not a record\n")
                chown_to_daemon(d, path)
                p = login(d)
                self.assertEqual(p.stat()[0], 1)
                p.quit()
            left = damaged_files(root)
            self.assertLessEqual(len(left), 3)
            # the newest one (the last damage) is kept
            newest = max(left, key=lambda n: os.stat(os.path.join(root, n)).st_mtime)
            with open(os.path.join(root, newest)) as f:
                self.assertEqual(f.read(), "3 V12345 N5\nthis is not a record\n")

    def test_uid_space_exhausted(self):
        """Item 8: N4294967295 starts a new, greater UIDVALIDITY and
        numbers every message again, none is invisible."""
        with pop3_daemon("keep") as d:
            old = put_message(d, MSG_PLAIN, flags="S")
            root = maildrop(d)
            base = os.path.basename(old).split(":")[0]
            path = os.path.join(root, "dovecot-uidlist")
            with open(path, "w") as f:
                f.write("3 V1000 N4294967295\n4294967294 :%s\n" % base)
            chown_to_daemon(d, path)
            put_message(d, MSG_CRLF)
            p = login(d)
            self.assertEqual(p.stat(), (2, len(crlf(MSG_PLAIN)) + len(MSG_CRLF)))
            uidls = p.uidl()[1]
            p.quit()
            head = uidlist_header(root)
            self.assertGreater(int(head["V"]), 1000)
            self.assertEqual(head["N"], "3")
            p = login(d)
            self.assertEqual(p.uidl()[1], uidls)
            p.quit()
            self.assertRegex(d.read_log(), r"event=uid_space_exhausted path=\S+ old_uidvalidity=1000 "
                             r"uidvalidity=%s" % head["V"])

    def test_uidvalidity_counter_at_max(self):
        """Item 8: a dovecot-uidvalidity of ffffffff does not wrap to 0/1."""
        with pop3_daemon("keep") as d:
            put_message(d, MSG_PLAIN)
            root = maildrop(d)
            path = os.path.join(root, "dovecot-uidvalidity")
            with open(path, "w") as f:
                f.write("ffffffff")
            chown_to_daemon(d, path)
            t0 = int(time.time())
            p = login(d)
            uidls = p.uidl()[1]
            p.quit()
            v = int(uidlist_header(root)["V"])
            self.assertGreaterEqual(v, t0)
            self.assertLess(v, 0xffffffff)
            for _ in range(2):
                p = login(d)
                self.assertEqual(p.uidl()[1], uidls)
                p.quit()
            self.assertEqual(int(uidlist_header(root)["V"]), v)
            self.assertEqual(damaged_files(root), [])
            with open(path) as f:
                self.assertEqual(int(f.read(), 16), v)


class Deliver(unittest.TestCase):
    """Items 9 and 16: where `merpati deliver` may write, and what."""

    def setUp(self):
        self.env = MailEnv()

    def tearDown(self):
        self.env.cleanup()

    def test_refuses_reserved_and_empty_elements(self):
        """Item 9: with mail.root = .../%d/%n, "cur@alice" would land in
        alice's cur/; reserved names and empty elements are refused."""
        env = self.env
        p = env.deliver("alice@alice", b"Subject: ok\n\nok\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        for user in ("cur@alice", "new@alice", "tmp@alice", "alice@cur", "bob"):
            p = env.deliver(user, b"Subject: x\n\nx\n")
            self.assertEqual(p.returncode, 67, (user, p.stderr))
            self.assertIn(b"mail.root", p.stderr)
        # nothing was created anywhere but alice's Maildir
        mail = os.path.join(env.dir, "mail")
        self.assertEqual(sorted(os.listdir(mail)), ["alice"])
        self.assertEqual(sorted(os.listdir(os.path.join(mail, "alice"))), ["alice"])
        self.assertEqual(sorted(os.listdir(os.path.join(mail, "alice", "alice", "cur"))), [])
        self.assertEqual(len(env.ls("alice@alice")), 1)

    def test_unwritable_maildir_is_a_temporary_failure(self):
        """Item 9: an existing Maildir the mail owner cannot write (an
        admin's chown mistake) is 75, not a bounce (67)."""
        env = self.env
        p = env.deliver("carol@example.org", b"Subject: first\n\nx\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        root = env.root("carol@example.org")
        subprocess.run(["rm", "-rf", os.path.join(root, "tmp")], check=True)
        os.chmod(root, 0o500)
        if os.geteuid() == 0:
            os.chown(root, 0, 0)
        try:
            p = env.deliver("carol@example.org", b"Subject: second\n\nx\n")
            self.assertEqual(p.returncode, 75, p.stderr)
        finally:
            os.chmod(root, 0o700)

    def test_from_line_split_across_reads(self):
        """Item 16: the mbox "From " line is dropped however stdin is
        split (it was kept when the first read returned < 5 bytes)."""
        env = self.env
        env.add_user("dan@example.org")  # deliver knows its users
        for first in (b"F", b"Fro", b"From", b"From "):
            proc = subprocess.Popen([env_merpati(), "deliver", "-c", env.conf, "dan@example.org"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            rest = b"From sender@example.org Mon Nov 30 10:00:00 2026\n"[len(first):]
            proc.stdin.write(first)
            proc.stdin.flush()
            time.sleep(0.3)
            proc.stdin.write(rest + b"Subject: split %s\n\nbody\n" % first)
            proc.stdin.close()
            self.assertEqual(proc.wait(30), 0, proc.stderr.read())
            proc.stdout.close()
            proc.stderr.close()
        # a message that merely starts with "Fr" keeps its first line
        p = env.deliver("dan@example.org", b"Fr: not an envelope\n\nbody\n")
        self.assertEqual(p.returncode, 0)
        rows = env.ls("dan@example.org")
        self.assertEqual(len(rows), 5)
        contents = []
        cur = os.path.join(env.root("dan@example.org"), "cur")
        for name in os.listdir(cur):
            with open(os.path.join(cur, name), "rb") as f:
                contents.append(f.read())
        self.assertEqual(sum(c.startswith(b"Subject: split ") for c in contents), 4, contents)
        self.assertIn(b"Fr: not an envelope\n\nbody\n", contents)

    def test_lying_sizes_in_the_name(self):
        """Item 16: S= and W= are checked against the file: W outside
        [S, 2S] or S not the file's size means the file is counted."""
        env = self.env
        user = "erin@example.org"
        p = env.deliver(user, b"Subject: real\n\nbody\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        root = env.root(user)
        data = b"Subject: liar\n\nline one\nline two\n"
        real = len(crlf(data))
        names = [msg_name(",S=%d,W=999999999:2," % len(data)),    # W > 2S
                 msg_name(",S=%d,W=1:2," % len(data)),            # W < S
                 msg_name(",S=3,W=5:2,"),                         # S is not the size
                 msg_name(",S=%d,W=%d:2," % (len(data), real))]   # honest
        for name in names:
            path = os.path.join(root, "cur", name)
            with open(path, "wb") as f:
                f.write(data)
            os.chown(path, env.uid, env.gid)
        rows = env.ls(user)
        self.assertEqual(len(rows), 5)
        self.assertEqual([r[2] for r in rows[1:]], [real] * 4)
        out = env.merpati("ls", user).stderr.decode()
        self.assertEqual(len(re.findall(r"event=msg_size_mismatch", out)), 0)  # cached now


def env_merpati():
    import storage_util
    return storage_util.MERPATI


if __name__ == "__main__":
    main()
