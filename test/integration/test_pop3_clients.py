# SPDX-License-Identifier: GPL-2.0-or-later
"""Real POP3 clients from Debian's packages against merpatid: fetchmail over
STLS and over implicit TLS (downloads every message byte-for-byte, the
maildrop is empty afterwards under after_download = delete), getmail6 with
delete = false against a keep server (the second run fetches only new mail,
by UIDL), curl over pop3s:// (LIST, RETR, SASL)."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import CERT, main
from test_pop3 import (MSG_CRLF, MSG_DOTS, MSG_PLAIN, chown_to_daemon, login, message_files,
                       pop3_daemon, put_message)

# A mix that exercises the conversions: dot lines, CRLF, no final newline,
# 8-bit bytes, a long line, an empty body, a bigger message.
MESSAGES = [
    MSG_PLAIN,
    MSG_DOTS,
    MSG_CRLF,
    b"From: b@example.org\nSubject: no final newline\n\nlast line without LF",
    b"From: c@example.org\nSubject: 8bit\nContent-Type: text/plain; charset=utf-8\n\n"
    b"gr\xc3\xbc\xc3\x9fe \xe2\x80\x94 caf\xc3\xa9\n",
    b"From: d@example.org\nSubject: long line\n\n" + b"x" * 5000 + b"\n",
    b"From: e@example.org\nSubject: empty body\n\n",
    b"From: f@example.org\nSubject: big\n\n" + b"".join(
        b"line %06d of a bigger message, with some text to fill it\n" % i for i in range(30000)),
]


def normalize(data):
    """CRLF -> LF and exactly one final newline: what survives any client."""
    data = data.replace(b"\r\n", b"\n")
    return data.rstrip(b"\n") + b"\n"


def need(tool):
    path = shutil.which(tool)
    if path is None:
        raise AssertionError("%s is not installed (Debian package needed by this test)" % tool)
    return path


class Fetchmail(unittest.TestCase):
    def run_fetchmail(self, d, ssl_line):
        need("fetchmail")
        work = tempfile.mkdtemp(prefix="fetchmail-")
        try:
            out = os.path.join(work, "out")
            os.mkdir(out)
            mda = os.path.join(work, "mda.sh")
            with open(mda, "w") as f:
                f.write('#!/bin/sh\nf=$(mktemp "%s/msg.XXXXXX") && cat > "$f"\n' % out)
            os.chmod(mda, 0o755)
            rc = os.path.join(work, "fetchmailrc")
            port = d.ports["pop3s"] if "ssl\n" in ssl_line else d.ports["pop3"]
            with open(rc, "w") as f:
                f.write("set no bouncemail\nset invisible\n"
                        "poll 127.0.0.1 service %d protocol POP3 timeout 20\n"
                        "  user 'alice' there with password 'secret' is 'root' here\n"
                        "  %s"
                        "  sslcertck sslcertfile '%s' sslcommonname 'localhost'\n"
                        "  fetchall nokeep no rewrite\n"
                        "  mda '%s'\n" % (port, ssl_line, CERT, mda))
            os.chmod(rc, 0o600)
            env = dict(os.environ, FETCHMAILHOME=work, HOME=work)
            p = subprocess.run(["fetchmail", "-f", rc, "--nosyslog", "--nodetach", "-v",
                                "-i", os.path.join(work, "ids")],
                               env=env, capture_output=True, timeout=60)
            log = (p.stdout + p.stderr).decode("utf-8", "replace")
            self.assertEqual(p.returncode, 0, log)
            got = []
            for path in glob.glob(os.path.join(out, "msg.*")):
                with open(path, "rb") as f:
                    got.append(f.read())
            return got, log
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def check_download(self, ssl_line, expect_log):
        with pop3_daemon("delete") as d:
            for m in MESSAGES:
                put_message(d, m)
            got, log = self.run_fetchmail(d, ssl_line)
            self.assertRegex(log, expect_log)
            self.assertEqual(sorted(normalize(g) for g in got),
                             sorted(normalize(m) for m in MESSAGES), log[-3000:])
            self.assertEqual(message_files(d), [])
            p = login(d)
            self.assertEqual(p.stat(), (0, 0))
            p.quit()

    def test_fetchmail_stls(self):
        self.check_download("sslproto 'tls1.2+'\n", r"POP3> STLS")

    def test_fetchmail_pop3s(self):
        self.check_download("ssl\n", r"SSL/TLS: using protocol TLSv1\.[23]")


class Getmail(unittest.TestCase):
    def test_getmail_keep_then_only_new(self):
        need("getmail")
        with pop3_daemon("keep") as d:
            for m in MESSAGES[:3]:
                put_message(d, m)
            work = tempfile.mkdtemp(prefix="getmail-")
            try:
                md = os.path.join(work, "Maildir")
                for sub in ("", "cur", "new", "tmp"):
                    os.makedirs(os.path.join(md, sub), exist_ok=True)
                    chown_to_daemon(d, os.path.join(md, sub))
                os.chmod(work, 0o755)
                rc = os.path.join(work, "getmailrc")
                with open(rc, "w") as f:
                    f.write("[retriever]\ntype = SimplePOP3SSLRetriever\nserver = 127.0.0.1\n"
                            "port = %d\nusername = alice\npassword = secret\nca_certs = %s\n"
                            "[destination]\ntype = Maildir\npath = %s/\nuser = %s\n"
                            "[options]\ndelete = false\nread_all = false\nverbose = 0\n"
                            "delivered_to = false\nreceived = false\n"
                            % (d.ports["pop3s"], CERT, md, d.user))

                def run():
                    p = subprocess.run(["getmail", "--getmaildir", work, "--rcfile", rc],
                                       capture_output=True, timeout=60)
                    self.assertEqual(p.returncode, 0, (p.stdout + p.stderr).decode())
                    got = []
                    for name in os.listdir(os.path.join(md, "new")):
                        path = os.path.join(md, "new", name)
                        with open(path, "rb") as f:
                            got.append(f.read())
                        os.unlink(path)
                    return got

                def strip_return_path(data):
                    return re.sub(rb"^Return-Path: [^\n]*\n", b"", data)

                got = run()
                self.assertEqual(sorted(normalize(strip_return_path(g)) for g in got),
                                 sorted(normalize(m) for m in MESSAGES[:3]))
                self.assertEqual(len(message_files(d)), 3)  # delete = false, keep server
                self.assertEqual(run(), [])  # nothing new
                put_message(d, MESSAGES[3])
                got = run()
                self.assertEqual([normalize(strip_return_path(g)) for g in got],
                                 [normalize(MESSAGES[3])])
                self.assertEqual(len(message_files(d)), 4)
            finally:
                shutil.rmtree(work, ignore_errors=True)


class Curl(unittest.TestCase):
    def curl(self, d, path, *extra):
        need("curl")
        url = "pop3s://127.0.0.1:%d/%s" % (d.ports["pop3s"], path)
        p = subprocess.run(["curl", "-sS", "--cacert", CERT, "-u", "alice:secret", *extra, url],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout

    def test_curl_list_and_retrieve(self):
        with pop3_daemon("keep") as d:
            for m in MESSAGES:
                put_message(d, m)
            listing = self.curl(d, "")
            sizes = [len(re.sub(rb"(?<!\r)\n", b"\r\n", m)) for m in MESSAGES]
            self.assertEqual(listing, b"".join(b"%d %d\r\n" % (i + 1, s) for i, s in enumerate(sizes)))
            for i, m in enumerate(MESSAGES):
                body = self.curl(d, str(i + 1))
                self.assertEqual(normalize(body), normalize(m))
            # curl un-stuffs dots and keeps CRLF: exact bytes of a CRLF message
            self.assertEqual(self.curl(d, "3"), MSG_CRLF)
            # a custom command: UIDL through curl's -X
            uidl = self.curl(d, "", "-X", "UIDL")
            self.assertRegex(uidl.decode(), r"^(\d+ [0-9a-f]{16}\r\n){%d}$" % len(MESSAGES))
            # AUTH PLAIN is what curl chose (SASL is advertised)
            self.assertRegex(d.read_log(), r"mech=PLAIN")


if __name__ == "__main__":
    main()
