# SPDX-License-Identifier: GPL-2.0-or-later
"""The login module both front-ends share (protocols/login/login.h):
auth.max_failures means the same in IMAP and POP3 (0: never hang up, N:
hang up at the Nth failure), and reply codes come from the auth client's
error class, never from the reason text: a malformed SASL exchange is BAD
in IMAP and a code-less -ERR in POP3, a refusal NO [AUTHENTICATIONFAILED]
/ -ERR [AUTH]."""

import base64
import unittest

import harness
from test_auth import pw


def b64(data):
    return base64.b64encode(data).decode()


def drain(c):
    lines = []
    while True:
        line = c.readline()
        if line is None:
            return lines
        lines.append(line)


class LoginCommonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.users = ["alice:" + pw("secret", "SHA512-CRYPT", 1000)]

    def daemon(self, max_failures):
        auth = {"plaintext": "always", "penalty_max": "0", "max_failures": str(max_failures)}
        return harness.Daemon(sections={"auth": auth}, users=self.users)

    def test_max_failures_zero_never_hangs_up(self):
        with self.daemon(0) as d:
            c = d.imap()
            c.expect(r"^\* OK ")
            for i in range(6):
                c.cmd("a%d LOGIN alice wrong" % i)
                self.assertRegex(c.read_until_tagged("a%d" % i)[-1],
                                 r"^a%d NO \[AUTHENTICATIONFAILED\] " % i)
            c.cmd("b LOGIN alice secret")
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b OK ")
            p = d.pop3()
            p.expect(r"^\+OK")
            for _ in range(6):
                p.cmd("USER alice")
                p.expect(r"^\+OK")
                p.cmd("PASS wrong")
                self.assertEqual(p.readline(), "-ERR [AUTH] Authentication failed")
            p.cmd("USER alice")
            p.expect(r"^\+OK")
            p.cmd("PASS secret")
            p.expect(r"^\+OK")
            p.cmd("QUIT")
            p.expect(r"^\+OK")

    def test_max_failures_two_hangs_up_at_the_second_in_both(self):
        with self.daemon(2) as d:
            c = d.imap()
            c.expect(r"^\* OK ")
            c.cmd("a LOGIN alice wrong")
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a NO \[AUTHENTICATIONFAILED\]")
            c.cmd("b LOGIN alice wrong")
            self.assertEqual(drain(c), ["b NO [AUTHENTICATIONFAILED] Authentication failed",
                                        "* BYE Too many failed logins"])
            p = d.pop3()
            p.expect(r"^\+OK")
            p.cmd("USER alice")
            p.expect(r"^\+OK")
            p.cmd("PASS wrong")
            self.assertEqual(p.readline(), "-ERR [AUTH] Authentication failed")
            p.cmd("USER alice")
            p.expect(r"^\+OK")
            p.cmd("PASS wrong")
            self.assertEqual(drain(p), ["-ERR [AUTH] Authentication failed"])

    def test_error_class_mapping(self):
        with self.daemon(10) as d:
            c = d.imap()
            c.expect(r"^\* OK ")
            # malformed: a bad initial response, a bad continuation
            c.cmd("a AUTHENTICATE PLAIN %%%%")
            self.assertEqual(c.read_until_tagged("a")[-1],
                             "a BAD Invalid base64 data in SASL response")
            c.cmd("b AUTHENTICATE PLAIN")
            self.assertEqual(c.readline(), "+ ")
            c.cmd("!!not-base64!!")
            self.assertEqual(c.read_until_tagged("b")[-1],
                             "b BAD Invalid base64 data in SASL response")
            # refused
            c.cmd("c AUTHENTICATE plain " + b64(b"\0alice\0wrong"))
            self.assertEqual(c.read_until_tagged("c")[-1],
                             "c NO [AUTHENTICATIONFAILED] Authentication failed")
            # the mechanism name is matched in any case
            c.cmd("d AUTHENTICATE pLaIn " + b64(b"\0alice\0secret"))
            self.assertRegex(c.read_until_tagged("d")[-1], r"^d OK ")

            p = d.pop3()
            p.expect(r"^\+OK")
            p.cmd("AUTH PLAIN %%%%")
            self.assertEqual(p.readline(), "-ERR Invalid base64 data in SASL response")
            p.cmd("AUTH PLAIN")
            self.assertEqual(p.readline(), "+ ")
            p.cmd("!!not-base64!!")
            self.assertEqual(p.readline(), "-ERR Invalid base64 data in SASL response")
            p.cmd("AUTH PLAIN")
            p.readline()
            p.cmd("*")
            self.assertEqual(p.readline(), "-ERR Authentication cancelled")
            p.cmd("AUTH plain " + b64(b"\0alice\0wrong"))
            self.assertEqual(p.readline(), "-ERR [AUTH] Authentication failed")
            p.cmd("AUTH pLaIn " + b64(b"\0alice\0secret"))
            p.expect(r"^\+OK")


if __name__ == "__main__":
    unittest.main()
