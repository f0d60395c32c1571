# SPDX-License-Identifier: GPL-2.0-or-later
"""Login-side extensions: LITERAL- before login next to LITERAL+ after it
(RFC 7888), SASL-IR (RFC 4959) with PLAIN and with LOGIN as new Outlook
sends it, and UNAUTHENTICATE (RFC 8437): the session back to not
authenticated with nothing of the first user left."""

import base64
import time
import unittest

from harness import main
from imap_util import imap_daemon, raw_login


def b64(data):
    return base64.b64encode(data).decode()


def run(c, line):
    c.cmd(line)
    return c.read_until_tagged(line.split()[0])


def caps_of(line):
    return line.split("[CAPABILITY ", 1)[1].split("]", 1)[0].split()


class LoginExt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        auth = {"plaintext": "always", "allow_plain_scheme": "yes",
                "penalty_max": "0", "max_connections_per_user_ip": "1"}
        cls.d = imap_daemon(auth=auth, sections={"server": {"login_timeout": "5"}})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_literal_minus_before_login(self):
        c = self.d.imap()
        greeting = caps_of(c.readline())
        # RFC 7888: never LITERAL+ and LITERAL- in the same list
        self.assertIn("LITERAL-", greeting)
        self.assertNotIn("LITERAL+", greeting)
        # over 4096 octets: BAD [TOOBIG], and the octets are skipped,
        # never run (a "d LOGOUT" line inside them stays data)
        c.send("a LOGIN {4097+}\r\n" + "x" * 4000 + "\r\nd LOGOUT\r\n" +
               "y" * 85 + " pw\r\ne NOOP\r\n")
        self.assertEqual(c.readline(),
                         "a BAD [TOOBIG] Non-synchronizing literal over 4096 bytes")
        self.assertEqual(c.readline(), "e OK NOOP completed")
        # 4096 octets exactly are taken (a wrong user name, so NO)
        c.send("b LOGIN {4096+}\r\n" + "u" * 4096 + " pw\r\n")
        self.assertRegex(c.readline(), r"^b NO \[AUTHENTICATIONFAILED\] ")
        c.send("c LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
        ok = c.readline()
        self.assertRegex(ok, r"^c OK \[CAPABILITY .*\] Logged in$")
        after = caps_of(ok)
        self.assertIn("LITERAL+", after)
        self.assertNotIn("LITERAL-", after)
        # after login LITERAL+: any size up to the limits
        self.assertEqual(run(c, "f UNAUTHENTICATE")[-1][:5], "f OK ")

    def test_sasl_ir(self):
        c = self.d.imap()
        self.assertIn("SASL-IR", caps_of(c.readline()))
        c.cmd("a AUTHENTICATE PLAIN " + b64(b"\0alice\0secret"))
        self.assertRegex(c.readline(), r"^a OK \[CAPABILITY .*\] Logged in$")
        run(c, "x UNAUTHENTICATE")
        # new Outlook: AUTHENTICATE LOGIN with the user name as initial
        # response, then the password for the "Password:" challenge
        c.cmd("b AUTHENTICATE LOGIN " + b64(b"alice"))
        self.assertEqual(c.readline(), "+ " + b64(b"Password:"))
        c.send(b64(b"secret") + "\r\n")
        self.assertRegex(c.readline(), r"^b OK \[CAPABILITY .*\] Logged in$")
        run(c, "y UNAUTHENTICATE")
        c.cmd("c AUTHENTICATE LOGIN " + b64(b"alice"))
        self.assertEqual(c.readline(), "+ " + b64(b"Password:"))
        c.send(b64(b"wrong") + "\r\n")
        self.assertRegex(c.readline(), r"^c NO \[AUTHENTICATIONFAILED\] ")
        # "=" is an empty initial response (RFC 4959 3)
        c.cmd("d AUTHENTICATE LOGIN =")
        self.assertRegex(c.readline(), r"^(\+ |d (NO|BAD) )")

    def test_unauthenticate(self):
        c = raw_login(self.d, "alice")
        self.assertIn("UNAUTHENTICATE", run(c, "a CAPABILITY")[0].split())
        run(c, "b CREATE OnlyAlice")
        self.assertRegex(run(c, "d SELECT INBOX")[-1], r"^d OK ")
        self.assertEqual(run(c, "e UNAUTHENTICATE x"),
                         ["e BAD Unexpected arguments"])
        lines = run(c, "f UNAUTHENTICATE")
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^f OK \[CAPABILITY IMAP4rev1 .*\] "
                                   r"UNAUTHENTICATE completed$")
        self.assertIn("LITERAL-", caps_of(lines[0]))
        self.assertIn("AUTH=PLAIN", caps_of(lines[0]))
        self.assertNotIn("UNAUTHENTICATE", caps_of(lines[0]))
        for line, name in (("g FETCH 1 FLAGS", "FETCH"), ('g LIST "" "*"', "LIST"),
                           ("g UNAUTHENTICATE", "UNAUTHENTICATE")):
            self.assertEqual(run(c, line),
                             ["g BAD %s is not allowed before login" % name])
        # the pre-login parser limits are back
        c.send("h LOGIN {5000+}\r\n" + "z" * 5000 + " pw\r\n")
        self.assertEqual(c.readline(),
                         "h BAD [TOOBIG] Non-synchronizing literal over 4096 bytes")
        # another user: none of alice's folders
        c.cmd("i LOGIN bob hunter2")
        c.expect(r"^i OK ")
        self.assertEqual(run(c, 'j LIST "" "Only*"'), ["j OK LIST completed"])
        self.assertEqual(run(c, "k SELECT INBOX")[-1], "k OK [READ-WRITE] SELECT completed")
        self.assertIn("event=unauthenticate", self.d.read_log())

    def test_unauthenticate_gives_back_the_user(self):
        # max_connections_per_user_ip = 1: the count goes with the login
        c = raw_login(self.d, "bob")
        other = self.d.imap()
        other.expect(r"^\* OK ")
        other.cmd("a LOGIN bob hunter2")
        self.assertRegex(other.readline(), r"^a NO \[LIMIT\] ")
        run(c, "u UNAUTHENTICATE")
        other.cmd("b LOGIN bob hunter2")
        self.assertRegex(other.readline(), r"^b OK ")
        c.cmd("c LOGIN bob hunter2")
        self.assertRegex(c.readline(), r"^c NO \[LIMIT\] ")

    def test_unauthenticate_restarts_login_deadline(self):
        c = raw_login(self.d, "alice")
        run(c, "u UNAUTHENTICATE")
        start = time.monotonic()
        # login_timeout (5 s) again, not imap.timeout (30 min)
        self.assertEqual(c.readline(), "* BYE Autologout; idle for too long")
        self.assertTrue(c.at_eof())
        self.assertLess(time.monotonic() - start, 9.0)


if __name__ == "__main__":
    main()
