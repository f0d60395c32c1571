# SPDX-License-Identifier: GPL-2.0-or-later
"""FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8) against the real daemon:
every item and macro, every section form with partials, \\Seen set by
BODY[] and reported (not with PEEK, not in EXAMINE), bad syntax, an
expunged message, a 20 MB message read slowly by the client (server
memory stays bounded) and 1:* over 2000 messages."""

import os
import re
import socket
import time
import unittest

from harness import main
from imap_util import claim_recent, imap_daemon, maildrop, raw_login

SIMPLE = (b"From: Alice <alice@example.org>\n"
          b"To: bob@example.org\n"
          b"Subject: hello\n"
          b"Received: from a\n by b\n"
          b"Date: Tue, 1 Dec 2026 10:00:00 +0000\n"
          b"\n"
          b"body line 1\n"
          b"body line 2\n")

MULTI = (b"From: a@example.org\n"
         b"Subject: multi\n"
         b"MIME-Version: 1.0\n"
         b"Content-Type: multipart/mixed; boundary=XX\n"
         b"\n"
         b"preamble\n"
         b"--XX\n"
         b"Content-Type: text/plain\n"
         b"\n"
         b"part one\n"
         b"--XX\n"
         b"Content-Type: message/rfc822\n"
         b"\n"
         b"Subject: inner\n"
         b"Content-Type: multipart/alternative; boundary=YY\n"
         b"\n"
         b"--YY\n"
         b"Content-Type: text/plain\n"
         b"\n"
         b"alt one\n"
         b"--YY\n"
         b"Content-Type: text/html\n"
         b"\n"
         b"<b>alt two</b>\n"
         b"--YY--\n"
         b"--XX--\n")

NOBLANK = b"Subject: no blank line"

MTIME = 1764583200  # 01-Dec-2025 10:00:00 +0000


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def make_folder(d, name, messages, user="alice"):
    """Folder .name with the messages (bytes, flags), mtime MTIME, seen by
    an earlier session (no \\Recent)."""
    root = maildrop(d, user)
    path = os.path.join(root, "." + name)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for i, (data, flags) in enumerate(messages):
        p = os.path.join(path, "cur", "%d.M%dP%d.t:2,%s" % (
            MTIME + i, i, os.getpid(), flags))
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (MTIME, MTIME))
    os.system("chown -R %s %s" % (d.user, path))
    claim_recent(d, name, user)
    return path


class Reader:
    """Reads IMAP responses with their literals as bytes."""

    def __init__(self, c):
        self.c = c

    def line(self):
        while b"\r\n" not in self.c.buf:
            chunk = self.c.sock.recv(65536)
            if not chunk:
                raise AssertionError("EOF; buffered %r" % self.c.buf[:200])
            self.c.buf += chunk
        line, self.c.buf = self.c.buf.split(b"\r\n", 1)
        return line

    def bytes(self, n):
        while len(self.c.buf) < n:
            chunk = self.c.sock.recv(1 << 20)
            if not chunk:
                raise AssertionError("EOF inside a literal")
            self.c.buf += chunk
        data, self.c.buf = self.c.buf[:n], self.c.buf[n:]
        return data

    def response(self, tag):
        """(untagged responses as raw bytes with literals, tagged line)"""
        out = []
        cur = b""
        while True:
            line = self.line()
            cur += line
            m = re.search(rb"\{(\d+)\}$", line)
            if m:
                cur += b"\r\n" + self.bytes(int(m.group(1)))
                continue
            if cur.startswith(tag.encode() + b" "):
                return out, cur.decode()
            out.append(cur)
            cur = b""


def fetch(c, tag, command):
    c.cmd("%s %s" % (tag, command))
    return Reader(c).response(tag)


class ImapFetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()
        make_folder(cls.d, "F", [(SIMPLE, "S"), (MULTI, "S"),
                                 (NOBLANK, "S")])

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def session(self, folder="F", examine=False):
        c = raw_login(self.d)
        c.cmd("x0 %s %s" % ("EXAMINE" if examine else "SELECT", folder))
        c.read_until_tagged("x0")
        return c

    def one(self, c, command, tag="f"):
        out, tagged = fetch(c, tag, command)
        self.assertEqual(tagged, "%s OK FETCH completed" % tag)
        return out

    def test_simple_items(self):
        c = self.session()
        out = self.one(c, "FETCH 1 (FLAGS UID INTERNALDATE RFC822.SIZE)")
        self.assertEqual(out, [b'* 1 FETCH (FLAGS (\\Seen) UID 1 '
                               b'INTERNALDATE "01-Dec-2025 10:00:00 +0000" '
                               b'RFC822.SIZE %d)' % len(crlf(SIMPLE))])
        out = self.one(c, "FETCH 1 ENVELOPE")
        self.assertEqual(out, [
            b'* 1 FETCH (ENVELOPE ("Tue, 1 Dec 2026 10:00:00 +0000" "hello" '
            b'(("Alice" NIL "alice" "example.org")) '
            b'(("Alice" NIL "alice" "example.org")) '
            b'(("Alice" NIL "alice" "example.org")) '
            b'((NIL NIL "bob" "example.org")) NIL NIL NIL NIL))'])
        out = self.one(c, "FETCH 1 (BODY BODYSTRUCTURE)")
        self.assertEqual(out, [
            b'* 1 FETCH (BODY ("text" "plain" ("charset" "us-ascii") NIL NIL '
            b'"7bit" 26 2) BODYSTRUCTURE ("text" "plain" ("charset" '
            b'"us-ascii") NIL NIL "7bit" 26 2 NIL NIL NIL NIL))'])

    def test_macros(self):
        c = self.session()
        fast = self.one(c, "FETCH 1 FAST")
        self.assertEqual(fast, [b'* 1 FETCH (FLAGS (\\Seen) INTERNALDATE '
                                b'"01-Dec-2025 10:00:00 +0000" RFC822.SIZE '
                                b'%d)' % len(crlf(SIMPLE))])
        all_ = self.one(c, "FETCH 1 all")
        self.assertTrue(all_[0].startswith(fast[0][:-1] + b" ENVELOPE ("))
        full = self.one(c, "FETCH 1 FULL")
        self.assertTrue(full[0].startswith(all_[0][:-1] + b" BODY ("))
        # a macro is not an item inside a list
        out, tagged = fetch(c, "m", "FETCH 1 (ALL)")
        self.assertRegex(tagged, r"^m BAD ")

    def test_sections_simple_message(self):
        c = self.session(examine=True)
        whole = crlf(SIMPLE)
        hdr, text = whole.split(b"\r\n\r\n", 1)
        hdr += b"\r\n\r\n"
        out = self.one(c, "FETCH 1 (BODY.PEEK[] BODY.PEEK[HEADER] "
                          "BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[1.MIME] "
                          "RFC822.HEADER)")
        self.assertEqual(out, [
            b"* 1 FETCH (BODY[] {%d}\r\n%s BODY[HEADER] {%d}\r\n%s "
            b"BODY[TEXT] {%d}\r\n%s BODY[1] {%d}\r\n%s BODY[1.MIME] "
            b"{%d}\r\n%s RFC822.HEADER {%d}\r\n%s)" % (
                len(whole), whole, len(hdr), hdr, len(text), text,
                len(text), text, len(hdr), hdr, len(hdr), hdr)])
        out = self.one(c, "FETCH 1 (BODY.PEEK[HEADER.FIELDS (from Subject)] "
                          "BODY.PEEK[HEADER.FIELDS.NOT (Received DATE)])")
        self.assertEqual(out, [
            b"* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {51}\r\n"
            b"From: Alice <alice@example.org>\r\nSubject: hello\r\n\r\n "
            b"BODY[HEADER.FIELDS.NOT (RECEIVED DATE)] {72}\r\n"
            b"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\n"
            b"Subject: hello\r\n\r\n)"])
        # nothing there: an empty string (as Dovecot)
        out = self.one(c, "FETCH 1 (BODY.PEEK[2] BODY.PEEK[1.1] "
                          "BODY.PEEK[1.HEADER])")
        self.assertEqual(out, [b"* 1 FETCH (BODY[2] {0}\r\n BODY[1.1] "
                               b"{0}\r\n BODY[1.HEADER] {0}\r\n)"])

    def test_sections_multipart(self):
        c = self.session(examine=True)
        cases = [
            ("1", b"part one"),
            ("1.MIME", b"Content-Type: text/plain\r\n\r\n"),
            ("2.MIME", b"Content-Type: message/rfc822\r\n\r\n"),
            ("2.HEADER", b"Subject: inner\r\nContent-Type: multipart/"
                         b"alternative; boundary=YY\r\n\r\n"),
            ("2.HEADER.FIELDS (Subject)", b"Subject: inner\r\n\r\n"),
            ("2.1", b"alt one"),
            ("2.2", b"<b>alt two</b>"),
            ("2.2.MIME", b"Content-Type: text/html\r\n\r\n"),
            ("2.1.1", b"alt one"),
            ("2.1.1.1", b""),
            ("3", b""),
            ("1.TEXT", b""),
        ]
        for sec, want in cases:
            out = self.one(c, "FETCH 2 BODY.PEEK[%s]" % sec)
            name = sec.upper().encode()
            self.assertEqual(out, [b"* 2 FETCH (BODY[%s] {%d}\r\n%s)" % (
                name, len(want), want)], sec)
        text = crlf(MULTI).split(b"\r\n\r\n", 1)[1]
        out = self.one(c, "FETCH 2 (BODY.PEEK[2] BODY.PEEK[TEXT])")
        inner = text[text.index(b"Subject: inner"):text.index(b"--XX--")]
        # the CRLF before the boundary belongs to it; the inner epilogue
        # keeps its own (Dovecot agrees)
        self.assertEqual(out, [b"* 2 FETCH (BODY[2] {%d}\r\n%s BODY[TEXT] "
                               b"{%d}\r\n%s)" % (len(inner), inner,
                                                 len(text), text)])

    def test_no_blank_line(self):
        c = self.session(examine=True)
        out = self.one(c, "FETCH 3 (BODY.PEEK[HEADER] BODY.PEEK[TEXT] "
                          "BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(out, [b"* 3 FETCH (BODY[HEADER] {22}\r\nSubject: no "
                               b"blank line BODY[TEXT] {0}\r\n "
                               b"BODY[HEADER.FIELDS (SUBJECT)] {24}\r\n"
                               b"Subject: no blank line\r\n)"])

    def test_partials(self):
        c = self.session(examine=True)
        whole = crlf(SIMPLE)
        cases = [("0.10", whole[:10]), ("10.100", whole[10:110]),
                 ("5.100000", whole[5:]), ("%d.5" % len(whole), b""),
                 ("100000.5", b""), ("0.0", b""), ("3.1", whole[3:4])]
        for part, want in cases:
            out = self.one(c, "FETCH 1 BODY.PEEK[]<%s>" % part)
            origin = part.split(".")[0].encode()
            self.assertEqual(out, [b"* 1 FETCH (BODY[]<%s> {%d}\r\n%s)" % (
                origin, len(want), want)], part)
        out = self.one(c, "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]<3.5>")
        self.assertEqual(out, [b"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)]<3>"
                               b" {5}\r\nject:)"])
        out = self.one(c, "FETCH 1 BODY.PEEK[TEXT]<5.6>")
        self.assertEqual(out, [b"* 1 FETCH (BODY[TEXT]<5> {6}\r\nline 1)"])

    def test_seen(self):
        make_folder(self.d, "Seen", [(SIMPLE, ""), (SIMPLE, ""),
                                     (SIMPLE, "F"), (SIMPLE, "")])
        # EXAMINE never sets \Seen
        c = self.session("Seen", examine=True)
        out = self.one(c, "FETCH 1 (BODY[TEXT] RFC822)")
        self.assertEqual(out[0][:30], b"* 1 FETCH (BODY[TEXT] {26}\r\nbo")
        out = self.one(c, "FETCH 1 FLAGS")
        self.assertEqual(out, [b"* 1 FETCH (FLAGS ())"])
        c = self.session("Seen")
        out = self.one(c, "FETCH 1 BODY.PEEK[TEXT]<0.4>")
        self.assertEqual(out, [b"* 1 FETCH (BODY[TEXT]<0> {4}\r\nbody)"])
        out = self.one(c, "FETCH 1 BODY[TEXT]<0.4>")
        self.assertEqual(out, [b"* 1 FETCH (FLAGS (\\Seen) BODY[TEXT]<0> "
                               b"{4}\r\nbody)"])
        out = self.one(c, "FETCH 1 BODY[TEXT]<0.4>")  # already seen
        self.assertEqual(out, [b"* 1 FETCH (BODY[TEXT]<0> {4}\r\nbody)"])
        out = self.one(c, "UID FETCH 2:3 (RFC822.TEXT FLAGS)")
        self.assertEqual(out, [
            b"* 2 FETCH (UID 2 RFC822.TEXT {26}\r\nbody line 1\r\nbody "
            b"line 2\r\n FLAGS (\\Seen))",
            b"* 3 FETCH (UID 3 RFC822.TEXT {26}\r\nbody line 1\r\nbody "
            b"line 2\r\n FLAGS (\\Flagged \\Seen))"])
        out = self.one(c, "FETCH 4 RFC822.HEADER")  # does not set \Seen
        out = self.one(c, "FETCH 4 FLAGS")
        self.assertEqual(out, [b"* 4 FETCH (FLAGS ())"])
        names = sorted(os.listdir(os.path.join(maildrop(self.d), ".Seen",
                                               "cur")))
        self.assertEqual([n.split(":2,")[1] for n in names],
                         ["S", "S", "FS", ""])

    def test_uid_fetch(self):
        c = self.session(examine=True)
        out = self.one(c, "UID FETCH 2:* FLAGS")
        self.assertEqual(out, [b"* 2 FETCH (UID 2 FLAGS (\\Seen))",
                               b"* 3 FETCH (UID 3 FLAGS (\\Seen))"])
        out = self.one(c, "UID FETCH 1 (FLAGS UID)")
        self.assertEqual(out, [b"* 1 FETCH (FLAGS (\\Seen) UID 1)"])
        out = self.one(c, "UID FETCH 99 FLAGS")  # no such UID: nothing
        self.assertEqual(out, [])

    def test_bad_syntax(self):
        c = self.session(examine=True)
        for bad in ["FETCH", "FETCH 1", "FETCH 1 FROB", "FETCH 1 (FLAGS FROB)",
                    "FETCH 1 ()", "FETCH 9 FLAGS", "FETCH 0 FLAGS",
                    "FETCH 1 BODY[FROB]", "FETCH 1 BODY[0]",
                    "FETCH 1 BODY[1.]", "FETCH 1 BODY[MIME]",
                    "FETCH 1 BODY[HEADER.FIELDS]",
                    "FETCH 1 BODY[HEADER.FIELDS ()]",
                    "FETCH 1 BODY[HEADER (From)]", "FETCH 1 BODY[]<1>",
                    "FETCH 1 BODY[]<a.b>", "FETCH 1 BODY[]<1.2",
                    "FETCH 1 BODY.PEK[]", "FETCH 1 BINARY[]",
                    "FETCH 1 FLAGS (FROB 1)"]:
            out, tagged = fetch(c, "b", bad)
            self.assertEqual(out, [], bad)
            self.assertRegex(tagged, r"^b BAD ", bad)
        c.cmd("n NOOP")
        self.assertEqual(c.readline(), "n OK NOOP completed")

    def test_expunged_file(self):
        path = make_folder(self.d, "Gone", [(SIMPLE, ""), (SIMPLE, ""),
                                            (SIMPLE, "")])
        c = self.session("Gone", examine=True)
        victim = sorted(os.listdir(os.path.join(path, "cur")))[1]
        os.unlink(os.path.join(path, "cur", victim))
        out, tagged = fetch(c, "g", "FETCH 1:3 (UID BODY.PEEK[TEXT]<0.4>)")
        self.assertEqual(out, [b"* 1 FETCH (UID 1 BODY[TEXT]<0> {4}\r\nbody)",
                               b"* 3 FETCH (UID 3 BODY[TEXT]<0> {4}\r\nbody)"])
        self.assertEqual(tagged, "g NO [EXPUNGEISSUED] Some of the requested "
                                 "messages no longer exist")
        # flags come from the session's view and are still answered
        out = self.one(c, "FETCH 2 FLAGS")
        self.assertEqual(out, [b"* 2 FETCH (FLAGS ())"])

    def test_nul_and_empty_mime_part(self):
        # RFC 3501 9: no NUL in a literal; 0x80 in its place, as Dovecot
        nul = b"Subject: n\x00l\n\nbo\x00dy\n"
        # a part whose header runs into the next boundary: the line end
        # before "--b" is the boundary's, not the header's
        empty = (b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                 b"Content-Type: text/plain\n\n--b--\n")
        make_folder(self.d, "Nul", [(nul, ""), (empty, "")])
        c = self.session("Nul", examine=True)
        out = self.one(c, "FETCH 1 BODY.PEEK[]")
        self.assertEqual(out, [b"* 1 FETCH (BODY[] {23}\r\nSubject: n\x80l"
                               b"\r\n\r\nbo\x80dy\r\n)"])
        out = self.one(c, "FETCH 2 (BODY.PEEK[1.MIME] BODY.PEEK[1])")
        self.assertEqual(out, [b"* 2 FETCH (BODY[1.MIME] {26}\r\n"
                               b"Content-Type: text/plain\r\n BODY[1] "
                               b"{0}\r\n)"])

    def test_pipelined(self):
        c = self.session(examine=True)
        c.send("p1 FETCH 1 BODY.PEEK[]\r\np2 FETCH 3 UID\r\n")
        out, tagged = Reader(c).response("p1")
        self.assertEqual(tagged, "p1 OK FETCH completed")
        out, tagged = Reader(c).response("p2")
        self.assertEqual(out, [b"* 3 FETCH (UID 3)"])


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def worker_pids(d):
    """Children of the master whose name is a worker's."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        if ppid == d.proc.pid:
            out.append(int(p))
    return out


class ImapFetchBig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_large_message_slow_reader(self):
        line = b"x" * 76 + b"\n"
        body = line * (20 * 1024 * 1024 // len(line))
        data = b"Subject: big\n\n" + body
        make_folder(self.d, "Big", [(data, "")])
        c = raw_login(self.d)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        c.cmd("b0 SELECT Big")
        c.read_until_tagged("b0")
        pids = worker_pids(self.d)
        base = max(vmrss_kb(p) for p in pids)
        c.cmd("b1 FETCH 1 BODY[]")
        r = Reader(c)
        head = r.line()
        size = len(crlf(data))
        self.assertEqual(head, b"* 1 FETCH (FLAGS (\\Seen) BODY[] {%d}" % size)
        got = 0
        peak = 0
        rounds = 0
        while got < size:
            n = min(size - got, 256 * 1024)
            chunk = r.bytes(n)
            self.assertEqual(chunk[:10], crlf(data)[got:got + 10])
            got += n
            rounds += 1
            if rounds % 8 == 0:
                peak = max(peak, max(vmrss_kb(p) for p in pids))
                time.sleep(0.02)
        self.assertEqual(r.line(), b")")
        self.assertEqual(r.line(), b"b1 OK FETCH completed")
        print("worker VmRSS before %d kB, peak during FETCH %d kB"
              % (base, peak))
        self.assertLess(peak, 40 * 1024)
        self.assertLess(peak - base, 8 * 1024)

    def test_many_messages(self):
        msgs = [(b"Subject: m%d\n\nbody %d\n" % (i, i), "") for i in range(2000)]
        make_folder(self.d, "Many", msgs)
        c = raw_login(self.d)
        c.cmd("m0 EXAMINE Many")
        c.read_until_tagged("m0")
        out, tagged = fetch(c, "m1", "FETCH 1:* (UID RFC822.SIZE "
                                     "BODY.PEEK[HEADER.FIELDS (Subject)] "
                                     "BODY.PEEK[TEXT])")
        self.assertEqual(tagged, "m1 OK FETCH completed")
        self.assertEqual(len(out), 2000)
        for i, resp in enumerate(out):
            subj = b"Subject: m%d\r\n\r\n" % i
            text = b"body %d\r\n" % i
            self.assertEqual(resp, b"* %d FETCH (UID %d RFC822.SIZE %d "
                             b"BODY[HEADER.FIELDS (SUBJECT)] {%d}\r\n%s "
                             b"BODY[TEXT] {%d}\r\n%s)" % (
                                 i + 1, i + 1, len(subj) + len(text),
                                 len(subj), subj, len(text), text))

    def test_cached_structure_reads_no_file(self):
        path = make_folder(self.d, "Cached", [(SIMPLE, ""), (MULTI, "")])
        c = raw_login(self.d)
        c.cmd("c0 EXAMINE Cached")
        c.read_until_tagged("c0")
        first, tagged = fetch(c, "c1", "FETCH 1:* (ENVELOPE BODYSTRUCTURE "
                                       "BODY)")
        self.assertEqual(tagged, "c1 OK FETCH completed")
        c.cmd("c2 CLOSE")  # saves the folder cache
        c.read_until_tagged("c2")
        # the files cannot be read now: the answers come from the cache
        cur = os.path.join(path, "cur")
        for n in os.listdir(cur):
            os.chmod(os.path.join(cur, n), 0)
        c.cmd("c3 EXAMINE Cached")
        c.read_until_tagged("c3")
        again, tagged = fetch(c, "c4", "FETCH 1:* (ENVELOPE BODYSTRUCTURE "
                                       "BODY)")
        self.assertEqual(tagged, "c4 OK FETCH completed")
        self.assertEqual(again, first)
        # a section needs the file: a server error for those messages
        out, tagged = fetch(c, "c5", "FETCH 1 BODY.PEEK[]")
        self.assertEqual(out, [])
        self.assertRegex(tagged, r"^c5 NO \[SERVERBUG\] ")

    def test_envelope_cached_as_written(self):
        """The folder cache keeps each ENVELOPE as written (as Dovecot keeps
        imap.envelope): a warm FETCH ENVELOPE copies it instead of
        rebuilding it from the MIME tree and parsing the addresses."""
        path = make_folder(self.d, "EnvCache", [(SIMPLE, ""), (MULTI, "")])
        c = raw_login(self.d)
        c.cmd("e0 EXAMINE EnvCache")
        c.read_until_tagged("e0")
        first, tagged = fetch(c, "e1", "FETCH 1:* ENVELOPE")
        self.assertEqual(tagged, "e1 OK FETCH completed")
        c.cmd("e2 CLOSE")  # saves the folder cache
        c.read_until_tagged("e2")
        with open(os.path.join(path, "merpati.cache"), "rb") as f:
            cache = f.read()
        for i, resp in enumerate(first):
            prefix = b"* %d FETCH (ENVELOPE (" % (i + 1)
            self.assertTrue(resp.startswith(prefix) and resp.endswith(b"))"), resp)
            self.assertIn(resp[len(prefix):-2], cache)
        self.assertIn(b'"hello" (("Alice" NIL "alice" "example.org"))', cache)
        c.cmd("e3 EXAMINE EnvCache")
        c.read_until_tagged("e3")
        again, tagged = fetch(c, "e4", "FETCH 1:* (UID ENVELOPE)")
        self.assertEqual(tagged, "e4 OK FETCH completed")
        self.assertEqual(again, [r.replace(b"FETCH (", b"FETCH (UID %d " % (i + 1), 1)
                                 for i, r in enumerate(first)])


if __name__ == "__main__":
    main()
