# SPDX-License-Identifier: GPL-2.0-or-later
"""Chaos (issue 8, Tests): for MERPATI_CHAOS_SECS seconds (120 by default)
deliveries, POP3 sessions and IMAP sessions run at once against a daemon
with two workers, while a killer thread kills workers (SIGKILL), kills the
auth helper (SIGKILL) and sends SIGHUP storms (5 reloads within a second).

Recorded while it runs:
- acknowledged deliveries: `merpati deliver` that exited 0, and IMAP
  APPENDs answered `OK [APPENDUID v u]`;
- acknowledged deletions: messages a POP3 session retrieved, marked with
  DELE and whose QUIT was answered +OK (a session cut after DELE, before
  the QUIT's answer, leaves those messages "maybe deleted": either is right);
- every (UIDVALIDITY, UID) a client saw with the message it named: POP3
  UIDL (%08x UID, %08x UIDVALIDITY) beside the RETR'd Message-ID, IMAP
  APPENDUID, and IMAP UID SEARCH HEADER Message-ID for a delivered message.

Checked afterwards:
- every acknowledged message is in the Maildir exactly once, or was
  acknowledged as deleted by a POP3 QUIT, never both and never neither; no
  Message-ID is in two files; every file's bytes are the bytes delivered;
- dovecot-uidlist lists every file once, no UID twice, UIDs ascending and
  below the UIDNEXT a final SELECT gives, the same UIDVALIDITY all along, and no UID ever named
  two different messages (clients' sightings and the final list agree);
- the daemon still serves POP3 and IMAP logins, stops with exit 0, and its
  log (stderr: where ASan, UBSan and LSan write) has no sanitizer report,
  nor has any `merpati deliver`'s stderr.

Every loop is bounded by the deadline and by a count; loopback only."""

import os
import poplib
import random
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import harness
from harness import Daemon, main

SECS = float(os.environ.get("MERPATI_CHAOS_SECS", "120"))
USER, PASSWORD = "alice", "secret"
SECTIONS = {"server": {"workers": "2"},
            "auth": {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"},
            "pop3": {"after_download": "keep"}}
MAX_PER_DELIVERER = 20000
MAX_SESSIONS = 20000
SANITIZER = re.compile(r"AddressSanitizer|runtime error|LeakSanitizer|UndefinedBehaviorSanitizer")
MID = re.compile(rb"^Message-ID: <(chaos-[a-z0-9-]+)@merpati\.test>\s*$", re.I | re.M)


def message(mid):
    """The bytes delivered for mid: sizes vary, every 25th is ~100 KB (RETR
    past the output high-water mark)."""
    n = int(mid.rsplit("-", 1)[1])
    lines = 2000 if n % 25 == 0 else 1 + n % 40
    body = "".join("%s line %d: the quick brown fox .%d\n" % (mid, i, i) for i in range(lines))
    return ("From: chaos@merpati.test\nTo: %s@merpati.test\nSubject: chaos %s\n"
            "Message-ID: <%s@merpati.test>\n\n%s" % (USER, mid, mid, body)).encode()


def err_bytes(e):
    """A poplib.error_proto's answer as bytes (poplib raises some as str)."""
    a = e.args[0] if e.args else b""
    return a if isinstance(a, bytes) else str(a).encode()


def track(exists, lines):
    """The message count after a command's untagged EXISTS and EXPUNGE
    (another session's POP3 QUIT shows up as expunges)."""
    for line in lines:
        m = re.match(r"\* (\d+) (EXISTS|EXPUNGE)$", line)
        if m and m.group(2) == "EXISTS":
            exists = int(m.group(1))
        elif m:
            exists -= 1
    return exists


def body_of(data):
    """The body lines of a message (LF or CRLF), the headers dropped."""
    data = data.replace(b"\r\n", b"\n")
    return data.split(b"\n\n", 1)[1] if b"\n\n" in data else b""


class Record:
    """What the clients saw, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = set()          # Message-IDs acknowledged as stored
        self.deleted = set()        # acknowledged deleted by a POP3 QUIT
        self.maybe_deleted = set()  # DELE sent, QUIT's answer lost
        self.owner = {}             # (uidvalidity, uid) -> Message-ID
        self.uidvalidities = set()
        self.errors = []
        self.counts = {}

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def error(self, text):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(text)

    def saw(self, uv, uid, mid, where):
        """A client saw UID uid (of UIDVALIDITY uv) name message mid."""
        with self.lock:
            self.uidvalidities.add(uv)
            old = self.owner.setdefault((uv, uid), mid)
        if old != mid:
            self.error("UID %d (UIDVALIDITY %d) named %s and then %s (%s)" % (uid, uv, old, mid, where))


class Chaos(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(sections=SECTIONS, users=["%s:{PLAIN}%s::::::" % (USER, PASSWORD)])
        self.d.allow_worker_death = True  # killed on purpose (signal=9 only)
        self.rec = Record()
        self.stop = threading.Event()
        self.seq = 0
        self.seq_lock = threading.Lock()

    def tearDown(self):
        self.stop.set()
        if self.d.proc is not None:  # failed before the stop: keep the log
            self.d.proc.kill()
            self.d.proc.wait()
            self.d.proc = None
            print("merpatid log kept in", self.d.log_path)
            print(self.d.read_log()[-4000:])

    def next_mid(self, kind):
        with self.seq_lock:
            self.seq += 1
            return "chaos-%s-%d" % (kind, self.seq)

    # -- clients --------------------------------------------------------

    def deliverer(self):
        for _ in range(MAX_PER_DELIVERER):
            if self.stop.is_set():
                return
            mid = self.next_mid("d")
            try:
                p = subprocess.run([harness.MERPATI, "deliver", "-c", self.d.conf_path, USER],
                                   input=message(mid), capture_output=True, timeout=60)
            except subprocess.TimeoutExpired:
                self.rec.error("deliver %s hung for 60 s" % mid)
                return
            if SANITIZER.search(p.stderr.decode("utf-8", "replace")):
                self.rec.error("merpati deliver %s: sanitizer report:\n%s"
                               % (mid, p.stderr.decode("utf-8", "replace")[-3000:]))
            if p.returncode == 0:
                with self.rec.lock:
                    self.rec.acked.add(mid)
                self.rec.count("deliveries acknowledged")
            else:
                self.rec.count("deliveries refused (exit %d)" % p.returncode)
            time.sleep(random.uniform(0.1, 0.3))

    def pop3_session(self):
        rec = self.rec
        pending = []
        try:
            p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        except OSError:
            rec.count("pop3 connections refused")
            return
        try:
            p.user(USER)
            try:
                p.pass_(PASSWORD)
            except poplib.error_proto as e:
                # another session holds the maildrop, or the helper was
                # being restarted: a temporary refusal, never a wrong password
                if not re.match(rb"-ERR (\[(IN-USE|SYS/TEMP)\]|EOF$)", err_bytes(e)):
                    rec.error("POP3 login refused: %r" % err_bytes(e))
                rec.count("pop3 logins refused (busy or temp)")
                return
            rec.count("pop3 sessions")
            listing = p.uidl()[1]
            msgs = []
            for line in listing:
                num, uidl = line.split()
                uid, uv = int(uidl[:8], 16), int(uidl[8:], 16)
                msgs.append((int(num), uid, uv))
            for num, uid, uv in random.sample(msgs, min(len(msgs), random.randint(1, 4))):
                data = b"\r\n".join(p.retr(num)[1]) + b"\r\n"
                m = MID.search(data)
                if m is None:
                    rec.error("POP3 RETR %d (UID %d): no chaos Message-ID" % (num, uid))
                    continue
                mid = m.group(1).decode()
                rec.saw(uv, uid, mid, "POP3 UIDL+RETR")
                if body_of(data) != body_of(message(mid)):
                    rec.error("POP3 RETR of %s: the body differs from what was delivered" % mid)
                rec.count("pop3 messages retrieved")
                if random.random() < 0.4:
                    p.dele(num)
                    pending.append(mid)
            resp = p.quit()
            if resp.startswith(b"+OK"):
                with rec.lock:
                    rec.deleted.update(pending)
                rec.count("pop3 deletions acknowledged", len(pending))
                pending = []
        except (OSError, EOFError, poplib.error_proto) as e:
            if isinstance(e, poplib.error_proto):
                # only a temporary or "removed" answer is expected
                text = err_bytes(e)
                if not re.match(rb"-ERR (\[(SYS/TEMP|SYS/PERM|IN-USE)\]|EOF$)", text):
                    rec.error("POP3 answered %r" % text)
                rec.count("pop3 -ERR %s" % text[:60].decode("utf-8", "replace"))
            rec.count("pop3 sessions cut")
        finally:
            if pending:
                with rec.lock:
                    rec.maybe_deleted.update(pending)
            try:
                p.close()
            except OSError:
                pass

    def popper(self):
        for _ in range(MAX_SESSIONS):
            if self.stop.is_set():
                return
            self.pop3_session()
            time.sleep(random.uniform(0.1, 0.5))

    def imap_session(self):
        rec = self.rec
        try:
            c = self.d.imap()
        except OSError:
            rec.count("imap connections refused")
            return
        try:
            if not (c.readline() or "").startswith("* OK"):
                rec.count("imap sessions cut")
                return
            c.cmd("a1 LOGIN %s %s" % (USER, PASSWORD))
            r = c.read_until_tagged("a1")[-1]
            if not r.startswith("a1 OK"):
                if not re.match(r"a1 NO \[UNAVAILABLE\]", r):
                    rec.error("IMAP LOGIN refused: %r" % r)
                rec.count("imap logins refused (temp)")
                return
            rec.count("imap sessions")
            c.cmd("a2 SELECT INBOX")
            lines = c.read_until_tagged("a2")
            if not lines[-1].startswith("a2 OK"):
                rec.error("SELECT: %r" % lines[-1])
                return
            text = "\n".join(lines)
            uv = int(re.search(r"\[UIDVALIDITY (\d+)\]", text).group(1))
            uidnext = int(re.search(r"\[UIDNEXT (\d+)\]", text).group(1))
            exists = int(re.search(r"^\* (\d+) EXISTS", text, re.M).group(1))
            with rec.lock:
                rec.uidvalidities.add(uv)
            if random.random() < 0.5:
                mid = self.next_mid("a")
                data = message(mid).replace(b"\n", b"\r\n")
                c.send(b"a3 APPEND INBOX {%d+}\r\n" % len(data) + data + b"\r\n")
                lines = c.read_until_tagged("a3")
                exists = track(exists, lines)
                r = lines[-1]
                m = re.match(r"a3 OK \[APPENDUID (\d+) (\d+)\]", r)
                if m is None and re.match(r"a3 NO \[UNAVAILABLE\] ", r):
                    # a temporary refusal (the folder is locked by a POP3
                    # session): not acknowledged, the client tries later
                    rec.count("imap appends refused (temp): %s" % r[3:60])
                elif m is None:
                    rec.error("APPEND: %r" % r)
                else:
                    with rec.lock:
                        rec.acked.add(mid)
                    rec.saw(int(m.group(1)), int(m.group(2)), mid, "APPENDUID")
                    if int(m.group(2)) < uidnext:
                        rec.error("APPENDUID %s below the UIDNEXT %d SELECT gave" % (m.group(2), uidnext))
                    rec.count("imap appends acknowledged")
            if exists:
                lo = random.randint(1, exists)
                hi = min(exists, lo + random.randint(0, 10))
                flag = random.choice([r"\Seen", r"\Flagged", "$Chaos", r"\Answered"])
                sign = random.choice("+-")
                c.cmd("a4 STORE %d:%d %sFLAGS (%s)" % (lo, hi, sign, flag))
                lines = c.read_until_tagged("a4")
                # a POP3 QUIT meanwhile may have removed some: NO is fine
                if not re.match(r"a4 (OK|NO) ", lines[-1]):
                    rec.error("STORE: %r" % lines[-1])
                for l in lines:
                    m = re.search(r"UID (\d+)", l)
                    if l.startswith("* ") and " FETCH " in l and m and int(m.group(1)) == 0:
                        rec.error("STORE reported UID 0: %r" % l)
                rec.count("imap stores")
            with rec.lock:
                known = random.choice(sorted(rec.acked)) if rec.acked else None
            if known is not None:
                # the UID IMAP gives a message must be the one POP3's UIDL
                # and APPENDUID gave it; two UIDs would be a duplicate
                c.cmd('a9 UID SEARCH HEADER Message-ID "<%s@merpati.test>"' % known)
                lines = c.read_until_tagged("a9")
                exists = track(exists, lines)
                if not lines[-1].startswith("a9 OK"):
                    rec.error("UID SEARCH: %r" % lines[-1])
                found = [int(u) for l in lines if l.startswith("* SEARCH")
                         for u in l.split()[2:]]
                if len(found) > 1:
                    rec.error("UID SEARCH found %s %d times: %r" % (known, len(found), found))
                for uid in found:
                    rec.saw(uv, uid, known, "IMAP UID SEARCH")
                rec.count("imap searches")
            c.cmd("a5 IDLE")
            for _ in range(10000):  # untagged news may come first
                line = c.readline()
                if line is None or not line.startswith("* "):
                    break
            if line is None:
                raise OSError("closed")
            if not line.startswith("+ "):
                rec.error("IDLE was not accepted: %r" % line)
                return
            time.sleep(random.uniform(0.05, 0.5))
            c.cmd("DONE")
            if not c.read_until_tagged("a5")[-1].startswith("a5 OK"):
                rec.error("IDLE did not end with OK")
            c.cmd("a6 NOOP")
            c.read_until_tagged("a6")
            c.cmd("a7 EXPUNGE")  # nothing is \Deleted: nothing goes
            lines = c.read_until_tagged("a7")
            if not lines[-1].startswith("a7 OK"):
                rec.error("EXPUNGE: %r" % lines[-1])
            c.cmd("a8 LOGOUT")
            c.read_until_tagged("a8")
        except (OSError, AssertionError, AttributeError):
            rec.count("imap sessions cut")
        finally:
            c.close()

    def imapper(self):
        for _ in range(MAX_SESSIONS):
            if self.stop.is_set():
                return
            self.imap_session()
            time.sleep(random.uniform(0.1, 0.5))

    # -- the killer -----------------------------------------------------

    def children(self):
        """(workers, helpers): the master's children older than 1.5 s (a
        child that dies right after its start makes the master back off)."""
        workers, helpers = [], []
        hz = os.sysconf("SC_CLK_TCK")
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.d.proc.pid)],
                             capture_output=True, text=True).stdout.split()
        for pid in map(int, out):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    stat = f.read()
                with open("/proc/%d/status" % pid) as f:
                    uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
            except (OSError, AttributeError):
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z" or uptime - int(fields[19]) / hz < 1.5:
                continue
            (helpers if uid == 0 else workers).append(pid)
        return workers, helpers

    def killer(self):
        rec = self.rec
        for _ in range(10000):
            if self.stop.wait(random.uniform(1.0, 3.0)):
                return
            if self.d.proc.poll() is not None:
                rec.error("the master exited (%s)" % self.d.proc.returncode)
                return
            action = random.random()
            workers, helpers = self.children()
            if action < 0.55 and workers:
                os.kill(random.choice(workers), signal.SIGKILL)
                rec.count("workers killed")
            elif action < 0.75 and helpers:
                os.kill(helpers[0], signal.SIGKILL)
                rec.count("auth helpers killed")
            else:
                for _ in range(5):
                    self.d.signal(signal.SIGHUP)
                    time.sleep(0.2)
                rec.count("SIGHUP storms")
                rec.count("reloads (SIGHUP)", 5)

    # -- the test -------------------------------------------------------

    def final_login(self):
        """POP3 and IMAP logins work again once the chaos stops (bounded)."""
        deadline = time.monotonic() + 20
        while True:
            try:
                p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
                p.user(USER)
                p.pass_(PASSWORD)
                stat = p.stat()
                p.quit()
                c = self.d.imap()
                c.readline()
                c.cmd("f1 LOGIN %s %s" % (USER, PASSWORD))
                self.assertRegex(c.read_until_tagged("f1")[-1], r"^f1 OK ")
                c.cmd("f2 SELECT INBOX")
                sel = c.read_until_tagged("f2")
                self.assertRegex(sel[-1], r"^f2 OK ")
                c.cmd("f3 LOGOUT")
                c.read_until_tagged("f3")
                c.close()
                return stat, "\n".join(sel)
            except (OSError, poplib.error_proto, AssertionError) as e:
                if time.monotonic() > deadline:
                    self.fail("no login 20 s after the chaos: %r\n%s" % (e, self.d.read_log()[-3000:]))
                time.sleep(0.5)

    def maildir(self):
        """{file name: bytes} of every message in cur/ and new/."""
        root = os.path.join(self.d.mail, USER)
        files = {}
        for sub in ("cur", "new"):
            for name in os.listdir(os.path.join(root, sub)):
                with open(os.path.join(root, sub, name), "rb") as f:
                    files[name] = f.read()
        return root, files

    def test_chaos(self):
        rec = self.rec
        # the first delivery creates the Maildir
        first = self.next_mid("d")
        p = subprocess.run([harness.MERPATI, "deliver", "-c", self.d.conf_path, USER],
                           input=message(first), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec.acked.add(first)
        def guarded(f):
            def run():
                try:
                    f()
                except Exception as e:  # a test bug or an unexpected answer
                    rec.error("%s: %r" % (f.__name__, e))
                    raise
            return run
        threads = [threading.Thread(target=guarded(f), name=f.__name__) for f in
                   (self.deliverer, self.deliverer, self.popper, self.popper,
                    self.imapper, self.imapper, self.killer)]
        started = time.monotonic()
        for t in threads:
            t.start()
        self.stop.wait(SECS)
        self.stop.set()
        for t in threads:
            t.join(90)
            self.assertFalse(t.is_alive(), "%s did not stop" % t.name)
        elapsed = time.monotonic() - started
        self.assertIsNone(self.d.proc.poll(), "the master died:\n" + self.d.read_log()[-3000:])

        stat, sel = self.final_login()
        root, files = self.maildir()
        by_mid = {}
        for name, data in files.items():
            m = MID.search(data)
            self.assertIsNotNone(m, "file %s has no chaos Message-ID" % name)
            by_mid.setdefault(m.group(1).decode(), []).append(name)
        present = set(by_mid)
        dups = {m: n for m, n in by_mid.items() if len(n) > 1}
        self.assertEqual(dups, {}, "messages stored twice")
        # every file holds exactly the bytes delivered
        verified = 0
        for mid, (name,) in by_mid.items():
            self.assertEqual(body_of(files[name]), body_of(message(mid)), "%s (%s) differs" % (mid, name))
            verified += 1
        lost = rec.acked - present - rec.deleted - rec.maybe_deleted
        self.assertEqual(lost, set(), "acknowledged, never deleted, and gone")
        both = rec.deleted & present
        self.assertEqual(both, set(), "deleted by an acknowledged QUIT, yet present")
        self.assertEqual(int(stat[0]), len(files), "POP3 STAT against the files")

        # dovecot-uidlist: every file once, no UID twice, below next-UID
        with open(os.path.join(root, "dovecot-uidlist"), "rb") as f:
            header, *entries = f.read().decode("utf-8", "replace").splitlines()
        uv = int(re.search(r"\bV(\d+)", header).group(1))
        uidnext = int(re.search(r"\[UIDNEXT (\d+)\]", sel).group(1))
        self.assertEqual(rec.uidvalidities, {uv}, "UIDVALIDITY changed during the run")
        self.assertEqual(int(re.search(r"\[UIDVALIDITY (\d+)\]", sel).group(1)), uv)
        listed, uids = {}, set()
        for line in entries:
            m = re.match(r"(\d+) (?:[^:]*)?:(.*)$", line)
            self.assertIsNotNone(m, "uidlist line %r" % line)
            uid, base = int(m.group(1)), m.group(2).split(":2,")[0]
            self.assertNotIn(uid, uids, "UID %d listed twice" % uid)
            # ascending; the header's next UID may lag behind lines
            # appended by deliveries (Dovecot's rule: the larger counts)
            self.assertGreater(uid, max(uids, default=0), "UIDs out of order")
            self.assertLess(uid, uidnext, "UID listed at or past UIDNEXT")
            uids.add(uid)
            listed[base] = uid
        for name, data in files.items():
            base = name.split(":2,")[0]
            self.assertIn(base, listed, "file %s not in dovecot-uidlist" % name)
            rec.saw(uv, listed[base], MID.search(data).group(1).decode(), "final dovecot-uidlist")
        self.assertEqual(rec.errors, [])

        self.d.stop()  # exit 0, no crash pattern in the log
        log = self.d.read_log()
        self.assertIsNone(SANITIZER.search(log), "sanitizer report in the log")
        c = rec.counts
        kills = c.get("workers killed", 0) + c.get("auth helpers killed", 0)
        print("chaos %.0f s: %d deliveries acknowledged (%d by merpati deliver, %d by "
              "IMAP APPEND), %d worker kills, %d helper kills, %d SIGHUP storms (%d "
              "reloads), %d POP3 sessions (%d cut), %d retrieved, %d deletions "
              "acknowledged, %d maybe deleted, %d IMAP sessions (%d cut), %d messages "
              "verified present, %d UIDs cross-checked; other counts: %s"
              % (elapsed, len(rec.acked), c.get("deliveries acknowledged", 0) + 1,
                 c.get("imap appends acknowledged", 0), c.get("workers killed", 0),
                 c.get("auth helpers killed", 0), c.get("SIGHUP storms", 0),
                 c.get("reloads (SIGHUP)", 0), c.get("pop3 sessions", 0),
                 c.get("pop3 sessions cut", 0), c.get("pop3 messages retrieved", 0),
                 c.get("pop3 deletions acknowledged", 0), len(rec.maybe_deleted),
                 c.get("imap sessions", 0), c.get("imap sessions cut", 0), verified,
                 len(rec.owner), c))
        # the run did what it says: some of each
        if SECS >= 60:
            self.assertGreater(kills, 5)
            self.assertGreater(c.get("SIGHUP storms", 0), 1)
            self.assertGreater(c.get("pop3 deletions acknowledged", 0), 10)
            self.assertGreater(c.get("imap appends acknowledged", 0), 10)
        self.d.cleanup()


if __name__ == "__main__":
    main()
