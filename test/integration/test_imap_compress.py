# SPDX-License-Identifier: GPL-2.0-or-later
"""COMPRESS=DEFLATE (RFC 4978) with Python's zlib as the client (raw
deflate, wbits -15): advertised after login only, the tagged OK sent
uncompressed, everything after it compressed both ways, also on top of
TLS; a second COMPRESS is NO [COMPRESSIONACTIVE], one before login BAD;
garbage deflate data ends the connection with a log line."""

import os
import re
import socket
import unittest
import zlib

from harness import main
from imap_util import PASSWORDS, imap_daemon, maildrop

MERPATI_SRC = os.environ.get("MERPATI_SRC", "")


class DeflateClient:
    """An IMAP client on a LineClient's socket, compressing once told."""

    def __init__(self, lc):
        self.sock = lc.sock
        self.buf = lc.buf
        self.comp = None
        self.decomp = None

    def start(self):
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.decomp = zlib.decompressobj(-15)
        # bytes that arrived behind the OK are compressed already
        raw, self.buf = self.buf, b""
        if raw:
            self.buf = self.decomp.decompress(raw)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.comp is not None:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += self.decomp.decompress(chunk) if self.decomp else chunk
        return True

    def readline(self):
        while b"\r\n" not in self.buf:
            if not self._more():
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def read_bytes(self, n):
        while len(self.buf) < n:
            if not self._more():
                raise AssertionError("connection closed inside a literal")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until_tagged(self, tag):
        lines = []
        while True:
            line = self.readline()
            if line is None:
                raise AssertionError("closed before %s: %r" % (tag, lines))
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def at_eof(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            while self._more():
                pass
        except (ConnectionResetError, zlib.error):
            return True
        except socket.timeout:
            return False
        return True


def login(d, tls=False):
    lc = d.imaps() if tls else d.imap()
    lc.expect(r"^\* OK ")
    c = DeflateClient(lc)
    c.cmd("l0 LOGIN alice %s" % PASSWORDS["alice"])
    lines = c.until_tagged("l0")
    assert lines[-1].startswith("l0 OK"), lines
    return c


def compress(c):
    c.cmd("z1 COMPRESS DEFLATE")
    line = c.readline()
    assert line == "z1 OK DEFLATE active", line
    c.start()


def has_fetch():
    with open(os.path.join(MERPATI_SRC, "protocols/imap/imap_commands.c")) as f:
        return '"FETCH"' in f.read()


class ImapCompress(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()
        maildrop(cls.d, "alice")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_capability_after_login_only(self):
        lc = self.d.imap()
        greeting = lc.readline()
        self.assertNotIn("COMPRESS", greeting)
        c = DeflateClient(lc)
        c.cmd("b1 COMPRESS DEFLATE")
        self.assertEqual(c.readline(), "b1 BAD COMPRESS is not allowed before login")
        c.cmd("b2 NOOP")
        self.assertEqual(c.readline(), "b2 OK NOOP completed")
        c.cmd("l0 LOGIN alice %s" % PASSWORDS["alice"])
        ok = c.until_tagged("l0")[-1]
        c.cmd("c1 CAPABILITY")
        caps = c.until_tagged("c1")
        self.assertIn(" COMPRESS=DEFLATE", caps[0] + " " + ok)
        c.cmd("x1 COMPRESS LZW")
        self.assertEqual(c.readline(), "x1 BAD Unknown compression algorithm")
        c.cmd("x2 COMPRESS")
        self.assertEqual(c.readline(), "x2 BAD COMPRESS takes one algorithm")
        compress(c)
        c.cmd("c2 CAPABILITY")
        caps = c.until_tagged("c2")
        self.assertNotIn("COMPRESS=", caps[0])
        c.cmd("z2 COMPRESS DEFLATE")
        self.assertEqual(c.readline(), "z2 NO [COMPRESSIONACTIVE] DEFLATE is already active")
        c.cmd("n1 NOOP")
        self.assertEqual(c.readline(), "n1 OK NOOP completed")

    def session(self, tls):
        c = login(self.d, tls=tls)
        compress(c)
        c.cmd("n1 NOOP")
        self.assertEqual(c.readline(), "n1 OK NOOP completed")
        c.cmd('l1 LIST "" "*"')
        lines = c.until_tagged("l1")
        self.assertIn('* LIST (\\HasNoChildren \\Unmarked) "/" INBOX', lines)
        self.assertEqual(lines[-1], "l1 OK LIST completed")
        # a 5 MB message in one synchronizing literal, compressed
        folder = "Big%d" % tls
        c.cmd("c1 CREATE %s" % folder)
        self.assertEqual(c.until_tagged("c1")[-1], "c1 OK CREATE completed")
        body = b"".join(b"line %07d %s\r\n" % (i, os.urandom(24).hex().encode())
                        for i in range(5 * 1024 * 1024 // 68))
        msg = b"From: a@example.org\r\nSubject: big\r\n\r\n" + body
        c.cmd("a1 APPEND %s {%d}" % (folder, len(msg)))
        self.assertEqual(c.readline(), "+ OK")
        for i in range(0, len(msg), 65536):
            c.send(msg[i:i + 65536])
        c.send(b"\r\n")
        self.assertRegex(c.until_tagged("a1")[-1], r"^a1 OK \[APPENDUID \d+ 1\] ")
        cur = os.path.join(self.d.mail, "alice", "." + folder, "cur")
        new = os.path.join(self.d.mail, "alice", "." + folder, "new")
        names = os.listdir(cur) + [os.path.join("..", "new", n) for n in os.listdir(new)]
        self.assertEqual(len(names), 1)
        with open(os.path.join(cur, names[0]), "rb") as f:
            self.assertEqual(f.read().replace(b"\r\n", b"\n"), msg.replace(b"\r\n", b"\n"))
        if has_fetch():
            c.cmd("s1 SELECT %s" % folder)
            c.until_tagged("s1")
            c.cmd("f1 UID FETCH 1 BODY.PEEK[]")
            head = c.readline()
            m = re.search(r"\{(\d+)\}$", head)
            self.assertIsNotNone(m, head)
            self.assertEqual(c.read_bytes(int(m.group(1))), msg)
            self.assertEqual(c.until_tagged("f1")[-1][:5], "f1 OK")
        # many pipelined commands in one compressed burst: a big output
        # that passes the high-water mark and drains through deflate
        c.send("".join("p%d CAPABILITY\r\n" % i for i in range(3000)))
        for i in range(3000):
            lines = c.until_tagged("p%d" % i)
            self.assertEqual(lines[-1], "p%d OK CAPABILITY completed" % i)
        c.cmd("o1 LOGOUT")
        self.assertEqual(c.until_tagged("o1")[-1], "o1 OK LOGOUT completed")

    def test_plain_session(self):
        self.session(tls=False)

    def test_tls_session(self):
        self.session(tls=True)

    def test_garbage_deflate_disconnects(self):
        c = login(self.d)
        compress(c)
        c.cmd("n1 NOOP")
        self.assertEqual(c.readline(), "n1 OK NOOP completed")
        # 0xff..: a reserved block type (BTYPE 11) is invalid deflate
        c.send_raw(b"\xff" * 64)
        self.assertTrue(c.at_eof())
        self.d.wait_log(r'event=disconnect reason=deflate_recv error="invalid block type"')
        # the server still serves others
        c2 = login(self.d)
        c2.cmd("n2 NOOP")
        self.assertEqual(c2.readline(), "n2 OK NOOP completed")

    def test_pipelined_after_compress_closes(self):
        c = login(self.d)
        c.send("z1 COMPRESS DEFLATE\r\nn1 NOOP\r\n")
        self.assertTrue(c.at_eof())
        self.d.wait_log(r"event=compress_injection bytes=9")

    def test_disabled(self):
        with imap_daemon(sections={"imap": {"compress": "no"}}) as d:
            maildrop(d, "alice")
            c = login(d)
            c.cmd("c1 CAPABILITY")
            self.assertNotIn("COMPRESS", c.until_tagged("c1")[0])
            c.cmd("z1 COMPRESS DEFLATE")
            self.assertEqual(c.readline(), "z1 BAD COMPRESS is disabled")


if __name__ == "__main__":
    main()
