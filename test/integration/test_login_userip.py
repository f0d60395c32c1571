# SPDX-License-Identifier: GPL-2.0-or-later
"""auth.max_connections_per_user_ip (default 10, like Dovecot's
mail_max_userip_connections): logged-in connections of one user from one
address, IMAP and POP3 together, counted across every worker and reload
generation in the shared per-address table. Over the cap IMAP answers
NO [LIMIT] (RFC 5530) and POP3 -ERR [IN-USE] (RFC 2449); another address
of the same user, and another user, are still accepted."""

import signal
import socket
import time
import unittest

import harness
from test_auth import pw

LIMIT = "Too many connections for this user from this address"


class UserIpCap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h = pw("secret", "SHA512-CRYPT", 1000)
        cls.users = ["alice:" + h, "bob:" + h]

    def connect(self, d, kind, source="127.0.0.1"):
        sock = socket.create_connection(("127.0.0.1", d.ports[kind]), timeout=10,
                                        source_address=(source, 0))
        return harness.LineClient(sock)

    def imap_login(self, d, user, source="127.0.0.1"):
        c = self.connect(d, "imap", source)
        c.expect(r"^\* OK ")
        c.cmd("a LOGIN %s secret" % user)
        return c, c.read_until_tagged("a")[-1]

    def pop3_login(self, d, user, source="127.0.0.1"):
        p = self.connect(d, "pop3", source)
        p.expect(r"^\+OK")
        p.cmd("USER " + user)
        p.expect(r"^\+OK")
        p.cmd("PASS secret")
        return p, p.readline()

    def test_cap_per_user_and_address(self):
        auth = {"plaintext": "always", "penalty_max": "0"}  # the cap at its default
        with harness.Daemon(sections={"server": {"workers": "2"}, "auth": auth},
                            users=self.users) as d:
            d.wait_log(r"event=worker_started", count=2)
            held = []
            for i in range(10):
                c, r = self.imap_login(d, "alice")
                self.assertRegex(r, r"^a OK ", "connection %d" % (i + 1))
                held.append(c)
            # a reload starts a new generation; the count is kept
            d.signal(signal.SIGHUP)
            d.wait_log(r"event=reloaded")
            d.wait_log(r"event=worker_started", count=4)
            c, r = self.imap_login(d, "alice")
            self.assertEqual(r, "a NO [LIMIT] " + LIMIT)
            # still not logged in: the session goes on unauthenticated
            c.cmd("b NOOP")
            self.assertEqual(c.readline(), "b OK NOOP completed")
            c.close()
            p, r = self.pop3_login(d, "alice")
            self.assertEqual(r, "-ERR [IN-USE] " + LIMIT)
            p.close()
            # the same user from another address, another user from this one
            c2, r = self.imap_login(d, "alice", source="127.0.0.2")
            self.assertRegex(r, r"^a OK ")
            p2, r = self.pop3_login(d, "alice", source="127.0.0.2")
            self.assertRegex(r, r"^\+OK")
            c3, r = self.imap_login(d, "bob")
            self.assertRegex(r, r"^a OK ")
            # a held session of the old generation is still served
            held[0].cmd("n NOOP")
            self.assertRegex(held[0].read_until_tagged("n")[-1], r"^n OK")
            # one closes: exactly one comes back
            held.pop().close()
            deadline = time.monotonic() + 5
            while True:
                c, r = self.imap_login(d, "alice")
                if r.startswith("a OK "):
                    break
                self.assertEqual(r, "a NO [LIMIT] " + LIMIT)
                c.close()
                self.assertLess(time.monotonic(), deadline, "the count never came back")
                time.sleep(0.05)
            held.append(c)
            c, r = self.imap_login(d, "alice")
            self.assertEqual(r, "a NO [LIMIT] " + LIMIT)
            self.assertIn("event=login_refused mech=LOGIN-CMD user=alice", d.read_log())

    def test_cap_off_and_lower(self):
        auth = {"plaintext": "always", "penalty_max": "0", "max_connections_per_user_ip": "2"}
        with harness.Daemon(sections={"auth": auth}, users=self.users) as d:
            a, r = self.imap_login(d, "alice")
            self.assertRegex(r, r"^a OK ")
            # AUTHENTICATE is counted the same way
            b = self.connect(d, "imap")
            b.expect(r"^\* OK ")
            b.cmd("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==")
            self.assertRegex(b.read_until_tagged("a")[-1], r"^a OK ")
            c, r = self.imap_login(d, "alice")
            self.assertEqual(r, "a NO [LIMIT] " + LIMIT)
            # a refusal over the cap is not a failed login (max_failures 3)
            for _ in range(4):
                c.cmd("x LOGIN alice secret")
                self.assertEqual(c.read_until_tagged("x")[-1], "x NO [LIMIT] " + LIMIT)
        auth["max_connections_per_user_ip"] = "0"
        with harness.Daemon(sections={"auth": auth}, users=self.users) as d:
            held = []
            for _ in range(12):
                c, r = self.imap_login(d, "alice")
                self.assertRegex(r, r"^a OK ")
                held.append(c)


if __name__ == "__main__":
    unittest.main()
