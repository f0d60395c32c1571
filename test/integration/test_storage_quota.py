# SPDX-License-Identifier: GPL-2.0-or-later
"""Maildir++ quota (issue 9, item 6): the `maildirsize` file, limits from
mail.quota or the userdb's quota_rule, deliver refusing over the limit (75,
or 77 with mail.quota_bounce) with nothing left in tmp/, new/ or cur/, IMAP
APPEND answering NO [OVERQUOTA], expunges lowering the use, a missing,
damaged, oversized or stale file recalculated; `merpati ls -s` and
`merpati index` (item 7) show it."""

import os
import time
import unittest

from harness import main
from imap_util import imap_daemon, imaplib_login, maildrop, raw_login
from storage_util import MailEnv

USER = "quinn@example.org"


def body(n):
    """A message of exactly n bytes."""
    head = b"From: a@example.org\nSubject: quota\n\n"
    return head + b"x" * (n - len(head) - 1) + b"\n"


def read_maildirsize(root):
    """(limits line, used bytes, used count)"""
    with open(os.path.join(root, "maildirsize")) as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", lines
    used_b = used_c = 0
    for line in lines[1:-1]:
        b, c = line.split()
        used_b += int(b)
        used_c += int(c)
    return lines[0], used_b, used_c


def files(root):
    return {sub: sorted(os.listdir(os.path.join(root, sub))) for sub in ("tmp", "new", "cur")}


def messages(root):
    """tmp/'s files and the base names in new/ and cur/ (a sync may move
    a message from new/ to cur/)."""
    f = files(root)
    return f["tmp"], sorted(n.split(":")[0] for n in f["new"] + f["cur"])


class DeliverQuota(unittest.TestCase):
    def setUp(self):
        self.env = MailEnv()
        self.addCleanup(self.env.cleanup)

    def set_mail(self, **kv):
        with open(self.env.conf) as f:
            conf = f.read()
        extra = "".join("%s = %s\n" % kv for kv in kv.items())
        conf = conf.replace("[mail]\n", "[mail]\n" + extra)
        with open(self.env.conf, "w") as f:
            f.write(conf)

    def test_over_limit_delivery_is_75_and_leaves_nothing(self):
        env = self.env
        self.set_mail(quota="2k")
        p = env.deliver(USER, body(1500))
        self.assertEqual(p.returncode, 0, p.stderr)
        root = env.root(USER)
        self.assertEqual(read_maildirsize(root), ("2048S", 1500, 1))
        before = files(root)
        p = env.deliver(USER, body(1000))
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertIn(b"Quota exceeded (mailbox for user is full)", p.stderr)
        self.assertEqual(files(root), before)
        self.assertEqual(before["tmp"], [])
        self.assertEqual(read_maildirsize(root), ("2048S", 1500, 1))
        # what still fits goes in; the file keeps count line by line
        p = env.deliver(USER, body(548))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read_maildirsize(root), ("2048S", 2048, 2))
        st = env.status(USER)
        self.assertEqual((st["quota_bytes"], st["quota_bytes_limit"],
                          st["quota_messages"], st["quota_messages_limit"]), (2048, 2048, 2, 0))
        self.assertEqual(st["messages"], 2)
        self.assertGreater(st["highestmodseq"], 0)
        # full: even a tiny message is refused before it is read
        p = env.deliver(USER, body(60))
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertEqual(files(root)["tmp"], [])

    def test_bounce_is_77(self):
        env = self.env
        self.set_mail(quota="1k", quota_bounce="yes")
        p = env.deliver(USER, body(2000))
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertIn(b"Quota exceeded (mailbox for user is full)", p.stderr)
        root = env.root(USER)
        self.assertEqual(files(root), {"tmp": [], "new": [], "cur": []})

    def test_userdb_quota_rule_overrides_the_default(self):
        env = self.env
        self.set_mail(quota="1G")
        # Dovecot's units: storage= without a suffix is kilobytes
        env.add_user(USER, extra="userdb_quota_rule=*:storage=1:messages=2")
        env.add_user("big@example.org")
        self.assertEqual(env.deliver(USER, body(500)).returncode, 0)
        self.assertEqual(read_maildirsize(env.root(USER)), ("1024S,2C", 500, 1))
        self.assertEqual(env.deliver(USER, body(600)).returncode, 75)
        self.assertEqual(env.deliver(USER, body(100)).returncode, 0)
        p = env.deliver(USER, body(100))  # a third message
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertEqual(env.deliver("big@example.org", body(5000)).returncode, 0)
        self.assertEqual(read_maildirsize(env.root("big@example.org"))[0], "1073741824S")

    def test_missing_damaged_big_and_stale_files_are_recalculated(self):
        env = self.env
        self.set_mail(quota="10k")
        for _ in range(3):
            self.assertEqual(env.deliver(USER, body(1000)).returncode, 0)
        self.assertEqual(env.deliver(USER, body(1000), folder="Sub").returncode, 0)
        root = env.root(USER)
        path = os.path.join(root, "maildirsize")
        self.assertEqual(read_maildirsize(root), ("10240S", 4000, 4))
        # missing
        os.unlink(path)
        st = env.status(USER)
        self.assertEqual((st["quota_bytes"], st["quota_messages"]), (4000, 4))
        self.assertEqual(read_maildirsize(root), ("10240S", 4000, 4))
        # damaged
        with open(path, "a") as f:
            f.write("12 not-a-number\n")
        self.assertEqual(env.status(USER)["quota_bytes"], 4000)
        self.assertEqual(read_maildirsize(root), ("10240S", 4000, 4))
        # other limits (the admin changed mail.quota)
        with open(path, "w") as f:
            f.write("999S\n4000 4\n")
        self.assertEqual(env.status(USER)["quota_bytes_limit"], 10240)
        self.assertEqual(read_maildirsize(root)[0], "10240S")
        # over 5120 bytes: recalculated, not trusted
        with open(path, "w") as f:
            f.write("10240S\n" + "1 0\n" * 1500)
        self.assertEqual(env.status(USER)["quota_bytes"], 4000)
        self.assertLess(os.path.getsize(path), 100)
        # over the limit by its own account: trusted while fresh ...
        with open(path, "w") as f:
            f.write("10240S\n4000 4\n6000 1\n")
        p = env.deliver(USER, body(1000))
        self.assertEqual(p.returncode, 75, p.stderr)
        # ... recalculated once older than 15 minutes
        old = time.time() - 16 * 60
        os.utime(path, (old, old))
        p = env.deliver(USER, body(1000))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read_maildirsize(root), ("10240S", 5000, 5))

    def test_no_limit_no_file(self):
        env = self.env
        self.assertEqual(env.deliver(USER, body(100)).returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(env.root(USER), "maildirsize")))
        st = env.status(USER)
        self.assertEqual((st["quota_bytes"], st["quota_bytes_limit"]), (0, 0))

    def test_index_rebuilds_and_recalculates(self):
        env = self.env
        self.set_mail(quota="10k")
        for _ in range(2):
            self.assertEqual(env.deliver(USER, body(700)).returncode, 0)
        self.assertEqual(env.deliver(USER, body(300), folder="Sub").returncode, 0)
        env.ls(USER)
        env.ls(USER, "Sub")
        root = env.root(USER)
        before = env.status(USER)["highestmodseq"]
        with open(os.path.join(root, "maildirsize"), "w") as f:
            f.write("10240S\n1 1\n")
        with open(os.path.join(root, "merpati.index"), "wb") as f:
            f.write(b"garbage")
        out = env.merpati("index", USER).stdout.decode().splitlines()
        self.assertEqual(len(out), 3, out)
        self.assertRegex(out[0], r"^INBOX: 2 messages, \d+ files read, index rebuilt, "
                                 r"highestmodseq (\d+)$")
        self.assertGreaterEqual(int(out[0].split()[-1]), before)
        self.assertRegex(out[1], r"^Sub: 1 messages, \d+ files read, index rebuilt, highestmodseq \d+$")
        self.assertEqual(out[2], "quota: 1700 of 10240 bytes, 3 of 0 messages (0: no limit), "
                                 "maildirsize recalculated")
        self.assertEqual(read_maildirsize(root), ("10240S", 1700, 3))
        with open(os.path.join(root, "merpati.index"), "rb") as f:
            self.assertNotEqual(f.read(7), b"garbage")
        out = env.merpati("index", USER, "Sub").stdout.decode().splitlines()
        self.assertEqual(len(out), 2, out)
        self.assertTrue(out[0].startswith("Sub: 1 messages"), out)


class DovecotQuota(unittest.TestCase):
    """Dovecot's "maildir" quota backend reads and extends our
    maildirsize, and we read what it wrote."""

    def test_both_ways(self):
        from test_storage_dovecot import Dovecot
        env = self.env = MailEnv()
        self.addCleanup(env.cleanup)
        DeliverQuota.set_mail(self, quota="10M")
        root = env.root(USER)
        self.assertEqual(env.deliver(USER, body(5000)).returncode, 0)
        dc = Dovecot(env, root)
        with open(dc.conf, "a") as f:
            f.write("mail_plugins = $mail_plugins quota\n"
                    "plugin {\n  quota = maildir:User quota\n"
                    "  quota_rule = *:storage=10M\n}\n")
        path = os.path.join(root, "maildirsize")
        ino = os.stat(path).st_ino
        rows = {r["Type"]: r for r in dc.table("quota", "get")}
        self.assertEqual((rows["STORAGE"]["Limit"], rows["MESSAGE"]["Value"]), ("10240", "1"))
        self.assertIn(int(rows["STORAGE"]["Value"]), (4, 5))  # kB, 5000 bytes
        self.assertEqual(os.stat(path).st_ino, ino)  # kept, not rewritten
        # Dovecot saves: it appends its line to our file, we read it
        dc.run("save", "-m", "INBOX", stdin=body(3000))
        self.assertEqual(os.stat(path).st_ino, ino)
        self.assertEqual(read_maildirsize(root), ("10485760S", 8000, 2))
        st = env.status(USER)
        self.assertEqual((st["quota_bytes"], st["quota_messages"]), (8000, 2))
        # a file Dovecot recalculated is read and extended the same way
        dc.run("quota", "recalc")
        with open(path) as f:
            self.assertEqual(f.read(), "10485760S\n8000 2\n")
        ino = os.stat(path).st_ino
        self.assertEqual(env.deliver(USER, body(1000)).returncode, 0)
        self.assertEqual(os.stat(path).st_ino, ino)
        self.assertEqual(read_maildirsize(root), ("10485760S", 9000, 3))
        rows = {r["Type"]: r for r in dc.table("quota", "get")}
        self.assertEqual(rows["MESSAGE"]["Value"], "3")


class ImapQuota(unittest.TestCase):
    def test_append_over_quota_and_expunge(self):
        d = imap_daemon(sections={"mail": {"quota": "4k"}})
        self.addCleanup(d.cleanup)
        root = maildrop(d, "alice")
        m = imaplib_login(d)
        msg = body(3000).replace(b"\n", b"\r\n")
        typ, data = m.append("INBOX", None, None, msg)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(read_maildirsize(root)[1:], (len(msg), 1))
        c = raw_login(d)
        before = messages(root)
        c.send("a1 APPEND INBOX {%d+}\r\n" % len(msg))
        c.send(msg.decode() + "\r\n")
        self.assertEqual(c.readline(),
                         "a1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)")
        self.assertEqual(messages(root), before)
        self.assertEqual(read_maildirsize(root)[1:], (len(msg), 1))
        # COPY over quota is refused the same way
        m.select("INBOX")
        typ, data = m.copy("1", "INBOX")
        self.assertEqual(typ, "NO")
        self.assertTrue(data[0].startswith(b"[OVERQUOTA]"), data)
        # expunge lowers the use; then the APPEND fits
        m.store("1", "+FLAGS", "\\Deleted")
        m.expunge()
        self.assertEqual(read_maildirsize(root)[1:], (0, 0))
        c.send("a2 APPEND INBOX {%d+}\r\n" % len(msg))
        c.send(msg.decode() + "\r\n")
        self.assertRegex(c.readline(), r"^a2 OK ")
        self.assertEqual(read_maildirsize(root)[1:], (len(msg), 1))
        c.close()
        m.logout()

    def test_userdb_quota_rule_at_login(self):
        """The auth helper hands the passwd-file's quota_rule to the
        worker: IMAP enforces it, POP3's deletions keep the file right."""
        d = imap_daemon(users=["alice:{PLAIN}secret::::::userdb_quota_rule=*:storage=2"])
        self.addCleanup(d.cleanup)
        root = maildrop(d, "alice")
        m = imaplib_login(d)
        small = body(1500).replace(b"\n", b"\r\n")
        typ, data = m.append("INBOX", None, None, small)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(read_maildirsize(root), ("2048S", len(small), 1))
        typ, data = m.append("INBOX", None, None, small)
        self.assertEqual(typ, "NO")
        self.assertTrue(data[0].startswith(b"[OVERQUOTA]"), data)
        m.logout()
        import poplib
        p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=10)
        p.user("alice")
        p.pass_("secret")
        p.dele(1)
        p.quit()
        self.assertEqual(read_maildirsize(root), ("2048S", 0, 0))


if __name__ == "__main__":
    main()
