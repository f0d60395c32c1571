# SPDX-License-Identifier: GPL-2.0-or-later
"""Ctrl-C in the terminal of a foreground merpatid (issue 8, item 16).

The terminal sends SIGINT to every process of the foreground group at once:
the master, its workers and the auth helper. The master must treat the
children that exit on it as part of stopping: no `event=worker_died` or
`event=auth_helper_died` error, no restart of a worker or of the helper,
and exit status 0. The race is timing-dependent, so it is run several times
(with two workers and a login in flight before each stop)."""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

import harness

ROUNDS = 8
SECTIONS = {"server": {"workers": "2"},
            "auth": {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}}
USERS = ["alice:{PLAIN}secret::::::"]


class ForegroundDaemon(harness.Daemon):
    """merpatid -f as a shell runs it: the leader of its own process group,
    so SIGINT to the group is what Ctrl-C does."""

    def start(self, timeout=15.0):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([harness.MERPATID, "-f", "-c", self.conf_path],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     process_group=0)
        deadline = time.monotonic() + timeout
        for host, port in self.listening_addrs():
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError("merpatid exited at start:\n%s" % self.read_log())
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("merpatid did not listen:\n%s" % self.read_log())
                    time.sleep(0.05)
        self.wait_log(r"event=worker_started", count=2)


class CtrlC(unittest.TestCase):
    def test_ctrl_c_stops_cleanly(self):
        for i in range(ROUNDS):
            d = ForegroundDaemon(sections=SECTIONS, users=USERS)
            try:
                c = d.imap()
                c.expect(r"^\* OK")
                c.cmd("a LOGIN alice secret")
                self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")
                idle = d.imap()
                idle.expect(r"^\* OK")
                os.killpg(d.proc.pid, signal.SIGINT)   # what Ctrl-C does
                d.proc.wait(15)
                log = d.read_log()
                self.assertEqual(d.proc.returncode, 0, log[-3000:])
                self.assertNotIn("event=worker_died", log, "round %d" % i)
                self.assertNotIn("event=auth_helper_died", log, "round %d" % i)
                self.assertEqual(len(re.findall(r"event=auth_helper_started pid=", log)), 1,
                                 "round %d: the helper was restarted:\n%s" % (i, log[-3000:]))
                self.assertEqual(len(re.findall(r"event=worker_started", log)), 2,
                                 "round %d: a worker was restarted" % i)
                self.assertRegex(log, r"event=stopped")
                # the clients were told goodbye
                self.assertEqual(idle.readline(), "* BYE Server shutting down")
                d.proc = None
                d.log.close()
            finally:
                if d.proc is not None and d.proc.poll() is None:
                    d.proc.kill()
                    d.proc.wait()
                d.cleanup()


if __name__ == "__main__":
    harness.main()
