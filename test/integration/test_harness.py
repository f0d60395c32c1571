# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness itself: test ports come from below the kernel's ephemeral
range (where any client socket may take one), and a daemon that loses a
port to another process between the pick and its bind is started again on
new ports instead of failing the test (it did about 1 run in 7). Each
daemon reads a 0600 copy of the test key (git checks keys out 0644), so
its start does not warn; a 0644 key still does. A test process killed
outright (SIGKILL: no finally, no __exit__) takes its daemon with it."""

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import unittest

from harness import KEY, KEY2, Daemon, ephemeral_low, free_port, main

WARNING = "is readable by every user (chmod o-r)"


class Ports(unittest.TestCase):
    def test_ports_below_ephemeral_range_and_distinct(self):
        low = ephemeral_low()
        ports = [free_port() for _ in range(200)]
        self.assertTrue(all(1024 < p < low for p in ports), ports)
        self.assertEqual(len(set(ports)), len(ports))
        v6 = free_port(socket.AF_INET6, "::1")
        self.assertLess(v6, low)

    def test_start_retries_when_a_port_was_taken(self):
        d = Daemon(start=False)
        taken = d.ports["pop3"]
        thief = socket.socket()
        thief.bind(("127.0.0.1", taken))
        thief.listen(1)
        try:
            with d:
                d.start()
                self.assertEqual(d.retries, 1)
                self.assertNotEqual(d.ports["pop3"], taken)
                self.assertIn("Address already in use", d.read_log())
                c = d.pop3()
                c.expect(r"^\+OK ")
                c.cmd("QUIT")
                c.expect(r"^\+OK")
        finally:
            thief.close()

    def test_no_retry_when_the_test_chose_the_address(self):
        thief = socket.socket()
        thief.bind(("127.0.0.1", 0))
        thief.listen(1)
        port = thief.getsockname()[1]
        d = Daemon(sections={"listen": {"imap": "127.0.0.1:%d" % port}}, start=False)
        try:
            with self.assertRaisesRegex(AssertionError, "Address already in use"):
                d.start()
            self.assertEqual(d.retries, 0)
        finally:
            thief.close()
            d.cleanup()


class Keys(unittest.TestCase):
    def test_daemon_reads_a_private_copy_of_the_key(self):
        with Daemon() as d:
            self.assertEqual(os.path.dirname(d.key), d.dir)
            self.assertEqual(stat.S_IMODE(os.stat(d.key).st_mode), 0o600)
            with open(d.conf_path) as f:
                self.assertIn("key = %s\n" % d.key, f.read())
            self.assertNotIn(WARNING, d.read_log())
            # KEY2, set by a test after the start, maps to its copy too
            d.config["tls"]["key"] = KEY2
            with open(d.write_config()) as f:
                self.assertIn("key = %s\n" % os.path.join(d.dir, "key2.pem"), f.read())

    def test_a_world_readable_key_still_warns_at_start(self):
        d = Daemon(start=False)
        key = os.path.join(d.dir, "open.pem")
        shutil.copyfile(KEY, key)
        os.chmod(key, 0o644)
        d.config["tls"]["key"] = key
        d.write_config()
        with d:
            d.start()
            self.assertIn("warning: tls.key: %s %s" % (key, WARNING), d.read_log())
            c = d.pop3()
            c.expect(r"^\+OK ")
            c.cmd("QUIT")
            c.expect(r"^\+OK")


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class KilledTest(unittest.TestCase):
    CHILD = """
import sys, time
from harness import Daemon
d = Daemon(workers=2)
print(d.proc.pid, d.dir, flush=True)
time.sleep(120)
"""

    def test_daemon_dies_with_a_killed_test(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
        child = subprocess.Popen([sys.executable, "-c", self.CHILD], env=env,
                                 stdout=subprocess.PIPE, text=True)
        try:
            pid, tmp = child.stdout.readline().split()
            pid = int(pid)
        except ValueError:
            child.kill()
            child.wait()
            self.fail("the child test did not start a daemon")
        try:
            # the workers and the auth helper
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                workers = [int(w) for w in f.read().split()]
            self.assertGreaterEqual(len(workers), 3)
            self.assertTrue(alive(pid))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        deadline = time.monotonic() + 15
        while any(alive(p) for p in [pid] + workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [p for p in [pid] + workers if alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(left, [], "merpatid outlived the test that started it")


if __name__ == "__main__":
    main()
