# SPDX-License-Identifier: GPL-2.0-or-later
"""auth.max_connections_per_ip is a cap per address across every worker
process and every reload generation (issue 8, item 11): with workers = 4
and a cap of 5, one address holds 5 connections, not 5 per worker, and
reloads do not start a fresh count. Connections that close, and those of a
worker that is killed, are given back."""

import re
import os
import signal
import time
import unittest

from harness import Daemon, main

CAP = 5
BYE = "* BYE Too many connections, try later"


class PerAddressCap(unittest.TestCase):
    def open(self, d):
        """A new IMAP connection and its first line."""
        c = d.imap()
        return c, c.readline()

    def open_until_ok(self, d, timeout=5.0):
        """Retries while the server has not yet seen a close."""
        deadline = time.monotonic() + timeout
        while True:
            c, line = self.open(d)
            if line.startswith("* OK"):
                return c
            self.assertEqual(line, BYE)
            c.close()
            self.assertLess(time.monotonic(), deadline, "a freed slot never came back")
            time.sleep(0.05)

    def test_cap_across_workers_and_reloads(self):
        with Daemon(sections={"server": {"workers": "4"},
                              "auth": {"max_connections_per_ip": str(CAP)}}) as d:
            d.wait_log(r"event=worker_started", count=4)
            # the harness's readiness probes must be gone before we count
            d.wait_log(r"event=freed", count=len(d.listening_addrs()))
            gen1 = [int(p) for p in re.findall(
                r"merpatid\[(\d+)\]: level=info event=worker_started", d.read_log())]
            held, refused = [], 0
            for _ in range(2 * CAP):
                c, line = self.open(d)
                if line.startswith("* OK"):
                    held.append(c)
                else:
                    self.assertEqual(line, BYE)
                    refused += 1
                    c.close()
            served_by = set(re.findall(r"merpatid\[(\d+)\]: level=info conn=\d+ proto=imap .*event=connect",
                                       d.read_log()))
            print("%d of %d accepted by %d worker(s)" % (len(held), 2 * CAP, len(served_by)))
            self.assertEqual(len(held), CAP)
            self.assertEqual(refused, CAP)
            # new generations do not start from zero
            for r in range(3):
                d.signal(signal.SIGHUP)
                d.wait_log(r"event=reloaded", count=r + 1)
                d.wait_log(r"event=worker_started", count=4 * (r + 2))
                for _ in range(2):
                    c, line = self.open(d)
                    self.assertEqual(line, BYE, "after reload %d" % (r + 1))
                    c.close()
            # the held sessions (in a retired generation) are still served
            held[0].cmd("a NOOP")
            self.assertEqual(held[0].readline(), "a OK NOOP completed")
            # two close: exactly two come back
            for c in held[:2]:
                c.close()
            held = held[2:]
            fresh = [self.open_until_ok(d), self.open_until_ok(d)]
            c, line = self.open(d)
            self.assertEqual(line, BYE)
            c.close()
            # the first generation is killed with its connections: the
            # master gives back what those workers counted
            for pid in gen1:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for c in held:
                self.assertTrue(c.at_eof())
            more = [self.open_until_ok(d) for _ in range(len(held))]
            c, line = self.open(d)
            self.assertEqual(line, BYE)
            c.close()
            for c in fresh + more:
                c.close()


if __name__ == "__main__":
    main()
