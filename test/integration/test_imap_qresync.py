# SPDX-License-Identifier: GPL-2.0-or-later
"""QRESYNC (RFC 7162 3.2) over raw sockets: ENABLE QRESYNC (implies
CONDSTORE), SELECT/EXAMINE (QRESYNC (uidvalidity modseq [known-uids
[seq-match-data]])) with VANISHED (EARLIER) and the changed messages, UID
FETCH (CHANGEDSINCE n VANISHED), VANISHED instead of EXPUNGE once enabled,
[HIGHESTMODSEQ] after EXPUNGE, [CLOSED]; the RFC's examples and error
cases; a resync after flag changes and expunges made by another session,
also after the index was lost (the expunge log no longer reaches back: the
known UIDs and the sequence match data decide); the same operations
against Dovecot, whose CHANGEDSINCE and VANISHED must name the same UIDs;
imapflow with condstore and qresync resyncing."""

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import CERT, SRC, main
from imap_util import claim_recent, imap_daemon, maildrop, put_message, raw_login
from test_imap_condstore import fetches, folder, highest, run
from test_mime_dovecot import DOVECOT_IMAP, mail_user

MSG = b"From: a@example.org\nSubject: hello\n\nbody\n"


def uid_set(text):
    """[uids] of an IMAP UID set such as 2:4,7."""
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        lo = int(lo)
        hi = int(hi) if hi else lo
        out += range(min(lo, hi), max(lo, hi) + 1)
    return out


def vanished(lines, earlier=True):
    out = []
    head = "* VANISHED (EARLIER) " if earlier else "* VANISHED "
    for line in lines:
        if line.startswith(head):
            out += uid_set(line[len(head):])
    return sorted(out)


def changed(lines):
    """{uid: flags} of the FETCH responses (each with UID and MODSEQ)."""
    out = {}
    for v in fetches(lines).values():
        assert "UID" in v and "MODSEQ" in v, v
        out[v["UID"]] = v["FLAGS"]
    return out


def uidvalidity(lines):
    for line in lines:
        m = re.search(r"\[UIDVALIDITY (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(lines)


def qresync_login(d, user="alice"):
    c = raw_login(d, user)
    assert run(c, "e", "ENABLE QRESYNC") == ["* ENABLED QRESYNC", "e OK ENABLE completed"]
    return c


class Qresync(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = imap_daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_enable(self):
        c = raw_login(self.d)
        self.assertIn("QRESYNC", run(c, "c", "CAPABILITY")[0].split())
        self.assertEqual(run(c, "e1", "ENABLE CONDSTORE QRESYNC"),
                         ["* ENABLED CONDSTORE QRESYNC", "e1 OK ENABLE completed"])
        c.close()
        c = raw_login(self.d)
        self.assertEqual(run(c, "e1", "ENABLE QRESYNC"), ["* ENABLED QRESYNC", "e1 OK ENABLE completed"])
        # RFC 7162 3.2.3: QRESYNC implies CONDSTORE
        self.assertEqual(run(c, "e2", "ENABLE CONDSTORE"), ["* ENABLED", "e2 OK ENABLE completed"])
        c.close()

    def test_select_resync_after_other_session(self):
        """RFC 7162 3.2.5.1: VANISHED (EARLIER) for the known UIDs expunged
        since the client's MODSEQ, then FETCH (UID FLAGS MODSEQ) for the
        known messages changed since; nothing for a stale UIDVALIDITY."""
        folder(self.d, "Rs", ["", "", "", "", "", "", "", ""])
        c = qresync_login(self.d)
        sel = run(c, "s1", "SELECT Rs")
        m0, uv = highest(sel), uidvalidity(sel)
        run(c, "l", "LOGOUT")
        b = raw_login(self.d)
        run(b, "s", "SELECT Rs")
        run(b, "t1", "UID STORE 1 +FLAGS (\\Flagged)")
        run(b, "t2", "UID STORE 2,3,7 +FLAGS (\\Deleted)")
        run(b, "x1", "UID EXPUNGE 2:3")
        run(b, "t3", "UID STORE 5 -FLAGS (\\Seen)")  # no change
        run(b, "t4", "UID STORE 6 +FLAGS (\\Seen $Work)")
        run(b, "t5", "UID STORE 8 +FLAGS (\\Deleted)")
        run(b, "x2", "UID EXPUNGE 8")
        run(b, "l", "LOGOUT")
        put_message(self.d, MSG)  # INBOX, unrelated
        c = qresync_login(self.d)
        sel = run(c, "s2", "SELECT Rs (QRESYNC (%d %d))" % (uv, m0))
        self.assertEqual(vanished(sel), [2, 3, 8])
        self.assertEqual(changed(sel), {1: "\\Flagged", 6: "\\Seen $Work", 7: "\\Deleted"})
        # VANISHED comes before the FETCHes, both before the tagged OK
        kinds = ["V" if x.startswith("* VANISHED") else "F" for x in sel
                 if x.startswith("* VANISHED") or " FETCH " in x]
        self.assertEqual(kinds, ["V", "F", "F", "F"])
        self.assertTrue(sel.index([x for x in sel if "HIGHESTMODSEQ" in x][0])
                        < sel.index([x for x in sel if x.startswith("* VANISHED")][0]))
        self.assertTrue(sel[-1].startswith("s2 OK [READ-WRITE]"))
        # known UIDs limit both (RFC 7162 3.2.5.1)
        sel = run(c, "s3", "EXAMINE Rs (QRESYNC (%d %d 1:3,7))" % (uv, m0))
        self.assertEqual(sel[0], "* OK [CLOSED] Previous mailbox closed.")
        self.assertEqual(vanished(sel), [2, 3])
        self.assertEqual(changed(sel), {1: "\\Flagged", 7: "\\Deleted"})
        # another UIDVALIDITY: a plain SELECT (full resync)
        sel = run(c, "s4", "SELECT Rs (QRESYNC (%d %d))" % (uv + 1, m0))
        self.assertEqual((vanished(sel), changed(sel)), ([], {}))
        self.assertIn("* 5 EXISTS", sel)
        # up to date: nothing
        sel = run(c, "s5", "SELECT Rs (QRESYNC (%d %d 1:100))" % (uv, highest(sel)))
        self.assertEqual((vanished(sel), changed(sel)), ([], {}))
        c.close()

    def test_uid_fetch_vanished(self):
        folder(self.d, "Uv", ["", "", "", "", "", ""])
        c = raw_login(self.d)
        m0 = highest(run(c, "s1", "SELECT Uv"))
        stale = qresync_login(self.d)
        run(stale, "s1", "SELECT Uv")
        b = raw_login(self.d)
        run(b, "s", "SELECT Uv")
        run(b, "t1", "UID STORE 2,6 +FLAGS (\\Deleted)")
        run(b, "x", "UID EXPUNGE 2,6")
        run(b, "t2", "UID STORE 4 +FLAGS (\\Answered)")
        run(b, "l", "LOGOUT")
        # RFC 7162 3.2.6 example: after a reconnect, VANISHED (EARLIER)
        # first, then the changed messages
        c = qresync_login(self.d)
        run(c, "s2", "SELECT Uv")
        lines = run(c, "f1", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0)
        self.assertRegex(lines[0], r"^\* VANISHED \(EARLIER\) ")
        self.assertEqual(vanished(lines), [2, 6])
        self.assertEqual(changed(lines), {4: "\\Answered"})
        self.assertEqual(lines[-1], "f1 OK FETCH completed")
        # the set limits VANISHED: UID 6 is outside 1:5
        lines = run(c, "f2", "UID FETCH 1:5 (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0)
        self.assertEqual(vanished(lines), [2])
        self.assertEqual(changed(lines), {4: "\\Answered"})
        # a session that had the folder open all along learns the same
        # at the end of the command (its view moves only there)
        lines = run(stale, "f1", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0)
        self.assertEqual(vanished(lines), [])
        self.assertEqual(vanished(lines, earlier=False), [2, 6])
        self.assertEqual(changed(lines), {4: "\\Answered"})
        self.assertEqual(lines[-1], "f1 OK FETCH completed")
        c.close()
        stale.close()

    def test_vanished_replaces_expunge(self):
        folder(self.d, "Vx", ["", "T", "T", "", "T"])
        folder(self.d, "Vx2", [])
        a = qresync_login(self.d)
        run(a, "s1", "SELECT Vx")
        plain = raw_login(self.d)
        run(plain, "s1", "SELECT Vx")
        b = raw_login(self.d)
        run(b, "s", "SELECT Vx")
        run(b, "x", "UID EXPUNGE 2")
        # RFC 7162 3.2.10: VANISHED (without EARLIER) instead of EXPUNGE
        self.assertEqual(run(a, "n1", "NOOP"), ["* VANISHED 2", "n1 OK NOOP completed"])
        self.assertEqual(run(plain, "n1", "NOOP"), ["* 2 EXPUNGE", "n1 OK NOOP completed"])
        # own EXPUNGE: VANISHED, and the tagged OK carries HIGHESTMODSEQ
        lines = run(a, "x1", "EXPUNGE")
        self.assertEqual(lines[0], "* VANISHED 3,5")
        self.assertRegex(lines[1], r"^x1 OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed$")
        hms = highest(lines[1:])
        self.assertEqual(run(plain, "n2", "NOOP"), ["* 4 EXPUNGE", "* 2 EXPUNGE", "n2 OK NOOP completed"])
        self.assertEqual(highest(run(plain, "s2", "SELECT Vx")), hms)
        lines = run(a, "m", "UID MOVE 4 Vx2")
        self.assertIn("* VANISHED 4", lines)
        self.assertNotIn("EXPUNGE", " ".join(lines))
        # [CLOSED] before the new mailbox's responses
        lines = run(a, "s2", "SELECT Vx2")
        self.assertEqual(lines[0], "* OK [CLOSED] Previous mailbox closed.")
        a.close()
        plain.close()
        b.close()

    def test_errors(self):
        folder(self.d, "Qe", ["", ""])
        c = raw_login(self.d)
        # RFC 7162 3.2.5: QRESYNC without ENABLE QRESYNC is BAD
        self.assertRegex(run(c, "a1", "SELECT Qe (QRESYNC (1 1))")[-1], r"^a1 BAD ")
        run(c, "e", "ENABLE QRESYNC")
        for tag, params in (("b1", "(QRESYNC (0 1))"), ("b2", "(QRESYNC (1 0))"),
                            ("b3", "(QRESYNC (1))"), ("b4", "(QRESYNC)"),
                            ("b5", "(QRESYNC (1 1 *))"), ("b6", "(QRESYNC (1 1 1:2 (1:2 1)))"),
                            ("b7", "(QRESYNC (1 1 1:2 (1:2)))"), ("b8", "(QRESYNC 1 1)"),
                            ("b9", "(QRESYNC (1 1) QRESYNC (1 1))"),
                            ("c1", "(QRESYNC (1 9223372036854775808))")):
            lines = run(c, tag, "SELECT Qe " + params)
            self.assertEqual(len(lines), 1, (params, lines))
            self.assertRegex(lines[0], r"^%s BAD " % tag, params)
        run(c, "s", "SELECT Qe")
        # VANISHED needs UID FETCH and CHANGEDSINCE
        for tag, line in (("d1", "FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
                          ("d2", "UID FETCH 1 (FLAGS) (VANISHED)")):
            lines = run(c, tag, line)
            self.assertEqual(len(lines), 1, lines)
            self.assertRegex(lines[0], r"^%s BAD " % tag)
        c.close()

    def test_resync_after_index_loss(self):
        """The index is lost: the expunge log no longer reaches back to
        the client's MODSEQ. RFC 7162 3.2.5.2: every known UID the folder
        lacks is reported, and sequence match data narrows that to what
        the client cannot know."""
        path = folder(self.d, "Lost", ["", "", "", "", "", ""])
        c = qresync_login(self.d)
        sel = run(c, "s1", "SELECT Lost")
        uv = uidvalidity(sel)
        run(c, "t", "UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        run(c, "x", "UID EXPUNGE 2")  # the client knows 2 is gone
        m0 = highest(run(c, "s2", "SELECT Lost"))
        run(c, "l", "LOGOUT")
        b = raw_login(self.d)
        run(b, "s", "SELECT Lost")
        run(b, "t", "UID STORE 5 +FLAGS (\\Deleted)")
        run(b, "x", "UID EXPUNGE 5")
        run(b, "l", "LOGOUT")
        os.unlink(os.path.join(path, "merpati.index"))
        c = qresync_login(self.d)
        # the client's known UIDs (sloppy: 2 too): both reported
        sel = run(c, "s3", "SELECT Lost (QRESYNC (%d %d 1:6))" % (uv, m0))
        self.assertEqual(vanished(sel), [2, 5])
        # every message got a new MODSEQ in the rebuild: all reported
        self.assertEqual(sorted(changed(sel)), [1, 3, 4, 6])
        new = highest(sel)
        self.assertGreater(new, m0)
        # the client's view 1,3,4,6 (seq 1:3 = UID 1,3,4 still match)
        sel = run(c, "s4", "SELECT Lost (QRESYNC (%d %d 1:6 (1:3 1,3,4)))" % (uv, m0))
        self.assertEqual(vanished(sel), [5])
        # a mismatch at seq 3 (client thinks UID 5): only up to UID 3
        sel = run(c, "s5", "SELECT Lost (QRESYNC (%d %d 1:6 (1,2,3 1,3,5)))" % (uv, m0))
        self.assertEqual(vanished(sel), [5])
        sel = run(c, "s6", "SELECT Lost (QRESYNC (%d %d 1:6 (1,2 1,2)))" % (uv, m0))
        self.assertEqual(vanished(sel), [2, 5])
        # since the rebuild the log is complete again
        sel = run(c, "s7", "SELECT Lost (QRESYNC (%d %d 1:6))" % (uv, new))
        self.assertEqual((vanished(sel), changed(sel)), ([], {}))
        c.close()


class PipeClient:
    """Dovecot's imap binary in pre-authenticated mode, line by line."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.readline()
        assert line.startswith("* PREAUTH"), line

    def cmd(self, line):
        self.p.stdin.write(line.encode() + b"\r\n")
        self.p.stdin.flush()

    def readline(self):
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError("dovecot closed the connection")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def read_until_tagged(self, tag):
        lines = []
        while True:
            lines.append(self.readline())
            if lines[-1].startswith(tag + " "):
                return lines

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)
        self.p.stdout.close()


NAMES = ["%d.M%dP1.host" % (1700000000 + i, i) for i in range(1, 11)]
START_FLAGS = ["", "S", "", "", "", "", "", "S", "", ""]


def fill_maildir(root, owner):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i, (name, flags) in enumerate(zip(NAMES, START_FLAGS)):
        with open(os.path.join(root, "cur", name + ":2," + flags), "wb") as f:
            f.write(b"From: a@example.org\nSubject: m%d\n\nbody %d\n" % (i + 1, i + 1))
    # the same UIDs on both servers (Merpati reads Dovecot's list)
    with open(os.path.join(root, "dovecot-uidlist"), "w") as f:
        f.write("3 V1700000000 N11\n")
        for i, name in enumerate(NAMES):
            f.write("%d :%s\n" % (i + 1, name))
    for dirpath, _, names in os.walk(root):
        os.chown(dirpath, owner.pw_uid, owner.pw_gid)
        for n in names:
            os.chown(os.path.join(dirpath, n), owner.pw_uid, owner.pw_gid)


OPS = ["SELECT INBOX",
       "UID STORE 1 +FLAGS (\\Flagged)",
       "UID STORE 2 +FLAGS (\\Seen)",  # no change
       "UID STORE 3,4 +FLAGS (\\Deleted)",
       "UID EXPUNGE 3:4",
       "UID STORE 5 -FLAGS (\\Seen)",  # no change
       "UID STORE 6 FLAGS ($Work)",
       "UID STORE 10 +FLAGS (\\Deleted)",
       "UID EXPUNGE 10",
       "UID STORE 7 +FLAGS (\\Answered)",
       "UID STORE 7 -FLAGS (\\Answered)",  # back, but changed
       "UID STORE 8 -FLAGS (\\Seen)",
       "APPEND INBOX (\\Seen) {6+}\r\nhello\n"]


def resync(c, uv, m0):
    """What a client learns after the OPS: UID sets only."""
    out = {}
    run(c, "e", "ENABLE QRESYNC")
    sel = run(c, "s", "SELECT INBOX (QRESYNC (%d %d 1:10))" % (uv, m0))
    out["select"] = (vanished(sel), sorted(changed(sel).items()))
    for tag, line in (("f1", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0),
                      ("f2", "UID FETCH 2:6 (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0),
                      ("f3", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % m0)):
        lines = run(c, tag, line)
        assert lines[-1].startswith(tag + " OK"), lines
        out[line.split(" (CHANGEDSINCE")[0]] = (
            vanished(lines), sorted((seq, v.get("FLAGS")) for seq, v in fetches(lines).items()))
    lines = run(c, "q", "UID SEARCH MODSEQ %d" % (m0 + 1))
    out["search"] = sorted(int(x) for x in lines[0].split("(")[0].split()[2:])
    return out


class DovecotDiff(unittest.TestCase):
    def test_same_uids_as_dovecot(self):
        """The same Maildir and the same operations on Dovecot and Merpati:
        SELECT (QRESYNC), UID FETCH (CHANGEDSINCE VANISHED), FETCH
        (CHANGEDSINCE) and SEARCH MODSEQ name the same messages (MODSEQ
        values themselves differ and are not compared)."""
        if not os.access(DOVECOT_IMAP, os.X_OK):
            raise AssertionError("%s missing: install Debian's dovecot-imapd" % DOVECOT_IMAP)
        work = tempfile.mkdtemp(prefix="merpati-qresync-dovecot-")
        results = {}
        try:
            pw = mail_user()
            maildir = os.path.join(work, "Maildir")
            fill_maildir(maildir, pw)
            conf = os.path.join(work, "dovecot.conf")
            with open(conf, "w") as f:
                f.write("protocols = imap\nssl = no\nmail_location = maildir:%s\n"
                        "log_path = /dev/stderr\nbase_dir = %s/run\nstate_dir = %s/run\n"
                        "first_valid_uid = 0\n" % (maildir, work, work))
            os.chown(work, pw.pw_uid, pw.pw_gid)
            os.chown(conf, pw.pw_uid, pw.pw_gid)
            drop = ""
            if os.geteuid() == 0:
                drop = "setpriv --reuid=%d --regid=%d --clear-groups " % (pw.pw_uid, pw.pw_gid)
            cmd = ("cd %s && exec %senv -i USER=test HOME=%s PATH=/usr/bin:/bin %s -c %s 2>/dev/null"
                   % (work, drop, work, DOVECOT_IMAP, conf))
            for server in ("dovecot", "merpati"):
                d = None
                if server == "dovecot":
                    connect = lambda: PipeClient(cmd)  # noqa: E731
                else:
                    d = imap_daemon()
                    root = maildrop(d)
                    fill_maildir(root, pwd.getpwnam(d.user))
                    connect = lambda: raw_login(d)  # noqa: E731
                try:
                    a = connect()
                    run(a, "e", "ENABLE CONDSTORE")
                    sel = run(a, "s", "SELECT INBOX")
                    uv, m0 = uidvalidity(sel), highest(sel)
                    self.assertEqual(uv, 1700000000, server)
                    run(a, "l", "LOGOUT")
                    a.close()
                    b = connect()
                    for i, op in enumerate(OPS):
                        lines = run(b, "o%d" % i, op)
                        self.assertTrue(lines[-1].startswith("o%d OK" % i), (server, op, lines))
                    run(b, "l", "LOGOUT")
                    b.close()
                    c = connect()
                    results[server] = resync(c, uv, m0)
                    c.close()
                finally:
                    if d is not None:
                        d.cleanup()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.assertEqual(results["merpati"], results["dovecot"])
        # and what RFC 7162 says they must be
        self.assertEqual(results["merpati"]["select"],
                         ([3, 4, 10], [(1, "\\Flagged"), (6, "$Work"), (7, ""), (8, "")]))
        self.assertEqual(results["merpati"]["search"], [1, 6, 7, 8, 11])


NODE_DIR = os.environ.get("MERPATI_TEST_NODE", "/usr/local/lib/merpati-test-node")


class ImapFlowQresync(unittest.TestCase):
    def test_imapflow_qresync_resync(self):
        """imapflow with qresync: opens INBOX, remembers UIDVALIDITY and
        HIGHESTMODSEQ, disconnects; another session flags, expunges and a
        message is delivered; imapflow reopens with QRESYNC and fetches
        CHANGEDSINCE: it learns exactly those changes."""
        if shutil.which("node") is None:
            raise AssertionError("node is not installed (scripts/deps.sh test)")
        modules = os.path.join(NODE_DIR, "node_modules")
        if not os.path.isdir(os.path.join(modules, "imapflow")):
            raise AssertionError("imapflow is not in %s (run scripts/deps.sh test)" % modules)
        with imap_daemon() as d:
            for flags in ("", "S", "", ""):
                put_message(d, MSG, flags=flags)
            # an earlier session saw them: no \\Recent for imapflow
            claim_recent(d, "INBOX")
            script = os.path.join(SRC, "test", "integration", "node", "imapflow_qresync.js")
            p = subprocess.Popen(["node", script, str(d.ports["imaps"]), CERT],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=dict(os.environ, NODE_PATH=modules))
            steps = {}
            try:
                for line in p.stdout:
                    step = json.loads(line)
                    steps[step.get("step")] = step
                    if step.get("step") == "first":
                        b = raw_login(d)
                        run(b, "s", "SELECT INBOX")
                        run(b, "t1", "UID STORE 1 +FLAGS (\\Flagged)")
                        run(b, "t2", "UID STORE 3 +FLAGS (\\Deleted)")
                        run(b, "x", "UID EXPUNGE 3")
                        run(b, "l", "LOGOUT")
                        put_message(d, MSG)  # UID 5
                        p.stdin.write(b"go\n")
                        p.stdin.close()
            finally:
                try:
                    rc = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
                err = p.stderr.read().decode("utf-8", "replace")
                for f in (p.stdout, p.stderr):
                    f.close()
            self.assertEqual(rc, 0, (steps.get("error"), err[-3000:]))
            first = steps["first"]
            self.assertEqual(first["enabled"], ["CONDSTORE", "QRESYNC"])
            self.assertEqual(first["uids"], [[1, []], [2, ["\\Seen"]], [3, []], [4, []]])
            second = steps["second"]
            self.assertEqual(second["uidValidity"], first["uidValidity"])
            self.assertGreater(int(second["highestModseq"]), int(first["highestModseq"]))
            # SELECT (QRESYNC ...): VANISHED (EARLIER) 3, FETCH of UID 1
            # and UID FETCH (CHANGEDSINCE old VANISHED) says it again
            self.assertEqual(second["expunged"], [[3, True, True], [3, True, True]])
            # imapflow's flag events (it drops a repeated one)
            # (UID 5 is new to every session: \\Recent in imapflow's)
            self.assertEqual(second["flags"], [[1, ["\\Flagged"]], [5, ["\\Recent"]]])
            # UID FETCH 1:* (CHANGEDSINCE old VANISHED): 1 and the new 5
            self.assertEqual(second["changed"], [[1, ["\\Flagged"]], [5, ["\\Recent"]]])
            self.assertTrue(all(int(m) > int(first["highestModseq"]) for m in second["modseqs"]))


if __name__ == "__main__":
    main()
