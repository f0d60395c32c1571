# SPDX-License-Identifier: GPL-2.0-or-later
"""A master killed with SIGKILL takes its children with it.

Nothing can catch SIGKILL, so the master cannot stop its workers and its
auth helper itself: each child asks the kernel for SIGTERM when its parent
dies (prctl PR_SET_PDEATHSIG, set after the privilege drop, which clears it,
and checked against the master's pid for a master that died before the
child asked). Without it the workers kept the listening sockets and served
on, with no one to restart them, and the port could not be bound again.

Checked: within 5 s of the kill no process of that instance is left (a
zombie waiting for init counts as gone: it holds no socket), every listening
port can be bound again, and a client logged in before the kill is told
goodbye or sees the connection closed. Also when the kill lands in the
middle of a reload, while new workers are being forked."""

import os
import signal
import socket
import time
import unittest

from harness import Daemon, main

SECTIONS = {"server": {"workers": "2"},
            "auth": {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}}
USERS = ["alice:{PLAIN}secret::::::"]
GONE_WITHIN = 5.0


def proc_stat(pid):
    """(state, ppid) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def descendants(root):
    """Every live process below root (children, their children...)."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st is not None:
                parents.setdefault(st[1], []).append(int(name))
    out, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pids):
    """Those of pids that still run (zombies excluded)."""
    left = []
    for pid in pids:
        st = proc_stat(pid)
        if st is not None and st[0] != "Z":
            left.append(pid)
    return left


def port_free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


class MasterKilled(unittest.TestCase):
    def kill_master_and_check(self, d, during_reload=False):
        client = d.imap()
        client.readline()
        client.cmd("a1 LOGIN alice secret")
        self.assertRegex(client.read_until_tagged("a1")[-1], r"^a1 OK .*Logged in$")
        children = descendants(d.proc.pid)
        # two workers and the auth helper, at least
        self.assertGreaterEqual(len(children), 3, children)
        if during_reload:
            d.signal(signal.SIGHUP)
            d.wait_log(r"event=reloaded")
            time.sleep(0.01)
        d.proc.kill()
        d.proc.wait()
        killed_at = time.monotonic()
        left = alive(children + descendants(d.proc.pid))
        while left and time.monotonic() - killed_at < GONE_WITHIN:
            time.sleep(0.05)
            left = alive(left)
        waited = time.monotonic() - killed_at
        d.proc = None
        d.log.close()
        for pid in left:  # a failed run leaves no orphans to other tests
            os.kill(pid, signal.SIGKILL)
        self.assertEqual(left, [], "still running %.1f s after the master's SIGKILL:\n%s"
                         % (waited, d.read_log()[-3000:]))
        # nobody holds a listening port any more
        for host, port in d.listening_addrs():
            self.assertTrue(port_free(port), "port %d still bound" % port)
        # the logged-in client is told goodbye or sees the close
        lines, closed = [], False
        client.sock.settimeout(GONE_WITHIN)
        for _ in range(10):
            try:
                line = client.readline()
            except ConnectionResetError:
                line = None
            except socket.timeout:
                break
            if line is None:
                closed = True
                break
            lines.append(line)
        self.assertTrue(closed, "session still open after the kill: %r" % lines)
        self.assertTrue(all(l.startswith("* BYE") for l in lines), lines)
        client.close()
        d.check_log()
        return waited

    def test_children_exit_with_the_master(self):
        with Daemon(sections=SECTIONS, users=USERS) as d:
            self.kill_master_and_check(d)

    def test_children_exit_when_the_master_dies_in_a_reload(self):
        for _ in range(3):
            with Daemon(sections=SECTIONS, users=USERS) as d:
                self.kill_master_and_check(d, during_reload=True)


if __name__ == "__main__":
    main()
