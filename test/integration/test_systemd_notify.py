# SPDX-License-Identifier: GPL-2.0-or-later
"""merpatid under a Type=notify unit (issue 12, item 2): the sd_notify
datagrams systemd waits for, sent to the socket named by $NOTIFY_SOCKET.

READY=1 comes once every listener accepts; SIGHUP brings RELOADING=1 (with
MONOTONIC_USEC) and then READY=1, also when the new file is refused (the
old configuration serves on, STATUS says so); SIGTERM brings STOPPING=1.
Both a path and an abstract ("@name") socket are served."""

import os
import re
import signal
import socket
import tempfile
import unittest

import harness

USERS = ["alice:{PLAIN}secret::::::"]
SECTIONS = {"auth": {"plaintext": "always", "allow_plain_scheme": "yes"}}


class Notify(unittest.TestCase):
    def listen(self, name):
        """A datagram socket at `name` (a path or "@name"), as systemd's."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind("\0" + name[1:] if name.startswith("@") else name)
        sock.settimeout(15)
        self.addCleanup(sock.close)
        return sock

    def start(self, name):
        old = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = name
        try:
            d = harness.Daemon(sections=SECTIONS, users=USERS)
        finally:
            if old is None:
                del os.environ["NOTIFY_SOCKET"]
            else:
                os.environ["NOTIFY_SOCKET"] = old
        return d

    def recv(self, sock):
        return sock.recv(4096).decode()

    def login(self, d):
        c = d.imap()
        c.expect(r"^\* OK")
        c.cmd("a LOGIN alice secret")
        self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")
        c.cmd("b LOGOUT")
        c.read_until_tagged("b")
        c.close()

    def test_path_socket_ready_reload_stop(self):
        tmp = tempfile.mkdtemp(prefix="merpati-notify-")
        path = os.path.join(tmp, "notify")
        sock = self.listen(path)
        d = self.start(path)
        with d:
            self.assertEqual(self.recv(sock), "READY=1\nSTATUS=serving")
            log = d.read_log()
            # READY=1 is sent after the listeners are bound and the
            # workers started
            self.assertIn("event=listening", log)
            self.assertIn("event=started", log)
            self.login(d)
            d.signal(signal.SIGHUP)
            msg = self.recv(sock)
            self.assertRegex(msg, r"^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*$")
            self.assertEqual(self.recv(sock), "READY=1\nSTATUS=serving")
            d.wait_log(r"event=reloaded")
            self.login(d)
            # a file the daemon cannot run with: the old one stays
            with open(d.conf_path, "a") as f:
                f.write("[nonsense]\n")
            d.signal(signal.SIGHUP)
            self.assertRegex(self.recv(sock), r"^RELOADING=1\n")
            self.assertEqual(self.recv(sock),
                             "READY=1\nSTATUS=reload failed, old configuration kept")
            d.wait_log(r"event=reload_failed")
            self.login(d)
            d.write_config()
            d.stop()
            self.assertEqual(self.recv(sock), "STOPPING=1")
            sock.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                sock.recv(4096)
            self.assertNotIn("event=notify_failed", d.read_log())
        os.unlink(path)
        os.rmdir(tmp)

    def test_abstract_socket(self):
        name = "@merpati-notify-%d" % os.getpid()
        sock = self.listen(name)
        with self.start(name) as d:
            self.assertEqual(self.recv(sock), "READY=1\nSTATUS=serving")
            self.login(d)
            d.stop()
            self.assertEqual(self.recv(sock), "STOPPING=1")

    def test_unreachable_socket_is_logged_not_fatal(self):
        tmp = tempfile.mkdtemp(prefix="merpati-notify-")
        with self.start(os.path.join(tmp, "nobody")) as d:
            d.wait_log(r'event=notify_failed reason="sendto\(NOTIFY_SOCKET\): '
                       r'No such file or directory"')
            self.login(d)
        os.rmdir(tmp)


if __name__ == "__main__":
    harness.main()
