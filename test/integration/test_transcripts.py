# SPDX-License-Identifier: GPL-2.0-or-later
"""Golden IMAP transcripts (issue 10, Tests): every file in
test/transcripts/*.txt is replayed against a fresh merpatid with the fixed
Maildir below, and the server's lines must match the file's S: lines
exactly (test/transcripts/README.md has the syntax and the patterns for
variable parts). One subtest per file; MERPATI_TRANSCRIPT=name runs one.

MERPATI_TRANSCRIPT_RECORD=1 rewrites the files from what the server says
(C: lines and directives kept, S: lines replaced; review the diff: a
golden file states what the RFC asks for, not what the code happens to
do)."""

import glob
import os
import re
import socket
import time
import unittest

from harness import SRC, main
from imap_util import imap_daemon, maildrop

DIR = os.path.join(SRC, "test", "transcripts")
MTIME = 1764583200  # 01-Dec-2025 10:00:00 +0000
UIDVALIDITY = 1700000000

MSG1 = (b"From: Alice <alice@example.org>\r\n"
        b"To: Bob <bob@example.org>\r\n"
        b"Subject: Hello\r\n"
        b"Date: Mon, 01 Dec 2025 09:00:00 +0000\r\n"
        b"Message-ID: <m1@example.org>\r\n"
        b"\r\n"
        b"Hello Bob,\r\n"
        b"how are you?\r\n")
MSG2 = (b"From: Bob <bob@example.org>\r\n"
        b"To: Alice <alice@example.org>\r\n"
        b"Subject: Re: Hello\r\n"
        b"Date: Mon, 01 Dec 2025 09:30:00 +0000\r\n"
        b"Message-ID: <m2@example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        b"\r\n"
        b"--b1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Fine, thanks.\r\n"
        b"--b1\r\n"
        b"Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
        b"AAECAw==\r\n"
        b"--b1--\r\n")
MSG3 = (b"From: Carol <carol@example.org>\r\n"
        b"To: Alice <alice@example.org>\r\n"
        b"Subject: Lunch\r\n"
        b"Date: Tue, 02 Dec 2025 12:00:00 +0100\r\n"
        b"\r\n"
        b"Lunch at noon?\r\n")
# folder -> [(base name, flags letters, bytes)]
FIXTURE = {
    "INBOX": [("1764583200.M1P1.fixture", "S", MSG1),
              ("1764583201.M2P1.fixture", "", MSG2),
              ("1764583202.M3P1.fixture", "FRa", MSG3)],
    "Archive": [("1764583203.M4P1.fixture", "S", MSG1)],
    "Empty": [],
}
SUBSCRIBED = ["INBOX", "Archive"]

PATTERNS = {
    "<num>": r"\d+",
    "<any>": r".*?",
    "<date>": r"\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}",
}


def fill(d):
    """The fixed Maildir of user alice."""
    root = maildrop(d)
    pw_uid, pw_gid = os.stat(root).st_uid, os.stat(root).st_gid
    for folder, msgs in FIXTURE.items():
        path = root if folder == "INBOX" else os.path.join(root, "." + folder)
        for sub in ("", "cur", "new", "tmp"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        if folder != "INBOX":
            open(os.path.join(path, "maildirfolder"), "w").close()
        lines = ["3 V%d N%d G0" % (UIDVALIDITY, len(msgs) + 1)]
        for uid, (base, flags, data) in enumerate(msgs, 1):
            p = os.path.join(path, "cur", "%s:2,%s" % (base, flags))
            with open(p, "wb") as f:
                f.write(data)
            os.utime(p, (MTIME + uid - 1, MTIME + uid - 1))
            lines.append("%d :%s" % (uid, base))
        with open(os.path.join(path, "dovecot-uidlist"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(path, "dovecot-keywords"), "w") as f:
            f.write("0 $Work\n")
    with open(os.path.join(root, "subscriptions"), "w") as f:
        f.write("".join(n + "\n" for n in SUBSCRIBED))
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            os.chown(os.path.join(dirpath, n), pw_uid, pw_gid)


def unescape(text):
    """C~: lines: \\r \\n \\t \\\\ \\xHH, \\{N}c (c N times), and no
    CRLF is added."""
    def one(m):
        e = m.group(1)
        if e[:1] == b"x":
            return bytes([int(e[1:], 16)])
        if e[:1] == b"{":
            n, c = e[1:].split(b"}")
            return c * int(n)
        return {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}[e]
    return re.sub(rb"\\(x[0-9a-fA-F]{2}|\{\d+\}.|[rnt\\])", one, text.encode("utf-8"))


def compile_line(expected, bound):
    """The S: line as a regex; <$name> binds digits (the same everywhere
    in the file once bound)."""
    out, pos = [], 0
    for m in re.finditer(r"<num>|<any>|<date>|<\$([a-z_]+)>", expected):
        out.append(re.escape(expected[pos:m.start()]))
        name = m.group(1)
        if name is None:
            out.append(PATTERNS[m.group(0)])
        elif name in bound:
            out.append(re.escape(bound[name]))
        else:
            out.append(r"(?P<%s>\d+)" % name)
        pos = m.end()
    out.append(re.escape(expected[pos:]))
    return re.compile("".join(out) + r"\Z", re.S)


class Replay:
    def __init__(self, d, path):
        self.d = d
        self.path = os.path.basename(path)
        self.sock = socket.create_connection(("127.0.0.1", d.ports["imap"]), timeout=10)
        self.buf = b""
        self.bound = {}

    def readline(self, timeout=10):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest.decode("utf-8", "replace") if rest else None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def quiet(self, timeout=0.3):
        """Whatever the server sends within timeout (None at EOF)."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return data.decode("utf-8", "replace") if data else None
                data += chunk
        except socket.timeout:
            return data.decode("utf-8", "replace")
        except (ConnectionResetError, BrokenPipeError):
            return None

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def close(self):
        self.sock.close()


def parse(path):
    """[(kind, text, line number)]; kind: C, C~, S, @ (directive)."""
    items = []
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(C~|C|S|@): ?(.*)$", line) or re.match(r"^(@)(\w.*)$", line)
            if not m:
                raise AssertionError("%s:%d: not a C:, C~:, S: or @ line: %r"
                                     % (os.path.basename(path), no, line))
            items.append((m.group(1), m.group(2), no))
    return items


def directives(items):
    """@config section key value -> {section: {key: value}}."""
    config = {}
    for kind, text, no in items:
        if kind == "@":
            words = text.split(None, 3)
            if words[0] == "config" and len(words) == 4:
                config.setdefault(words[1], {})[words[2]] = words[3]
            else:
                raise AssertionError("line %d: unknown directive %r" % (no, text))
    return config


def replay(path):
    """Runs one file; returns a list of mismatches (empty: it passed)."""
    items = parse(path)
    config = directives(items)
    sections = {}
    auth = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}
    auth.update(config.pop("auth", {}))
    sections["auth"] = auth
    sections.update(config)
    with imap_daemon(sections=sections) as d:
        fill(d)
        r = Replay(d, path)
        try:
            return run_items(r, items, os.path.basename(path))
        finally:
            r.close()


def run_items(r, items, name):
    for kind, text, no in items:
        where = "%s:%d" % (name, no)
        if kind == "C":
            r.send(text.encode("utf-8") + b"\r\n")
        elif kind == "C~":
            r.send(unescape(text))
        elif kind == "S":
            got = r.readline()
            if text == "<eof>":
                if got is not None:
                    return ["%s: expected the connection to close, got %r" % (where, got)]
                continue
            if got is None:
                return ["%s: connection closed, expected %r" % (where, text)]
            m = compile_line(text, r.bound).match(got)
            if not m:
                return ["%s:\n  expected %r\n  got      %r" % (where, text, got)]
            r.bound.update({k: v for k, v in m.groupdict().items() if v is not None})
    extra = r.quiet()
    if extra:
        return ["%s: after the last line the server sent %r" % (name, extra)]
    return []


def server_lines(got):
    """S: lines for what the server sent (empty lines inside literals
    kept)."""
    if not got:
        return []
    lines = got.split("\r\n")
    if lines[-1] == "":
        lines.pop()
    return ["S: " + x for x in lines]


def record(path):
    """Rewrites path's S: lines from the server's answers."""
    items = parse(path)
    config = directives(items)
    auth = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}
    auth.update(config.pop("auth", {}))
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    with imap_daemon(sections=dict(config, auth=auth)) as d:
        fill(d)
        r = Replay(d, path)
        first = True
        for line in lines:
            if line.startswith("S:"):
                continue
            if line.startswith(("C:", "C~:")):
                if first:
                    out.extend(server_lines(r.quiet(1.0)))
                    first = False
                out.append(line)
                text = line.split(":", 1)[1][1:]
                r.send(text.encode() + b"\r\n" if line.startswith("C:") else unescape(text))
                got = r.quiet(0.6)
                out.extend(server_lines(got))
                if got is None or (got and not got.endswith("\r\n")):
                    out.append("S: <eof>")
            else:
                out.append(line)
        r.close()
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


class Transcripts(unittest.TestCase):
    def test_transcripts(self):
        os.environ.setdefault("TZ", "UTC")
        only = os.environ.get("MERPATI_TRANSCRIPT")
        files = sorted(glob.glob(os.path.join(DIR, "*.txt")))
        self.assertGreater(len(files), 20, DIR)
        for path in files:
            name = os.path.basename(path)[:-4]
            if only and name != only:
                continue
            with self.subTest(transcript=name):
                if os.environ.get("MERPATI_TRANSCRIPT_RECORD"):
                    record(path)
                t0 = time.monotonic()
                bad = replay(path)
                self.assertEqual(bad, [], "\n".join(bad))
                print("%s: ok (%.2f s)" % (name, time.monotonic() - t0))

    def test_patterns(self):
        bound = {}
        line = compile_line("* OK [UIDVALIDITY <$uv>] x <num> <date> <a@b>", bound)
        m = line.match("* OK [UIDVALIDITY 17] x 5 01-Dec-2025 10:00:00 +0000 <a@b>")
        self.assertIsNotNone(m)
        bound.update(m.groupdict())
        self.assertIsNone(compile_line("<$uv>", bound).match("18"))
        self.assertIsNotNone(compile_line("<$uv>", bound).match("17"))
        self.assertIsNone(compile_line("a <num>", {}).match("a 5 b"))
        self.assertEqual(unescape(r"a\r\n\x00\\"), b"a\r\n\x00\\")
        self.assertEqual(unescape(r"\{3}xy"), b"xxxy")


if __name__ == "__main__":
    main()
