# SPDX-License-Identifier: GPL-2.0-or-later
"""SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154): the folders made at a
user's first login under the names of [imap] folder_*, the attributes in
LIST, in LIST-EXTENDED on request (RETURN (SPECIAL-USE), the SPECIAL-USE
selection option) and in LSUB (Outlook), CREATE ... (USE (...)), and
the use following a folder through RENAME and a restart."""

import os
import subprocess
import unittest

from harness import main
from imap_util import USERS, imap_daemon, maildrop, raw_login

MSG = b"From: a@example.org\nSubject: draft\n\nbody\n"
NAMES = {"folder_sent": "Sent Items", "folder_trash": "Deleted Items",
         "folder_junk": ""}


def run(c, line):
    c.cmd(line)
    return c.read_until_tagged(line.split()[0])


class SpecialUse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon(sections={"imap": dict(NAMES)},
                            users=USERS + ["carol:{PLAIN}pw::::::"])
        # bob has a Drafts folder with a message already: it gets the use
        root = maildrop(cls.d, "bob")
        drafts = os.path.join(root, ".Drafts")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(drafts, sub))
        with open(os.path.join(drafts, "cur", "1.M1P1.host:2,S"), "wb") as f:
            f.write(MSG)
        for dirpath, _, files in os.walk(root):
            os.chown(dirpath, *cls.owner())
            for n in files:
                os.chown(os.path.join(dirpath, n), *cls.owner())

    @classmethod
    def owner(cls):
        st = os.stat(cls.d.mail)
        return st.st_uid, st.st_gid

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_capability(self):
        c = self.d.imap()
        greeting = c.readline()
        self.assertNotIn("SPECIAL-USE", greeting)
        c.cmd("l LOGIN alice secret")
        ok = c.readline()
        self.assertRegex(ok, r"^l OK \[CAPABILITY .* SPECIAL-USE "
                             r"CREATE-SPECIAL-USE .*\] Logged in$")

    def carol(self):
        c = self.d.imap()
        c.expect(r"^\* OK ")
        c.cmd("l0 LOGIN carol pw")
        c.expect(r"^l0 OK ")
        return c

    def test_first_login_folders(self):
        c = self.carol()
        self.assertEqual(run(c, 'a LIST "" "*"'), [
            '* LIST (\\HasNoChildren \\Unmarked) "/" INBOX',
            '* LIST (\\HasNoChildren \\Unmarked \\Archive) "/" Archive',
            '* LIST (\\HasNoChildren \\Unmarked \\Trash) "/" "Deleted Items"',
            '* LIST (\\HasNoChildren \\Unmarked \\Drafts) "/" Drafts',
            '* LIST (\\HasNoChildren \\Unmarked \\Sent) "/" "Sent Items"',
            "a OK LIST completed"])
        # subscribed, and shown with their uses in LSUB (Outlook)
        self.assertEqual(sorted(run(c, 'b LSUB "" "*"')[:-1]), [
            '* LSUB (\\Archive) "/" Archive',
            '* LSUB (\\Drafts) "/" Drafts',
            '* LSUB (\\Sent) "/" "Sent Items"',
            '* LSUB (\\Trash) "/" "Deleted Items"'])
        root = os.path.join(self.d.mail, "carol")
        with open(os.path.join(root, ".Sent Items", "merpati-special-use")) as f:
            self.assertEqual(f.read(), "\\Sent\n")
        self.assertTrue(os.path.exists(
            os.path.join(root, "merpati-special-use-done")))
        # deleting one is the user's choice: the next login leaves it gone
        self.assertEqual(run(c, "c DELETE Archive"), ["c OK DELETE completed"])
        c = self.carol()
        self.assertEqual(run(c, 'd LIST "" "Arch*"'), ["d OK LIST completed"])

    def test_existing_folder_gets_the_use(self):
        c = raw_login(self.d, "bob")
        self.assertEqual(run(c, 'a LIST "" "Drafts" RETURN (SPECIAL-USE)'), [
            '* LIST (\\Marked \\Drafts) "/" Drafts',
            "a OK LIST completed"])
        self.assertEqual(run(c, "b STATUS Drafts (MESSAGES)"), [
            "* STATUS Drafts (MESSAGES 1)", "b OK STATUS completed"])

    def test_apple_mail(self):
        # Apple Mail: ID first, then LIST "" "*" RETURN (SPECIAL-USE)
        c = self.d.imap()
        c.expect(r"^\* OK ")
        c.cmd('i ID ("name" "Mac OS X Mail" "version" "16.0")')
        c.expect(r"^\* ID ")
        c.expect(r"^i OK ")
        c.cmd("l LOGIN bob hunter2")
        c.expect(r"^l OK ")
        lines = run(c, 'a LIST "" "*" RETURN (SPECIAL-USE)')
        self.assertEqual(lines, [
            '* LIST (\\Unmarked) "/" INBOX',
            '* LIST (\\Unmarked \\Archive) "/" Archive',
            '* LIST (\\Unmarked \\Trash) "/" "Deleted Items"',
            '* LIST (\\Marked \\Drafts) "/" Drafts',
            '* LIST (\\Unmarked \\Sent) "/" "Sent Items"',
            "a OK LIST completed"])

    def test_selection_option(self):
        c = raw_login(self.d, "bob")
        self.assertEqual(run(c, 'a LIST (SPECIAL-USE) "" "*" RETURN (CHILDREN)'), [
            '* LIST (\\HasNoChildren \\Unmarked \\Archive) "/" Archive',
            '* LIST (\\HasNoChildren \\Unmarked \\Trash) "/" "Deleted Items"',
            '* LIST (\\HasNoChildren \\Marked \\Drafts) "/" Drafts',
            '* LIST (\\HasNoChildren \\Unmarked \\Sent) "/" "Sent Items"',
            "a OK LIST completed"])
        # LIST-EXTENDED without SPECIAL-USE: no use attributes
        self.assertEqual(run(c, 'b LIST () "" "Sent*"'), [
            '* LIST (\\Unmarked) "/" "Sent Items"', "b OK LIST completed"])

    def test_create_use_rename_restart(self):
        c = raw_login(self.d, "alice")
        self.assertEqual(run(c, "a CREATE Papers (USE (\\Archive))"),
                         ["a OK CREATE completed"])
        self.assertEqual(run(c, "b CREATE Both (USE (\\Junk \\Sent))"),
                         ["b OK CREATE completed"])
        self.assertEqual(run(c, "c RENAME Papers Old/Papers"),
                         ["c OK RENAME completed"])
        # refused: virtual uses Merpati has not, unknown ones, bad syntax
        self.assertEqual(run(c, "d CREATE V (USE (\\All))"),
                         ["d NO [USEATTR] Unsupported special use"])
        self.assertEqual(run(c, "e CREATE V (USE (\\Foo))"),
                         ["e NO [USEATTR] Unsupported special use"])
        self.assertEqual(run(c, "f CREATE V (USE \\Sent)"),
                         ["f BAD CREATE takes a name and (USE (...))"])
        self.assertEqual(run(c, 'g LIST "" "V"'), ["g OK LIST completed"])
        self.d.stop()
        self.d.start()
        c = raw_login(self.d, "alice")
        self.assertEqual(run(c, 'h LIST "" "Old/*"'), [
            '* LIST (\\HasNoChildren \\Unmarked \\Archive) "/" Old/Papers',
            "h OK LIST completed"])
        self.assertEqual(run(c, 'i LIST (SPECIAL-USE) "" "B*"'), [
            '* LIST (\\Unmarked \\Junk \\Sent) "/" Both',
            "i OK LIST completed"])
        self.assertEqual(run(c, "j DELETE Both"), ["j OK DELETE completed"])
        self.assertEqual(run(c, "k CREATE Both"), ["k OK CREATE completed"])
        self.assertEqual(run(c, 'l LIST "" "Both"'), [
            '* LIST (\\HasNoChildren \\Unmarked) "/" Both',
            "l OK LIST completed"])

    def test_config_refuses_bad_name(self):
        conf = dict(self.d.config)
        conf["imap"] = {"folder_sent": "a//b"}
        path = os.path.join(self.d.dir, "bad.conf")
        with open(path, "w") as f:
            for section, values in conf.items():
                f.write("[%s]\n" % section)
                for k, v in values.items():
                    f.write("%s = %s\n" % (k, v))
        p = subprocess.run([os.environ.get("MERPATID", "merpatid"), "-t",
                            "-c", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("imap: invalid folder name 'a//b'", p.stderr)


if __name__ == "__main__":
    main()
