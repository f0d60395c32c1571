#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IMAP benchmark: Merpati and Dovecot side by side on copies of the same
Maildir, in one run, as ratios (measured, not a ctest test).

Both daemons run at once on loopback; each step runs on Merpati, then on
Dovecot, with the same client code, so a drift of the machine hits both.
Steps (N messages in INBOX, 100,000 by default):

  SELECT cold        the first SELECT ever: no UID list, index or cache
  SELECT warm        the first SELECT of a new session, and SELECT again
                     in that session (median of 21; target <= 1 ms)
  FETCH FLAGS UID    FETCH 1:* (FLAGS UID), median of 3
  ENVELOPE cold      FETCH 1:* ENVELOPE, the first time (files parsed)
  ENVELOPE warm      the same in a new session (from the cache), median of 3
  SEARCH TEXT        UID SEARCH TEXT <a word in 0.2% of the messages>, median of 3
  BODY.PEEK[] TLS    FETCH 1:* BODY.PEEK[] of the folder Tls (M messages,
                     a copy of INBOX's first M) over IMAPS, MB/s, median of 3
  mixed              C concurrent clients (5 per user, users with K
                     messages each) looping LOGIN, SELECT, UID FETCH of 20
                     headers, UID FETCH BODY.PEEK[] of one, UID STORE, APPEND
                     (with APPENDUID), UID STORE \\Deleted of it, EXPUNGE,
                     LOGOUT, for D seconds; sessions/s, commands/s, latency,
                     server CPU per session, protocol errors (target: 0)

Times are wall clock at the client (command sent to tagged OK read); "srv
CPU" is the CPU time of the server's whole process tree (Merpati: master,
workers, auth helper; Dovecot: master, login, auth, imap, ...) over the
step. Ratio = merpati / dovecot for times (below 1: Merpati is faster) and
for throughputs (above 1: Merpati is faster).

The messages are generated (deterministic): varied sizes (most 1-20 KB,
some attachments to 100 KB, a few to 500 KB), Received chains, DKIM, lists,
replies, encoded words, 8-bit text, about 45% MIME (alternative, mixed with
attachments, forwarded message/rfc822). File names as an MTA writes them
(no ,S=), 98% in cur/ with flags, 2% in new/. The copies are hard links
(messages are never changed in place, only renamed or unlinked), so both
servers read the same page-cache pages; "cold" means no index, cache or
UID list, not an empty page cache.

Each server keeps its defaults except: Merpati `workers` = CPUs (Dovecot
runs a process per session), both accept {PLAIN} passwords over plaintext
from loopback, Merpati's login penalty is off. fsync: Merpati `mail.fsync
= yes` (default: file and directory), Dovecot `mail_fsync = optimized`
(default); --fsync no turns both off. Dovecot's login service runs in
performance mode (service_count = 0, process_min_avail = CPUs), the
stronger configuration; --dovecot-login high-security gives its default
(a login process per connection).

Usage (as root: the servers drop to the harness's mail user):
    MERPATID=build/merpatid test/bench/imap_bench.py [--quick] [-n N]
--quick: 10,000 messages, Tls folder 2,000, mixed 10 s on 500-message
folders. The full run (100,000; Tls 10,000; mixed 30 s on 2,000) needs
about 2 GB of disk under $TMPDIR and takes about 15 minutes.
"""

import argparse
import asyncio
import base64
import multiprocessing
import os
import pwd
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Daemon, free_port  # noqa: E402

PASSWORD = "secret"
NEEDLE = "merpatineedle"
BIG_USER = "bench"

# ---------------------------------------------------------------------------
# The corpus

WORDS = ("the of and to in is that for it as was with be by on not he this are or his "
         "from at which but have an they you were her she there been one all would "
         "their we him when who will more no if out so said what up its about into "
         "than them can only other new some could time these two may then do first "
         "any my now such like our over man me even most made after also did many "
         "before must through back years where much your way well down should because "
         "each just those people how too little state good very make world still own "
         "see men work long get here between both life being under never day same "
         "another know while last might us great old year off come since against go "
         "came right used take three meeting report budget invoice project release "
         "schedule server mailbox delivery quarterly review attached please thanks "
         "regards tomorrow deadline draft proposal customer").split()
LATIN1 = ["caf\u00e9", "na\u00efve", "Gr\u00fc\u00dfe", "se\u00f1or", "\u00e0 bient\u00f4t",
          "\u00c5ngstr\u00f6m", "fa\u00e7ade", "r\u00e9sum\u00e9"]
FIRST = ("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia "
         "Peggy Rupert Sybil Trent Victor Walter Yasmin Zoe Ana Bruno Chen Dewi Eko "
         "Fatima Gita Hiro Ines").split()
LAST = ("Smith Jones Nguyen Garcia M\u00fcller Rossi Tanaka Kowalski Silva Haddad "
        "Santoso Wijaya Okafor Novak Larsen Dubois").split()
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.co.id",
           "lists.example.org", "corp.example"]
LISTS = ["dev", "announce", "users", "ops", "random"]
MAILERS = ["Mozilla Thunderbird", "Apple Mail (2.3654)", "Microsoft Outlook 16.0",
           "mutt/2.2.9", "Roundcube Webmail/1.6", "K-9 Mail for Android"]
TZS = ["+0000", "+0100", "+0200", "-0500", "-0800", "+0700", "+0530", "-0300"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
          "Nov", "Dec"]
T0 = 1600000000  # mtimes (INTERNALDATE) spread over the three years after


class Corpus:
    """Deterministic realistic messages; pools are built once so a
    message costs a few joins."""

    def __init__(self, seed=20261201):
        self.rng = random.Random(seed)
        r = self.rng
        self.paras = []
        for _ in range(3000):
            lines, line = [], []
            for _ in range(r.randint(20, 90)):
                w = r.choice(WORDS)
                if r.random() < 0.01:
                    w = r.choice(LATIN1)
                line.append(w)
                if sum(len(x) + 1 for x in line) > r.randint(50, 76):
                    lines.append(" ".join(line))
                    line = []
            if line:
                lines.append(" ".join(line))
            self.paras.append("\n".join(lines))
        blob = bytes(r.getrandbits(8) for _ in range(700 * 1024))
        self.b64 = base64.encodebytes(blob).decode()  # 76-column lines

    def person(self):
        r = self.rng
        f, l = r.choice(FIRST), r.choice(LAST)
        addr = "%s.%s@%s" % (f.lower(), l.lower().encode("ascii", "ignore").decode() or "x",
                             r.choice(DOMAINS))
        if any(ord(c) > 127 for c in l):
            name = "=?UTF-8?B?%s?=" % base64.b64encode(("%s %s" % (f, l)).encode()).decode()
            return "%s <%s>" % (name, addr)
        if r.random() < 0.2:
            return "\"%s, %s\" <%s>" % (l, f, addr)
        if r.random() < 0.1:
            return addr
        return "%s %s <%s>" % (f, l, addr)

    def text(self, size, needle=False):
        r = self.rng
        out, n = [], 0
        while n < size:
            p = r.choice(self.paras)
            out.append(p)
            n += len(p) + 2
        if needle:
            out.insert(r.randrange(len(out) + 1), "see also %s in the notes" % NEEDLE)
        return "\n\n".join(out) + "\n"

    def subject(self, i):
        r = self.rng
        words = " ".join(r.choice(WORDS) for _ in range(r.randint(2, 9)))
        x = r.random()
        if x < 0.08:
            s = "=?UTF-8?B?%s?=" % base64.b64encode(("%s %s" % (words, r.choice(LATIN1)))
                                                     .encode()).decode()
        elif x < 0.12:
            s = "=?ISO-8859-1?Q?%s?=" % (words.replace(" ", "_") + "_caf=E9")
        else:
            s = words.capitalize()
        if r.random() < 0.3:
            s = "Re: " + s
        elif r.random() < 0.05:
            s = "[%s] %s" % (r.choice(LISTS), s)
        return s

    def header(self, i, when):
        r = self.rng
        tz = r.choice(TZS)
        tm = time.gmtime(when)
        date = "%s, %d %s %d %02d:%02d:%02d %s" % (
            DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour,
            tm.tm_min, tm.tm_sec, tz)
        frm = self.person()
        h = ["Return-Path: <%s>" % frm.split("<")[-1].rstrip(">")]
        for k in range(r.randint(1, 4)):
            h.append("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\n\tby mail.example.com "
                     "(Postfix) with ESMTPS id %X\n\tfor <alice@example.com>; %s"
                     % (k, r.choice(DOMAINS), k, r.choice(DOMAINS), r.randint(1, 254),
                        r.getrandbits(40), date))
        if r.random() < 0.4:
            h.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n\ts=sel1; "
                     "h=from:to:subject:date:message-id;\n\tbh=%s;\n\tb=%s"
                     % (r.choice(DOMAINS), self.b64[i % 5000:i % 5000 + 44],
                        self.b64[i % 9000:i % 9000 + 300].replace("\n", "\n\t")))
        h.append("From: %s" % frm)
        h.append("To: " + ", ".join(self.person() for _ in range(r.choice([1, 1, 1, 2, 3]))))
        if r.random() < 0.2:
            h.append("Cc: " + ", ".join(self.person() for _ in range(r.randint(1, 4))))
        h.append("Subject: %s" % self.subject(i))
        h.append("Date: %s" % date)
        h.append("Message-ID: <%d.%x@%s>" % (i, r.getrandbits(32), r.choice(DOMAINS)))
        if r.random() < 0.3:
            ref = "<%d.%x@%s>" % (r.randrange(max(i, 1)), r.getrandbits(32), r.choice(DOMAINS))
            h.append("In-Reply-To: %s" % ref)
            h.append("References: %s" % ref)
        if r.random() < 0.2:
            lst = r.choice(LISTS)
            h.append("List-Id: %s <%s.lists.example.org>" % (lst.capitalize(), lst))
            h.append("List-Unsubscribe: <mailto:%s-leave@lists.example.org>" % lst)
        if r.random() < 0.5:
            h.append("X-Mailer: %s" % r.choice(MAILERS))
        return h

    def message(self, i, when):
        """(bytes, kind) of message i."""
        r = self.rng
        h = self.header(i, when)
        needle = r.random() < 0.002
        x = r.random()
        if x < 0.55:
            kind = "plain"
            size = int(r.lognormvariate(7.6, 0.8))  # median 2 KB
            body = self.text(min(size, 60000), needle)
            if any(ord(c) > 127 for c in body):
                h.append("MIME-Version: 1.0")
                h.append("Content-Type: text/plain; charset=utf-8; format=flowed")
                h.append("Content-Transfer-Encoding: 8bit")
        elif x < 0.80:
            kind = "alternative"
            txt = self.text(int(r.lognormvariate(7.8, 0.7)), needle)
            html = "<html><body>%s</body></html>\n" % "".join(
                "<p>%s</p>\n" % p.replace("\n", "<br>\n") for p in txt.split("\n\n"))
            b = "=_alt_%x" % r.getrandbits(48)
            h.append("MIME-Version: 1.0")
            h.append("Content-Type: multipart/alternative;\n boundary=\"%s\"" % b)
            body = ("This is a multi-part message in MIME format.\n\n--%s\n"
                    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                    "%s\n--%s\nContent-Type: text/html; charset=utf-8\n"
                    "Content-Transfer-Encoding: 8bit\n\n%s\n--%s--\n" % (b, txt, b, html, b))
        elif x < 0.95:
            kind = "mixed"
            txt = self.text(int(r.lognormvariate(7.0, 0.7)), needle)
            b = "=_mix_%x" % r.getrandbits(48)
            parts = ["--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s" % (b, txt)]
            big = r.random() < 0.06
            for k in range(r.choice([1, 1, 1, 2])):
                n = r.randint(200 * 1024, 500 * 1024) if big else \
                    int(min(r.lognormvariate(10.2, 0.9), 100 * 1024))
                n = n // 77 * 77
                off = r.randrange(0, len(self.b64) - n) // 77 * 77
                name, ctype = r.choice([("report.pdf", "application/pdf"),
                                        ("photo.jpg", "image/jpeg"),
                                        ("budget.xlsx", "application/vnd.openxmlformats-"
                                         "officedocument.spreadsheetml.sheet"),
                                        ("r\u00e9sum\u00e9.docx", "application/msword")])
                if any(ord(c) > 127 for c in name):
                    disp = "attachment;\n filename*=utf-8''r%C3%A9sum%C3%A9.docx"
                else:
                    disp = "attachment; filename=\"%s\"" % name
                parts.append("--%s\nContent-Type: %s; name=\"%s\"\nContent-Disposition: %s\n"
                             "Content-Transfer-Encoding: base64\n\n%s"
                             % (b, ctype, name, disp, self.b64[off:off + n]))
            h.append("MIME-Version: 1.0")
            h.append("Content-Type: multipart/mixed; boundary=\"%s\"" % b)
            body = "\n".join(parts) + "\n--%s--\n" % b
        else:
            kind = "forward"
            inner_h = self.header(i + 1000000, when - 86400)
            inner = "\n".join(inner_h) + "\n\n" + self.text(int(r.lognormvariate(7.3, 0.6)))
            b = "=_fwd_%x" % r.getrandbits(48)
            h.append("MIME-Version: 1.0")
            h.append("Content-Type: multipart/mixed; boundary=\"%s\"" % b)
            body = ("--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n--%s\n"
                    "Content-Type: message/rfc822\nContent-Disposition: inline\n\n%s\n--%s--\n"
                    % (b, self.text(300, needle), b, inner, b))
        return ("\n".join(h) + "\n\n" + body).encode(), kind


FLAG_CHOICES = ["S"] * 60 + ["RS"] * 12 + ["FS"] * 4 + [""] * 20 + ["FRS", "DS", "ST", "T"]


def build_folder(root, n, corpus, first=0):
    """n messages into the Maildir at root (cur/ 98% with flags, new/ 2%)."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    total = 0
    kinds = {}
    rng = random.Random(7)
    for i in range(first, first + n):
        when = T0 + (i - first) * (94608000 // max(n, 1)) + rng.randrange(600)
        data, kind = corpus.message(i, when)
        kinds[kind] = kinds.get(kind, 0) + 1
        total += len(data)
        base = "%d.M%dP%d.mx.example.com" % (when, i, 4000 + i % 3000)
        if i - first >= n - n // 50:
            path = os.path.join(root, "new", base)
        else:
            path = os.path.join(root, "cur", base + ":2," + rng.choice(FLAG_CHOICES))
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (when, when))
    return total, kinds


def link_copy(src, dst, uid, gid):
    """A copy of the Maildir tree src at dst: new directories, hard-linked
    message files, owned by uid:gid."""
    subprocess.run(["cp", "-al", src, dst], check=True)
    subprocess.run(["chown", "-R", "%d:%d" % (uid, gid), dst], check=True)


# ---------------------------------------------------------------------------
# Measuring a server


def cpu_tree(root):
    """CPU seconds of a process tree: every live process's user + system +
    reaped children's (exited sessions land in their parent's cutime)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
        todo.extend(kids.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def tree_pids(root):
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    procs[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    kids = {}
    for pid, ppid in procs.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def largest_rss(root):
    """VmRSS in MiB of the largest process of a tree (the one serving the
    session: Merpati's worker, Dovecot's imap process)."""
    best = 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best / 1024


def cpu_tree_live(root):
    """On-CPU seconds (nanosecond schedstat) of the live processes and
    threads of a tree: precise for a step whose processes outlive it."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                procs[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    kids = {}
    for pid, ppid in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, []))
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9


LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n")


class Client:
    """A blocking IMAP client that reads a response at C speed: it skips
    literals by their counts and finds the tagged line with bytes.find."""

    def __init__(self, port, tls=False):
        sock = socket.create_connection(("127.0.0.1", port), timeout=600)
        if tls:
            sock = harness.tls_context(harness.CERT).wrap_socket(
                sock, server_hostname="localhost")
        self.sock = sock
        self.buf = bytearray()
        self.n = 0
        greeting = self.read_tagged(b"*")[1]
        if not greeting.startswith(b"* OK"):
            raise RuntimeError("greeting %r" % greeting)

    def cipher(self):
        return self.sock.cipher() if hasattr(self.sock, "cipher") else None

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def _literal(self, pos):
        """The next literal header at or after pos (bytes.find, not a regex
        scan: a response can be hundreds of MB), or None."""
        while True:
            end = self.buf.find(b"}\r\n", pos)
            if end < 0:
                return None
            start = self.buf.rfind(b"{", max(pos, end - 24), end)
            if start >= 0:
                m = LITERAL.match(self.buf, start)
                if m is not None:
                    return m
            pos = end + 3

    def read_tagged(self, tag):
        """Reads up to the end of the line starting with `tag `; returns
        (bytes of the response before that line, the tagged line)."""
        mark = tag + b" "
        dropped = 0  # response bytes already consumed from buf
        pos = 0  # scan position, never inside a literal
        at_start = True  # pos is at the start of a line
        while True:
            if at_start and self.buf.startswith(mark, pos):
                p = pos
            else:
                # the tagged line can only come before the next literal
                m = self._literal(pos)
                t = self.buf.find(b"\r\n" + mark, pos,
                                  len(self.buf) if m is None else m.start())
                if t >= 0:
                    p = t + 2
                elif m is not None:
                    end = m.end() + int(m.group(1))
                    at_start = False
                    if end <= len(self.buf):
                        pos = end
                        continue
                    need = end - len(self.buf)
                    dropped += len(self.buf)
                    self.buf.clear()
                    while need > 0:
                        chunk = self.sock.recv(1 << 20)
                        if not chunk:
                            raise EOFError("server closed the connection")
                        if len(chunk) <= need:
                            need -= len(chunk)
                            dropped += len(chunk)
                        else:
                            self.buf += chunk[need:]
                            dropped += need
                            need = 0
                    pos = 0
                    continue
                else:
                    # nothing found: drop what is scanned, keeping the last
                    # CRLF (a tagged line may start behind it)
                    cut = self.buf.rfind(b"\r\n", pos)
                    if cut > 0:
                        dropped += cut
                        del self.buf[:cut]
                        pos, at_start = 0, False
                    self._fill()
                    continue
            end = self.buf.find(b"\r\n", p)
            if end < 0:
                self._fill()
                continue
            line = bytes(self.buf[p:end])
            dropped += p
            del self.buf[:end + 2]
            return dropped, line

    def cmd(self, text, expect_ok=True):
        """(seconds, bytes of response, untagged data (bytes) kept only when
        small, tagged line)."""
        self.n += 1
        tag = b"b%d" % self.n
        t0 = time.perf_counter()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        size, line = self.read_tagged(tag)
        dt = time.perf_counter() - t0
        if expect_ok and not line.startswith(tag + b" OK"):
            raise RuntimeError("%s -> %r" % (text, line))
        return dt, size, line

    def cmd_data(self, text):
        """Like cmd() but returns the whole response (small responses)."""
        self.n += 1
        tag = b"b%d" % self.n
        t0 = time.perf_counter()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        data = bytearray()
        while True:
            i = self.buf.find(b"\r\n" + tag + b" ")
            if self.buf.startswith(tag + b" "):
                i = -2
            elif i < 0:
                self._fill()
                continue
            end = self.buf.find(b"\r\n", i + 2)
            if end < 0:
                self._fill()
                continue
            data = bytes(self.buf[:i + 2])
            line = bytes(self.buf[i + 2:end])
            del self.buf[:end + 2]
            dt = time.perf_counter() - t0
            if not line.startswith(tag + b" OK"):
                raise RuntimeError("%s -> %r" % (text, line))
            return dt, data, line

    def login(self, user):
        self.cmd("LOGIN %s %s" % (user, PASSWORD))

    def close(self):
        try:
            self.cmd("LOGOUT", expect_ok=False)
        except (OSError, EOFError, RuntimeError):
            pass
        self.sock.close()


class Server:
    def __init__(self, name, root_pid, port, tls_port):
        self.name, self.root_pid, self.port, self.tls_port = name, root_pid, port, tls_port

    def client(self, user=BIG_USER, tls=False):
        c = Client(self.tls_port if tls else self.port, tls=tls)
        c.login(user)
        return c

    def cpu(self):
        return cpu_tree_live(self.root_pid)

    def cpu_all(self):
        return cpu_tree(self.root_pid)


DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
base_dir = {run}
state_dir = {run}
log_path = {dir}/dovecot.log
mail_location = maildir:{mail}/%u
first_valid_uid = 1
mail_fsync = {fsync}
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
service imap-login {{
{login_mode}
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def wait_port(port, proc, what, logfile):
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                log = open(logfile).read() if os.path.exists(logfile) else ""
                raise SystemExit("%s did not start:\n%s" % (what, log[-3000:]))
            time.sleep(0.05)


PERFORMANCE_LOGIN = """  service_count = 0
  process_min_avail = %d
  vsz_limit = 1G""" % os.cpu_count()


def start_dovecot(work, users, pw, login_mode, fsync):
    if shutil.which("dovecot") is None:
        raise SystemExit("dovecot is not installed (Debian: dovecot-imapd)")
    run = os.path.join(work, "run")
    os.makedirs(run)
    key = os.path.join(work, "key.pem")
    shutil.copyfile(harness.KEY, key)
    os.chmod(key, 0o600)
    with open(os.path.join(work, "users"), "w") as f:
        for u in users:
            f.write("%s:%s\n" % (u, PASSWORD))
    port, tls_port = free_port(), free_port()
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(DOVECOT_CONF.format(run=run, dir=work, mail=os.path.join(work, "mail"),
                                    uid=pw.pw_uid, gid=pw.pw_gid, port=port,
                                    tls_port=tls_port, cert=harness.CERT, key=key,
                                    fsync="optimized" if fsync else "never",
                                    login_mode=PERFORMANCE_LOGIN if login_mode == "performance"
                                    else ""))
    proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for p in (port, tls_port):
        wait_port(p, proc, "dovecot", os.path.join(work, "dovecot.log"))
    return proc, Server("dovecot", proc.pid, port, tls_port)


def stop_dovecot(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------
# Single-session steps


def timed(server, fn):
    """(result of fn, server CPU seconds during it)."""
    c0 = server.cpu()
    r = fn()
    return r, server.cpu() - c0


def parse_exists(data):
    m = re.search(rb"\* (\d+) EXISTS", data)
    return int(m.group(1)) if m else -1


def median_runs(s, fn, runs):
    """Median seconds over runs, and the median server CPU."""
    times, cpus, sizes = [], [], []
    for _ in range(runs):
        (dt, size), cpu = timed(s, fn)
        times.append(dt)
        cpus.append(cpu)
        sizes.append(size)
    return statistics.median(times), statistics.median(cpus), sizes[-1]


def count_fetch(c, text):
    dt, size, _ = c.cmd(text)
    return dt, size


# ---------------------------------------------------------------------------
# The mixed workload


async def read_response(reader, tag):
    """Lines of one response up to the tagged line (literals inlined);
    returns (untagged lines, tagged line)."""
    lines = []
    mark = tag + b" "
    while True:
        seg = await reader.readuntil(b"\r\n")
        line = seg
        while seg.endswith(b"}\r\n"):
            m = LITERAL.search(seg)
            while m is not None and m.end() != len(seg):
                m = LITERAL.search(seg, m.end())
            if m is None:
                break
            lit = await reader.readexactly(int(m.group(1)))
            seg = await reader.readuntil(b"\r\n")
            line += lit + seg
        if line.startswith(mark):
            return lines, line
        lines.append(line)


class MixStats:
    def __init__(self):
        self.sessions = 0
        self.commands = 0
        self.errors = {}
        self.latency = []  # seconds per session
        self.cmd_time = {}  # command: [count, seconds]

    def error(self, kind):
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def mix_session(port, user, base_uids, rng, msg, st):
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    n = [0]

    async def cmd(text, what, literal=None):
        n[0] += 1
        tag = b"m%d" % n[0]
        t0 = time.perf_counter()
        if literal is None:
            writer.write(tag + b" " + text + b"\r\n")
            lines, tagged = await read_response(reader, tag)
        else:
            writer.write(tag + b" " + text + b" {%d}\r\n" % len(literal))
            lines = []
            line = await reader.readuntil(b"\r\n")
            while line.startswith(b"* "):
                lines.append(line)
                line = await reader.readuntil(b"\r\n")
            if line.startswith(b"+"):
                writer.write(literal + b"\r\n")
                more, tagged = await read_response(reader, tag)
                lines += more
            elif line.startswith(tag + b" "):
                tagged = line  # refused before the literal was sent
            else:
                st.error("%s: %r" % (what, line[:60]))
                raise EOFError
        ct = st.cmd_time.setdefault(what, [0, 0.0])
        ct[0] += 1
        ct[1] += time.perf_counter() - t0
        st.commands += 1
        if not tagged.startswith(tag + b" OK"):
            code = re.match(rb"\S+ (\w+)( \[[^\]]*\])?", tagged)
            st.error("%s %s" % (what, (code.group(1) + (code.group(2) or b"")).decode(
                "ascii", "replace") if code else tagged[:40]))
            return None, tagged
        for ln in lines:
            if ln.startswith(b"* BYE") and what != "LOGOUT":
                st.error("%s: unexpected BYE" % what)
        return lines, tagged

    try:
        greet = await reader.readuntil(b"\r\n")
        ct = st.cmd_time.setdefault("greeting", [0, 0.0])
        ct[0] += 1
        ct[1] += time.perf_counter() - t0
        if not greet.startswith(b"* OK"):
            st.error("greeting %r" % greet[:40])
            return
        if (await cmd(b"LOGIN %s %s" % (user.encode(), PASSWORD.encode()), "LOGIN"))[0] is None:
            return
        lines, _ = await cmd(b"SELECT INBOX", "SELECT")
        if lines is None:
            return
        lo = rng.randint(1, max(1, base_uids - 19))
        lines, _ = await cmd(b"UID FETCH %d:%d (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)"
                             % (lo, lo + 19), "FETCH headers")
        if lines is not None and sum(1 for ln in lines if b"ENVELOPE (" in ln) != 20:
            st.error("FETCH headers: %d envelopes" % sum(1 for ln in lines
                                                        if b"ENVELOPE (" in ln))
        uid = rng.randint(lo, lo + 19)
        lines, _ = await cmd(b"UID FETCH %d BODY.PEEK[]" % uid, "FETCH body")
        if lines is not None and not any(b"BODY[]" in ln for ln in lines):
            st.error("FETCH body: no BODY[]")
        sign = b"+" if rng.random() < 0.5 else b"-"
        await cmd(b"UID STORE %d %sFLAGS (\\Flagged)" % (uid, sign), "STORE")
        _, tagged = await cmd(b"APPEND INBOX (\\Seen)", "APPEND", literal=msg)
        m = re.search(rb"\[APPENDUID \d+ (\d+)\]", tagged)
        if m is None:
            st.error("APPEND: no APPENDUID")
        else:
            await cmd(b"UID STORE %s +FLAGS.SILENT (\\Deleted)" % m.group(1), "STORE deleted")
        await cmd(b"EXPUNGE", "EXPUNGE")
        lines, _ = await cmd(b"LOGOUT", "LOGOUT")
        if lines is not None and not any(ln.startswith(b"* BYE") for ln in lines):
            st.error("LOGOUT: no BYE")
        st.sessions += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ConnectionError):
            pass


async def mix_client(port, user, base_uids, seed, msg, deadline, max_sessions, st):
    rng = random.Random(seed)
    for _ in range(max_sessions):
        if time.monotonic() >= deadline:
            return
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(mix_session(port, user, base_uids, rng, msg, st), 120)
            st.latency.append(time.perf_counter() - t0)
        except asyncio.TimeoutError:
            st.error("timeout")
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            st.error("connection: %s" % type(e).__name__)


def mix_process(port, clients, base_uids, msg, start_at, duration, max_sessions, q):
    st = MixStats()

    async def main():
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        deadline = time.monotonic() + duration
        await asyncio.gather(*(mix_client(port, user, base_uids, seed, msg, deadline,
                                          max_sessions, st) for user, seed in clients))

    asyncio.run(main())
    ru = resource.getrusage(resource.RUSAGE_SELF)
    st.cmd_time["client CPU s"] = [1, (ru.ru_utime + ru.ru_stime) / 1000]
    q.put((st.sessions, st.commands, st.errors, st.latency, time.time(), st.cmd_time))


def run_mixed(s, users, per_user, base_uids, msg, duration, procs, max_sessions):
    clients = [(u, 1000 * i + k) for i, u in enumerate(users) for k in range(per_user)]
    q = multiprocessing.Queue()
    start_at = time.time() + 1.0
    ps = []
    for p in range(procs):
        mine = clients[p::procs]
        ps.append(multiprocessing.Process(target=mix_process, args=(
            s.port, mine, base_uids, msg, start_at, duration, max_sessions, q)))
    for p in ps:
        p.start()
    cpu0 = s.cpu_all()
    res = [q.get(timeout=duration + 600) for _ in ps]
    end = max(r[4] for r in res)
    cpu = s.cpu_all() - cpu0
    for p in ps:
        p.join()
    elapsed = end - start_at
    sessions = sum(r[0] for r in res)
    commands = sum(r[1] for r in res)
    errors = {}
    for r in res:
        for k, v in r[2].items():
            errors[k] = errors.get(k, 0) + v
    lat = sorted(x for r in res for x in r[3])
    cmd_time = {}
    for r in res:
        for k, (c, t) in r[5].items():
            ct = cmd_time.setdefault(k, [0, 0.0])
            ct[0] += c
            ct[1] += t
    return {
        "clients": len(clients),
        "elapsed": elapsed,
        "sessions": sessions,
        "commands": commands,
        "sessions_s": sessions / elapsed,
        "commands_s": commands / elapsed,
        "p50": lat[len(lat) // 2] if lat else 0,
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0,
        "cpu": cpu,
        "cpu_session": cpu / sessions if sessions else 0,
        "errors": errors,
        "cmd_ms": {k: 1000 * t / c for k, (c, t) in cmd_time.items()},
    }


def prewarm(s, users):
    """Each mixed user's folder opened once (cold index built), so the
    timed run measures steady state."""
    for u in users:
        c = s.client(u)
        c.cmd_data("SELECT INBOX")
        c.close()


# ---------------------------------------------------------------------------


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def note(text):
    """A progress line, with the machine's load (a shared machine skews
    wall-clock figures; server CPU figures much less)."""
    print("# [load %s] %s" % (loadavg(), text), flush=True)


def git_rev():
    try:
        return subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def build_type():
    cache = os.path.join(os.path.dirname(harness.MERPATID), "CMakeCache.txt")
    try:
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(\S*)", f.read(), re.M)
            return m.group(1) if m else "?"
    except OSError:
        return "?"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return "%s, %d CPUs, %.0f GiB, %s" % (model, os.cpu_count(), mem, os.uname().release)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="10,000 messages, Tls 2,000, mixed 10 s on 500-message folders")
    ap.add_argument("-n", "--messages", type=int)
    ap.add_argument("--tls-messages", type=int)
    ap.add_argument("--mix-messages", type=int, help="messages in each mixed user's folder")
    ap.add_argument("--mix-users", type=int, default=10, help="users (5 clients each)")
    ap.add_argument("--clients-per-user", type=int, default=5)
    ap.add_argument("--duration", type=float, help="seconds of mixed workload per server")
    ap.add_argument("--procs", type=int, default=2, help="load generator processes")
    ap.add_argument("--max-sessions", type=int, default=100000,
                    help="bound on sessions per mixed client")
    ap.add_argument("--dovecot-login", choices=("performance", "high-security"),
                    default="performance", help="Dovecot's login service mode (default: "
                    "performance, one login process per CPU serving many connections)")
    ap.add_argument("--fsync", choices=("yes", "no"), default="yes",
                    help="yes: each server's default (Merpati fsync = yes, Dovecot "
                    "mail_fsync = optimized); no: Merpati fsync = no, Dovecot never")
    ap.add_argument("--only", default="", help="comma list of steps: select,flags,envelope,"
                    "search,tls,mixed (default: all)")
    args = ap.parse_args()
    n = args.messages or (10000 if args.quick else 100000)
    tls_n = args.tls_messages or min(n, 2000 if args.quick else 10000)
    mix_n = args.mix_messages or (500 if args.quick else 2000)
    duration = args.duration or (10.0 if args.quick else 30.0)
    only = set(args.only.split(",")) - {""}
    want = (lambda step: not only or step in only)
    if os.geteuid() != 0:
        raise SystemExit("run as root (the servers drop to the mail user)")
    if not os.access(harness.MERPATID, os.X_OK):
        raise SystemExit("no merpatid at %s (set MERPATID)" % harness.MERPATID)
    pw = pwd.getpwnam(harness.mail_user())
    mix_users = ["mix%02d" % i for i in range(args.mix_users)]

    src = tempfile.mkdtemp(prefix="imap-bench-src-")
    os.chmod(src, 0o755)
    dwork = tempfile.mkdtemp(prefix="imap-bench-dovecot-")
    os.chmod(dwork, 0o755)
    d = proc = None
    try:
        t0 = time.perf_counter()
        corpus = Corpus()
        big = os.path.join(src, BIG_USER)
        total, kinds = build_folder(big, n, corpus)
        # Tls: a copy of INBOX's first tls_n messages (hard links)
        tls_dir = os.path.join(big, ".Tls")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(tls_dir, sub))
        tls_bytes = 0
        for sub in ("cur", "new"):
            for name in os.listdir(os.path.join(big, sub)):
                if int(name.split(".M", 1)[1].split("P", 1)[0]) < tls_n:
                    p = os.path.join(big, sub, name)
                    os.link(p, os.path.join(tls_dir, sub, name))
                    tls_bytes += os.path.getsize(p)
        mix_src = os.path.join(src, "mixtemplate")
        mix_corpus = Corpus(seed=99)
        build_folder(mix_src, mix_n, mix_corpus)
        # all in cur/ (UIDs 1..mix_n from the first SELECT) and none
        # \Deleted: the clients' EXPUNGE removes only their own APPENDs
        for sub in ("cur", "new"):
            for name in os.listdir(os.path.join(mix_src, sub)):
                flags = name.split(":2,")[1].replace("T", "") if ":2," in name else ""
                os.rename(os.path.join(mix_src, sub, name),
                          os.path.join(mix_src, "cur", name.split(":2,")[0] + ":2," + flags))
        append_msg = mix_corpus.message(10 ** 7, T0)[0].replace(b"\n", b"\r\n")
        print("# corpus: %d messages, %.0f MB (%s); Tls %d messages, %.0f MB; mixed: %d users "
              "x %d messages; built in %.0f s" % (
                  n, total / 1e6, ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
                  tls_n, tls_bytes / 1e6, len(mix_users), mix_n, time.perf_counter() - t0),
              flush=True)

        # the two servers, each with its own hard-linked copy
        d = Daemon(sections={"auth": {"plaintext": "always", "allow_plain_scheme": "yes",
                                      "penalty_max": "0"},
                             "server": {"log_level": "info", "workers": str(os.cpu_count())},
                             "mail": {"fsync": args.fsync}},
                   users=["%s:{PLAIN}%s::::::" % (u, PASSWORD) for u in [BIG_USER] + mix_users],
                   start=False)
        dmail = os.path.join(dwork, "mail")
        os.makedirs(dmail)
        os.chown(dmail, pw.pw_uid, pw.pw_gid)
        for u in [BIG_USER] + mix_users:
            s = big if u == BIG_USER else mix_src
            link_copy(s, os.path.join(d.mail, u), pw.pw_uid, pw.pw_gid)
            link_copy(s, os.path.join(dmail, u), pw.pw_uid, pw.pw_gid)
        d.start()
        proc, dov = start_dovecot(dwork, [BIG_USER] + mix_users, pw, args.dovecot_login,
                                    args.fsync == "yes")
        mer = Server("merpati", d.proc.pid, d.ports["imap"], d.ports["imaps"])
        servers = (mer, dov)
        rows = []  # (label, merpati value, dovecot value, unit, kind, target)

        # SELECT cold, FETCH FLAGS UID, ENVELOPE cold: one session each
        sess = {}
        if want("select") or want("flags") or want("envelope"):
            res = {}
            for s in servers:
                c = s.client()
                (dt, data, _), cpu = timed(s, lambda: c.cmd_data("SELECT INBOX"))
                if parse_exists(data) != n:
                    raise SystemExit("%s SELECT: %d EXISTS, expected %d"
                                     % (s.name, parse_exists(data), n))
                res[s.name] = {"select_cold": (dt, cpu)}
                sess[s.name] = c
                note("%s: cold SELECT %.3f s" % (s.name, dt))
            rows.append(("SELECT cold (first open)", res["merpati"]["select_cold"],
                         res["dovecot"]["select_cold"], "s", "time", None))
            for s in servers:
                c = sess[s.name]
                res[s.name]["flags"] = median_runs(
                    s, lambda: count_fetch(c, "FETCH 1:* (FLAGS UID)"), 3)
            rows.append(("FETCH 1:* (FLAGS UID)", res["merpati"]["flags"],
                         res["dovecot"]["flags"], "s", "time", 0.5))
            for s in servers:
                c = sess[s.name]
                (r, cpu) = timed(s, lambda: count_fetch(c, "FETCH 1:* ENVELOPE"))
                res[s.name]["env_cold"] = (r[0], cpu, r[1])
                c.close()
                note("%s: ENVELOPE cold %.3f s, %d bytes" % (s.name, r[0], r[1]))
            rows.append(("FETCH 1:* ENVELOPE cold", res["merpati"]["env_cold"],
                         res["dovecot"]["env_cold"], "s", "time", None))
            # warm: a new session, once the folder has settled (Merpati
            # trusts its index only for directories unchanged for 2 s;
            # sooner, the first SELECT rescans: the mixed workload shows that)
            time.sleep(2.5)
            for s in servers:
                c = s.client()
                (dt, data, _), cpu = timed(s, lambda: c.cmd_data("SELECT INBOX"))
                res[s.name]["select_settle"] = (dt, cpu)
                c.close()
            for s in servers:
                c = s.client()
                (dt, data, _), cpu = timed(s, lambda: c.cmd_data("SELECT INBOX"))
                res[s.name]["select_new"] = (dt, cpu)
                times = []
                cpu0 = s.cpu()
                for _ in range(21):
                    times.append(c.cmd_data("SELECT INBOX")[0])
                res[s.name]["select_again"] = (statistics.median(times),
                                               (s.cpu() - cpu0) / 21)
                res[s.name]["env_warm"] = median_runs(
                    s, lambda: count_fetch(c, "FETCH 1:* ENVELOPE"), 3)
                res[s.name]["rss"] = (largest_rss(s.root_pid), 0)
                c.close()
            rows.insert(1, ("SELECT, next session (2.5 s later)",
                            res["merpati"]["select_settle"], res["dovecot"]["select_settle"],
                            "ms", "time", None))
            rows.insert(2, ("SELECT warm (new session)", res["merpati"]["select_new"],
                            res["dovecot"]["select_new"], "ms", "time", None))
            rows.insert(3, ("SELECT warm (again, median 21)", res["merpati"]["select_again"],
                            res["dovecot"]["select_again"], "ms", "time", "1ms"))
            rows.append(("FETCH 1:* ENVELOPE warm", res["merpati"]["env_warm"],
                         res["dovecot"]["env_warm"], "s", "time", 0.5))
            rows.append(("RSS of the serving process (after ENVELOPE warm)",
                         res["merpati"]["rss"], res["dovecot"]["rss"], "MiB", "size", None))
            if res["merpati"]["env_warm"][2] != res["dovecot"]["env_warm"][2]:
                print("# note: ENVELOPE response bytes differ: merpati %d, dovecot %d" % (
                    res["merpati"]["env_warm"][2], res["dovecot"]["env_warm"][2]))

        if want("search"):
            res = {}
            hits = {}
            for s in servers:
                c = s.client()
                c.cmd_data("SELECT INBOX")

                def search():
                    dt, data, _ = c.cmd_data("UID SEARCH TEXT %s" % NEEDLE)
                    hits[s.name] = data
                    return dt, len(data)
                res[s.name] = median_runs(s, search, 3)
                c.close()
                note("%s: SEARCH TEXT %.3f s" % (s.name, res[s.name][0]))
            # only the SEARCH line: Dovecot also sends "* OK Searched 76%
            # of the mailbox" while a long search runs
            hits = {k: sorted(int(u) for ln in v.split(b"\r\n")
                              if ln.startswith(b"* SEARCH") for u in ln.split()[2:])
                    for k, v in hits.items()}
            nh = {k: len(v) for k, v in hits.items()}
            if hits["merpati"] != hits["dovecot"]:
                print("# note: SEARCH hits differ: merpati %d, dovecot %d" % (
                    nh["merpati"], nh["dovecot"]))
            rows.append(("UID SEARCH TEXT (%d hits)" % nh["merpati"], res["merpati"],
                         res["dovecot"], "s", "time", None))

        if want("tls"):
            res = {}
            cipher = {}
            for s in servers:
                c = s.client(tls=True)
                cipher[s.name] = c.cipher()
                c.cmd_data("SELECT Tls")
                res[s.name] = median_runs(
                    s, lambda: count_fetch(c, "FETCH 1:* BODY.PEEK[]"), 3)
                c.close()
                note("%s: BODY.PEEK[] over TLS %.3f s, %d bytes, %s" % (
                    s.name, res[s.name][0], res[s.name][2], cipher[s.name]))
            mb = res["merpati"][2] / 1e6
            rows.append(("FETCH 1:* BODY.PEEK[] TLS (%d msgs)" % tls_n,
                         (mb / res["merpati"][0], res["merpati"][1]),
                         (res["dovecot"][2] / 1e6 / res["dovecot"][0], res["dovecot"][1]),
                         "MB/s", "rate", None))

        mixed = {}
        if want("mixed"):
            for s in servers:
                prewarm(s, mix_users)
            for s in servers:
                mixed[s.name] = run_mixed(s, mix_users, args.clients_per_user, mix_n, append_msg, duration,
                                          args.procs, args.max_sessions)
                m = mixed[s.name]
                note("%s mixed: %d sessions in %.1f s, errors %s" % (
                    s.name, m["sessions"], m["elapsed"], m["errors"] or 0))
            rows.append(("mixed %d clients: sessions/s" % mixed["merpati"]["clients"],
                         (mixed["merpati"]["sessions_s"], mixed["merpati"]["cpu_session"]),
                         (mixed["dovecot"]["sessions_s"], mixed["dovecot"]["cpu_session"]),
                         "/s", "rate", 2.0))

        print()
        print("IMAP benchmark, %s UTC" % time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
        print("machine: %s" % machine())
        print("merpati %s (%s, workers %d), dovecot %s" % (
            git_rev(), build_type(), os.cpu_count(),
            subprocess.run(["dovecot", "--version"], capture_output=True,
                           text=True).stdout.split()[0]))
        print("INBOX %d messages (%.0f MB); Tls %d messages (%.0f MB)" % (
            n, total / 1e6, tls_n, tls_bytes / 1e6))
        print()
        print("| step | merpati | dovecot | ratio | srv CPU merpati | srv CPU dovecot | target |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for label, mv, dv, unit, kind, target in rows:
            scale = 1000 if unit == "ms" else 1
            a, b = mv[0] * scale, dv[0] * scale
            ratio = a / b if b else float("inf")
            if kind in ("rate", "size"):
                fmt = "%.1f %s"
            else:
                fmt = "%.3f %s" if a < 10 else "%.2f %s"
            verdict = ""
            if target == "1ms":
                verdict = "<= 1 ms: %s" % ("met" if a <= 1.0 else "MISSED")
            elif target is not None and kind == "time":
                verdict = "<= %.1fx: %s" % (target, "met" if ratio <= target else "MISSED")
            elif target is not None:
                verdict = ">= %.1fx: %s" % (target, "met" if ratio >= target else "MISSED")
            cpu_unit = "ms/session" if unit == "/s" else "s"
            cscale = 1000 if unit == "/s" else 1
            mc = "%.3f %s" % (mv[1] * cscale, cpu_unit) if kind != "size" else ""
            dc = "%.3f %s" % (dv[1] * cscale, cpu_unit) if kind != "size" else ""
            print("| %s | %s | %s | %.2f | %s | %s | %s |" % (
                label, fmt % (a, unit), fmt % (b, unit), ratio, mc, dc, verdict))
        if mixed:
            print()
            for name in ("merpati", "dovecot"):
                m = mixed[name]
                errs = sum(m["errors"].values())
                print("mixed %s: %d sessions (%d commands) in %.1f s = %.1f sessions/s, "
                      "%.0f commands/s; session latency p50 %.1f ms p99 %.1f ms; server CPU "
                      "%.1f s; protocol errors %d%s" % (
                          name, m["sessions"], m["commands"], m["elapsed"], m["sessions_s"],
                          m["commands_s"], m["p50"] * 1000, m["p99"] * 1000, m["cpu"], errs,
                          (" " + repr(m["errors"])) if errs else ""))
            print("mean latency per command (ms): " + "; ".join(
                "%s %.1f / %.1f" % (k, mixed["merpati"]["cmd_ms"].get(k, 0),
                                    mixed["dovecot"]["cmd_ms"].get(k, 0))
                for k in mixed["dovecot"]["cmd_ms"]) + " (merpati / dovecot)")
            ok = not sum(mixed["merpati"]["errors"].values())
            print("protocol errors target (0 for merpati): %s" % ("met" if ok else "MISSED"))
        print("\nratio = merpati / dovecot (times: below 1 is faster; MB/s and /s: above 1 "
              "is faster)")
    finally:
        if proc is not None:
            stop_dovecot(proc)
        if d is not None:
            try:
                d.stop()
            finally:
                d.cleanup()
        shutil.rmtree(src, ignore_errors=True)
        if os.environ.get("BENCH_KEEP"):
            print("# kept", dwork)
        else:
            shutil.rmtree(dwork, ignore_errors=True)


if __name__ == "__main__":
    main()
