# SPDX-License-Identifier: GPL-2.0-or-later
"""The auth helper process: privilege separation (the serving worker cannot
read the passwd-file, logins still work), SIGKILL of the helper mid-login
(a temporary failure for that client, the next login succeeds), and a
responsive loop while 50 yescrypt logins are in flight."""

import os
import re
import signal
import socket
import stat
import subprocess
import time
import unittest

import harness


def pw(password, scheme=None, rounds=None):
    args = [harness.MERPATI, "pw"]
    if scheme:
        args += ["-s", scheme]
    if rounds:
        args += ["-r", str(rounds)]
    return subprocess.run(args, input=(password + "\n").encode(), capture_output=True,
                          check=True).stdout.decode().strip()


OPEN = {"plaintext": "always", "penalty_max": "0", "max_failures": "10"}


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True)
    return [int(x) for x in out.stdout.split()]


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def helper_pid(d, count=1):
    log = d.wait_log(r"event=auth_helper_started pid=\d+", count=count)
    return int(re.findall(r"event=auth_helper_started pid=(\d+)", log)[-1])


def login(c, tag, user, password):
    c.cmd('%s LOGIN "%s" "%s"' % (tag, user, password))


class HelperTest(unittest.TestCase):
    def test_privilege_separation(self):
        with harness.Daemon(sections={"auth": OPEN}, users=["alice:" + pw("secret", "SHA512-CRYPT", 1000)]) as d:
            st = os.stat(d.users_file)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertEqual(st.st_uid, 0)
            helper = helper_pid(d)
            workers = [p for p in children(d.proc.pid) if p != helper]
            self.assertTrue(workers)
            mail_uid = harness.pwd.getpwnam(d.user).pw_uid
            for w in workers:
                self.assertEqual(proc_uid(w), mail_uid)   # serving: not root
            self.assertEqual(proc_uid(helper), 0)          # helper: root
            # the serving user cannot open the password file
            r = subprocess.run(["setpriv", "--reuid", str(mail_uid), "--regid", str(mail_uid),
                                "--clear-groups", "cat", d.users_file], capture_output=True)
            self.assertNotEqual(r.returncode, 0)
            c = d.imap()
            c.expect(r"^\* OK")
            login(c, "a", "alice", "secret")
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")

    def test_helper_killed_mid_login(self):
        slow = pw("slow", rounds=8)   # yescrypt, ~0.5 s each
        users = ["alice:" + pw("secret", "SHA512-CRYPT", 1000), "slow:" + slow]
        auth = dict(OPEN, workers="1")
        with harness.Daemon(sections={"auth": auth}, users=users) as d:
            helper = helper_pid(d)
            time.sleep(1.2)  # past the master's "died right after start" window
            clients = []
            for i in range(4):
                c = d.imap()
                c.expect(r"^\* OK")
                login(c, "a", "slow", "slow")
                clients.append(c)
            d.wait_log(r"event=auth_ok service=imap ip=127.0.0.1 user=slow", timeout=10)
            os.kill(helper, signal.SIGKILL)
            results = [c.read_until_tagged("a")[-1] for c in clients]
            print("after SIGKILL:", results)
            self.assertTrue(any(r.startswith("a NO [UNAVAILABLE]") for r in results), results)
            for r in results:
                self.assertRegex(r, r"^a (OK|NO \[UNAVAILABLE\])")
            d.wait_log(r"event=auth_helper_started pid=\d+", count=2)
            c = d.imap()
            c.expect(r"^\* OK")
            login(c, "b", "alice", "secret")
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b OK ")
            self.assertNotEqual(helper_pid(d, 2), helper)

    def test_loop_stays_responsive(self):
        users = ["slow:" + pw("slow", rounds=5), "alice:" + pw("secret", "SHA512-CRYPT", 1000)]
        # 50 logins of one user from one address at once
        auth = dict(OPEN, max_connections_per_ip="100", max_connections_per_user_ip="100")
        with harness.Daemon(sections={"auth": auth}, users=users) as d:
            other = d.imap()
            other.expect(r"^\* OK")
            clients = []
            for i in range(50):
                c = d.imap()
                c.expect(r"^\* OK")
                clients.append(c)
            for c in clients:
                login(c, "a", "slow", "slow")
            t0 = time.monotonic()
            other.cmd("n NOOP")
            self.assertRegex(other.read_until_tagged("n")[-1], r"^n OK")
            noop_done = time.monotonic()
            done = []
            for c in clients:
                self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")
                done.append(time.monotonic())
            last = max(done)
            print("NOOP latency %.1f ms; last of 50 yescrypt logins after %.1f ms"
                  % ((noop_done - t0) * 1000, (last - t0) * 1000))
            self.assertLess(noop_done, last)


if __name__ == "__main__":
    harness.main()
