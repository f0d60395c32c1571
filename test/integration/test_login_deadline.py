# SPDX-License-Identifier: GPL-2.0-or-later
"""server.login_timeout is an absolute deadline from accept, not an idle
timer: a client that never logs in but sends NOOP (IMAP) or CAPA (POP3)
every half second is still ended at login_timeout with the protocol's
goodbye, while sessions that logged in (right away, or just before the
deadline) go on. A connection reset by its peer logs one disconnect line."""

import re
import select
import socket
import struct
import time
import unittest

from harness import Daemon, main

USERS = ["alice:{PLAIN}secret::::::"]
TIMEOUT = 5
SECTIONS = {
    "server": {"login_timeout": str(TIMEOUT)},
    "auth": {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"},
}


class Chatty:
    """A connection that sends a harmless command every half second."""

    def __init__(self, client, proto, command):
        self.c, self.proto, self.command = client, proto, command
        self.n = 0
        self.closed_at = None
        self.bye = None

    def readable(self, timeout=0):
        if self.c.buf:
            return True
        return bool(select.select([self.c.sock], [], [], timeout)[0])

    def answer(self):
        """Reads one reply; records the goodbye when it is one."""
        line = self.c.readline()
        if self.proto == "imap":
            if line is not None and line.startswith("* BYE"):
                self.bye = line
                return
            assert line == "c%d OK NOOP completed" % self.n, line
        else:
            if line is not None and line.startswith("-ERR"):
                self.bye = line
                return
            assert line is not None and line.startswith("+OK"), line
            self.c.read_multiline()  # CAPA's list

    def tick(self, t0):
        if self.bye is not None:
            return
        if self.readable():  # something unasked: the goodbye
            self.answer()
        else:
            self.n += 1
            self.c.cmd(self.command % self.n if "%d" in self.command else self.command)
            self.answer()
        if self.bye is not None:
            self.closed_at = time.monotonic() - t0
            assert self.c.at_eof(), "still open after %r" % self.bye


def login_imap(c, tag):
    c.cmd("%s LOGIN alice secret" % tag)
    assert c.read_until_tagged(tag)[-1].startswith(tag + " OK"), tag


def login_pop3(c):
    c.cmd("USER alice")
    assert c.readline().startswith("+OK")
    c.cmd("PASS secret")
    assert c.readline().startswith("+OK")


class LoginDeadline(unittest.TestCase):
    def test_noop_does_not_extend_login_time(self):
        with Daemon(sections=SECTIONS, users=USERS) as d:
            t0 = time.monotonic()
            imap = d.imap()
            imap.expect(r"^\* OK ")
            pop = d.pop3()
            pop.expect(r"^\+OK ")
            early_imap = d.imap()
            early_imap.expect(r"^\* OK ")
            login_imap(early_imap, "e0")
            late_imap = d.imap()
            late_imap.expect(r"^\* OK ")
            late_pop = d.pop3()
            late_pop.expect(r"^\+OK ")
            chatty = [Chatty(imap, "imap", "c%d NOOP"), Chatty(pop, "pop3", "CAPA")]
            late_logged = False
            n = 0
            while time.monotonic() - t0 < TIMEOUT + 3:
                for ch in chatty:
                    ch.tick(t0)
                if not late_logged and time.monotonic() - t0 > TIMEOUT - 3:
                    login_imap(late_imap, "l0")
                    login_pop3(late_pop)
                    late_logged = True
                n += 1
                early_imap.cmd("e%d NOOP" % n)
                self.assertEqual(early_imap.readline(), "e%d OK NOOP completed" % n)
                time.sleep(0.5)
            for ch in chatty:
                self.assertIsNotNone(ch.bye, "%s kept its unauthenticated slot" % ch.proto)
                self.assertGreater(ch.n, 6)  # it did keep talking
                self.assertGreaterEqual(ch.closed_at, TIMEOUT - 0.5)
                self.assertLess(ch.closed_at, TIMEOUT + 2)
            self.assertEqual(chatty[0].bye, "* BYE Autologout; idle for too long")
            self.assertEqual(chatty[1].bye, "-ERR Disconnected for inactivity")
            # the logged-in sessions outlive the deadline
            late_imap.cmd("l1 NOOP")
            self.assertEqual(late_imap.readline(), "l1 OK NOOP completed")
            late_pop.cmd("NOOP")
            self.assertRegex(late_pop.readline(), r"^\+OK")
            log = d.wait_log(r"event=timeout seconds=%d deadline=login" % TIMEOUT, count=2)
            self.assertEqual(len(re.findall(r"deadline=login", log)), 2)


class Disconnect(unittest.TestCase):
    def test_reset_logs_one_disconnect(self):
        with Daemon() as d:
            c = d.imap()
            c.expect(r"^\* OK ")
            port = c.sock.getsockname()[1]
            c.cmd("a1 NOOP")
            c.expect(r"^a1 OK")
            c.cmd("a2 NOOP")  # unread answer + SO_LINGER 0: close sends RST
            time.sleep(0.2)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.sock.close()
            log = d.wait_log(r"[:=]%d\b.*event=freed" % port)
            lines = re.findall(r".*[:=]%d\b.*event=disconnect.*" % port, log)
            self.assertEqual(len(lines), 1, "\n".join(lines))
            self.assertIn('reason=recv error="Connection reset by peer"', lines[0])


if __name__ == "__main__":
    main()
