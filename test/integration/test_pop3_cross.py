# SPDX-License-Identifier: GPL-2.0-or-later
"""Cross-protocol: a session that has the folder open (as an IMAP session
will) is told through the storage layer's change events when POP3 removes
or flags messages, and its next sync reports exactly those UIDs."""

import os
import pwd
import queue
import shutil
import subprocess
import threading
import unittest

from harness import MERPATI, main
from test_pop3 import MSG_PLAIN, login, pop3_daemon, put_message

TOOL = os.path.join(os.path.dirname(MERPATI), "test", "test_storage_tool")


class Watcher:
    """test_storage_tool watch, run as the mail owner, read line by line."""

    def __init__(self, d, seconds=30):
        pw = pwd.getpwnam(d.user)
        # the build tree may not be reachable for the mail owner (a clone
        # under /root): run a copy from the daemon's own directory
        tool = os.path.join(d.dir, "test_storage_tool")
        shutil.copy(TOOL, tool)

        def drop():
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

        self.proc = subprocess.Popen(
            [tool, "watch", os.path.join(d.mail, "alice"), "INBOX", str(seconds)],
            stdout=subprocess.PIPE, text=True, preexec_fn=drop,
            env=dict(os.environ, MERPATI_TEST_FSYNC="no"))
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout=10):
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError("watcher ended")
        return line

    def wait_for_all(self, wanted, timeout=10):
        """Lines until every line in `wanted` was seen (in any order)."""
        seen = []
        while not set(wanted) <= set(seen):
            seen.append(self.next(timeout))
        return seen

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class PopToSessions(unittest.TestCase):
    def test_pop3_delete_and_seen_reach_an_open_session(self):
        with pop3_daemon(after_download="seen") as d:
            for _ in range(3):
                put_message(d, MSG_PLAIN)
            # the first POP3 login assigns UIDs and moves new/ to cur/
            p = login(d)
            self.assertEqual(p.stat()[0], 3)
            p.quit()
            w = Watcher(d)
            try:
                ready = w.next().split()
                self.assertEqual(ready[0], "ready")
                uids = [int(u) for u in ready[1:]]
                self.assertEqual(len(uids), 3)
                p = login(d)
                p.retr(1)    # seen at QUIT (after_download = seen)
                p.dele(2)    # removed at QUIT
                p.quit()
                lines = w.wait_for_all(["expunged %d" % uids[1], "flags %d" % uids[0]])
                self.assertNotIn("expunged %d" % uids[0], lines)
                self.assertNotIn("expunged %d" % uids[2], lines)
            finally:
                w.stop()


if __name__ == "__main__":
    main()
