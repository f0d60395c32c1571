# SPDX-License-Identifier: GPL-2.0-or-later
"""LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), \\Marked and
\\Unmarked (RFC 3501 7.2.2), STATUS SIZE (RFC 8438) and DELETED (RFC
9051 6.3.11): exact responses, errors, and the marks following
deliveries and selections. test_list_dovecot.py compares the same
commands with Dovecot."""

import os
import unittest

from harness import main
from imap_util import PASSWORDS, USERS, imap_daemon, maildrop, put_message, raw_login

NONE = {k: "" for k in ("folder_sent", "folder_drafts", "folder_trash",
                        "folder_junk", "folder_archive")}
MSG = b"From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"  # 46 octets


def run(c, line):
    c.cmd(line)
    return c.read_until_tagged(line.split()[0])


class ImapList(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        PASSWORDS["carol"] = "pw"
        cls.d = imap_daemon(sections={"imap": NONE},
                            users=USERS + ["carol:{PLAIN}pw::::::"])
        c = raw_login(cls.d, "bob")
        for name in ("Fruit", "Fruit/Apple", "Fruit/Banana", "Tofu",
                     "Vegetable", "Vegetable/Broccoli", "Vegetable/Corn"):
            run(c, "c CREATE " + name)
        for name in ("Fruit/Banana", "Fruit/Peach", "Vegetable",
                     "Vegetable/Broccoli"):
            run(c, "s SUBSCRIBE " + name)
        run(c, "x LOGOUT")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_capability(self):
        c = raw_login(self.d, "bob")
        caps = run(c, "c CAPABILITY")[0].split()
        for cap in ("LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE"):
            self.assertIn(cap, caps)

    def test_rfc5258_examples(self):
        # RFC 5258 5, examples 3 to 6, on the RFC's folders
        c = raw_login(self.d, "bob")
        self.assertEqual(run(c, 'b LIST (SUBSCRIBED) "" "*"'), [
            '* LIST (\\Subscribed \\Unmarked) "/" Fruit/Banana',
            '* LIST (\\Subscribed \\NonExistent) "/" Fruit/Peach',
            '* LIST (\\Subscribed \\Unmarked) "/" Vegetable',
            '* LIST (\\Subscribed \\Unmarked) "/" Vegetable/Broccoli',
            "b OK LIST completed"])
        self.assertEqual(run(c, 'c LIST "" "%" RETURN (CHILDREN)'), [
            '* LIST (\\HasNoChildren \\Unmarked) "/" INBOX',
            '* LIST (\\HasChildren \\Unmarked) "/" Fruit',
            '* LIST (\\HasNoChildren \\Unmarked) "/" Tofu',
            '* LIST (\\HasChildren \\Unmarked) "/" Vegetable',
            "c OK LIST completed"])
        self.assertEqual(run(c, 'd LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" '
                                'RETURN (CHILDREN)'), [
            '* LIST (\\HasChildren \\Unmarked) "/" Fruit '
            '(CHILDINFO ("SUBSCRIBED"))',
            '* LIST (\\Subscribed \\HasChildren \\Unmarked) "/" Vegetable '
            '(CHILDINFO ("SUBSCRIBED"))',
            "d OK LIST completed"])
        self.assertEqual(run(c, 'e LIST (SUBSCRIBED) "" "%" RETURN (CHILDREN)'), [
            '* LIST (\\Subscribed \\HasChildren \\Unmarked) "/" Vegetable',
            "e OK LIST completed"])
        # several patterns, RETURN (SUBSCRIBED), REMOTE changes nothing
        self.assertEqual(run(c, 'f LIST (REMOTE) "" ("Tofu" "Fruit/%" "Peach") '
                                'RETURN (SUBSCRIBED)'), [
            '* LIST (\\Unmarked) "/" Fruit/Apple',
            '* LIST (\\Subscribed \\Unmarked) "/" Fruit/Banana',
            '* LIST (\\Unmarked) "/" Tofu',
            "f OK LIST completed"])

    def test_errors(self):
        c = raw_login(self.d, "bob")
        for line, reason in (
                ('a LIST (RECURSIVEMATCH) "" "*"',
                 "RECURSIVEMATCH needs another selection option"),
                ('a LIST (FOO) "" "*"', "Unknown LIST option"),
                ('a LIST "" "*" RETURN (FOO)', "Unknown LIST option"),
                ('a LIST "" "*" RETURN (STATUS (FOO))', "Unknown STATUS item"),
                ('a LIST "" "*" RETURN (STATUS)', "STATUS needs a list of items"),
                ('a LIST "" "*" RETURN', "Invalid LIST arguments"),
                ('a LIST "" "*" FOO (CHILDREN)', "Invalid LIST arguments"),
                ('a LIST "" ()', "LIST needs one to 32 patterns"),
                ('a LIST ""', "LIST needs a reference and a pattern")):
            self.assertEqual(run(c, line), ["a BAD " + reason], line)
        self.assertEqual(run(c, 'b LIST "" ""'), [
            '* LIST (\\Noselect) "/" ""', "b OK LIST completed"])
        self.assertEqual(run(c, 'b LIST (SUBSCRIBED) "" ""'), [
            "b OK LIST completed"])

    def test_list_status_and_sizes(self):
        root = maildrop(self.d, "alice")
        c = raw_login(self.d, "alice")
        run(c, "c CREATE Box")
        run(c, "c CREATE Parent/Child")
        for _ in range(3):
            c.cmd("a APPEND Box (\\Seen) {%d}" % len(MSG))
            c.expect(r"^\+ ")
            c.send(MSG.decode() + "\r\n")
            c.expect(r"^a OK ")
        put_message(self.d, b"Subject: lf\n\nline\n", flags="T")  # 18 + 3 CR
        put_message(self.d, b"Subject: new\n\nx\n")
        run(c, "s SELECT Box")
        run(c, "t STORE 1:2 +FLAGS (\\Deleted)")
        run(c, "u UNSELECT")
        self.assertEqual(run(c, "a STATUS Box (SIZE DELETED MESSAGES UNSEEN)"), [
            "* STATUS Box (SIZE 135 DELETED 2 MESSAGES 3 UNSEEN 0)",
            "a OK STATUS completed"])
        self.assertEqual(run(c, "b STATUS INBOX (DELETED SIZE)"), [
            "* STATUS INBOX (DELETED 1 SIZE 40)", "b OK STATUS completed"])
        self.assertEqual(run(c, 'c LIST "" "*" RETURN (STATUS (MESSAGES '
                                'DELETED SIZE) CHILDREN)'), [
            '* LIST (\\HasNoChildren \\Marked) "/" INBOX',
            "* STATUS INBOX (MESSAGES 2 DELETED 1 SIZE 40)",
            '* LIST (\\HasNoChildren \\Unmarked) "/" Box',
            "* STATUS Box (MESSAGES 3 DELETED 2 SIZE 135)",
            '* LIST (\\HasChildren \\Unmarked) "/" Parent',
            "* STATUS Parent (MESSAGES 0 DELETED 0 SIZE 0)",
            '* LIST (\\HasNoChildren \\Unmarked) "/" Parent/Child',
            "* STATUS Parent/Child (MESSAGES 0 DELETED 0 SIZE 0)",
            "c OK LIST completed"])
        self.assertTrue(os.path.isdir(os.path.join(root, ".Box")))

    def test_marked(self):
        c = raw_login(self.d, "carol")
        run(c, "c CREATE Inbound")
        self.assertEqual(run(c, 'a LIST "" "Inbound"'), [
            '* LIST (\\HasNoChildren \\Unmarked) "/" Inbound',
            "a OK LIST completed"])
        # delivered by an MTA into new/: marked, for every session
        root = maildrop(self.d, "carol")
        path = put_message(self.d, MSG, user="carol")
        os.rename(path, os.path.join(root, ".Inbound", "new",
                                     os.path.basename(path)))
        self.assertEqual(run(c, 'b LIST "" "Inbound"'), [
            '* LIST (\\HasNoChildren \\Marked) "/" Inbound',
            "b OK LIST completed"])
        # STATUS sees the message (it moves to cur/): still marked
        run(c, "s STATUS Inbound (MESSAGES)")
        self.assertEqual(run(c, 'c LIST "" "Inbound"'), [
            '* LIST (\\HasNoChildren \\Marked) "/" Inbound',
            "c OK LIST completed"])
        # a selection clears it, for other sessions too
        run(c, "e EXAMINE Inbound")
        run(c, "u UNSELECT")
        other = raw_login(self.d, "carol")
        self.assertEqual(run(other, 'd LIST "" "Inbound"'), [
            '* LIST (\\HasNoChildren \\Unmarked) "/" Inbound',
            "d OK LIST completed"])
        # an APPEND from another session marks it again
        other.cmd("a APPEND Inbound {%d}" % len(MSG))
        other.expect(r"^\+ ")
        other.send(MSG.decode() + "\r\n")
        other.expect(r"^a OK ")
        self.assertEqual(run(c, 'f LIST "" "Inbound"'), [
            '* LIST (\\HasNoChildren \\Marked) "/" Inbound',
            "f OK LIST completed"])


if __name__ == "__main__":
    main()
