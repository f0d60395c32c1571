# SPDX-License-Identifier: GPL-2.0-or-later
"""Merpati's POP3 against Dovecot's (Debian's dovecot-pop3d) on copies of the
same Maildir: STAT, LIST, UIDL (Dovecot's default pop3_uidl_format), RETR and
TOP bytes are identical, whichever server assigned the UIDs first.

Dovecot runs as /usr/lib/dovecot/pop3 in pre-authenticated mode over
stdin/stdout (USER and MAIL in the environment, a minimal config via -c),
as the daemon's mail user."""

import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from harness import main
from test_pop3 import chown_to_daemon, pop3_daemon, put_message, raw_login
from test_pop3_clients import MESSAGES

DOVECOT_POP3 = "/usr/lib/dovecot/pop3"

# (content, flags or None for new/)
FIXTURE = [(m, None) for m in MESSAGES] + [
    (b"Subject: seen\n\nalready read\n", "S"),
    (b"Subject: answered\n\n.a dot\n", "RS"),
    (b"Subject: flagged\r\n\r\ncrlf body\r\n", "F"),
]


def commands(n):
    cmds = ["STAT", "LIST", "UIDL"]
    for i in range(1, n + 1):
        cmds += ["LIST %d" % i, "UIDL %d" % i, "RETR %d" % i, "TOP %d 0" % i, "TOP %d 2" % i]
    return cmds


def multiline(cmd):
    parts = cmd.split()
    return parts[0] in ("RETR", "TOP", "CAPA") or (parts[0] in ("LIST", "UIDL") and len(parts) == 1)


def split_responses(data, cmds):
    """[(cmd, status line, body bytes or None)] from a transcript."""
    out = []
    pos = 0
    for cmd in cmds:
        end = data.index(b"\r\n", pos)
        status = data[pos:end]
        pos = end + 2
        body = None
        if multiline(cmd) and status.startswith(b"+OK"):
            if data.startswith(b".\r\n", pos):
                end = pos
            else:
                end = data.index(b"\r\n.\r\n", pos - 2) + 2
            body = data[pos:end]
            pos = end + 3
        out.append((cmd, status, body))
    return out


def dovecot_session(mail_dir, user, cmds):
    if not os.access(DOVECOT_POP3, os.X_OK):
        raise AssertionError("%s missing: install Debian's dovecot-pop3d" % DOVECOT_POP3)
    work = tempfile.mkdtemp(prefix="dovecot-pop3-")
    try:
        os.chmod(work, 0o755)
        run = os.path.join(work, "run")
        os.mkdir(run)
        pw = pwd.getpwnam(user)
        os.chown(run, pw.pw_uid, pw.pw_gid)
        conf = os.path.join(work, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("protocols = pop3\nssl = no\nmail_location = maildir:%s\n"
                    "log_path = /dev/stderr\nbase_dir = %s\nstate_dir = %s\n"
                    "first_valid_uid = 0\n" % (mail_dir, run, run))
        os.chmod(conf, 0o644)

        def drop():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

        env = {"USER": "alice", "HOME": work, "MAIL": "maildir:" + mail_dir,
               "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        script = "".join(c + "\r\n" for c in cmds + ["QUIT"]).encode()
        p = subprocess.run([DOVECOT_POP3, "-c", conf], input=script, env=env,
                           capture_output=True, timeout=60, preexec_fn=drop)
        if p.returncode != 0 or not p.stdout.startswith(b"+OK"):
            raise AssertionError("dovecot pop3 failed: %r %s" % (p.stdout[:300], p.stderr.decode()))
        return p.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)


def merpati_session(d, cmds):
    c = raw_login(d)
    c.send("".join(x + "\r\n" for x in cmds + ["QUIT"]))
    data = c.buf
    while True:
        chunk = c.sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return data


def copy_maildir(src, dst, d):
    shutil.copytree(src, dst)
    for dirpath, dirnames, filenames in os.walk(dst):
        chown_to_daemon(d, dirpath)
        for name in filenames:
            chown_to_daemon(d, os.path.join(dirpath, name))


class DovecotDifferential(unittest.TestCase):
    def compare(self, merpati, dovecot, cmds):
        m = split_responses(merpati, cmds)
        dv = split_responses(dovecot, cmds)
        self.assertEqual(len(m), len(dv))
        for (cmd, ms, mb), (_, ds, db) in zip(m, dv):
            if cmd == "LIST":
                # only the free text of the first line differs
                self.assertEqual(ms.split()[:2], ds.split()[:2], cmd)
            elif cmd == "UIDL":
                self.assertEqual(ms.split()[:1], ds.split()[:1], cmd)
                self.assertEqual(mb.count(b"\r\n"), len(FIXTURE))
            else:
                self.assertEqual(ms, ds, cmd)
            self.assertEqual(mb, db, cmd)

    def fill(self, d):
        for content, flags in FIXTURE:
            put_message(d, content, flags=flags)

    def test_merpati_assigns_uids_first(self):
        with pop3_daemon("keep") as d:
            self.fill(d)
            cmds = commands(len(FIXTURE))
            mine = merpati_session(d, cmds)
            copy = os.path.join(d.dir, "dovecot-copy")
            copy_maildir(os.path.join(d.mail, "alice"), copy, d)
            theirs = dovecot_session(copy, d.user, cmds)
            self.compare(mine, theirs, cmds)
            self.assertIn(b"\r\n..a dot\r\n", mine)

    def test_dovecot_assigns_uids_first(self):
        """A user migrated from Dovecot keeps the UIDLs the client saw."""
        with pop3_daemon("keep") as d:
            self.fill(d)
            root = os.path.join(d.mail, "alice")
            copy = os.path.join(d.dir, "dovecot-copy")
            copy_maildir(root, copy, d)
            cmds = commands(len(FIXTURE))
            theirs = dovecot_session(copy, d.user, cmds)
            # Dovecot's state (dovecot-uidlist, cur/ names) becomes ours
            shutil.rmtree(root)
            copy_maildir(copy, root, d)
            mine = merpati_session(d, cmds)
            self.compare(mine, theirs, cmds)
            # and again after Merpati's session touched the folder
            theirs2 = dovecot_session(copy, d.user, ["UIDL"])
            mine2 = merpati_session(d, ["UIDL"])
            self.assertEqual(split_responses(mine2, ["UIDL"])[0][2],
                             split_responses(theirs2, ["UIDL"])[0][2])


if __name__ == "__main__":
    main()
