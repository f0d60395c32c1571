# SPDX-License-Identifier: GPL-2.0-or-later
"""The worker reads the local time zone before it enters the sandbox:
INTERNALDATE is written in the server's zone (RFC 3501 2.3.3), also with
Landlock on, where /etc/localtime and zoneinfo are out of reach."""

import os
import unittest

from harness import main
from imap_util import imap_daemon, maildrop, raw_login

MSG = b"From: a@example.org\r\nSubject: tz\r\n\r\nbody\r\n"


class ImapTimezone(unittest.TestCase):
    def test_internaldate_in_local_zone(self):
        self.assertTrue(os.path.exists("/usr/share/zoneinfo/Asia/Jakarta"),
                        "tzdata is needed (Debian's tzdata package)")
        old = os.environ.get("TZ")
        os.environ["TZ"] = "Asia/Jakarta"  # +0700, no daylight saving
        try:
            d = imap_daemon()
        finally:
            if old is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = old
        try:
            maildrop(d, "alice")
            c = raw_login(d)
            c.send('a1 APPEND INBOX "01-Jan-2024 12:00:00 +0000" {%d+}\r\n' % len(MSG))
            c.send(MSG + b"\r\n")
            c.expect("^a1 OK")
            c.cmd("a2 SELECT INBOX")
            c.read_until_tagged("a2")
            c.cmd("a3 FETCH 1 INTERNALDATE")
            self.assertEqual(c.read_until_tagged("a3"),
                             ['* 1 FETCH (INTERNALDATE "01-Jan-2024 19:00:00 +0700")',
                              "a3 OK FETCH completed"])
        finally:
            d.cleanup()


if __name__ == "__main__":
    main()
