# SPDX-License-Identifier: GPL-2.0-or-later
"""ESEARCH (RFC 4731), SEARCHRES (RFC 5182) and WITHIN (RFC 5032):
the RFCs' own examples on a folder built to give their answers, the
RETURN options alone and together, UID forms, "$" in every command that
takes a set, the saved result after expunges, a failed SEARCH ... SAVE,
and a new SELECT; OLDER/YOUNGER against INTERNALDATE."""

import os
import time
import unittest

from harness import main
from imap_util import imap_daemon, raw_login
from test_imap_search import make_folder, msg


def run(c, tag, line):
    c.cmd("%s %s" % (tag, line))
    return c.read_until_tagged(tag)


def folder_4731(d, name):
    """11 messages; 2, 10 and 11 are \\Flagged and not from Smith, 5 is
    \\Flagged and from Smith (the RFC 4731 example's answers)."""
    msgs = []
    for i in range(1, 12):
        frm = "Smith <smith@example.org>" if i == 5 else "u%d@example.org" % i
        flags = "F" if i in (2, 5, 10, 11) else ""
        msgs.append((msg([("From", frm), ("Subject", "m%d" % i)]), flags,
                     None))
    make_folder(d, name, msgs)


class Esearch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()
        folder_4731(cls.d, "Rfc")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def select(self, name="Rfc"):
        c = raw_login(self.d)
        lines = run(c, "s0", "SELECT " + name)
        self.assertTrue(lines[-1].startswith("s0 OK"), lines)
        return c

    def test_capability(self):
        c = raw_login(self.d)
        caps = run(c, "c1", "CAPABILITY")[0].split()
        for cap in ("ESEARCH", "SEARCHRES", "WITHIN"):
            self.assertIn(cap, caps)

    def test_rfc4731_examples(self):
        c = self.select()
        key = 'FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'
        self.assertEqual(run(c, "A282", "SEARCH RETURN (MIN COUNT) " + key), [
            '* ESEARCH (TAG "A282") MIN 2 COUNT 3',
            "A282 OK SEARCH completed"])
        self.assertEqual(run(c, "A283", "SEARCH RETURN () " + key), [
            '* ESEARCH (TAG "A283") ALL 2,10:11',
            "A283 OK SEARCH completed"])
        # nothing matches: MIN, MAX and ALL are left out, COUNT is 0
        self.assertEqual(run(c, "A284", "SEARCH RETURN (MIN MAX ALL) "
                             "SUBJECT nothing"), [
            '* ESEARCH (TAG "A284")', "A284 OK SEARCH completed"])
        self.assertEqual(run(c, "A285", "SEARCH RETURN (COUNT) DELETED"), [
            '* ESEARCH (TAG "A285") COUNT 0', "A285 OK SEARCH completed"])

    def test_options_and_uid(self):
        c = self.select()
        self.assertEqual(run(c, "a1", "SEARCH RETURN (MIN MAX ALL COUNT) "
                             "FLAGGED"), [
            '* ESEARCH (TAG "a1") MIN 2 MAX 11 ALL 2,5,10:11 COUNT 4',
            "a1 OK SEARCH completed"])
        # the same order whatever order the options come in
        self.assertEqual(run(c, "a2", "SEARCH RETURN (count all max min "
                             "MIN) FLAGGED"), [
            '* ESEARCH (TAG "a2") MIN 2 MAX 11 ALL 2,5,10:11 COUNT 4',
            "a2 OK SEARCH completed"])
        self.assertEqual(run(c, "a3", "UID SEARCH RETURN (MAX) 1:5"), [
            '* ESEARCH (TAG "a3") UID MAX 5', "a3 OK SEARCH completed"])
        self.assertEqual(run(c, "a4", "UID SEARCH RETURN () NOT FLAGGED"), [
            '* ESEARCH (TAG "a4") UID ALL 1,3:4,6:9',
            "a4 OK SEARCH completed"])
        # CHARSET after RETURN
        self.assertEqual(run(c, "a5", "SEARCH RETURN (COUNT) CHARSET UTF-8 "
                             "SUBJECT m1"), [
            '* ESEARCH (TAG "a5") COUNT 3', "a5 OK SEARCH completed"])
        # a tag that is not an atom still comes back as a quoted string
        self.assertEqual(run(c, "t]1", "SEARCH RETURN (MIN) 3"), [
            '* ESEARCH (TAG "t]1") MIN 3', "t]1 OK SEARCH completed"])
        # plain SEARCH keeps the RFC 3501 form
        self.assertEqual(run(c, "a6", "SEARCH FLAGGED"), [
            "* SEARCH 2 5 10 11", "a6 OK SEARCH completed"])

    def test_bad_return(self):
        c = self.select()
        for i, (line, reason) in enumerate([
                ("SEARCH RETURN (FOO) ALL", "Unknown RETURN option"),
                ("SEARCH RETURN MIN ALL", "RETURN needs a list of options"),
                ("SEARCH RETURN ((MIN)) ALL", "Unknown RETURN option"),
                ("SEARCH RETURN (MIN)", "SEARCH needs search keys"),
                ("SEARCH RETURN (MIN) FROB", "Unknown search key")]):
            self.assertEqual(run(c, "b%d" % i, line),
                             ["b%d BAD %s" % (i, reason)], line)

    def test_searchres_examples(self):
        c = self.select()
        # RFC 5182 2.2: SAVE alone answers no ESEARCH
        self.assertEqual(run(c, "A282", 'SEARCH RETURN (SAVE) FLAGGED SINCE '
                             '1-Feb-1994 NOT FROM "Smith"'),
                         ["A282 OK SEARCH completed"])
        self.assertEqual(run(c, "A283", "FETCH $ (UID FLAGS)"), [
            "* 2 FETCH (UID 2 FLAGS (\\Flagged))",
            "* 10 FETCH (UID 10 FLAGS (\\Flagged))",
            "* 11 FETCH (UID 11 FLAGS (\\Flagged))",
            "A283 OK FETCH completed"])
        self.assertEqual(run(c, "A284", "UID FETCH $ (FLAGS)"), [
            "* 2 FETCH (UID 2 FLAGS (\\Flagged))",
            "* 10 FETCH (UID 10 FLAGS (\\Flagged))",
            "* 11 FETCH (UID 11 FLAGS (\\Flagged))",
            "A284 OK FETCH completed"])
        # "$" in SEARCH, alone, under UID and beside other keys
        self.assertEqual(run(c, "A285", "SEARCH $"), [
            "* SEARCH 2 10 11", "A285 OK SEARCH completed"])
        self.assertEqual(run(c, "A286", "UID SEARCH UID $ NOT 11"), [
            "* SEARCH 2 10", "A286 OK SEARCH completed"])
        self.assertEqual(run(c, "A287", "SEARCH OR $ 1"), [
            "* SEARCH 1 2 10 11", "A287 OK SEARCH completed"])
        # SAVE with other options: the ESEARCH comes, and MIN/MAX only
        # keep the minimum and maximum (RFC 5182 2.4)
        self.assertEqual(run(c, "A288", "SEARCH RETURN (SAVE MIN MAX) "
                             "FLAGGED"), [
            '* ESEARCH (TAG "A288") MIN 2 MAX 11', "A288 OK SEARCH completed"])
        self.assertEqual(run(c, "A289", "SEARCH $"), [
            "* SEARCH 2 11", "A289 OK SEARCH completed"])
        self.assertEqual(run(c, "A290", "SEARCH RETURN (SAVE MIN) FLAGGED"), [
            '* ESEARCH (TAG "A290") MIN 2', "A290 OK SEARCH completed"])
        self.assertEqual(run(c, "A291", "SEARCH $"), [
            "* SEARCH 2", "A291 OK SEARCH completed"])
        # with ALL or COUNT beside MIN/MAX, the whole result is saved
        self.assertEqual(run(c, "A296", "SEARCH RETURN (SAVE MIN COUNT) "
                             "FLAGGED"), [
            '* ESEARCH (TAG "A296") MIN 2 COUNT 4', "A296 OK SEARCH completed"])
        self.assertEqual(run(c, "A297", "SEARCH $"), [
            "* SEARCH 2 5 10 11", "A297 OK SEARCH completed"])
        self.assertEqual(run(c, "A292", "SEARCH RETURN (SAVE COUNT) FLAGGED"), [
            '* ESEARCH (TAG "A292") COUNT 4', "A292 OK SEARCH completed"])
        self.assertEqual(run(c, "A293", "SEARCH $"), [
            "* SEARCH 2 5 10 11", "A293 OK SEARCH completed"])
        # a SAVE that searches "$" reads the old result, then replaces it
        self.assertEqual(run(c, "A294", "SEARCH RETURN (SAVE ALL) $ NOT 5"), [
            '* ESEARCH (TAG "A294") ALL 2,10:11', "A294 OK SEARCH completed"])
        self.assertEqual(run(c, "A295", "SEARCH $"), [
            "* SEARCH 2 10 11", "A295 OK SEARCH completed"])

    def test_searchres_empty_and_failed(self):
        c = self.select()
        # nothing saved yet: "$" is the empty set
        self.assertEqual(run(c, "e1", "SEARCH $"), [
            "* SEARCH", "e1 OK SEARCH completed"])
        self.assertEqual(run(c, "e2", "FETCH $ FLAGS"),
                         ["e2 OK FETCH completed"])
        self.assertEqual(run(c, "e3", "SEARCH RETURN (SAVE) 1:3"),
                         ["e3 OK SEARCH completed"])
        # RFC 5182 2.1: a SEARCH with SAVE that fails empties "$"
        self.assertEqual(run(c, "e4", "SEARCH RETURN (SAVE) FROB"),
                         ["e4 BAD Unknown search key"])
        self.assertEqual(run(c, "e5", "SEARCH $"), [
            "* SEARCH", "e5 OK SEARCH completed"])
        run(c, "e6", "SEARCH RETURN (SAVE) 1:3")
        self.assertEqual(run(c, "e7", "SEARCH RETURN (SAVE) CHARSET KOI8-R "
                             "SUBJECT x"), [
            "e7 NO [BADCHARSET (UTF-8 US-ASCII)] Unknown charset"])
        self.assertEqual(run(c, "e8", "SEARCH $"), [
            "* SEARCH", "e8 OK SEARCH completed"])
        # a failed SEARCH without SAVE leaves "$" alone
        run(c, "e9", "SEARCH RETURN (SAVE) 1:3")
        run(c, "e10", "SEARCH FROB")
        self.assertEqual(run(c, "e11", "SEARCH $"), [
            "* SEARCH 1 2 3", "e11 OK SEARCH completed"])
        # "$" is not a set inside others
        self.assertEqual(run(c, "e12", "FETCH $,1 FLAGS")[0][:8], "e12 BAD ")
        # a new SELECT starts with an empty result
        run(c, "e13", "SELECT Rfc")
        self.assertEqual(run(c, "e14", "SEARCH $"), [
            "* SEARCH", "e14 OK SEARCH completed"])

    def test_searchres_store_copy_move_expunge(self):
        make_folder(self.d, "Res", [(msg([("Subject", "r%d" % i)]), "", None)
                                    for i in range(1, 7)])
        make_folder(self.d, "ResDest", [])
        c = self.select("Res")
        run(c, "r1", "UID SEARCH RETURN (SAVE) UID 2,4:5")
        # this session is the folder's first: \\Recent (RFC 3501 2.3.2)
        self.assertEqual(run(c, "r2", "STORE $ +FLAGS (\\Seen)"), [
            "* 2 FETCH (FLAGS (\\Seen \\Recent))",
            "* 4 FETCH (FLAGS (\\Seen \\Recent))",
            "* 5 FETCH (FLAGS (\\Seen \\Recent))", "r2 OK STORE completed"])
        self.assertEqual(run(c, "r3", "UID STORE $ FLAGS.SILENT (\\Flagged)"),
                         ["r3 OK STORE completed"])
        lines = run(c, "r4", "COPY $ ResDest")
        self.assertRegex(lines[-1], r"^r4 OK \[COPYUID \d+ 2,4:5 1:3\] ")
        # expunge message 4 (UID 4): "$" now names UIDs 2 and 5
        run(c, "r5", "STORE 4 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(run(c, "r6", "EXPUNGE"), [
            "* 4 EXPUNGE", "r6 OK EXPUNGE completed"])
        self.assertEqual(run(c, "r7", "FETCH $ UID"), [
            "* 2 FETCH (UID 2)", "* 4 FETCH (UID 5)",
            "r7 OK FETCH completed"])
        self.assertEqual(run(c, "r8", "SEARCH $"), [
            "* SEARCH 2 4", "r8 OK SEARCH completed"])
        lines = run(c, "r9", "UID MOVE $ ResDest")
        self.assertEqual(lines[1:], ["* 4 EXPUNGE", "* 2 EXPUNGE",
                                     "r9 OK MOVE completed"])
        self.assertRegex(lines[0], r"^\* OK \[COPYUID \d+ 2,5 4:5\]")
        # the moved messages are gone: "$" is empty now
        self.assertEqual(run(c, "r10", "UID SEARCH $"), [
            "* SEARCH", "r10 OK SEARCH completed"])
        run(c, "r11", "UID SEARCH RETURN (SAVE) 1")
        run(c, "r12", "UID STORE $ +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(run(c, "r13", "UID EXPUNGE $"), [
            "* 1 EXPUNGE", "r13 OK EXPUNGE completed"])


class Within(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_older_younger(self):
        now = time.time()
        ages = [86400 * 3, 7200, 600, 10]
        make_folder(self.d, "Within", [
            (msg([("Subject", "w%d" % a)]), "", now - a) for a in ages])
        c = raw_login(self.d)
        run(c, "s", "SELECT Within")
        cases = {
            "YOUNGER 3600": "3 4", "OLDER 3600": "1 2",
            "YOUNGER 300000": "1 2 3 4", "OLDER 300000": "",
            "YOUNGER 60": "4", "NOT YOUNGER 60": "1 2 3",
            "OLDER 300 YOUNGER 10000": "2 3",
            "OR OLDER 86400 YOUNGER 60": "1 4",
        }
        for i, (k, want) in enumerate(cases.items()):
            self.assertEqual(run(c, "w%d" % i, "SEARCH " + k), [
                ("* SEARCH " + want).rstrip(), "w%d OK SEARCH completed" % i],
                k)
        self.assertEqual(run(c, "u1", "UID SEARCH RETURN (COUNT) OLDER 1"), [
            '* ESEARCH (TAG "u1") UID COUNT 4', "u1 OK SEARCH completed"])
        for i, k in enumerate(["OLDER", "OLDER 0", "YOUNGER x",
                               "YOUNGER -5", "OLDER 4294967296"]):
            self.assertEqual(run(c, "b%d" % i, "SEARCH " + k),
                             ["b%d BAD Invalid interval" % i], k)


if __name__ == "__main__":
    main()
