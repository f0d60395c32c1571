# SPDX-License-Identifier: GPL-2.0-or-later
"""Nothing slow on the loop (issue 9 item 4): while one session opens a
cold 100,000-message folder on a storage thread, a NOOP on another
connection of the same worker (server.workers = 1) is answered in under
10 ms; a folder lock held by another process stalls only the session that
waits for it, which completes once the lock is released."""

import os
import re
import select
import statistics
import threading
import time
import unittest

from harness import main
from imap_util import imap_daemon, maildrop
from imap_util import raw_login as _raw_login
from test_pop3 import chown_to_daemon

BIG = int(os.environ.get("MERPATI_ASYNC_MESSAGES", "100000"))


def raw_login(d, user="alice"):
    """Logged in, with a read timeout long enough for a 100,000-message
    open on a loaded machine: these tests assert order, not speed."""
    c = _raw_login(d, user)
    c.sock.settimeout(300)
    return c
MSG = b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n"


def big_folder(d, name, count, user="alice"):
    """Writes count messages straight into .name/cur (no fsync, no
    deliver), sizes in the names as Dovecot writes them."""
    root = maildrop(d, user)
    path = os.path.join(root, "." + name) if name != "INBOX" else root
    for sub in ("", "cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
        chown_to_daemon(d, os.path.join(path, sub))
    cur = os.path.join(path, "cur")
    base = int(time.time()) - 3600
    for i in range(count):
        fn = "%d.M%dP1.bulk,S=%d,W=%d:2,%s" % (base, i, len(MSG), len(MSG),
                                               "S" if i % 2 else "")
        with open(os.path.join(cur, fn), "wb") as f:
            f.write(MSG)
    return path


class NoopProbe(threading.Thread):
    """Sends NOOP every 5 ms on its own connection and records how long
    each answer took, until stopped."""

    def __init__(self, c):
        super().__init__(daemon=True)
        self.c = c
        self.samples = []  # (sent_at, latency_s)
        self.stop = threading.Event()
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                tag = "n%d" % n
                t0 = time.monotonic()
                self.c.cmd(tag + " NOOP")
                line = self.c.readline()
                if line != tag + " OK NOOP completed":
                    raise AssertionError("unexpected %r" % line)
                self.samples.append((t0, time.monotonic() - t0))
                time.sleep(0.005)
        except Exception as e:  # reported by the test
            self.error = e

    def during(self, start, end):
        return [lat for (t, lat) in self.samples if start <= t and t + lat <= end]


class StorageAsync(unittest.TestCase):
    hand_count = 0  # deliver_by_hand(): unique names

    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon(workers=1)
        t0 = time.monotonic()
        cls.path = big_folder(cls.d, "Big", BIG)
        # the same messages as alice's INBOX, for POP3 (links: quicker)
        inbox = os.path.join(maildrop(cls.d, "alice"), "cur")
        for fn in os.listdir(os.path.join(cls.path, "cur")):
            os.link(os.path.join(cls.path, "cur", fn), os.path.join(inbox, fn))
        cls.build_secs = time.monotonic() - t0

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def probe(self):
        b = raw_login(self.d, "bob")
        p = NoopProbe(b)
        p.start()
        time.sleep(0.1)
        return p

    def finish_probe(self, p):
        p.stop.set()
        p.join(10)
        self.assertIsNone(p.error)

    def test_cold_select_keeps_loop_free(self):
        a = raw_login(self.d)
        p = self.probe()
        t0 = time.monotonic()
        a.cmd("s1 SELECT Big")
        lines = a.read_until_tagged("s1")
        t1 = time.monotonic()
        self.finish_probe(p)
        self.assertIn("* %d EXISTS" % BIG, lines)
        self.assertEqual(lines[-1], "s1 OK [READ-WRITE] SELECT completed")
        lat = p.during(t0, t1)
        # the order: NOOPs were answered while the open was in flight
        self.assertGreaterEqual(len(lat), 3, "select took %.3f s" % (t1 - t0))
        lat_ms = sorted(x * 1000 for x in lat)
        print("cold SELECT of %d messages: %.3f s; NOOPs meanwhile: %d, "
              "median %.2f ms, max %.2f ms" % (BIG, t1 - t0, len(lat_ms),
                                               statistics.median(lat_ms), lat_ms[-1]))
        self.assertLess(statistics.median(lat_ms), 10.0)
        # on a loaded 2-core machine the storage thread competes with the
        # loop for a core: single answers may take longer, but never the
        # open's length (a stalled loop answers nothing until it is done)
        # the max only rules out a loop held for much of the operation:
        # one scheduler hiccup on a loaded machine reached 256 ms under ASan
        self.assertLess(lat_ms[-1], (t1 - t0) * 1000 / 4, lat_ms[-20:])
        # the folder works afterwards
        a.cmd("s2 STORE %d +FLAGS (\\Flagged)" % BIG)
        self.assertEqual(a.read_until_tagged("s2")[-1], "s2 OK STORE completed")
        a.cmd("s3 LOGOUT")
        a.read_until_tagged("s3")

    def test_held_lock_stalls_only_its_session(self):
        small = big_folder(self.d, "Locked", 3)
        lock = os.path.join(small, "dovecot-uidlist.lock")
        with open(lock, "w") as f:
            f.write("%d:elsewhere.invalid\n" % os.getppid())
        a = raw_login(self.d)
        p = self.probe()
        t0 = time.monotonic()
        a.cmd("s1 SELECT Locked")
        # the open waits on a storage thread; other sessions go on: 20
        # NOOPs are answered while the SELECT is still unanswered (the
        # count, not a rate: a loaded machine may take its time)
        deadline = time.monotonic() + 120
        while len(p.during(t0, time.monotonic())) <= 20:
            self.assertLess(time.monotonic(), deadline, "NOOPs stalled")
            time.sleep(0.05)
        self.assertFalse(a.buf)
        r, _, _ = select.select([a.sock], [], [], 0)
        self.assertEqual(r, [], "SELECT answered while the lock was held")
        os.unlink(lock)
        lines = a.read_until_tagged("s1")
        self.finish_probe(p)
        self.assertIn("* 3 EXISTS", lines)
        self.assertEqual(lines[-1], "s1 OK [READ-WRITE] SELECT completed")
        lat_ms = sorted(x * 1000 for x in p.during(t0, time.monotonic()))
        self.assertLess(statistics.median(lat_ms), 10.0)

    def test_client_gone_mid_open(self):
        """A session that disconnects while its open runs: the job
        finishes on its thread, its result is dropped, the worker lives."""
        big_folder(self.d, "Gone", 5000)
        a = raw_login(self.d)
        a.cmd("s1 SELECT Gone")
        time.sleep(0.01)
        a.close()
        time.sleep(1.0)
        c = raw_login(self.d)
        c.cmd("s2 SELECT Gone")
        lines = c.read_until_tagged("s2")
        self.assertIn("* 5000 EXISTS", lines)
        c.cmd("s3 LOGOUT")
        c.read_until_tagged("s3")
        self.d.check_log()

    def test_imap_copy_and_expunge_keep_loop_free(self):
        a = raw_login(self.d)
        a.cmd("c0 CREATE Copied")
        a.read_until_tagged("c0")
        a.cmd("c1 SELECT Big")
        a.read_until_tagged("c1")
        n = min(BIG // 2, 5000)
        a.cmd("c2 STORE 1:%d +FLAGS.SILENT (\\Deleted)" % n)
        self.assertEqual(a.read_until_tagged("c2")[-1], "c2 OK STORE completed")
        p = self.probe()
        t0 = time.monotonic()
        a.cmd("c3 COPY %d:%d Copied" % (n + 1, 2 * n))
        lines = a.read_until_tagged("c3")
        t1 = time.monotonic()
        self.assertRegex(lines[-1], r"^c3 OK \[COPYUID \d+ \d+:\d+ 1:%d\] COPY completed$" % n)
        a.cmd("c4 EXPUNGE")
        lines = a.read_until_tagged("c4")
        t2 = time.monotonic()
        self.finish_probe(p)
        self.assertEqual(lines[-1], "c4 OK EXPUNGE completed")
        self.assertEqual(len([x for x in lines if x.endswith(" EXPUNGE")]), n)
        copy_ms = sorted(x * 1000 for x in p.during(t0, t1))
        exp_ms = sorted(x * 1000 for x in p.during(t1, t2))
        print("COPY %d: %.3f s, NOOP median %.2f ms max %.2f ms; EXPUNGE %d: "
              "%.3f s, NOOP median %.2f ms max %.2f ms"
              % (n, t1 - t0, statistics.median(copy_ms or [0]), max(copy_ms or [0]),
                 n, t2 - t1, statistics.median(exp_ms or [0]), max(exp_ms or [0])))
        for lat, secs in ((copy_ms, t1 - t0), (exp_ms, t2 - t1)):
            if secs > 0.1:
                self.assertGreaterEqual(len(lat), 3)
                self.assertLess(statistics.median(lat), 10.0)
                self.assertLess(lat[-1], secs * 1000 / 4, lat[-20:])
        a.cmd("c5 STATUS Copied (MESSAGES)")
        self.assertIn("* STATUS Copied (MESSAGES %d)" % n, a.read_until_tagged("c5"))
        a.cmd("c6 LOGOUT")
        a.read_until_tagged("c6")

    # --- the sync of a command's end, IDLE, STORE and APPEND (issue 9 a);
    # named test_loop_* to run after the tests that want Big cold ---
    # Each holds the folder's lock ("another host's" process) while the
    # command runs: its storage work waits for the lock on a storage
    # thread, so the order is structural, not a matter of timing: NOOPs on
    # another connection of the worker are answered while the command is
    # outstanding; on the loop the command would have failed at once
    # ([UNAVAILABLE], or a sync skipped) instead of waiting.

    def select_big(self, a, tag):
        a.cmd("%s SELECT Big" % tag)
        lines = a.read_until_tagged(tag)
        self.assertEqual(lines[-1], "%s OK [READ-WRITE] SELECT completed" % tag)
        exists = [int(x.split()[1]) for x in lines if x.endswith(" EXISTS")]
        uidvalidity = [x for x in lines if "[UIDVALIDITY " in x][0]
        return exists[0], int(uidvalidity.split()[3].rstrip("]"))

    def hold_lock(self):
        lock = os.path.join(self.path, "dovecot-uidlist.lock")
        with open(lock, "w") as f:
            f.write("%d:elsewhere.invalid\n" % os.getppid())
        return lock

    def deliver_by_hand(self, n):
        """n new files in Big/new, as an MTA leaves them: the next sync
        scans the whole folder and gives them UIDs under the lock."""
        for _ in range(n):
            StorageAsync.hand_count += 1
            fn = "%d.M%dP2.hand,S=%d,W=%d" % (time.time(), self.hand_count,
                                              len(MSG), len(MSG))
            path = os.path.join(self.path, "new", fn)
            with open(path, "wb") as f:
                f.write(MSG)
            chown_to_daemon(self.d, path)

    @staticmethod
    def unanswered(c, tag):
        """True while c has had no tagged reply for tag (reads what came)."""
        c.sock.setblocking(False)
        try:
            while True:
                data = c.sock.recv(65536)
                if not data:
                    break
                c.buf += data
        except BlockingIOError:
            pass
        finally:
            c.sock.settimeout(300)
        return ("\r\n%s " % tag).encode() not in b"\r\n" + c.buf

    def others_answered_first(self, a, tag, lock):
        """While a's command waits for the lock, three NOOPs on bob's
        connection are answered and a's command is not; then the lock
        goes. Returns a's lines up to its tagged reply."""
        b = raw_login(self.d, "bob")
        try:
            time.sleep(0.3)  # a's command reaches the lock (not needed to pass)
            for i in range(3):
                b.cmd("m%d NOOP" % i)
                self.assertEqual(b.readline(), "m%d OK NOOP completed" % i)
            self.assertTrue(self.unanswered(a, tag), a.buf[-500:])
        finally:
            os.unlink(lock)
        b.cmd("m9 LOGOUT")
        b.read_until_tagged("m9")
        return a.read_until_tagged(tag)

    def test_loop_free_sync_at_command_end(self):
        a = raw_login(self.d)
        count, _ = self.select_big(a, "y1")
        self.deliver_by_hand(2)
        lock = self.hold_lock()
        a.cmd("y2 NOOP")  # its sync rescans the folder, then waits
        lines = self.others_answered_first(a, "y2", lock)
        # RFC 3501 7.4.1: the untagged responses before the tagged line
        # (RECENT with EXISTS: this session sees the two first)
        self.assertEqual(lines, ["* %d EXISTS" % (count + 2), "* 2 RECENT",
                                 "y2 OK NOOP completed"])
        # pipelined commands behind a sync on a thread: answered in order
        self.deliver_by_hand(1)
        a.send("y3 CHECK\r\ny4 NOOP\r\ny5 NOOP\r\n")
        lines = a.read_until_tagged("y5")
        tags = [x.split()[0] for x in lines if not x.startswith("*")]
        self.assertEqual(tags, ["y3", "y4", "y5"])
        self.assertEqual(lines[0], "* %d EXISTS" % (count + 3))
        self.assertEqual(lines[1], "* 3 RECENT")
        self.assertEqual(lines[2], "y3 OK CHECK completed")
        a.cmd("y6 LOGOUT")
        a.read_until_tagged("y6")

    def test_loop_free_sync_client_gone(self):
        """A session that disconnects while its end-of-command sync runs
        on a thread: the sync finishes, its result is dropped (the store
        and folder freed with it), the worker goes on."""
        a = raw_login(self.d)
        count, _ = self.select_big(a, "g1")
        self.deliver_by_hand(1)
        lock = self.hold_lock()
        try:
            a.cmd("g2 NOOP")
            time.sleep(0.3)
            a.close()
            time.sleep(0.2)
        finally:
            os.unlink(lock)
        c = raw_login(self.d)
        # the dropped session's rescan may still hold the lock (a minute
        # under ASan on a loaded machine): a busy answer is retried
        for attempt in range(5):
            c.cmd("g3 STATUS Big (MESSAGES)")
            lines = c.read_until_tagged("g3")
            if not lines[-1].startswith("g3 NO [UNAVAILABLE]"):
                break
        self.assertIn("* STATUS Big (MESSAGES %d)" % (count + 1), lines)
        c.cmd("g4 LOGOUT")
        c.read_until_tagged("g4")
        self.d.check_log()

    def test_loop_free_idle_wakeup(self):
        a = raw_login(self.d)
        count, _ = self.select_big(a, "i1")
        a.cmd("i2 IDLE")
        self.assertEqual(a.readline(), "+ idling")
        lock = self.hold_lock()
        self.deliver_by_hand(1)
        b = raw_login(self.d, "bob")
        try:
            time.sleep(0.3)
            for i in range(3):
                b.cmd("m%d NOOP" % i)
                self.assertEqual(b.readline(), "m%d OK NOOP completed" % i)
        finally:
            os.unlink(lock)
        self.assertEqual(a.readline(), "* %d EXISTS" % (count + 1))
        self.assertEqual(a.readline(), "* 1 RECENT")
        a.cmd("DONE")
        self.assertEqual(a.readline(), "i2 OK IDLE terminated")
        a.cmd("i3 LOGOUT")
        a.read_until_tagged("i3")

    def test_loop_free_store(self):
        a = raw_login(self.d)
        self.select_big(a, "f1")
        lock = self.hold_lock()
        a.cmd("f2 STORE 1:100 +FLAGS (\\Flagged)")
        lines = self.others_answered_first(a, "f2", lock)
        self.assertEqual(lines[-1], "f2 OK STORE completed")
        fetches = [x for x in lines if x.startswith("* ")]
        self.assertEqual(len(fetches), 100)
        self.assertRegex(fetches[0], r"^\* 1 FETCH \(FLAGS \(.*\\Flagged.*\)\)$")
        a.cmd("f3 FETCH 100 (FLAGS)")
        self.assertIn("\\Flagged", a.read_until_tagged("f3")[0])
        a.cmd("f4 LOGOUT")
        a.read_until_tagged("f4")

    def test_loop_free_append(self):
        a = raw_login(self.d)
        count, uidvalidity = self.select_big(a, "p1")
        lock = self.hold_lock()
        a.send(b"p2 APPEND Big (\\Seen) {%d+}\r\n%s\r\n" % (len(MSG), MSG))
        lines = self.others_answered_first(a, "p2", lock)
        m = re.match(r"^p2 OK \[APPENDUID (\d+) (\d+)\] APPEND completed$",
                     lines[-1])
        self.assertIsNotNone(m, lines)
        self.assertEqual(int(m.group(1)), uidvalidity)
        # the selected folder's sync ran on the thread too
        self.assertIn("* %d EXISTS" % (count + 1), lines)
        a.cmd("p3 UID FETCH %s (FLAGS)" % m.group(2))
        self.assertRegex(a.read_until_tagged("p3")[0],
                         r"^\* %d FETCH \(UID %s FLAGS \(\\Seen \\Recent\)\)$"
                         % (count + 1, m.group(2)))
        a.cmd("p4 LOGOUT")
        a.read_until_tagged("p4")

    def pop3(self, user="alice", password="secret"):
        c = self.d.pop3()
        c.sock.settimeout(300)
        c.expect(r"^\+OK ")
        c.cmd("USER " + user)
        c.expect(r"^\+OK")
        c.cmd("PASS " + password)
        return c

    def test_pop3_cold_login_and_quit(self):
        p = self.probe()
        t0 = time.monotonic()
        c = self.pop3()
        line = c.readline()
        t1 = time.monotonic()
        self.assertEqual(line, "+OK Logged in.")
        c.cmd("STAT")
        self.assertEqual(c.readline(), "+OK %d %d" % (BIG, BIG * len(MSG)))
        # QUIT's expunge of many messages runs off the loop too
        n = min(BIG, 5000)
        c.send(b"".join(b"DELE %d\r\n" % i for i in range(1, n + 1)))
        for i in range(n):
            self.assertEqual(c.readline(), "+OK Marked to be deleted.")
        t2 = time.monotonic()
        c.cmd("QUIT")
        self.assertEqual(c.readline(), "+OK Logging out.")
        t3 = time.monotonic()
        self.finish_probe(p)
        login_ms = sorted(x * 1000 for x in p.during(t0, t1))
        quit_ms = sorted(x * 1000 for x in p.during(t2, t3))
        print("cold POP3 login of %d messages: %.3f s; NOOPs meanwhile: %d, "
              "median %.2f ms, max %.2f ms; QUIT expunging %d: %.3f s"
              % (BIG, t1 - t0, len(login_ms), statistics.median(login_ms),
                 login_ms[-1], n, t3 - t2))
        self.assertGreaterEqual(len(login_ms), 3)
        self.assertLess(statistics.median(login_ms), 10.0)
        self.assertLess(login_ms[-1], (t1 - t0) * 1000 / 4, login_ms[-20:])
        # the expunged UIDs left the list at once
        with open(os.path.join(self.d.mail, "alice", "dovecot-uidlist")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines) - 1, BIG - n)

    def test_pop3_lock_timeout_keeps_loop_free(self):
        root = maildrop(self.d, "bob")
        with open(os.path.join(root, "cur", "1.M1P1.x:2,"), "wb") as f:
            f.write(MSG)
        lock = os.path.join(root, "dovecot-uidlist.lock")
        with open(lock, "w") as f:
            f.write("%d:elsewhere.invalid\n" % os.getppid())
        try:
            p = self.probe()
            t0 = time.monotonic()
            c = self.pop3("bob", "hunter2")
            line = c.readline()
            t1 = time.monotonic()
            self.finish_probe(p)
        finally:
            os.unlink(lock)
        self.assertRegex(line, r"^-ERR \[SYS/TEMP\] ")
        self.assertGreater(t1 - t0, 4.0)
        lat_ms = sorted(x * 1000 for x in p.during(t0, t1))
        self.assertGreater(len(lat_ms), 100)
        self.assertLess(statistics.median(lat_ms), 10.0)
        # released: the next login gets in
        c = self.pop3("bob", "hunter2")
        self.assertEqual(c.readline(), "+OK Logged in.")
        c.cmd("QUIT")
        self.assertEqual(c.readline(), "+OK Logging out.")


if __name__ == "__main__":
    main()
