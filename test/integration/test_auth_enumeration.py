# SPDX-License-Identifier: GPL-2.0-or-later
"""User enumeration: an unknown user must look like a known one with a
wrong password. LOGIN spends the time of a default-scheme (yescrypt) check
on unknown users; SCRAM-SHA-256 answers them with a server-first message
whose salt is stable per user, and fails at client-final with the error a
wrong password gets (RFC 5802 5.1)."""

import base64
import re
import statistics
import subprocess
import time
import unittest

import harness

MERPATI = harness.MERPATI
OPEN = {"plaintext": "always", "penalty_max": "0", "max_failures": "100"}


def pw(password, scheme=None):
    args = [MERPATI, "pw"] + (["-s", scheme] if scheme else [])
    out = subprocess.run(args, input=(password + "\n").encode(), capture_output=True, check=True)
    return out.stdout.decode().strip()


def b64(data):
    return base64.b64encode(data).decode()


SERVER_FIRST = re.compile(r"^r=(?P<r>[\x21-\x2b\x2d-\x7e]+),s=(?P<s>[A-Za-z0-9+/]+={0,2}),i=(?P<i>[1-9][0-9]*)$")


def scram_first(c, tag, user, nonce="fyko+d2lbbFgONRv9qkxdawL"):
    """Sends client-first; returns the decoded server-first (or the line)."""
    c.cmd("%s AUTHENTICATE SCRAM-SHA-256 %s" % (tag, b64(("n,,n=%s,r=%s" % (user, nonce)).encode())))
    line = c.readline()
    if not line.startswith("+ "):
        return None, line
    return base64.b64decode(line[2:]).decode(), line


def scram_wrong_proof(c, tag, server_first):
    """Answers server-first with a wrong proof; returns the tagged line."""
    r = SERVER_FIRST.match(server_first).group("r")
    c.cmd(b64(("c=biws,r=%s,p=%s" % (r, b64(b"\0" * 32))).encode()))
    return c.read_until_tagged(tag)[-1]


class EnumerationTest(unittest.TestCase):
    def test_login_time_of_unknown_user(self):
        users = ["alice:" + pw("secret")]  # the default scheme, yescrypt
        self.assertIn("$y$", users[0])
        with harness.Daemon(sections={"auth": OPEN}, users=users) as d:
            c = d.imap()
            c.expect(r"^\* OK ")
            times = {"alice": [], "nobody": []}
            for i in range(10):
                for user in ("alice", "nobody"):
                    tag = "%s%d" % (user[0], i)
                    t0 = time.monotonic()
                    c.cmd('%s LOGIN %s "wrong %d"' % (tag, user, i))
                    r = c.read_until_tagged(tag)[-1]
                    times[user].append(time.monotonic() - t0)
                    self.assertEqual(r, "%s NO [AUTHENTICATIONFAILED] Authentication failed" % tag)
            known = statistics.median(times["alice"])
            unknown = statistics.median(times["nobody"])
            print("median LOGIN: known user %.2f ms, unknown user %.2f ms (ratio %.2f)"
                  % (known * 1000, unknown * 1000, unknown / known))
            self.assertGreaterEqual(unknown, 0.3 * known)
            self.assertRegex(d.read_log(), r"event=auth_failed .*user=nobody .*reason=\"unknown user\"")

    def test_scram_unknown_user(self):
        users = ["carol:" + pw("pencil", "SCRAM-SHA-256"), "alice:" + pw("secret", "SHA512-CRYPT")]
        with harness.Daemon(sections={"auth": OPEN}, users=users) as d:
            c = d.imap()
            c.expect(r"^\* OK ")
            answers = {}
            for i, user in enumerate(["nobody", "nobody", "carol", "alice", "somebody"]):
                tag = "a%d" % i
                first, line = scram_first(c, tag, user)
                self.assertIsNotNone(first, "%s: no server-first, got %r" % (user, line))
                m = SERVER_FIRST.match(first)
                self.assertIsNotNone(m, first)
                self.assertTrue(m.group("r").startswith("fyko+d2lbbFgONRv9qkxdawL"), first)
                self.assertGreater(len(m.group("r")), len("fyko+d2lbbFgONRv9qkxdawL"))
                self.assertEqual(len(base64.b64decode(m.group("s"))), 16)
                answers.setdefault(user, []).append((m.group("s"), m.group("i")))
                r = scram_wrong_proof(c, tag, first)
                # the same answer as carol's wrong password
                self.assertEqual(r, "%s NO [AUTHENTICATIONFAILED] Authentication failed" % tag)
            # the same salt and iteration count twice for one unknown user
            self.assertEqual(answers["nobody"][0], answers["nobody"][1])
            self.assertEqual(answers["nobody"][0][1], "4096")
            self.assertNotEqual(answers["nobody"][0][0], answers["somebody"][0][0])
            # a second connection (and the other worker, if any) agrees
            c2 = d.imap()
            c2.expect(r"^\* OK ")
            first, _ = scram_first(c2, "b", "nobody")
            self.assertEqual(SERVER_FIRST.match(first).group("s"), answers["nobody"][0][0])
            c2.cmd("*")
            self.assertRegex(c2.read_until_tagged("b")[-1], r"^b BAD .*cancel")
            log = d.read_log()
            self.assertRegex(log, r"event=auth_failed .*user=nobody mech=SCRAM-SHA-256 reason=\"unknown user\"")
            self.assertRegex(log, r"event=auth_failed .*user=alice mech=SCRAM-SHA-256 reason=\"user has no SCRAM credential\"")


if __name__ == "__main__":
    harness.main()
