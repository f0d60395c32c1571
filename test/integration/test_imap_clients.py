"""Real IMAP clients from Debian's packages against merpatid over implicit
TLS: curl's imaps:// (LIST, UID fetch byte-exact, SEARCH, EXAMINE) and
mbsync (two-way sync of several folders with flags)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import CERT, main
from imap_util import imap_daemon, imaplib_login, put_message

HELLO = b"From: a@example.org\r\nSubject: hello world\r\n\r\nfirst body\r\n"
OTHER = b"From: b@example.org\r\nSubject: something else\r\n\r\nsecond body\r\n"
HELLO2 = b"From: c@example.org\r\nSubject: Hello again\r\n\r\nthird body\r\n"


def need(tool):
    path = shutil.which(tool)
    if path is None:
        raise AssertionError("%s is not installed (Debian package needed by this test)" % tool)
    return path


class Curl(unittest.TestCase):
    def curl(self, d, path, *extra):
        need("curl")
        url = "imaps://127.0.0.1:%d/%s" % (d.ports["imaps"], path)
        p = subprocess.run(["curl", "-sS", "--cacert", CERT, "-u", "alice:secret", *extra, url],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout

    def test_curl_list_fetch_search_examine(self):
        with imap_daemon() as d:
            for m in (HELLO, OTHER, HELLO2):
                put_message(d, m)
            m = imaplib_login(d)
            self.assertEqual(m.create("Work")[0], "OK")
            self.assertEqual(m.create("Lists")[0], "OK")
            m.logout()
            listing = self.curl(d, "").decode()
            lines = sorted(listing.splitlines())
            self.assertEqual(len(lines), 3, listing)
            names = sorted(re.match(r'^\* LIST \([^)]*\) (?:"."|NIL) "?([^"]*)"?$', ln).group(1)
                           for ln in lines)
            self.assertEqual(names, ["INBOX", "Lists", "Work"], listing)
            # a message by UID, byte-exact (the files are CRLF already)
            self.assertEqual(self.curl(d, "INBOX;UID=1"), HELLO)
            self.assertEqual(self.curl(d, "INBOX;UID=2"), OTHER)
            self.assertEqual(self.curl(d, "INBOX;UID=3"), HELLO2)
            # SEARCH through -X in the selected INBOX: case-insensitive substring
            self.assertEqual(self.curl(d, "INBOX", "-X", "SEARCH SUBJECT hello"),
                             b"* SEARCH 1 3\r\n")
            self.assertEqual(self.curl(d, "INBOX", "-X", "UID SEARCH SUBJECT else"),
                             b"* SEARCH 2\r\n")
            # EXAMINE: the untagged lines of a read-only select
            ex = self.curl(d, "", "-X", "EXAMINE INBOX").decode()
            self.assertIn("* 3 EXISTS\r\n", ex)
            self.assertRegex(ex, r"\* OK \[UIDVALIDITY \d+\]")
            self.assertRegex(ex, r"\* OK \[UIDNEXT 4\]")
            ex = self.curl(d, "", "-X", "EXAMINE Work").decode()
            self.assertIn("* 0 EXISTS\r\n", ex)


if __name__ == "__main__":
    main()
