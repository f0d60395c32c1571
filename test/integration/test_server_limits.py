# SPDX-License-Identifier: GPL-2.0-or-later
"""Connection limits and idle timers (server.login_timeout, imap.timeout,
pop3.timeout, auth.max_connections_per_ip). The per-IP connection cap refuses
the connection over the limit with the protocol's own error line and counts
each address apart. Idle timers: a connection that never logs in is ended after
server.login_timeout with the protocol's goodbye; after a login the
protocol's own timer applies (IMAP: at least 30 minutes, RFC 3501 5.4;
POP3: at least 10 minutes, RFC 1939 3), so a logged-in session outlives
the short pre-login timer."""

import socket
import time
import unittest

from harness import Daemon, LineClient, main

USERS = ["alice:{PLAIN}secret::::::"]
SECTIONS = {
    "server": {"login_timeout": "5"},
    "auth": {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"},
}


class Timeouts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(sections=SECTIONS, users=USERS)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_imap_and_pop3_timers(self):
        idle_imap = self.d.imap()
        idle_imap.readline()
        idle_pop = self.d.pop3()
        idle_pop.readline()
        imap = self.d.imap()
        imap.readline()
        imap.cmd('a1 LOGIN alice secret')
        self.assertEqual(imap.read_until_tagged("a1")[-1][:5], "a1 OK")
        pop = self.d.pop3()
        pop.readline()
        pop.cmd("USER alice")
        pop.readline()
        pop.cmd("PASS secret")
        self.assertRegex(pop.readline(), r"^\+OK")
        t0 = time.monotonic()
        # the connections that never logged in are ended with a goodbye
        self.assertEqual(idle_imap.readline(), "* BYE Autologout; idle for too long")
        self.assertTrue(idle_imap.at_eof())
        self.assertRegex(idle_pop.readline(), r"^-ERR ")
        self.assertTrue(idle_pop.at_eof())
        self.assertLess(time.monotonic() - t0, 10)
        time.sleep(2)  # well past login_timeout for the logged-in ones too
        imap.cmd("a2 NOOP")
        self.assertEqual(imap.readline(), "a2 OK NOOP completed")
        pop.cmd("NOOP")
        self.assertRegex(pop.readline(), r"^\+OK")
        self.d.wait_log(r"proto=imap .*event=timeout seconds=5", count=1)


class ConnectionCaps(unittest.TestCase):
    def test_per_ip_cap(self):
        with Daemon(sections={"auth": {"max_connections_per_ip": "3"}}) as d:
            # the harness's readiness probes must be gone before we count
            d.wait_log(r"event=freed", count=len(d.listening_addrs()))
            held = [d.imap() for _ in range(3)]
            for c in held:
                self.assertRegex(c.readline(), r"^\* OK ")
            extra = d.imap()
            self.assertEqual(extra.readline(), "* BYE Too many connections, try later")
            self.assertTrue(extra.at_eof())
            pop = d.pop3()
            self.assertEqual(pop.readline(), "-ERR [SYS/TEMP] Too many connections, try later")
            d.wait_log(r"event=refused peer=127\.0\.0\.1 reason=\"auth\.max_connections_per_ip reached\"")
            # another address is counted on its own
            s = socket.create_connection(("127.0.0.1", d.ports["imap"]), timeout=10,
                                         source_address=("127.0.0.2", 0))
            other = LineClient(s)
            self.assertRegex(other.readline(), r"^\* OK ")
            # a slot frees when a connection ends
            held[0].cmd("a LOGOUT")
            held[0].read_until_tagged("a")
            self.assertTrue(held[0].at_eof())
            time.sleep(0.2)
            again = d.imap()
            self.assertRegex(again.readline(), r"^\* OK ")


if __name__ == "__main__":
    main()
