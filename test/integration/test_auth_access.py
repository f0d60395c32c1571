# SPDX-License-Identifier: GPL-2.0-or-later
"""Per-user access: a passwd-file entry's allow_protocols= (imap, pop3)
and the server-wide auth.allow_protocols decide which protocol a user may
log in with. Right credentials on a protocol not allowed get
NO [AUTHORIZATIONFAILED] / -ERR [AUTH] and one log line; the login is not
counted as a failure."""

import imaplib
import poplib
import re
import subprocess
import unittest

from harness import MERPATID, Daemon, main

IMAP_DENIED = b"[AUTHORIZATIONFAILED] IMAP access is not allowed for this account"
POP3_DENIED = b"-ERR [AUTH] POP3 access is not allowed for this account"

USERS = [
    "both:{PLAIN}pw-both:::::",
    "imaponly:{PLAIN}pw-imap::::::allow_protocols=imap",
    "poponly:{PLAIN}pw-pop::::::userdb_allow_protocols=pop3",
    "listed:{PLAIN}pw-listed::::::allow_protocols=pop3,imap",
    "nobody:{PLAIN}pw-none::::::allow_protocols=",
]

AUTH = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0",
        "max_failures": "2"}


class AccessTest(unittest.TestCase):
    def daemon(self, **auth):
        d = Daemon(sections={"auth": dict(AUTH, **auth)}, users=USERS)
        self.addCleanup(d.cleanup)
        return d

    def imap(self, d, user, password):
        c = imaplib.IMAP4("127.0.0.1", d.ports["imap"], timeout=10)
        self.addCleanup(c.shutdown)
        try:
            typ, data = c.login(user, password)
        except imaplib.IMAP4.error as e:
            msg = e.args[0]
            return c, msg if isinstance(msg, bytes) else msg.encode()
        return c, typ.encode()

    def pop3(self, d, user, password):
        c = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=10)
        self.addCleanup(c.close)
        c.user(user)
        try:
            return c, c.pass_(password)
        except poplib.error_proto as e:
            return c, e.args[0]

    def assert_denied_logged(self, d, user, proto, count=1):
        pat = (r"proto=%s peer=127\.0\.0\.1:\d+ .*event=login_denied user=\"?%s\"? "
               r"protocol=\"?%s\"? mech=\S+ reason=\"protocol not allowed\"" % (proto, user, proto))
        d.wait_log(pat, count=count)
        self.assertEqual(len(re.findall(pat, d.read_log())), count)

    def test_imap_denied_user(self):
        d = self.daemon()
        c, reply = self.imap(d, "poponly", "pw-pop")
        self.assertEqual(reply, IMAP_DENIED)
        # still not authenticated: a command that needs a login is refused
        self.assertEqual(c.state, "NONAUTH")
        self.assert_denied_logged(d, "poponly", "imap")
        c, reply = self.imap(d, "nobody", "pw-none")
        self.assertEqual(reply, IMAP_DENIED)
        self.assert_denied_logged(d, "nobody", "imap")

    def test_imap_exact_reply_and_authenticate(self):
        d = self.daemon()
        c = d.imap()
        c.expect(r"^\* OK ")
        c.cmd('a LOGIN poponly pw-pop')
        self.assertEqual(c.read_until_tagged("a")[-1],
                         "a NO " + IMAP_DENIED.decode())
        # AUTHENTICATE goes through the same check; denials are not
        # failed logins (max_failures = 2 would have hung up)
        c.cmd("b AUTHENTICATE PLAIN AHBvcG9ubHkAcHctcG9w")  # \0poponly\0pw-pop
        self.assertEqual(c.read_until_tagged("b")[-1],
                         "b NO " + IMAP_DENIED.decode())
        c.cmd('c LOGIN both pw-both')
        self.assertRegex(c.read_until_tagged("c")[-1], r"^c OK ")
        self.assert_denied_logged(d, "poponly", "imap", count=2)

    def test_pop3_denied_user(self):
        d = self.daemon()
        c, reply = self.pop3(d, "imaponly", "pw-imap")
        self.assertEqual(reply, POP3_DENIED)
        self.assert_denied_logged(d, "imaponly", "pop3")
        # the session stays in AUTHORIZATION: another user may log in
        c.user("both")
        self.assertTrue(c.pass_("pw-both").startswith(b"+OK"))

    def test_allowed_users_log_in(self):
        d = self.daemon()
        for user, password in (("both", "pw-both"), ("imaponly", "pw-imap"),
                               ("listed", "pw-listed")):
            _, reply = self.imap(d, user, password)
            self.assertEqual(reply, b"OK", user)
        for user, password in (("both", "pw-both"), ("poponly", "pw-pop"),
                               ("listed", "pw-listed")):
            c, reply = self.pop3(d, user, password)
            self.assertTrue(reply.startswith(b"+OK"), (user, reply))
            c.quit()
        self.assertNotIn("event=login_denied", d.read_log())

    def test_wrong_password_is_not_told_about_access(self):
        d = self.daemon()
        _, reply = self.imap(d, "poponly", "wrong")
        self.assertIn(b"[AUTHENTICATIONFAILED]", reply)
        _, reply = self.pop3(d, "imaponly", "wrong")
        self.assertTrue(reply.startswith(b"-ERR [AUTH] "), reply)
        self.assertNotIn(b"not allowed", reply)
        self.assertNotIn("event=login_denied", d.read_log())

    def test_server_default(self):
        d = self.daemon(allow_protocols="imap")
        c, reply = self.pop3(d, "both", "pw-both")
        self.assertEqual(reply, POP3_DENIED)
        self.assert_denied_logged(d, "both", "pop3")
        _, reply = self.imap(d, "both", "pw-both")
        self.assertEqual(reply, b"OK")
        # the userdb's field overrides the default
        c, reply = self.pop3(d, "poponly", "pw-pop")
        self.assertTrue(reply.startswith(b"+OK"), reply)
        c.quit()

    def test_bad_server_default_is_refused(self):
        d = Daemon(sections={"auth": dict(AUTH, allow_protocols="imap,smtp")},
                   users=USERS, start=False)
        self.addCleanup(d.cleanup)
        r = subprocess.run([MERPATID, "-t", "-c", d.conf_path], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"merpati\.conf:\d+: auth\.allow_protocols: 'smtp' is not "
                         r"imap or pop3")


if __name__ == "__main__":
    main()
