# SPDX-License-Identifier: GPL-2.0-or-later
"""The channel between the workers and the auth helper cannot be taken over
by another local user (issue 8, item 2).

An attacker running as `nobody` loops for the whole test: it binds the
abstract name the helper used to listen on (`@merpati-auth-<masterpid>`)
and every other unix socket name of this daemon it finds in /proc/net/unix,
accepts whatever connects and answers `OK` to any request (so a wrong
password would log in), and tries to connect to each merpati socket it
sees. Meanwhile the daemon is reloaded 20 times (each reload restarts the
helper) and the helper is SIGKILLed once, and logins go on throughout:
the attacker must never accept a connection nor read a byte, a wrong
password must never log in, and the right one must work after every
restart (no lasting NO [UNAVAILABLE]). Runs as root (as CI does)."""

import os
import pwd
import re
import select
import signal
import socket
import struct
import threading
import time
import unittest

import harness

RELOADS = 20
OPEN = {"plaintext": "always", "penalty_max": "0", "max_failures": "100",
        "allow_plain_scheme": "yes"}
USERS = ["alice:{PLAIN}secret::::::", "bob:{PLAIN}hunter2::::::"]


def frame(*fields):
    body = b"".join(f.encode() + b"\0" for f in fields)
    return struct.pack(">I", len(body)) + body


def merpati_socket_names():
    """Unix socket names in /proc/net/unix that look like ours."""
    names = set()
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 8 and "merpati" in parts[7]:
                    names.add(parts[7])
    except OSError:
        pass
    return names


def sockaddr(name):
    return "\0" + name[1:] if name.startswith("@") else name


def attacker(master_pid, report_fd, stop_at):
    """The child: drops to nobody and tries every trick until stop_at."""
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    assert os.getuid() == nobody.pw_uid and os.geteuid() == nobody.pw_uid

    def report(line):
        os.write(report_fd, (line + "\n").encode())

    held = {}      # name -> listening socket we managed to bind
    conns = []
    names = {"@merpati-auth-%d" % master_pid}
    report("ready uid=%d" % os.getuid())
    while time.monotonic() < stop_at:
        # (only ours: other daemons may be running tests on this machine)
        names |= {n for n in merpati_socket_names() if str(master_pid) in n}
        for name in list(names):
            if name in held:
                continue
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(sockaddr(name))
                s.listen(64)
                s.setblocking(False)
                held[name] = s
                report("bound %s" % name)
            except OSError:
                s.close()
            if name in held:
                continue  # our own now: connecting would only find us
            # a listening socket of ours: would it talk to us?
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(0.05)
            try:
                c.connect(sockaddr(name))
                c.sendall(frame("VERIFY", "1", "imap", "127.0.0.1", "1", "alice", "wrong"))
                data = c.recv(4096)
                if data:
                    report("answered-by %s %r" % (name, data[:64]))
            except OSError:
                pass
            finally:
                c.close()
        r, _, _ = select.select(list(held.values()) + conns, [], [], 0.002)
        for s in r:
            if s in conns:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    conns.remove(s)
                    s.close()
                    continue
                report("received %d bytes %r" % (len(data), data[:80]))
                # answer OK to every request id we can see
                for m in re.finditer(rb"(VERIFY|SASL)\0(\d+)\0", data):
                    try:
                        s.sendall(frame("OK", m.group(2).decode(), "alice", "/tmp"))
                    except OSError:
                        pass
                continue
            try:
                c, _ = s.accept()
            except OSError:
                continue
            report("accepted a connection")
            conns.append(c)
    report("done")


class Takeover(unittest.TestCase):
    def login(self, d, user, password):
        c = d.imap()
        c.expect(r"^\* OK")
        c.cmd('a LOGIN "%s" "%s"' % (user, password))
        line = c.read_until_tagged("a")[-1]
        c.close()
        return line

    def login_until_ok(self, d, what, timeout=10.0):
        """The right password logs in within timeout of a restart."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            line = self.login(d, "alice", "secret")
            if line.startswith("a OK "):
                return len(seen)
            seen.append(line)
            self.assertRegex(line, r"^a NO \[UNAVAILABLE\]", what)
            if time.monotonic() > deadline:
                self.fail("%s: logins still fail after %.0fs: %r" % (what, timeout, seen[-3:]))
            time.sleep(0.1)

    def wrong_fails(self, d, what):
        line = self.login(d, "alice", "wrong")
        self.assertRegex(line, r"^a NO \[(AUTHENTICATIONFAILED|UNAVAILABLE)\]", what)
        line = self.login(d, "bob", "secret")
        self.assertRegex(line, r"^a NO \[(AUTHENTICATIONFAILED|UNAVAILABLE)\]", what)

    def test_nobody_cannot_take_the_helper_socket(self):
        self.assertEqual(os.geteuid(), 0, "this test runs as root (as CI does)")
        with harness.Daemon(sections={"auth": OPEN, "server": {"workers": "2"}},
                            users=USERS) as d:
            d.wait_log(r"event=worker_started", count=2)
            rfd, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(rfd)
                code = 1
                try:
                    attacker(d.proc.pid, wfd, time.monotonic() + 120)
                    code = 0
                finally:
                    os._exit(code)
            os.close(wfd)
            lines = []

            def drain():
                buf = b""
                while True:
                    chunk = os.read(rfd, 65536)
                    if not chunk:
                        break
                    buf += chunk
                    *done, buf = buf.split(b"\n")
                    lines.extend(x.decode("utf-8", "replace") for x in done)

            reader = threading.Thread(target=drain, daemon=True)
            reader.start()
            retries = 0
            try:
                deadline = time.monotonic() + 10
                while not any(x.startswith("ready") for x in lines):
                    self.assertLess(time.monotonic(), deadline, "the attacker never started")
                    time.sleep(0.01)
                self.assertEqual(self.login_until_ok(d, "at start"), 0)
                for i in range(RELOADS):
                    d.signal(signal.SIGHUP)
                    d.wait_log(r"event=(reloaded|reload_failed)", count=i + 1)
                    self.wrong_fails(d, "reload %d" % (i + 1))
                    retries += self.login_until_ok(d, "after reload %d" % (i + 1))
                log = d.read_log()
                self.assertNotIn("reload_failed", log)
                helper = int(re.findall(r"event=auth_helper_started pid=(\d+)", log)[-1])
                time.sleep(1.2)  # past the master's "died right after start" window
                os.kill(helper, signal.SIGKILL)
                d.wait_log(r"event=auth_helper_started pid=\d+", count=RELOADS + 2)
                self.wrong_fails(d, "after the helper was killed")
                retries += self.login_until_ok(d, "after the helper was killed")
                # a few more rounds while the attacker keeps trying
                for i in range(5):
                    self.wrong_fails(d, "round %d" % i)
                    self.assertRegex(self.login(d, "alice", "secret"), r"^a OK ")
            finally:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                reader.join(5)
                os.close(rfd)
            print("attacker report: %d lines, e.g. %r; NO [UNAVAILABLE] retries: %d"
                  % (len(lines), lines[:3], retries))
            bad = [x for x in lines if x.startswith(("accepted", "received", "answered-by"))]
            self.assertEqual(bad, [])


if __name__ == "__main__":
    harness.main()
