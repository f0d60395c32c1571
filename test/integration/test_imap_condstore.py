# SPDX-License-Identifier: GPL-2.0-or-later
"""CONDSTORE (RFC 7162 3.1) over raw sockets: the MODSEQ FETCH item,
FETCH (CHANGEDSINCE), STORE (UNCHANGEDSINCE) with [MODIFIED], SEARCH MODSEQ
(with the entry forms) and its (MODSEQ n), [HIGHESTMODSEQ] on SELECT and
EXAMINE, STATUS HIGHESTMODSEQ, SELECT (CONDSTORE), ENABLE CONDSTORE; the
RFC's examples and error cases; flag updates carry UID and MODSEQ once
CONDSTORE is enabled and never before (Outlook breaks on a MODSEQ it did not
ask for); a Thunderbird-style resync after another session's changes,
checked against the RFC's rules."""

import os
import re
import unittest

from harness import main
from imap_util import claim_recent, imap_daemon, maildrop, put_message, raw_login

MSG = b"From: a@example.org\nSubject: hello\n\nbody\n"


def folder(d, name, flags_list, user="alice"):
    """Creates folder .name with one message per entry of flags_list,
    seen by an earlier session (no \\Recent)."""
    root = maildrop(d, user)
    path = os.path.join(root, "." + name)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    os.system("chown -R %s %s" % (d.user, path))
    for flags in flags_list:
        p = put_message(d, MSG, user=user, flags=flags)
        os.rename(p, os.path.join(path, "cur", os.path.basename(p)))
    claim_recent(d, name, user)
    return path


def run(c, tag, line):
    c.cmd("%s %s" % (tag, line))
    return c.read_until_tagged(tag)


def highest(lines):
    for line in lines:
        m = re.search(r"\[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError("no HIGHESTMODSEQ in %r" % lines)


FETCH_RE = re.compile(r"^\* (\d+) FETCH \((.*)\)$")


def fetches(lines):
    """{seq: {"UID": n, "FLAGS": "...", "MODSEQ": n}} of untagged FETCHes."""
    out = {}
    for line in lines:
        m = FETCH_RE.match(line)
        if not m:
            continue
        body = m.group(2)
        item = {}
        u = re.search(r"\bUID (\d+)", body)
        if u:
            item["UID"] = int(u.group(1))
        f = re.search(r"\bFLAGS \(([^)]*)\)", body)
        if f:
            item["FLAGS"] = f.group(1)
        ms = re.search(r"\bMODSEQ \((\d+)\)", body)
        if ms:
            item["MODSEQ"] = int(ms.group(1))
        out[int(m.group(1))] = item
    return out


def modseqs(c, tag="ms"):
    """{uid: modseq} of the selected folder (enables CONDSTORE)."""
    lines = run(c, tag, "UID FETCH 1:* (MODSEQ)")
    return {v["UID"]: v["MODSEQ"] for v in fetches(lines).values()}


class Condstore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_capability_and_enable(self):
        c = raw_login(self.d)
        caps = run(c, "c1", "CAPABILITY")[0].split()
        self.assertIn("CONDSTORE", caps)
        self.assertEqual(run(c, "e1", "ENABLE CONDSTORE"),
                         ["* ENABLED CONDSTORE", "e1 OK ENABLE completed"])
        # RFC 5161 3.2: only newly enabled extensions are listed
        self.assertEqual(run(c, "e2", "ENABLE condstore"),
                         ["* ENABLED", "e2 OK ENABLE completed"])
        c.close()

    def test_select_examine_status_highestmodseq(self):
        folder(self.d, "Hms", ["", "S", "F"])
        c = raw_login(self.d)
        sel = run(c, "s1", "SELECT Hms")
        # RFC 7162 3.1.2.1: every SELECT, CONDSTORE or not
        hms = highest(sel)
        self.assertRegex(sel[-1], r"^s1 OK \[READ-WRITE\]")
        self.assertEqual(len([x for x in sel if "HIGHESTMODSEQ" in x]), 1)
        ex = run(c, "s2", "EXAMINE Hms (CONDSTORE)")
        self.assertEqual(highest(ex), hms)
        self.assertEqual(ex[0], "* OK [CLOSED] Previous mailbox closed.")
        run(c, "s3", "UNSELECT")
        st = run(c, "s4", "STATUS Hms (MESSAGES HIGHESTMODSEQ UIDNEXT)")
        self.assertEqual(st[0], "* STATUS Hms (MESSAGES 3 HIGHESTMODSEQ %d UIDNEXT 4)" % hms)
        self.assertEqual(st[-1], "s4 OK STATUS completed")
        c.close()

    def test_empty_folder_has_highestmodseq(self):
        """A new, empty folder: HIGHESTMODSEQ 1 (positive, RFC 7162
        3.1.2.1), not [NOMODSEQ]; its first message gets a higher one."""
        c = raw_login(self.d)
        run(c, "c", "CREATE Fresh")
        sel = run(c, "s1", "SELECT Fresh (CONDSTORE)")
        self.assertIn("* OK [HIGHESTMODSEQ 1] Highest", sel)
        self.assertFalse(any("NOMODSEQ" in x for x in sel), sel)
        lines = run(c, "a", "APPEND Fresh {6+}\r\nhello\n")
        self.assertRegex(lines[-1], r"^a OK ")
        lines = run(c, "f", "FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
        # this session saw the message first: \\Recent (RFC 3501 2.3.2)
        self.assertRegex(lines[-2], r"^\* 1 FETCH \(FLAGS \(\\Recent\) MODSEQ \((\d+)\)\)$")
        self.assertGreater(fetches(lines)[1]["MODSEQ"], 1)
        c.close()

    def test_modseq_fetch_item_and_changedsince(self):
        folder(self.d, "Chg", ["", "", "", ""])
        c = raw_login(self.d)
        sel = run(c, "s1", "SELECT Chg (CONDSTORE)")
        hms = highest(sel)
        ms = modseqs(c)
        self.assertEqual(sorted(ms), [1, 2, 3, 4])
        # MODSEQs are at most HIGHESTMODSEQ (RFC 7162 3.1.1)
        self.assertTrue(all(0 < v <= hms for v in ms.values()), (ms, hms))
        lines = run(c, "f1", "FETCH 2 (FLAGS MODSEQ)")
        self.assertEqual(lines, ["* 2 FETCH (FLAGS () MODSEQ (%d))" % ms[2], "f1 OK FETCH completed"])
        # change 2 and 4, then CHANGEDSINCE the old HIGHESTMODSEQ
        lines = run(c, "t1", "STORE 2,4 +FLAGS.SILENT (\\Flagged)")
        after = fetches(lines)
        self.assertEqual(sorted(after), [2, 4])
        self.assertTrue(all(v["MODSEQ"] > hms for v in after.values()), after)
        lines = run(c, "f2", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hms)
        # RFC 7162 3.1.4.1: only changed messages, MODSEQ implied
        self.assertEqual(lines, ["* 2 FETCH (FLAGS (\\Flagged) MODSEQ (%d))" % after[2]["MODSEQ"],
                                 "* 4 FETCH (FLAGS (\\Flagged) MODSEQ (%d))" % after[4]["MODSEQ"],
                                 "f2 OK FETCH completed"])
        lines = run(c, "f3", "UID FETCH 3:* (FLAGS) (CHANGEDSINCE %d)" % hms)
        self.assertEqual(lines, ["* 4 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (%d))"
                                 % after[4]["MODSEQ"], "f3 OK FETCH completed"])
        lines = run(c, "f4", "FETCH 1:* (UID) (CHANGEDSINCE %d)" % after[4]["MODSEQ"])
        self.assertEqual(lines, ["f4 OK FETCH completed"])
        # the new HIGHESTMODSEQ is the largest MODSEQ
        st = run(c, "f5", "STATUS Chg (HIGHESTMODSEQ)")
        self.assertEqual(st[0], "* STATUS Chg (HIGHESTMODSEQ %d)"
                         % max(after[2]["MODSEQ"], after[4]["MODSEQ"]))
        c.close()

    def test_store_unchangedsince_modified(self):
        folder(self.d, "Unch", ["", "", "", "", ""])
        c = raw_login(self.d)
        run(c, "s1", "SELECT Unch")
        run(c, "t0", "STORE 3 +FLAGS.SILENT ($Work)")  # before CONDSTORE
        ms = modseqs(c)  # enables CONDSTORE
        base = min(ms.values())
        self.assertGreater(ms[3], base)
        # RFC 7162 3.1.3 example 1: 3 changed after base: left out, the
        # rest changed; .SILENT still reports the new MODSEQs
        lines = run(c, "t1", "STORE 1,3,5 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Deleted)" % base)
        self.assertEqual(lines[-1], "t1 OK [MODIFIED 3] Conditional STORE failed")
        got = fetches(lines)
        self.assertEqual(sorted(got), [1, 5])
        self.assertEqual(set(got[1]), {"UID", "MODSEQ"})
        self.assertEqual(got[1]["UID"], 1)
        self.assertGreater(got[1]["MODSEQ"], ms[3])
        # example 3: UID STORE, all pass, UIDs in the responses
        now = modseqs(c, "m2")
        lines = run(c, "t2", "UID STORE 4,2 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % max(now.values()))
        self.assertEqual(lines[-1], "t2 OK STORE completed")
        got = fetches(lines)
        self.assertEqual(sorted(got), [2, 4])
        self.assertEqual(got[2]["FLAGS"], "\\Seen")
        self.assertEqual(got[2]["UID"], 2)
        # UID STORE: MODIFIED lists UIDs; UNCHANGEDSINCE 0 always fails
        lines = run(c, "t3", "UID STORE 1:5 (UNCHANGEDSINCE 0) -FLAGS (\\Deleted)")
        self.assertEqual(lines, ["t3 OK [MODIFIED 1:5] Conditional STORE failed"])
        self.assertEqual(modseqs(c, "m3"), modseqs(c, "m4"))
        # a STORE that changes nothing keeps MODSEQs and says so silently
        before = modseqs(c, "m5")
        lines = run(c, "t4", "STORE 2 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Seen)" % before[2])
        self.assertEqual(lines, ["t4 OK STORE completed"])
        self.assertEqual(modseqs(c, "m6"), before)
        # read-only: refused before anything
        run(c, "s2", "EXAMINE Unch")
        lines = run(c, "t5", "STORE 1 (UNCHANGEDSINCE 99) +FLAGS (\\Seen)")
        self.assertEqual(lines, ["t5 NO [READ-ONLY] Mailbox is read-only"])
        c.close()

    def test_search_modseq(self):
        folder(self.d, "Srch", ["", "", "", ""])
        c = raw_login(self.d)
        run(c, "s1", "SELECT Srch")
        # no MODSEQ key: no (MODSEQ n), CONDSTORE stays off
        self.assertEqual(run(c, "q0", "SEARCH ALL"), ["* SEARCH 1 2 3 4", "q0 OK SEARCH completed"])
        run(c, "t1", "STORE 2 +FLAGS (\\Draft)")
        run(c, "t2", "STORE 4 +FLAGS (\\Answered)")
        lines = run(c, "q1", "SEARCH MODSEQ 1")  # enables CONDSTORE
        ms = modseqs(c)
        self.assertEqual(lines, ["* OK [HIGHESTMODSEQ %d] Highest" % max(ms.values()),
                                 "* SEARCH 1 2 3 4 (MODSEQ %d)" % max(ms.values()),
                                 "q1 OK SEARCH completed"])
        # RFC 7162 3.1.5: >= the value; the highest of the matches
        lines = run(c, "q2", "SEARCH MODSEQ %d" % ms[2])
        self.assertEqual(lines, ["* SEARCH 2 4 (MODSEQ %d)" % ms[4], "q2 OK SEARCH completed"])
        # the RFC's entry form (example 9): flag name and type
        lines = run(c, "q3", 'UID SEARCH MODSEQ "/flags/\\\\draft" all %d' % ms[2])
        self.assertEqual(lines, ["* SEARCH 2 4 (MODSEQ %d)" % ms[4], "q3 OK SEARCH completed"])
        lines = run(c, "q4", "SEARCH OR NOT MODSEQ %d DRAFT" % ms[2])
        self.assertEqual(lines, ["* SEARCH 1 2 3 (MODSEQ %d)" % ms[2], "q4 OK SEARCH completed"])
        lines = run(c, "q6", 'SEARCH MODSEQ "/flags/$x" priv %d' % ms[4])
        self.assertEqual(lines, ["* SEARCH 4 (MODSEQ %d)" % ms[4], "q6 OK SEARCH completed"])
        # no match: no MODSEQ
        lines = run(c, "q5", "SEARCH MODSEQ %d" % (max(ms.values()) + 1))
        self.assertEqual(lines, ["* SEARCH", "q5 OK SEARCH completed"])
        # ESEARCH (RFC 7162 3.1.5): MODSEQ of the messages returned
        lines = run(c, "r1", "UID SEARCH RETURN (ALL COUNT) MODSEQ %d" % ms[2])
        self.assertEqual(lines, ['* ESEARCH (TAG "r1") UID ALL 2,4 COUNT 2 MODSEQ %d' % ms[4],
                                 "r1 OK SEARCH completed"])
        lines = run(c, "r2", "SEARCH RETURN (MIN) MODSEQ %d" % ms[2])
        self.assertEqual(lines, ['* ESEARCH (TAG "r2") MIN 2 MODSEQ %d' % ms[2],
                                 "r2 OK SEARCH completed"])
        lines = run(c, "r3", "SEARCH RETURN (COUNT) MODSEQ %d" % (max(ms.values()) + 1))
        self.assertEqual(lines, ['* ESEARCH (TAG "r3") COUNT 0', "r3 OK SEARCH completed"])
        lines = run(c, "r4", "SEARCH RETURN (COUNT) ALL")
        self.assertEqual(lines, ['* ESEARCH (TAG "r4") COUNT 4', "r4 OK SEARCH completed"])
        for bad in ('MODSEQ', 'MODSEQ x', 'MODSEQ "/flags/\\\\seen" every 1',
                    'MODSEQ "/other/x" all 1', 'MODSEQ 9223372036854775808'):
            lines = run(c, "qb", "SEARCH " + bad)
            self.assertEqual(len(lines), 1, bad)
            self.assertRegex(lines[0], r"^qb BAD ", bad)
        c.close()

    def test_errors(self):
        folder(self.d, "Err", [""])
        c = raw_login(self.d)
        self.assertRegex(run(c, "a1", "SELECT Err (FOO)")[-1], r"^a1 BAD ")
        self.assertRegex(run(c, "a2", "SELECT Err CONDSTORE")[-1], r"^a2 BAD ")
        # RFC 7162 3.2.5: QRESYNC before ENABLE QRESYNC is BAD
        self.assertRegex(run(c, "a3", "SELECT Err (QRESYNC (1 1))")[-1], r"^a3 BAD ")
        run(c, "s1", "SELECT Err")
        for tag, line in (("b1", "FETCH 1 (FLAGS) (CHANGEDSINCE)"),
                          ("b2", "FETCH 1 (FLAGS) (CHANGEDSINCE x)"),
                          ("b3", "FETCH 1 (FLAGS) (FOO 1)"),
                          ("b4", "FETCH 1 (FLAGS) ()"),
                          ("b5", "FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)"),
                          ("b6", "FETCH 1 (FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)"),
                          # RFC 7162 3.2.6: VANISHED needs UID FETCH and QRESYNC
                          ("b7", "UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
                          ("b8", "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
                          ("b9", "STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)"),
                          ("c1", "STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)"),
                          ("c2", "STORE 1 (FOO 1) +FLAGS (\\Seen)"),
                          ("c3", "STATUS Err (HIGHESTMODSEQ FOO)")):
            lines = run(c, tag, line)
            self.assertEqual(len(lines), 1, (line, lines))
            self.assertRegex(lines[0], r"^%s BAD " % tag, line)
        # nothing above enabled CONDSTORE: a flag change has no MODSEQ
        self.assertEqual(run(c, "d1", "STORE 1 +FLAGS (\\Seen)"),
                         ["* 1 FETCH (FLAGS (\\Seen))", "d1 OK STORE completed"])
        c.close()

    def test_outlook_no_modseq_until_enabled(self):
        """Outlook: a session that never enabled CONDSTORE sees RFC 3501
        responses only, even with another session using CONDSTORE."""
        folder(self.d, "Ol", ["", "", ""])
        a = raw_login(self.d)
        b = raw_login(self.d)
        sel = run(a, "s1", "SELECT Ol")
        self.assertTrue(any(x.startswith("* OK [HIGHESTMODSEQ ") for x in sel))
        run(b, "s1", "SELECT Ol (CONDSTORE)")
        lines = run(b, "t1", "STORE 1 +FLAGS (\\Flagged)")
        self.assertIn("MODSEQ", lines[0])
        # A: unsolicited FETCH, own STORE, FETCH setting \Seen: no MODSEQ
        self.assertEqual(run(a, "n1", "NOOP"), ["* 1 FETCH (FLAGS (\\Flagged))", "n1 OK NOOP completed"])
        self.assertEqual(run(a, "t2", "UID STORE 2 +FLAGS.SILENT (\\Answered)"), ["t2 OK STORE completed"])
        self.assertEqual(run(a, "t3", "STORE 2 FLAGS (\\Seen)"),
                         ["* 2 FETCH (FLAGS (\\Seen))", "t3 OK STORE completed"])
        lines = run(a, "f1", "FETCH 3 (BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(lines[0], "* 3 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {18}")
        self.assertEqual(lines[-1], "f1 OK FETCH completed")
        run(b, "t4", "STORE 1 -FLAGS (\\Flagged)")
        lines = run(a, "n2", "NOOP")
        self.assertEqual(lines, ["* 1 FETCH (FLAGS ())", "n2 OK NOOP completed"])
        self.assertNotIn("MODSEQ", "".join(run(a, "c1", "CHECK")))
        # the first CONDSTORE enabling command in SELECTED state reports
        # the HIGHESTMODSEQ, then flag updates carry UID and MODSEQ
        lines = run(a, "f2", "FETCH 1 (MODSEQ)")
        self.assertRegex(lines[0], r"^\* OK \[HIGHESTMODSEQ \d+\] ")
        self.assertRegex(lines[1], r"^\* 1 FETCH \(MODSEQ \(\d+\)\)$")
        run(b, "t5", "STORE 2 +FLAGS (\\Flagged)")
        lines = run(a, "n3", "NOOP")
        self.assertRegex(lines[0], r"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Seen\) MODSEQ \(\d+\)\)$")
        self.assertEqual(run(a, "t6", "STORE 3 -FLAGS.SILENT (\\Seen)")[0][:25], "* 3 FETCH (UID 3 MODSEQ (")
        lines = run(a, "f3", "FETCH 3 (BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertRegex(lines[0], r"^\* 3 FETCH \(UID 3 FLAGS \(\\Seen\) MODSEQ \(\d+\) "
                                   r"BODY\[HEADER.FIELDS \(SUBJECT\)\] \{18\}$")
        a.close()
        b.close()

    def test_thunderbird_resync(self):
        """Thunderbird with CONDSTORE: SELECT "INBOX" (CONDSTORE); when
        HIGHESTMODSEQ moved, UID fetch 1:* (FLAGS) (CHANGEDSINCE old).
        Another session changes flags (one to the same value), expunges
        and delivers meanwhile; the resync names exactly the messages whose
        flags changed plus the new one (RFC 7162 3.1.4.1), each MODSEQ
        above the old HIGHESTMODSEQ and at most the new one."""
        user = "bob"
        root = maildrop(self.d, user)
        for flags in ("", "S", "", "S", "", ""):
            put_message(self.d, MSG, user=user, flags=flags)
        tb = raw_login(self.d, user)
        run(tb, "1", "capability")
        sel = run(tb, "2", 'select "INBOX" (CONDSTORE)')
        old = highest(sel)
        self.assertIn("* 6 EXISTS", sel)
        lines = run(tb, "3", "UID fetch 1:* (FLAGS)")
        self.assertEqual(len(fetches(lines)), 6)
        run(tb, "4", "logout")
        other = raw_login(self.d, user)
        run(other, "s", "SELECT INBOX")
        run(other, "t1", "UID STORE 1 +FLAGS (\\Seen)")
        run(other, "t2", "UID STORE 2 +FLAGS (\\Seen)")  # already \Seen
        run(other, "t3", "UID STORE 5 +FLAGS (\\Deleted)")
        run(other, "x", "UID EXPUNGE 5")
        run(other, "t4", "UID STORE 6 -FLAGS (\\Seen)")  # already unseen
        run(other, "t5", "UID STORE 4 FLAGS (\\Answered \\Seen)")
        run(other, "l", "LOGOUT")
        put_message(self.d, MSG, user=user)  # delivered: UID 7
        tb = raw_login(self.d, user)
        sel = run(tb, "5", 'select "INBOX" (CONDSTORE)')
        new = highest(sel)
        self.assertGreater(new, old)
        self.assertIn("* 6 EXISTS", sel)
        lines = run(tb, "6", "UID fetch 1:* (FLAGS) (CHANGEDSINCE %d)" % old)
        got = {v["UID"]: v for v in fetches(lines).values()}
        self.assertEqual(sorted(got), [1, 4, 7])
        # UID 7 is new to every session: \\Recent in this one (RFC 3501 2.3.2)
        self.assertEqual([got[u]["FLAGS"] for u in (1, 4, 7)],
                         ["\\Seen", "\\Answered \\Seen", "\\Recent"])
        for v in got.values():
            self.assertTrue(old < v["MODSEQ"] <= new, (v, old, new))
        self.assertEqual(lines[-1], "6 OK FETCH completed")
        # the expunge shows in the full UID list Thunderbird fetches next
        lines = run(tb, "7", "UID fetch 1:* (FLAGS)")
        self.assertEqual(sorted(v["UID"] for v in fetches(lines).values()), [1, 2, 3, 4, 6, 7])
        # and nothing changed since the new HIGHESTMODSEQ
        self.assertEqual(run(tb, "8", "UID fetch 1:* (FLAGS) (CHANGEDSINCE %d)" % new),
                         ["8 OK FETCH completed"])
        tb.close()
        self.assertTrue(os.path.isdir(root))


if __name__ == "__main__":
    main()
