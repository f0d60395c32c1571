# SPDX-License-Identifier: GPL-2.0-or-later
"""Session commands: ID (RFC 2971) before and after login, with the
client's fields logged escaped; ENABLE (RFC 5161: authenticated state
only, unknown names ignored); NAMESPACE (RFC 2342); the CAPABILITY lists
before and after login."""

import unittest

from harness import main
from imap_util import imap_daemon, raw_login


class ImapSession(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_id(self):
        c = self.d.imap()
        c.expect(r"^\* OK ")
        c.cmd('i1 ID ("name" "Thunderbird" "version" "128.0" "x ip" "a=b\x7f")')
        self.assertRegex(c.readline(), r'^\* ID \("name" "Merpati" "version" "[0-9.]+"\)$')
        self.assertEqual(c.readline(), "i1 OK ID completed")
        self.d.wait_log(r'event=client_id name=Thunderbird version=128\.0 '
                        r'"x ip"="a=b\\x7f"')
        c.cmd("i2 ID NIL")
        c.readline()
        self.assertEqual(c.readline(), "i2 OK ID completed")
        c.cmd('i3 ID ("name")')
        self.assertRegex(c.readline(), r"^i3 BAD ")
        c.cmd("i4 ID")
        self.assertRegex(c.readline(), r"^i4 BAD ")

    def test_enable_and_namespace(self):
        c = self.d.imap()
        c.expect(r"^\* OK ")
        c.cmd("e0 ENABLE FOO")
        self.assertRegex(c.readline(), r"^e0 BAD .*before login")
        c.cmd("l LOGIN alice secret")
        c.expect("^l OK")
        c.cmd("e1 ENABLE X-UNKNOWN")  # unknown names are ignored
        self.assertEqual(c.read_until_tagged("e1"), ["* ENABLED", "e1 OK ENABLE completed"])
        c.cmd("e2 ENABLE")
        self.assertRegex(c.readline(), r"^e2 BAD ")
        c.cmd("n1 NAMESPACE")
        self.assertEqual(c.read_until_tagged("n1"),
                         ['* NAMESPACE (("" "/")) NIL NIL', "n1 OK NAMESPACE completed"])
        c.cmd("s1 SELECT INBOX")
        c.read_until_tagged("s1")
        c.cmd("e3 ENABLE X-UNKNOWN")  # RFC 5161 3.1: not in SELECTED
        self.assertRegex(c.readline(), r"^e3 BAD ")

    def test_capabilities(self):
        c = self.d.imap()
        greeting = c.readline()
        pre = greeting.split("[CAPABILITY ")[1].split("]")[0].split()
        for cap in ("IMAP4rev1", "STARTTLS", "LITERAL-", "ID", "ENABLE", "SASL-IR"):
            self.assertIn(cap, pre)
        self.assertNotIn("IDLE", pre)
        c.cmd("l LOGIN alice secret")
        ok = c.readline()
        post = ok.split("[CAPABILITY ")[1].split("]")[0].split()
        for cap in ("IMAP4rev1", "LITERAL+", "IDLE", "UIDPLUS", "MOVE", "UNSELECT",
                    "CHILDREN", "MULTIAPPEND", "ID", "ENABLE", "NAMESPACE"):
            self.assertIn(cap, post)
        self.assertTrue(any(x.startswith("APPENDLIMIT=") for x in post))
        self.assertNotIn("STARTTLS", post)
        self.assertNotIn("LITERAL-", post)


if __name__ == "__main__":
    main()
