# SPDX-License-Identifier: GPL-2.0-or-later
"""Socket activation (merpati.socket, issue 12 item 2): merpatid started as
systemd starts it, with listening sockets at descriptors 3, 4 ... and
LISTEN_PID/LISTEN_FDS naming them.

The master adopts the socket whose address a [listen] entry names (logged
`from=systemd`) instead of binding it, binds the other addresses itself,
closes the sockets no entry names (logged, so they do not queue
connections no one accepts), keeps the adopted one across a reload, and
ignores LISTEN_FDS meant for another process."""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

import harness

USERS = ["alice:{PLAIN}secret::::::"]
SECTIONS = {"auth": {"plaintext": "always", "allow_plain_scheme": "yes"}}


def listening_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


class ActivatedDaemon(harness.Daemon):
    """merpatid with `socks` at descriptors 3, 4 ...; LISTEN_PID is its own
    pid (the shell's, which execs it) unless `pid` says otherwise."""

    socks = ()
    pid = None

    def _start_once(self, timeout):
        self.log = open(self.log_path, "ab")
        socks = [s.fileno() for s in self.socks]
        env = dict(os.environ, LISTEN_FDS=str(len(socks)))

        def hand_over():
            for i, fd in enumerate(socks):
                os.dup2(fd, 3 + i)

        pid = "$$" if self.pid is None else str(self.pid)
        self.proc = subprocess.Popen(
            ["sh", "-c", 'LISTEN_PID=%s exec "$0" "$@"' % pid, harness.MERPATID, "-f", "-c",
             self.conf_path],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env,
            close_fds=False, preexec_fn=hand_over)
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
        self.wait_log(r"event=worker_started")


class SocketActivation(unittest.TestCase):
    def login(self, d):
        c = d.imaps()
        c.expect(r"^\* OK")
        c.cmd("a LOGIN alice secret")
        self.assertRegex(c.read_until_tagged("a")[-1], r"^a OK ")
        c.cmd("b LOGOUT")
        c.read_until_tagged("b")
        c.close()

    def start(self, socks, imaps_port, pid=None):
        d = ActivatedDaemon(sections=SECTIONS, users=USERS, start=False)
        d.socks, d.pid = socks, pid
        d.ports["imaps"] = imaps_port
        d.config["listen"]["imaps"] = "127.0.0.1:%d" % imaps_port
        d.write_config()
        d.start()
        # the daemon holds its own copies now, as under systemd
        for s in socks:
            s.close()
        return d

    def test_adopts_the_named_socket_and_closes_the_rest(self):
        named, extra = listening_socket(), listening_socket()
        port, extra_port = named.getsockname()[1], extra.getsockname()[1]
        with self.start([named, extra], port) as d:
            log = d.read_log()
            self.assertIn("event=listening proto=imaps addr=127.0.0.1:%d from=systemd" % port, log)
            # the harness's other listeners are bound by the master itself
            self.assertRegex(log, r"event=listening proto=imap addr=127\.0\.0\.1:\d+\n")
            self.assertIn('event=sockets_unused count=1 reason="passed by systemd, but no '
                          '[listen] address names them"', log)
            self.login(d)
            # the unnamed socket was closed: nothing listens there
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", extra_port), timeout=2)
            # a reload keeps the adopted socket (no rebind, no refusal)
            d.signal(signal.SIGHUP)
            d.wait_log(r"event=reloaded")
            self.login(d)
            self.assertNotIn("Address already in use", d.read_log())

    def test_listen_fds_for_another_process_are_ignored(self):
        other = listening_socket()
        port = harness.free_port()
        # LISTEN_PID names pid 1: the variables are not ours, descriptor 3
        # is left alone and the address is bound as usual
        with self.start([other], port, pid=1) as d:
            log = d.read_log()
            self.assertIn("event=listening proto=imaps addr=127.0.0.1:%d\n" % port, log)
            self.assertNotIn("from=systemd", log)
            self.assertNotIn("sockets_unused", log)
            self.login(d)

    def test_not_a_listening_socket_stops_the_start(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        d = ActivatedDaemon(sections=SECTIONS, users=USERS, start=False)
        d.socks = [sock]
        with self.assertRaises(AssertionError) as e:
            d.start()
        sock.close()
        self.assertIn("LISTEN_FDS: a descriptor is not a listening stream socket", str(e.exception))
        d.cleanup()


if __name__ == "__main__":
    harness.main()
