# SPDX-License-Identifier: GPL-2.0-or-later
"""Randomized model test of live updates (issue 10, Tests; RFC 3501 5.2,
7.4.1, RFC 2177): several IMAP sessions have INBOX selected while random
operations interleave: APPEND, STORE and UID STORE (every form), EXPUNGE,
UID EXPUNGE, COPY out of INBOX and UID COPY into it from a second folder,
`merpati deliver`, POP3 DELE + QUIT, flag renames and unlinks by another
process, NOOP, CHECK, FETCH, SEARCH and IDLE.

The test keeps a reference model: the messages in INBOX (each identified
by its unique RFC822.SIZE) with their flags and UIDs, and per session the
view it was told about (sequence number -> message, flags). Every untagged
response is checked against it as it arrives:
- `* n EXISTS` never shrinks the view;
- `* n EXPUNGE` is never sent during FETCH, STORE or SEARCH with sequence
  numbers, nor between commands (RFC 3501 7.4.1), and n names, in the
  session's current numbering (earlier EXPUNGEs shift the later ones), a
  message that is really gone;
- `* n FETCH (FLAGS ...)` gives the message's real flags (answers of a
  FETCH may show the session's last known flags: its snapshot);
- STORE answers with the flags the message really has after the change,
  also when another session changed other flags meanwhile;
- EXPUNGE removes exactly the \\Deleted messages (never one whose
  \\Deleted another session cleared), UID EXPUNGE only those in its set;
- after NOOP, CHECK and IDLE (and every UID command) the view equals the
  model: same messages in UID order, same flags, UIDs that never change;
- \\Recent (RFC 3501 2.3.2) shows in one session only and stays there,
  and `* n RECENT` counts the messages that are \\Recent in the session.

The seed is printed on failure; MERPATI_MODEL_SEED=n reruns one seed,
MERPATI_MODEL_ROUNDS=n sets the rounds per seed. REGRESSION_SEEDS are seeds
that found server bugs; they run every time."""

import os
import random
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import main
from imap_util import imap_daemon, maildrop, raw_login

USER = "alice"
ROUNDS = int(os.environ.get("MERPATI_MODEL_ROUNDS", "200"))
DEFAULT_SEEDS = [20261201, 7, 13]
# Seeds that found server bugs (test_storage_mailbox.c has a unit test for
# each): 20261201 (the first default seed), with 3 sessions, found that
# EXPUNGE removed a message whose \Deleted another session had cleared,
# that STORE FLAGS () skipped its rename when the stale name already
# looked right, and FETCH FLAGS after a STORE missing a keyword another
# session had created; 4 found STORE -FLAGS of such a keyword doing nothing.
REGRESSION_SEEDS = [4]

SYSTEM_FLAGS = ["\\Seen", "\\Flagged", "\\Deleted", "\\Answered", "\\Draft"]
KEYWORDS = ["$Work", "$Later"]
MAILDIR_LETTER = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R",
                  "\\Seen": "S", "\\Deleted": "T"}
# commands with sequence numbers: no EXPUNGE while they run or at their end
NO_EXPUNGE = {"FETCH", "STORE", "SEARCH"}


class ModelError(AssertionError):
    pass


def message(ident):
    """The bytes of message ident: its size identifies it (strictly
    increasing with ident)."""
    return ("From: model@example.org\r\nSubject: m%d\r\nMessage-ID: <m%d@model>\r\n\r\n%s\r\n"
            % (ident, ident, "x" * ident)).encode()


def parse_flags(text):
    return frozenset(f for f in text.split() if f != "\\Recent")


def fmt_flags(flags):
    return "(" + " ".join(sorted(flags)) + ")"


class Session:
    def __init__(self, model, name, client, tracked=True):
        self.model = model
        self.tracked = tracked  # INBOX's view is checked
        self.name = name
        self.c = client
        self.view = []      # per sequence number: ident, or None (EXISTS, not fetched yet)
        self.known = {}     # ident -> flags last announced to this session
        self.recent = {}    # ident -> \Recent here, as last announced
        self.recent_count = None  # the last "* n RECENT", while it holds
        self.tagn = 0

    def tag(self):
        self.tagn += 1
        return "%s%d" % (self.name, self.tagn)

    def check_quiet(self):
        """Nothing may have arrived while no command was in progress."""
        sock = self.c.sock
        sock.setblocking(False)
        try:
            data = sock.recv(65536)
        except (BlockingIOError, socket.timeout):
            data = b""
        finally:
            sock.setblocking(True)
            sock.settimeout(10)
        pending = self.c.buf + data
        if pending:
            raise ModelError("%s: server sent %r while no command was in progress"
                             % (self.name, pending))

    def run(self, line, kind, literal=None, on_untagged=None):
        """Sends a command, checks every untagged line as it comes; returns
        (tagged line, untagged lines)."""
        self.check_quiet()
        tag = self.tag()
        self.model.log("%s> %s %s" % (self.name, tag, line))
        if literal is not None:
            self.c.send(("%s %s\r\n" % (tag, line)).encode() + literal + b"\r\n")
        else:
            self.c.cmd("%s %s" % (tag, line))
        untagged = []
        while True:
            resp = self.c.readline()
            if resp is None:
                raise ModelError("%s: connection closed during %s" % (self.name, line))
            self.model.log("%s< %s" % (self.name, resp))
            if resp.startswith(tag + " "):
                return resp, untagged
            if resp.startswith("* "):
                if self.tracked:
                    self.untagged(resp, kind)
                if on_untagged:
                    on_untagged(resp)
                untagged.append(resp)
            elif not resp.startswith("+ "):
                raise ModelError("%s: unexpected line %r" % (self.name, resp))

    # -- untagged responses -------------------------------------------------

    def untagged(self, resp, kind):
        m = re.match(r"^\* (\d+) (EXISTS|EXPUNGE|RECENT|FETCH)\b ?(.*)$", resp)
        if not m:
            return
        n, what, rest = int(m.group(1)), m.group(2), m.group(3)
        if what == "RECENT":
            self.recent_count = n
        elif what == "EXISTS":
            if n < len(self.view):
                raise ModelError("%s: EXISTS %d shrinks the view of %d" % (self.name, n, len(self.view)))
            self.view.extend([None] * (n - len(self.view)))
        elif what == "EXPUNGE":
            if kind in NO_EXPUNGE:
                raise ModelError("%s: EXPUNGE during %s (RFC 3501 7.4.1)" % (self.name, kind))
            if not 1 <= n <= len(self.view):
                raise ModelError("%s: EXPUNGE %d outside 1..%d" % (self.name, n, len(self.view)))
            ident = self.view[n - 1]
            if ident is not None and not self.model.may_be_gone(ident):
                raise ModelError("%s: EXPUNGE %d names m%d, which is still there"
                                 % (self.name, n, ident))
            del self.view[n - 1]
            self.recent_count = None
            if ident is not None:
                self.known.pop(ident, None)
                self.recent.pop(ident, None)
                self.model.reported_gone.add(ident)
        elif what == "FETCH":
            self.fetch_data(n, rest, kind)

    def fetch_data(self, n, rest, kind):
        if not 1 <= n <= len(self.view):
            raise ModelError("%s: FETCH %d outside 1..%d" % (self.name, n, len(self.view)))
        uid = re.search(r"\bUID (\d+)", rest)
        size = re.search(r"\bRFC822\.SIZE (\d+)", rest)
        flags = re.search(r"\bFLAGS \(([^)]*)\)", rest)
        ident = self.view[n - 1]
        if size:
            got = self.model.by_size.get(int(size.group(1)))
            if got is None:
                raise ModelError("%s: FETCH %d: RFC822.SIZE %s is no message of the test"
                                 % (self.name, n, size.group(1)))
            if ident is not None and ident != got:
                raise ModelError("%s: message %d was m%d, now the server says m%d"
                                 % (self.name, n, ident, got))
            ident = self.view[n - 1] = got
        if ident is None:
            return
        if uid:
            self.model.check_uid(ident, int(uid.group(1)))
        if flags:
            self.check_recent(ident, "\\Recent" in flags.group(1).split())
            f = parse_flags(flags.group(1))
            real = self.model.flags.get(ident)
            # a FETCH may answer from the snapshot; a sync corrects it
            stale_ok = kind in ("FETCH", "UID FETCH") and f == self.known.get(ident)
            if real is not None and f != real and not stale_ok and \
                    ident not in self.model.flags_unsure:
                raise ModelError("%s: FETCH %d (m%d) FLAGS %s, but it has %s"
                                 % (self.name, n, ident, fmt_flags(f), fmt_flags(real)))
            self.known[ident] = f

    def check_recent(self, ident, recent):
        """RFC 3501 2.3.2: \\Recent in one session only, and it stays."""
        if self.recent.get(ident) and not recent:
            raise ModelError("%s: m%d lost \\Recent" % (self.name, ident))
        self.recent[ident] = recent
        if recent:
            owner = self.model.recent_owner.setdefault(ident, self.name)
            if owner != self.name:
                raise ModelError("%s: m%d is \\Recent here and in %s" % (self.name, ident, owner))

    def check_recent_count(self):
        """The last RECENT response (with EXISTS, no EXPUNGE since) counts
        the messages that are \\Recent here. It may count fewer: a claim
        that met the folder lock busy (another session's storage job) is
        retried at a later sync, and the message becomes \\Recent then."""
        if self.recent_count is None or None in self.view:
            return
        want = sum(1 for i in self.view if self.recent.get(i))
        if self.recent_count > want:
            raise ModelError("%s: RECENT %d, but %d messages are \\Recent here"
                             % (self.name, self.recent_count, want))
        self.recent_count = None

    # -- helpers ------------------------------------------------------------

    def resolve(self):
        """Fetches UID, size and flags of the messages announced by EXISTS
        only (a FETCH: no EXPUNGE may come)."""
        if None not in self.view:
            return
        first = self.view.index(None) + 1
        tagged, _ = self.run("FETCH %d:* (UID RFC822.SIZE FLAGS)" % first, "FETCH")
        if not tagged.split()[1] == "OK":
            raise ModelError("%s: %s" % (self.name, tagged))
        if None in self.view:
            raise ModelError("%s: FETCH %d:* left messages %s unknown"
                             % (self.name, first, [i + 1 for i, e in enumerate(self.view) if e is None]))
        self.check_recent_count()

    def check_synced(self, what):
        """After a command that syncs: the view is the model."""
        self.resolve()
        model = self.model
        want = model.in_uid_order()
        if self.view != want:
            raise ModelError("%s: after %s the view is %s, the mailbox %s"
                             % (self.name, what, self.view, want))
        self.check_recent_count()
        for ident in self.view:
            if self.known.get(ident) != model.flags[ident]:
                raise ModelError("%s: after %s m%d shows %s, has %s"
                                 % (self.name, what, ident, fmt_flags(self.known.get(ident, ())),
                                    fmt_flags(model.flags[ident])))


class Model:
    def __init__(self, d, seed, log):
        self.d = d
        self.rng = random.Random(seed)
        self.logf = log
        self.flags = {}          # ident -> flags: the messages in INBOX
        self.uid = {}            # ident -> UID once known
        self.by_size = {}        # RFC822.SIZE -> ident
        self.next_ident = 1
        self.flags_unsure = set()   # changed by a racing external rename
        self.recent_owner = {}   # ident -> the session it is \\Recent in
        self.reported_gone = set()
        self.gone = set()        # idents expunged
        self.pending_gone = set()  # may be removed by the running command
        self.archive = {}        # ident -> UID in Archive, not yet copied back
        self.counts = {}

    def log(self, line):
        self.logf.append(line)

    def new_ident(self):
        ident = self.next_ident
        self.next_ident += 1
        self.by_size[len(message(ident))] = ident
        return ident

    def may_be_gone(self, ident):
        return ident not in self.flags or ident in self.pending_gone

    def check_uid(self, ident, uid):
        old = self.uid.get(ident)
        if old is not None and old != uid:
            raise ModelError("m%d had UID %d, now %d" % (ident, old, uid))
        for other, u in self.uid.items():
            if u == uid and other != ident:
                raise ModelError("UID %d names m%d and m%d" % (uid, other, ident))
        self.uid[ident] = uid

    def in_uid_order(self):
        missing = [i for i in self.flags if i not in self.uid]
        if missing:
            raise ModelError("no session learnt the UIDs of %s" % missing)
        return sorted(self.flags, key=lambda i: self.uid[i])

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1


class ModelRun:
    """One seed's run."""

    def __init__(self, d, seed, rounds):
        self.d = d
        self.seed = seed
        self.rounds = rounds
        self.trace = []
        self.m = Model(d, seed, self.trace)
        self.rng = self.m.rng
        self.sessions = []
        self.root = maildrop(d, USER)

    # -- setup ----------------------------------------------------------------

    def start(self):
        m = self.m
        c = raw_login(self.d)
        self.feeder = Session(m, "F", c, tracked=False)
        tagged, _ = self.feeder.run("CREATE ModelSrc", "CREATE")
        assert " OK " in tagged, tagged
        for _ in range(8):
            ident = m.new_ident()
            tagged, _ = self.feeder.run("APPEND ModelSrc (\\Seen $Work) {%d+}" % len(message(ident)),
                                        "APPEND", literal=message(ident))
            u = re.search(r"\[APPENDUID \d+ (\d+)\]", tagged)
            assert u, tagged
            m.archive[ident] = int(u.group(1))
        self.feeder.run("SELECT ModelSrc", "SELECT")
        for i in range(4):
            self.deliver()
        # 2 to 4 sessions; the seeds above were found with 3
        for i in range(3 if self.seed in REGRESSION_SEEDS + DEFAULT_SEEDS[:1]
                       else 2 + self.seed % 3):
            s = Session(m, "s%d" % i, raw_login(self.d))
            self.sessions.append(s)
            tagged, _ = s.run("SELECT INBOX", "SELECT")
            if not re.match(r"^\S+ OK \[READ-WRITE\]", tagged):
                raise ModelError("SELECT: %s" % tagged)
            s.check_synced("SELECT")

    # -- operations ----------------------------------------------------------

    def pick(self):
        return self.rng.choice(self.sessions)

    def random_flags(self):
        n = self.rng.randrange(0, 3)
        return frozenset(self.rng.sample(SYSTEM_FLAGS + KEYWORDS, n))

    def deliver(self):
        ident = self.m.new_ident()
        p = subprocess.run([harness.MERPATI, "deliver", "-c", self.d.conf_path, USER],
                           input=message(ident), capture_output=True, timeout=30)
        if p.returncode != 0:
            raise ModelError("deliver: exit %d: %s" % (p.returncode, p.stderr))
        self.m.flags[ident] = frozenset()
        self.m.log("deliver m%d" % ident)

    def op_deliver(self):
        self.deliver()

    def op_append(self):
        s = self.pick()
        ident = self.m.new_ident()
        flags = self.random_flags()
        data = message(ident)
        tagged, _ = s.run("APPEND INBOX %s {%d+}" % (fmt_flags(flags), len(data)), "APPEND",
                          literal=data)
        u = re.match(r"^\S+ OK \[APPENDUID \d+ (\d+)\]", tagged)
        if not u:
            raise ModelError("APPEND: %s" % tagged)
        uid = int(u.group(1))
        if self.m.uid and uid <= max(self.m.uid.values()):
            raise ModelError("APPEND got UID %d, not above %d" % (uid, max(self.m.uid.values())))
        self.m.flags[ident] = flags
        self.m.check_uid(ident, uid)
        s.check_synced("APPEND")

    def seq_set(self, s):
        """A random set of sequence numbers of s's view (some numbers)."""
        n = len(s.view)
        if n == 0:
            return None, []
        a = self.rng.randrange(1, n + 1)
        r = self.rng.random()
        if r < 0.5:
            return str(a), [a]
        if r < 0.8:
            b = self.rng.randrange(1, n + 1)
            lo, hi = min(a, b), max(a, b)
            return "%d:%d" % (b, a), list(range(lo, hi + 1))
        b = self.rng.randrange(1, n + 1)
        return "%d,%d" % (a, b), sorted({a, b})

    def apply_store(self, ident, op, flags):
        old = self.m.flags[ident]
        if op == "+":
            return old | flags
        if op == "-":
            return old - flags
        return flags

    def op_store(self, uid_cmd=None):
        s = self.pick()
        if uid_cmd is None:
            uid_cmd = self.rng.random() < 0.4
        s.resolve()
        spec, seqs = self.seq_set(s)
        if spec is None:
            return
        op = self.rng.choice(["+", "-", ""])
        flags = self.random_flags()
        if op == "" and self.rng.random() < 0.5:
            flags = flags | {"\\Seen"}
        silent = self.rng.random() < 0.2
        idents = [s.view[q - 1] for q in seqs]
        if uid_cmd:
            spec = ",".join(str(self.m.uid[i]) for i in idents)
        expect = {}
        for ident in idents:
            if ident in self.m.flags:
                expect[ident] = self.apply_store(ident, op, flags)
        line = "%sSTORE %s %sFLAGS%s %s" % ("UID " if uid_cmd else "", spec, op,
                                              ".SILENT" if silent else "", fmt_flags(flags))
        # the new flags hold while the answer is read
        before = dict(self.m.flags)
        self.m.flags.update(expect)
        answered = set()

        def seen(resp):
            mm = re.match(r"^\* (\d+) FETCH", resp)
            if mm and int(mm.group(1)) in seqs:
                answered.add(int(mm.group(1)))
        tagged, _ = s.run(line, "UID STORE" if uid_cmd else "STORE", on_untagged=seen)
        if not re.match(r"^\S+ OK ", tagged):
            self.m.flags = before
            raise ModelError("%s: %s" % (line, tagged))
        for ident, f in expect.items():
            if ident in s.known:
                s.known[ident] = f
        if not silent:
            for q, ident in zip(seqs, idents):
                if ident in expect and q not in answered and not uid_cmd:
                    raise ModelError("%s: no FETCH for message %d (m%d)" % (line, q, ident))
        if uid_cmd:
            s.check_synced("UID STORE")

    def op_uid_store(self):
        self.op_store(uid_cmd=True)

    def op_expunge(self, uid_cmd=None):
        s = self.pick()
        if uid_cmd is None:
            uid_cmd = self.rng.random() < 0.4
        s.resolve()
        if uid_cmd:
            spec, seqs = self.seq_set(s)
            if spec is None:
                return
            in_set = {s.view[q - 1] for q in seqs}
            spec = ",".join(str(self.m.uid[i]) for i in sorted(in_set, key=lambda i: self.m.uid[i]))
        else:
            in_set = set(self.m.flags)
        deleted = {i for i in in_set if i in self.m.flags and "\\Deleted" in self.m.flags[i]}
        # \Deleted set by another session and not yet seen here: either
        must = {i for i in deleted if "\\Deleted" in s.known.get(i, ())}
        self.m.pending_gone = deleted
        try:
            tagged, _ = s.run("UID EXPUNGE %s" % spec if uid_cmd else "EXPUNGE",
                              "UID EXPUNGE" if uid_cmd else "EXPUNGE")
        finally:
            self.m.pending_gone = set()
        if not re.match(r"^\S+ OK ", tagged):
            raise ModelError("EXPUNGE: %s" % tagged)
        s.resolve()
        present = set(s.view)
        for i in deleted:
            if i in present and i in must:
                raise ModelError("%s: %s left m%d, which had \\Deleted"
                                 % (s.name, "UID EXPUNGE" if uid_cmd else "EXPUNGE", i))
            if i not in present:
                del self.m.flags[i]
                self.m.gone.add(i)
        s.check_synced("EXPUNGE")

    def op_uid_expunge(self):
        self.op_expunge(uid_cmd=True)

    def op_copy_out(self):
        s = self.pick()
        s.resolve()
        spec, seqs = self.seq_set(s)
        if spec is None:
            return
        tagged, _ = s.run("COPY %s ModelSrc" % spec, "COPY")
        present = [q for q in seqs if s.view[q - 1] in self.m.flags]
        if present and not re.match(r"^\S+ OK \[COPYUID \d+ ", tagged):
            raise ModelError("COPY: %s" % tagged)

    def op_copy_in(self):
        if not self.m.archive:
            return
        ident = self.rng.choice(sorted(self.m.archive))
        auid = self.m.archive.pop(ident)
        tagged, _ = self.feeder.run("UID COPY %d INBOX" % auid, "UID COPY")
        u = re.match(r"^\S+ OK \[COPYUID \d+ %d (\d+)\]" % auid, tagged)
        if not u:
            raise ModelError("UID COPY: %s" % tagged)
        self.m.flags[ident] = frozenset({"\\Seen", "$Work"})
        self.m.check_uid(ident, int(u.group(1)))

    def files(self):
        """{ident: path} of INBOX's message files (read by size)."""
        out = {}
        for sub in ("new", "cur"):
            d = os.path.join(self.root, sub)
            for name in os.listdir(d):
                p = os.path.join(d, name)
                try:
                    size = os.stat(p).st_size
                except FileNotFoundError:
                    continue
                ident = self.m.by_size.get(size)
                if ident is None:
                    raise ModelError("unknown file %s" % p)
                if ident in out:
                    raise ModelError("m%d is in two files: %s %s" % (ident, out[ident], p))
                out[ident] = p
        return out

    def check_files(self):
        """The Maildir holds exactly the model's messages with its flags."""
        files = self.files()
        if set(files) != set(self.m.flags):
            raise ModelError("files hold %s, the model %s"
                             % (sorted(files), sorted(self.m.flags)))
        for ident, p in files.items():
            base = os.path.basename(p)
            letters = base.split(":2,", 1)[1] if ":2," in base else ""
            sysflags = {f for f in self.m.flags[ident] if f in MAILDIR_LETTER}
            want = "".join(sorted(MAILDIR_LETTER[f] for f in sysflags))
            got = "".join(sorted(ch for ch in letters if ch.isupper()))
            if got != want:
                raise ModelError("m%d's file %s has flags %r, the model %r" % (ident, base, got, want))

    def op_external_flags(self):
        files = {i: p for i, p in self.files().items() if "/cur/" in p and ":2," in p}
        if not files:
            return
        ident = self.rng.choice(sorted(files))
        p = files[ident]
        base, info = os.path.basename(p).split(":2,", 1)
        flag = self.rng.choice(["\\Seen", "\\Flagged", "\\Deleted", "\\Answered"])
        letter = MAILDIR_LETTER[flag]
        flags = set(self.m.flags[ident])
        if letter in info:
            info = info.replace(letter, "")
            flags.discard(flag)
        else:
            info = "".join(sorted(info + letter))
            flags.add(flag)
        os.rename(p, os.path.join(os.path.dirname(p), base + ":2," + info))
        self.m.flags[ident] = frozenset(flags)
        self.m.log("rename m%d -> %s" % (ident, info))

    def op_external_unlink(self):
        files = self.files()
        if not files:
            return
        ident = self.rng.choice(sorted(files))
        os.unlink(files[ident])
        del self.m.flags[ident]
        self.m.gone.add(ident)
        self.m.log("unlink m%d" % ident)

    def op_pop3_dele(self):
        known = [i for i in self.m.flags if i in self.m.uid]
        if not known:
            return
        ident = self.rng.choice(sorted(known))
        c = self.d.pop3()
        c.expect(r"^\+OK")
        c.cmd("USER %s" % USER)
        c.expect(r"^\+OK")
        c.cmd("PASS secret")
        c.expect(r"^\+OK")
        c.cmd("UIDL")
        c.expect(r"^\+OK")
        lines = c.read_multiline()
        num = None
        for line in lines:
            n, uidl = line.split()
            if int(uidl[:8], 16) == self.m.uid[ident]:
                num = n
        if num is None:
            raise ModelError("POP3 UIDL lacks m%d (UID %d): %s" % (ident, self.m.uid[ident], lines))
        c.cmd("DELE %s" % num)
        c.expect(r"^\+OK")
        c.cmd("QUIT")
        c.expect(r"^\+OK")
        c.close()
        del self.m.flags[ident]
        self.m.gone.add(ident)
        self.m.log("pop3 dele m%d" % ident)

    def op_noop(self):
        s = self.pick()
        cmd = self.rng.choice(["NOOP", "CHECK"])
        tagged, _ = s.run(cmd, cmd)
        if not re.match(r"^\S+ OK ", tagged):
            raise ModelError("%s: %s" % (cmd, tagged))
        s.check_synced(cmd)

    def op_fetch(self):
        s = self.pick()
        spec, seqs = self.seq_set(s)
        if spec is None:
            return
        uid_cmd = self.rng.random() < 0.3
        if uid_cmd:
            s.resolve()
            spec = ",".join(str(self.m.uid[s.view[q - 1]]) for q in seqs)
        tagged, _ = s.run("%sFETCH %s (FLAGS UID)" % ("UID " if uid_cmd else "", spec),
                          "UID FETCH" if uid_cmd else "FETCH")
        if not re.match(r"^\S+ (OK|NO) ", tagged):
            raise ModelError("FETCH: %s" % tagged)
        if uid_cmd:
            s.check_synced("UID FETCH")

    def op_search(self):
        s = self.pick()
        s.resolve()
        key = self.rng.choice(["ALL", "DELETED", "UNSEEN", "FLAGGED", "KEYWORD $Work"])
        result = []

        def got(resp):
            if resp.startswith("* SEARCH"):
                result.extend(int(x) for x in resp.split()[2:])
        tagged, _ = s.run("SEARCH %s" % key, "SEARCH", on_untagged=got)
        if not re.match(r"^\S+ OK ", tagged):
            raise ModelError("SEARCH: %s" % tagged)
        # the snapshot's answer: what the session was told
        test = {"ALL": lambda f: True, "DELETED": lambda f: "\\Deleted" in f,
                "UNSEEN": lambda f: "\\Seen" not in f, "FLAGGED": lambda f: "\\Flagged" in f,
                "KEYWORD $Work": lambda f: "$Work" in f}[key]
        want = [q + 1 for q, i in enumerate(s.view) if i is not None and test(s.known[i])]
        if sorted(result) != want:
            raise ModelError("%s: SEARCH %s gave %s, the session's view %s"
                             % (s.name, key, result, want))

    def op_idle(self):
        s = self.pick()
        others = [o for o in self.sessions if o is not s]
        s.check_quiet()
        tag = s.tag()
        self.m.log("%s> %s IDLE" % (s.name, tag))
        s.c.cmd("%s IDLE" % tag)
        while True:
            resp = s.c.readline()
            self.m.log("%s< %s" % (s.name, resp))
            if resp is None:
                raise ModelError("closed in IDLE")
            if resp.startswith("+ "):
                break
            s.untagged(resp, "IDLE")
        # a change by someone else, pushed while idling
        change = self.rng.choice([self.op_deliver, self.op_external_flags, self.op_external_unlink,
                                  self.op_pop3_dele, self.op_copy_in,
                                  lambda: self.store_by(self.rng.choice(others)),
                                  lambda: self.expunge_by(self.rng.choice(others))])
        change()
        deadline = time.monotonic() + 5
        while not self.idle_caught_up(s):
            s.c.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                resp = s.c.readline()
            except socket.timeout:
                raise ModelError("%s: IDLE did not report the change within 5 s: view %s, "
                                 "mailbox %s" % (s.name, s.view, sorted(self.m.flags)))
            finally:
                s.c.sock.settimeout(10)
            self.m.log("%s< %s" % (s.name, resp))
            s.untagged(resp, "IDLE")
        s.c.cmd("DONE")
        while True:
            resp = s.c.readline()
            self.m.log("%s< %s" % (s.name, resp))
            if resp.startswith(tag + " "):
                break
            s.untagged(resp, "IDLE")
        if not re.match(r"^\S+ OK ", resp):
            raise ModelError("IDLE: %s" % resp)
        s.check_synced("IDLE")

    def idle_caught_up(self, s):
        known = [i for i in s.view if i is not None]
        if any(i not in self.m.flags for i in known):
            return False
        if len(s.view) != len(self.m.flags):
            return False
        return all(s.known.get(i) == self.m.flags[i] for i in known)

    def store_by(self, s):
        saved = self.pick
        self.pick = lambda: s
        try:
            self.op_store(uid_cmd=True)
        finally:
            self.pick = saved

    def expunge_by(self, s):
        saved = self.pick
        self.pick = lambda: s
        try:
            self.op_expunge()
        finally:
            self.pick = saved

    OPS = [("op_deliver", 8), ("op_append", 8), ("op_store", 20), ("op_expunge", 8),
           ("op_copy_out", 3), ("op_copy_in", 3), ("op_external_flags", 6),
           ("op_external_unlink", 2), ("op_pop3_dele", 2), ("op_noop", 12), ("op_fetch", 10),
           ("op_search", 6), ("op_idle", 6)]

    def run(self):
        self.start()
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        for r in range(self.rounds):
            op = self.rng.choices(names, weights)[0]
            self.m.log("-- round %d: %s" % (r, op))
            self.m.count(op)
            getattr(self, op)()
            if self.rng.random() < 0.15:
                self.check_files()
        for s in self.sessions:
            tagged, _ = s.run("NOOP", "NOOP")
            s.check_synced("the final NOOP")
        self.check_files()
        if not self.m.recent_owner:
            raise ModelError("no session ever saw \\Recent")
        self.m.counts["recent"] = len(self.m.recent_owner)
        return self.m.counts


class ImapModel(unittest.TestCase):
    def run_seed(self, seed, rounds=ROUNDS):
        with imap_daemon() as d:
            run = ModelRun(d, seed, rounds)
            try:
                counts = run.run()
            except (AssertionError, OSError) as e:
                path = os.path.join(d.dir, "model-trace.txt")
                with open(path, "w") as f:
                    f.write("\n".join(run.trace) + "\n")
                print("\n".join(run.trace[-80:]))
                print("whole trace in", path)
                raise AssertionError("seed %d failed (rerun with MERPATI_MODEL_SEED=%d): %s"
                                     % (seed, seed, e)) from e
            print("seed %d: %s" % (seed, " ".join("%s=%d" % kv for kv in sorted(counts.items()))))

    def test_random_interleavings(self):
        env = os.environ.get("MERPATI_MODEL_SEED")
        for seed in [int(env)] if env else DEFAULT_SEEDS:
            with self.subTest(seed=seed):
                self.run_seed(seed)

    def test_regression_seeds(self):
        for seed in REGRESSION_SEEDS:
            with self.subTest(seed=seed):
                self.run_seed(seed)


if __name__ == "__main__":
    main()
