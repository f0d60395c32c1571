# SPDX-License-Identifier: GPL-2.0-or-later
"""Users come from the auth module (issue 9, item 5): `merpati deliver` and
`merpati ls` look the user up in the configured userdb. An unknown user is
exit 67 and nothing is created; a passwd-file entry's userdb_mail= decides
where deliver writes and where POP3 reads; checkpassword-only setups
deliver only into a Maildir that exists already."""

import os
import subprocess
import unittest

from harness import main
from storage_util import MERPATI, MailEnv
from test_pop3 import chown_to_daemon, crlf, login, pop3_daemon

MSG = b"From: a@example.org\nSubject: users\n\nbody\n"


def tree(path):
    """Every path below path (relative), sorted."""
    out = []
    for base, dirs, files in os.walk(path):
        for n in dirs + files:
            out.append(os.path.relpath(os.path.join(base, n), path))
    return sorted(out)


class DeliverUsers(unittest.TestCase):
    def setUp(self):
        self.env = MailEnv()
        self.addCleanup(self.env.cleanup)

    def test_unknown_user_is_67_and_creates_nothing(self):
        env = self.env
        env.add_user("alice@example.org")
        before = tree(env.dir)
        for name in ("nosuchuser", "nosuchuser@example.org", "bob@example.org"):
            p = env.merpati("deliver", name, stdin=MSG, check=False)
            self.assertEqual(p.returncode, 67, p.stderr)
            self.assertIn(b"unknown user", p.stderr)
            p = env.merpati("ls", name, check=False)
            self.assertEqual(p.returncode, 67, p.stderr)
        self.assertEqual(tree(env.dir), before)
        self.assertFalse(os.path.exists(os.path.join(env.dir, "mail")))
        # the known user still gets mail at the mail.root template
        p = env.merpati("deliver", "alice@example.org", stdin=MSG, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(os.listdir(os.path.join(env.root("alice@example.org"), "new"))), 1)

    def test_unreadable_userdb_is_75(self):
        env = self.env
        os.unlink(env.users_file)
        p = env.merpati("deliver", "alice@example.org", stdin=MSG, check=False)
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(env.dir, "mail")))

    def test_userdb_mail_decides_the_location(self):
        env = self.env
        other = os.path.join(env.dir, "elsewhere", "carol-box")
        env.add_user("carol@example.org", extra="userdb_mail=maildir:%s:LAYOUT=fs" % other)
        env.add_user("dora@example.org", fields=":::%s" % os.path.join(env.dir, "homes", "dora"),
                     extra="mail=~/Maildir")
        os.makedirs(os.path.join(env.dir, "elsewhere"))
        os.makedirs(os.path.join(env.dir, "homes", "dora"))
        if os.geteuid() == 0:
            for d in ("elsewhere", "homes", "homes/dora"):
                os.chown(os.path.join(env.dir, d), env.uid, env.gid)
        for user in ("carol@example.org", "dora@example.org"):
            p = env.merpati("deliver", user, stdin=MSG, check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(os.listdir(os.path.join(other, "new"))), 1)
        self.assertEqual(len(os.listdir(os.path.join(env.dir, "homes", "dora", "Maildir", "new"))), 1)
        self.assertFalse(os.path.exists(os.path.join(env.dir, "mail")))
        self.assertEqual([r[2] for r in env.ls("carol@example.org")], [len(crlf(MSG))])

    def test_template_expansion_still_checked(self):
        """A name that would put its root inside another Maildir is
        refused even though the userdb knows it."""
        env = self.env
        for name in ("cur@alice", "alice@tmp", "bob"):  # bob: empty %d
            p = env.deliver(name, MSG)
            self.assertEqual(p.returncode, 67, p.stderr)
            self.assertIn(b"mail.root", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(env.dir, "mail")))

    def test_checkpassword_only_needs_an_existing_maildir(self):
        env = self.env
        with open(env.conf) as f:
            conf = f.read()
        conf = conf.replace("backend = passwd-file %s" % env.users_file,
                            "backend = checkpassword /bin/false")
        with open(env.conf, "w") as f:
            f.write(conf)
        p = env.merpati("deliver", "erin@example.org", stdin=MSG, check=False)
        self.assertEqual(p.returncode, 67, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(env.dir, "mail")))
        root = env.root("erin@example.org")
        os.makedirs(root)
        if os.geteuid() == 0:
            for d in (os.path.join(env.dir, "mail"), os.path.dirname(root), root):
                os.chown(d, env.uid, env.gid)
        p = env.merpati("deliver", "erin@example.org", stdin=MSG, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(os.listdir(os.path.join(root, "new"))), 1)


class Pop3Location(unittest.TestCase):
    def test_pop3_serves_the_userdb_mail_location(self):
        with pop3_daemon("keep") as d:
            other = os.path.join(d.mail, "elsewhere", "alice-box")
            os.makedirs(os.path.dirname(other))
            chown_to_daemon(d, os.path.dirname(other))
            with open(d.users_file, "w") as f:
                f.write("alice:{PLAIN}secret::::::userdb_mail=maildir:%s\n" % other)
            p = subprocess.run([MERPATI, "deliver", "-c", d.conf_path, "alice"],
                               input=MSG, capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.assertEqual(len(os.listdir(os.path.join(other, "new"))), 1)
            self.assertFalse(os.path.exists(os.path.join(d.mail, "alice")))
            p = login(d)
            self.assertEqual(p.list()[1], [b"1 %d" % len(crlf(MSG))])
            self.assertEqual(b"\r\n".join(p.retr(1)[1]) + b"\r\n", crlf(MSG))
            p.quit()
            self.assertFalse(os.path.exists(os.path.join(d.mail, "alice")))


if __name__ == "__main__":
    main()
