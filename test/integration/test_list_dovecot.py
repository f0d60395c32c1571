# SPDX-License-Identifier: GPL-2.0-or-later
"""LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), STATUS=SIZE
(RFC 8438), LSUB and SPECIAL-USE (RFC 6154) against Dovecot, the reference, on copies of one Maildir.

The Maildir has nested folders, a level that exists only as the parent
of another (".C.D" without ".C"), an 8-bit name (mUTF-7), messages in
new/ and cur/ with \\Seen and \\Deleted, and subscriptions to folders,
to a parent of one and to names that do not exist. Dovecot (Debian's
dovecot-imapd, /usr/lib/dovecot/imap pre-authenticated, '/' as separator)
and Merpati (no first-login folders) each answer the same commands; the
untagged lines must be the same sets (STATUS items compared in any
order: Dovecot sorts them, Merpati keeps the client's order). Merpati adds \\Marked / \\Unmarked
to LIST, which Dovecot leaves out (RFC 3501 7.2.2: optional); they are
removed before comparing and checked in test_imap_list.py."""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import main
from imap_util import imap_daemon, raw_login
from test_mime_dovecot import DOVECOT_IMAP, mail_user

FOLDERS = ["", ".A", ".A.B", ".A.B.C", ".C.D", ".Sent", ".E", ".E.F",
           ".E.F.G", ".B&AOQ-r", ".Z-x", ".Z", ".Z.y"]
MESSAGES = [  # (folder, sub, name, data)
    (".A", "cur", "1.M1P1.h:2,S", b"Subject: x\n\nhello\n"),
    (".A", "cur", "2.M2P1.h:2,T", b"Subject: y\n\nhello there\n"),
    (".A", "cur", "3.M3P1.h:2,ST", b"Subject: w\r\n\r\nhello\r\n"),
    (".A", "new", "4.M4P1.h", b"Subject: z\n\nhi\n"),
    ("", "cur", "5.M5P1.h:2,", b"Subject: inbox\n\n" + b"line\n" * 300),
    ("", "new", "6.M6P1.h", b"Subject: inbox2\n\nx\n"),
    (".E.F.G", "cur", "7.M7P1.h:2,FS", b"Subject: g\n\n" + b"y" * 5000 + b"\n"),
    (".B&AOQ-r", "cur", "8.M8P1.h:2,S", b"Subject: b\n\nb\n"),
]
SUBSCRIPTIONS = ("V\t2\n\nA\tB\nC\tD\nX\nSent\nE\nE\tF\tG\nQ\tR\nINBOX\n"
                 "B&AOQ-r\nZ\ty\n")

COMMANDS = [
    'LIST "" "*"',
    'LIST "" "%"',
    'LIST "" "A/%"',
    'LIST "A/" "*"',
    'LIST (SUBSCRIBED) "" "*"',
    'LIST (SUBSCRIBED) "" "%"',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "E/%"',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"',
    'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)',
    'LIST (SUBSCRIBED REMOTE) "" "%" RETURN (CHILDREN)',
    'LIST (REMOTE) "" "*"',
    'LIST () "" "%" RETURN ()',
    'LIST "" "*" RETURN (SUBSCRIBED)',
    'LIST "" "*" RETURN (CHILDREN)',
    'LIST "" "%" RETURN (SUBSCRIBED CHILDREN)',
    'LIST "" ("A" "C*" "X" "E/%")',
    'LIST (SUBSCRIBED) "" ("A*" "C/D" "X" "Q/%") RETURN (CHILDREN)',
    'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN SIZE UIDNEXT))',
    'LIST (SUBSCRIBED) "" "*" RETURN (STATUS (MESSAGES SIZE) CHILDREN)',
    'LIST "" "%" RETURN (CHILDREN STATUS (UNSEEN MESSAGES))',
    'LIST "" "B&AOQ-r" RETURN (STATUS (SIZE))',
    'LIST "" "nothing*" RETURN (STATUS (SIZE))',
    'LIST "" ""',
    'LSUB "" "*"',
    'LSUB "" "%"',
    'LSUB "" "E/%"',
    'LIST "" "*" RETURN (SPECIAL-USE)',
    'LIST (SPECIAL-USE) "" "*"',
    'LIST (SPECIAL-USE) "" "*" RETURN (CHILDREN STATUS (MESSAGES))',
    'STATUS A (MESSAGES UNSEEN SIZE UIDNEXT)',
    'STATUS INBOX (SIZE MESSAGES)',
    'STATUS E/F/G (SIZE)',
    'STATUS E (SIZE)',
    'STATUS B&AOQ-r (SIZE UNSEEN)',
]


def build(maildir, uid, gid):
    for f in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, f, sub), exist_ok=True)
    for folder, sub, name, data in MESSAGES:
        with open(os.path.join(maildir, folder, sub, name), "wb") as f:
            f.write(data)
    with open(os.path.join(maildir, "subscriptions"), "w") as f:
        f.write(SUBSCRIPTIONS)
    for dirpath, _, names in os.walk(maildir):
        os.chown(dirpath, uid, gid)
        for n in names:
            os.chown(os.path.join(dirpath, n), uid, gid)


def normalize(lines):
    """Untagged lines as a sorted list; \\Marked / \\Unmarked dropped,
    attributes sorted."""
    out = []
    for line in lines:
        line = re.sub(r" ?\\(Un)?[Mm]arked", "", line)
        m = re.match(r"^\* (LIST|LSUB) \(([^)]*)\)(.*)$", line)
        if m:
            attrs = " ".join(sorted(a.lower() for a in m.group(2).split()))
            line = "* %s (%s)%s" % (m.group(1), attrs, m.group(3))
        m = re.match(r"^(\* STATUS \S+) \((.*)\)$", line)
        if m:  # Dovecot sorts the items, we keep the client's order
            items = re.findall(r"(\S+) (\d+)", m.group(2))
            line = "%s (%s)" % (m.group(1), " ".join(
                "%s %s" % kv for kv in sorted(items)))
        out.append(line.replace("( ", "("))
    return sorted(out)


def dovecot_run(work, commands):
    pw = mail_user()
    maildir = os.path.join(work, "Maildir")
    build(maildir, pw.pw_uid, pw.pw_gid)
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("protocols = imap\nssl = no\nmail_location = maildir:%s\n"
                "log_path = /dev/stderr\nbase_dir = %s/run\n"
                "state_dir = %s/run\nfirst_valid_uid = 0\n"
                "namespace inbox {\n  separator = /\n  inbox = yes\n"
                "  mailbox Sent {\n    special_use = \\Sent\n  }\n}\n"
                % (maildir, work, work))
    for dirpath, _, names in os.walk(work):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for n in names:
            os.chown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)
    drop = []
    if os.geteuid() == 0:
        drop = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                "--clear-groups"]
    script = "".join("t%d %s\r\n" % (i, c) for i, c in enumerate(commands))
    script += "z LOGOUT\r\n"
    p = subprocess.run(drop + ["env", "-i", "USER=test", "HOME=" + work,
                               "PATH=/usr/bin:/bin", DOVECOT_IMAP, "-c", conf],
                       input=script.encode(), capture_output=True, cwd=work,
                       timeout=60)
    replies, cur = {}, []
    for line in p.stdout.decode("utf-8", "replace").split("\r\n"):
        m = re.match(r"^t(\d+) ", line)
        if m:
            replies[int(m.group(1))] = (cur, line)
            cur = []
        elif line.startswith("* ") and not line.startswith("* PREAUTH"):
            cur.append(line)
    return replies


class ListDovecot(unittest.TestCase):
    maxDiff = None

    def test_same_answers(self):
        if not os.access(DOVECOT_IMAP, os.X_OK):
            raise AssertionError("%s missing: install Debian's dovecot-imapd"
                                 % DOVECOT_IMAP)
        work = tempfile.mkdtemp(prefix="dovecot-list-")
        os.chmod(work, 0o755)
        none = {k: "" for k in ("folder_sent", "folder_drafts", "folder_trash",
                                "folder_junk", "folder_archive")}
        try:
            want = dovecot_run(work, COMMANDS)
            with imap_daemon(sections={"imap": none}) as d:
                pw = pwd.getpwnam(d.user)
                build(os.path.join(d.mail, "alice"), pw.pw_uid, pw.pw_gid)
                # Merpati's use of Sent, as Dovecot's config gives it
                with open(os.path.join(d.mail, "alice", ".Sent",
                                       "merpati-special-use"), "w") as f:
                    f.write("\\Sent\n")
                os.chown(os.path.join(d.mail, "alice", ".Sent",
                                      "merpati-special-use"),
                         pw.pw_uid, pw.pw_gid)
                c = raw_login(d)
                self.assertRegex(" ".join(self.caps(c)),
                                 r"LIST-EXTENDED LIST-STATUS STATUS=SIZE")
                for i, command in enumerate(COMMANDS):
                    c.cmd("t%d %s" % (i, command))
                    lines = c.read_until_tagged("t%d" % i)
                    ours, ok = lines[:-1], lines[-1]
                    theirs, their_ok = want[i]
                    self.assertRegex(ok, r"^t%d OK " % i, command)
                    self.assertRegex(their_ok, r"^t%d OK " % i, command)
                    self.assertEqual(normalize(ours), normalize(theirs),
                                     command)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def caps(self, c):
        c.cmd("c CAPABILITY")
        return c.read_until_tagged("c")


if __name__ == "__main__":
    main()
