# SPDX-License-Identifier: GPL-2.0-or-later
"""An auth helper that dies right after it starts is started again from a
timer, with a growing delay (1, 2, 4, 8, 16 s here), and the daemon keeps serving
meanwhile; once a helper stays up, logins work again (issue 8, item 2:
"retry a failed spawn"; the master used to sleep in its signal loop and to
stop the whole daemon after five such deaths). A login made while no helper
runs waits for the next one or gets NO [UNAVAILABLE], never a wrong
answer."""

import os
import re
import signal
import time
import unittest

import harness

OPEN = {"plaintext": "always", "penalty_max": "0", "max_failures": "100",
        "allow_plain_scheme": "yes"}
DEATHS = 5


def helper_pids(d):
    return [int(p) for p in re.findall(r"event=auth_helper_started pid=(\d+)", d.read_log())]


class HelperRetry(unittest.TestCase):
    def login(self, d, password):
        c = d.imap()
        c.expect(r"^\* OK")
        c.cmd('a LOGIN alice "%s"' % password)
        line = c.read_until_tagged("a")[-1]
        c.close()
        return line

    def test_crashing_helper_is_retried_with_backoff(self):
        with harness.Daemon(sections={"auth": OPEN}, users=["alice:{PLAIN}secret::::::"]) as d:
            self.assertRegex(self.login(d, "secret"), r"^a OK ")
            # a helper that keeps dying within a second of its start
            for n in range(DEATHS):
                pid = helper_pids(d)[-1]
                started = time.monotonic()
                os.kill(pid, signal.SIGKILL)
                # the daemon goes on: the master keeps the listeners
                c = d.imap()
                c.expect(r"^\* OK")
                c.close()
                d.wait_log(r"event=auth_helper_started pid=\d+", count=n + 2, timeout=40)
                print("death %d: next helper after %.1f s" % (n + 1, time.monotonic() - started))
            log = d.read_log()
            delays = [int(x) for x in re.findall(r"event=auth_helper_retry seconds=(\d+)", log)]
            self.assertEqual(delays, [1, 2, 4, 8, 16, 30][:len(delays)])
            self.assertGreaterEqual(len(delays), DEATHS - 1)
            self.assertNotIn("action=stop", log)
            self.assertIsNone(d.proc.poll(), "the daemon stopped")
            # a helper that stays up serves logins; a wrong password fails
            deadline = time.monotonic() + 10
            while True:
                line = self.login(d, "secret")
                if line.startswith("a OK "):
                    break
                self.assertRegex(line, r"^a NO \[UNAVAILABLE\]")
                self.assertLess(time.monotonic(), deadline, "logins never came back")
                time.sleep(0.2)
            self.assertRegex(self.login(d, "wrong"), r"^a NO \[AUTHENTICATIONFAILED\]")


if __name__ == "__main__":
    harness.main()
