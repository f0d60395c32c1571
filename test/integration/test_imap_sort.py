# SPDX-License-Identifier: GPL-2.0-or-later
"""SORT and UID SORT (RFC 5256 3, RFC 5957 DISPLAYFROM/DISPLAYTO): the
RFC's examples, every key with its tie rules (mailbox order, which
REVERSE does not reverse), sent dates in other zones and the
INTERNALDATE fallback, addresses, i;ascii-casemap on 8-bit text, errors;
the keys come from the folder cache the second time (no message file is
read), and a cold SORT of a large folder leaves the worker responsive."""

import os
import threading
import time
import unittest

from harness import main
from imap_util import imap_daemon, raw_login
from test_imap_search import make_folder, msg, utc


def run(c, tag, line):
    c.cmd("%s %s" % (tag, line))
    return c.read_until_tagged(tag)


def sort(c, tag, line):
    lines = run(c, tag, line)
    assert lines[-1] == "%s OK SORT completed" % tag, lines
    assert len(lines) == 2 and lines[0].startswith("* SORT"), lines
    return [int(x) for x in lines[0].split()[2:]]


T0 = utc(2024, 3, 10, 12)

# RFC 5256 3's second example answers "5 3 4 1 2" for
# (SUBJECT REVERSE DATE): three base subjects, newest first within each
RFC_MSGS = [
    (msg([("Subject", "[list] Cherry"), ("Date", "Sun, 10 Mar 2024 12:00:00 +0000")]), "", T0),
    (msg([("Subject", "Fwd: cherry"), ("Date", "Sun, 10 Mar 2024 11:00:00 +0000")]), "", T0),
    (msg([("Subject", "Re: banana"), ("Date", "Sun, 10 Mar 2024 12:00:00 +0000")]), "", T0),
    (msg([("Subject", "BANANA (fwd)"), ("Date", "Sun, 10 Mar 2024 10:00:00 +0000")]), "", T0),
    (msg([("Subject", "apple"), ("Date", "Sun, 10 Mar 2024 09:00:00 +0000")]), "", T0),
]


class ImapSort(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def select(self, name):
        c = raw_login(self.d)
        lines = run(c, "s0", "SELECT " + name)
        self.assertTrue(lines[-1].startswith("s0 OK"), lines)
        return c

    def test_capability(self):
        c = raw_login(self.d)
        caps = run(c, "c1", "CAPABILITY")[0].split()
        self.assertIn("SORT", caps)
        self.assertIn("SORT=DISPLAY", caps)

    def test_rfc_examples(self):
        make_folder(self.d, "Rfc", RFC_MSGS)
        c = self.select("Rfc")
        self.assertEqual(run(c, "A282", "SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994"),
                         ["* SORT 5 3 4 1 2", "A282 OK SORT completed"])
        self.assertEqual(run(c, "A283", "SORT (SUBJECT REVERSE DATE) UTF-8 ALL"),
                         ["* SORT 5 3 4 1 2", "A283 OK SORT completed"])
        self.assertEqual(run(c, "A284", 'SORT (SUBJECT) US-ASCII TEXT "not in mailbox"'),
                         ["* SORT", "A284 OK SORT completed"])
        self.assertEqual(sort(c, "a1", "SORT (REVERSE SUBJECT DATE) UTF-8 ALL"),
                         [2, 1, 4, 3, 5])
        self.assertEqual(sort(c, "a2", "UID SORT (DATE) UTF-8 2:5"), [5, 4, 2, 3])
        self.assertEqual(sort(c, "a3", "SORT (date) utf-8 NOT 5"), [4, 2, 1, 3])

    def test_keys_and_ties(self):
        def m(subject, frm, to, cc, date, body=b"x\n"):
            h = [("Subject", subject)]
            for k, v in (("From", frm), ("To", to), ("Cc", cc), ("Date", date)):
                if v is not None:
                    h.append((k, v))
            return msg(h, body)
        msgs = [
            # 08:00 UTC
            (m("one", "Zed <zed@example.org>", "b@x.org", None,
               "Sun, 10 Mar 2024 10:00:00 +0200", b"x" * 50 + b"\n"), "", T0 + 30),
            # 09:00 UTC
            (m("two", "alice@example.org", "A@x.org", "c@x.org",
               "Sun, 10 Mar 2024 09:00:00 GMT", b"x" * 10 + b"\n"), "", T0 + 10),
            # unreadable: INTERNALDATE T0 + 20 (12:00:20 UTC) is the sent date
            (m("three", "=?UTF-8?Q?Bob?= <bob@example.org>", None, "a@x.org",
               "garbage", b"x" * 50 + b"\n"), "", T0 + 20),
            # 07:00 UTC
            (m("four", "\"Carl\" <Carl@example.org>", "a@x.org", None,
               "Sun, 10 Mar 2024 02:00:00 EST", b"x" * 30 + b"\n"), "", T0 + 10),
            # no Date: INTERNALDATE T0 - 10 (11:59:50 UTC)
            (m("five", None, "b@x.org", "b@x.org", None, b"x" * 30 + b"\n"), "", T0 - 10),
        ]
        make_folder(self.d, "Keys", msgs)
        c = self.select("Keys")
        cases = {
            "ARRIVAL": [5, 2, 4, 3, 1],
            "REVERSE ARRIVAL": [1, 3, 2, 4, 5],   # 2 and 4 tie: mailbox order
            "DATE": [4, 1, 2, 5, 3],
            "REVERSE DATE": [3, 5, 2, 1, 4],
            # addr-mailbox only, i;ascii-casemap; no From sorts first
            "FROM": [5, 2, 3, 4, 1],
            "REVERSE FROM": [1, 4, 3, 2, 5],
            "TO": [3, 2, 4, 1, 5],
            "CC": [1, 4, 3, 5, 2],
            # display name (encoded words decoded), else mailbox@host
            "DISPLAYFROM": [5, 2, 3, 4, 1],
            "DISPLAYTO": [3, 2, 4, 1, 5],
            "SUBJECT": [5, 4, 1, 3, 2],
            "TO DATE": [3, 4, 2, 1, 5],
            "TO REVERSE DATE": [3, 2, 4, 5, 1],
        }
        # RFC822.SIZE (LF counted as CRLF); ties in mailbox order
        size = [len(d) + d.count(b"\n") for d, _, _ in msgs]
        by_size = sorted(range(1, 6), key=lambda s: size[s - 1])
        cases["SIZE"] = by_size
        cases["REVERSE SIZE"] = sorted(range(1, 6), key=lambda s: -size[s - 1])
        for i, (k, want) in enumerate(cases.items()):
            self.assertEqual(sort(c, "k%d" % i, "SORT (%s) UTF-8 ALL" % k), want, k)
        uids = sort(c, "u1", "UID SORT (DATE) UTF-8 ALL")
        self.assertEqual(uids, [4, 1, 2, 5, 3])

    def test_ascii_casemap(self):
        """RFC 5256 compares with i;ascii-casemap (RFC 5051 1: "the
        default ... comparator in ... [IMAP-SORT]"): ASCII letters
        without case, every other octet as it is, so UTF-8 text sorts
        after ASCII (Dovecot, with i;unicode-casemap, puts "été" by "E")."""
        subjects = ["Zebra", "=?UTF-8?B?w6l0w6k=?=", "apple", "eagle",
                    "=?ISO-8859-1?Q?=C9t=E9?=", "Re: ZEBRA", "_under"]
        make_folder(self.d, "Casemap", [(msg([("Subject", s)]), "", None)
                                        for s in subjects])
        c = self.select("Casemap")
        # "Zebra" and "ZEBRA" are equal: mailbox order; "_" (0x5F) comes
        # after "Z"; "\xc3\x89" (É) before "\xc3\xa9" (é)
        self.assertEqual(sort(c, "c1", "SORT (SUBJECT) UTF-8 ALL"),
                         [3, 4, 1, 6, 7, 5, 2])

    def test_errors(self):
        make_folder(self.d, "Err", RFC_MSGS[:2])
        c = self.select("Err")
        bad = {
            "SORT": "SORT needs criteria, a charset and search keys",
            "SORT (SUBJECT) UTF-8": "SORT needs criteria, a charset and search keys",
            "SORT SUBJECT UTF-8 ALL": "SORT needs a list of sort criteria",
            "SORT () UTF-8 ALL": "SORT needs a list of sort criteria",
            "SORT (FOO) UTF-8 ALL": "Unknown sort criterion",
            "SORT (REVERSE) UTF-8 ALL": "REVERSE needs a sort key",
            "SORT (REVERSE REVERSE DATE) UTF-8 ALL": "Unknown sort criterion",
            "SORT (DATE REVERSE) UTF-8 ALL": "REVERSE needs a sort key",
            "SORT ((DATE)) UTF-8 ALL": "Unknown sort criterion",
            "SORT (DATE) (x) ALL": "SORT needs a charset",
            "SORT (DATE) UTF-8 FROB": "Unknown search key",
            "SORT RETURN (ALL) (DATE) UTF-8 ALL": "SORT needs a list of sort criteria",
        }
        for i, (line, reason) in enumerate(bad.items()):
            self.assertEqual(run(c, "x%d" % i, line), ["x%d BAD %s" % (i, reason)], line)
        self.assertEqual(run(c, "n1", "SORT (DATE) KOI8-R ALL"),
                         ["n1 NO [BADCHARSET (UTF-8 US-ASCII)] Unknown charset"])
        c2 = raw_login(self.d)
        self.assertRegex(run(c2, "n2", "SORT (DATE) UTF-8 ALL")[0], r"^n2 BAD ")

    def test_keys_cached(self):
        """The second SORT, in a later session, takes the keys from the
        folder cache: a message file rewritten in between (same name, so
        no sync notices) does not change the answer."""
        path = make_folder(self.d, "Cached", RFC_MSGS)
        c = self.select("Cached")
        first = sort(c, "c1", "SORT (SUBJECT DATE) UTF-8 ALL")
        self.assertEqual(first, [5, 4, 3, 2, 1])
        run(c, "c2", "LOGOUT")
        cur = os.path.join(path, "cur")
        name = sorted(os.listdir(cur))[4]   # message 5, "apple"
        p = os.path.join(cur, name)
        st = os.stat(p)
        with open(p, "r+b") as f:
            f.write(b"Subject: zzzzz")
        os.utime(p, (st.st_mtime, st.st_mtime))
        c = self.select("Cached")
        self.assertEqual(sort(c, "c3", "SORT (SUBJECT DATE) UTF-8 ALL"), first)
        # the file did change
        self.assertIn("Subject: zzzzz", run(c, "c4", "FETCH 5 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")[1])


class ImapSortLarge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon(workers=1)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_cold_sort_in_slices(self):
        """A first SORT (SUBJECT) over 3000 messages reads 3000 headers;
        another connection's NOOPs to the same worker are answered while
        it runs. The second SORT reads none and is much faster."""
        filler = b"line of body text\n" * 20
        n = 3000
        msgs = [(msg([("Subject", "Re: topic %d" % ((i * 7919) % n)),
                      ("From", "u%d@example.org" % i)], filler), "", None)
                for i in range(n)]
        make_folder(self.d, "Many", msgs)
        a = raw_login(self.d)
        a.sock.settimeout(600)
        run(a, "s0", "SELECT Many")
        b = raw_login(self.d)
        start = time.monotonic()
        a.cmd("t1 SORT (SUBJECT) UTF-8 ALL")
        delays, done = [], []
        th = threading.Thread(target=lambda: done.append(a.read_until_tagged("t1")))
        th.start()
        i = 0
        while th.is_alive() and i < 500:
            i += 1
            t0 = time.monotonic()
            b.cmd("n%d NOOP" % i)
            self.assertEqual(b.read_until_tagged("n%d" % i)[-1], "n%d OK NOOP completed" % i)
            delays.append(time.monotonic() - t0)
            time.sleep(0.01)
        th.join(120)
        cold = time.monotonic() - start
        want = sorted(range(1, n + 1), key=lambda s: "topic %d" % (((s - 1) * 7919) % n))
        self.assertEqual(done[0][-1], "t1 OK SORT completed")
        self.assertEqual([int(x) for x in done[0][0].split()[2:]], want)
        t0 = time.monotonic()
        self.assertEqual(sort(a, "t2", "SORT (SUBJECT) UTF-8 ALL"), want)
        warm = time.monotonic() - t0
        delays.sort()
        print("SORT of %d: cold %.3f s, cached %.3f s; NOOP during the cold "
              "one: n=%d median %.1f ms max %.1f ms" % (
                  n, cold, warm, len(delays), 1000 * delays[len(delays) // 2] if delays else 0,
                  1000 * delays[-1] if delays else 0))
        if len(delays) >= 3 and cold > 0.4:
            self.assertLess(delays[-1], cold / 4, "a NOOP waited for much of the SORT")


if __name__ == "__main__":
    main()
