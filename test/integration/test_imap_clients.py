# SPDX-License-Identifier: GPL-2.0-or-later
"""Real IMAP clients from Debian's packages against merpatid over implicit
TLS: curl's imaps:// (LIST, UID fetch byte-exact, SEARCH, EXAMINE) and
mbsync (two-way sync of several folders with flags: server-side delivery,
flag change and expunge, local new message and flag change; a third run
changes nothing); imapflow (npm, installed by scripts/deps.sh test into
/usr/local/lib/merpati-test-node) opening, fetching, flagging, copying and
IDLE-ing."""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import CERT, SRC, main
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
            # with the special-use folders made at first login
            self.assertEqual(len(lines), 8, listing)
            names = sorted(re.match(r'^\* LIST \([^)]*\) (?:"."|NIL) "?([^"]*)"?$', ln).group(1)
                           for ln in lines)
            self.assertEqual(names, ["Archive", "Drafts", "INBOX", "Junk", "Lists",
                                     "Sent", "Trash", "Work"], listing)
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


FLAG_LETTERS = {"\\Seen": "S", "\\Flagged": "F", "\\Answered": "R", "\\Deleted": "T",
                "\\Draft": "D"}


def strip_tuid(data):
    """mbsync keeps Maildir files with LF and may add X-TUID: compare without."""
    data = data.replace(b"\r\n", b"\n")
    return re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", data)


def maildir_state(path):
    """{message bytes (X-TUID removed): flag letters} of a local Maildir."""
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                data = strip_tuid(f.read())
            flags = name.split(":2,", 1)[1] if ":2," in name else ""
            assert data not in out, "duplicate in %s: %r" % (path, data)
            out[data] = "".join(sorted(flags))
    return out


def server_state(d, folder):
    """{message bytes: flag letters} of a folder, through IMAP."""
    m = imaplib_login(d)
    try:
        typ, _ = m.select(folder, readonly=True)
        assert typ == "OK", folder
        typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        assert typ == "OK", data
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()
            body = strip_tuid(item[1])
            assert body not in out, "duplicate in %s: %r" % (folder, body)
            out[body] = "".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS))
        return out
    finally:
        m.logout()


def msg(n, subject):
    return (b"From: m%d@example.org\r\nSubject: %s\r\nMessage-ID: <%d@example.org>\r\n\r\n"
            b"body %d\r\n" % (n, subject.encode(), n, n))


class Mbsync(unittest.TestCase):
    def mbsync(self, d, work):
        rc = os.path.join(work, "mbsyncrc")
        local = os.path.join(work, "local")
        os.makedirs(local, exist_ok=True)
        with open(rc, "w") as f:
            f.write("IMAPAccount srv\nHost localhost\nPort %d\nSSLType IMAPS\n"
                    "CertificateFile %s\nUser alice\nPass secret\nAuthMechs LOGIN\n\n"
                    "IMAPStore remote\nAccount srv\n\n"
                    "MaildirStore local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
                    "Channel sync\nFar :remote:\nNear :local:\nPatterns *\nSync All\n"
                    "Create Both\nExpunge Both\nSyncState *\n"
                    % (d.ports["imaps"], CERT, local, local))
        p = subprocess.run(["mbsync", "-c", rc, "-D", "-a"], env=dict(os.environ, HOME=work),
                           capture_output=True, timeout=60)
        log = (p.stdout + p.stderr).decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, log[-6000:])
        self.assertNotIn("Error", log, log[-6000:])
        return local, log

    def test_mbsync_two_way(self):
        need("mbsync")
        with imap_daemon() as d:
            put_message(d, msg(1, "inbox seen"), flags="S")
            put_message(d, msg(2, "inbox new"))
            m = imaplib_login(d)
            for folder in ("Work", "Lists"):
                self.assertEqual(m.create(folder)[0], "OK")
            self.assertEqual(m.append("Work", "(\\Seen \\Flagged)", None, msg(3, "work 1"))[0],
                             "OK")
            self.assertEqual(m.append("Work", "()", None, msg(4, "work 2"))[0], "OK")
            self.assertEqual(m.append("Lists", "(\\Answered \\Seen)", None, msg(5, "list"))[0],
                             "OK")
            m.logout()
            work = tempfile.mkdtemp(prefix="mbsync-")
            try:
                local, log = self.mbsync(d, work)
                expect = {
                    "INBOX": {msg(1, "inbox seen"): "S", msg(2, "inbox new"): ""},
                    "Work": {msg(3, "work 1"): "FS", msg(4, "work 2"): ""},
                    "Lists": {msg(5, "list"): "RS"},
                }
                for folder, want in expect.items():
                    want = {strip_tuid(k): v for k, v in want.items()}
                    self.assertEqual(maildir_state(os.path.join(local, folder)), want, folder)
                    self.assertEqual(server_state(d, folder), want, folder)

                # server side: a delivery, \Seen from another session, a delete
                put_message(d, msg(6, "delivered later"))
                m = imaplib_login(d)
                m.select("Work")
                typ, data = m.search(None, "SUBJECT", '"work 2"')
                self.assertEqual(data, [b"2"])
                self.assertEqual(m.store("2", "+FLAGS", "(\\Seen)")[0], "OK")
                m.select("INBOX")
                typ, data = m.search(None, "SUBJECT", '"inbox seen"')
                self.assertEqual(data, [b"1"])
                self.assertEqual(m.store("1", "+FLAGS", "(\\Deleted)")[0], "OK")
                self.assertEqual(m.expunge()[0], "OK")
                m.logout()
                # local side: a new message (flagged), a flag change
                newpath = os.path.join(local, "Work", "cur", "1700000000.localnew.host:2,F")
                with open(newpath, "wb") as f:
                    f.write(msg(7, "written locally"))
                inbox_cur = os.path.join(local, "INBOX", "cur")
                inbox_new = os.path.join(local, "INBOX", "new")
                names = [os.path.join(inbox_cur, n) for n in os.listdir(inbox_cur)] + \
                    [os.path.join(inbox_new, n) for n in os.listdir(inbox_new)]
                target = [p for p in names
                          if strip_tuid(open(p, "rb").read()) == strip_tuid(msg(2, "inbox new"))]
                self.assertEqual(len(target), 1, names)
                base = os.path.basename(target[0]).split(":2,")[0]
                os.rename(target[0], os.path.join(inbox_cur, base + ":2,F"))

                local, log = self.mbsync(d, work)
                expect = {
                    "INBOX": {msg(2, "inbox new"): "F", msg(6, "delivered later"): ""},
                    "Work": {msg(3, "work 1"): "FS", msg(4, "work 2"): "S",
                             msg(7, "written locally"): "F"},
                    "Lists": {msg(5, "list"): "RS"},
                }
                for folder, want in expect.items():
                    want = {strip_tuid(k): v for k, v in want.items()}
                    self.assertEqual(maildir_state(os.path.join(local, folder)), want, folder)
                    self.assertEqual(server_state(d, folder), want, folder)
                # the local message went up by APPEND with its flag
                self.assertRegex(log, r"APPEND \"?Work\"? \(\\Flagged\)")
                # a third run changes nothing
                local, log = self.mbsync(d, work)
                for folder, want in expect.items():
                    want = {strip_tuid(k): v for k, v in want.items()}
                    self.assertEqual(maildir_state(os.path.join(local, folder)), want, folder)
                    self.assertEqual(server_state(d, folder), want, folder)
            finally:
                shutil.rmtree(work, ignore_errors=True)


NODE_DIR = os.environ.get("MERPATI_TEST_NODE", "/usr/local/lib/merpati-test-node")


class ImapFlow(unittest.TestCase):
    def test_imapflow_open_fetch_flag_copy_idle(self):
        need("node")
        modules = os.path.join(NODE_DIR, "node_modules")
        if not os.path.isdir(os.path.join(modules, "imapflow")):
            raise AssertionError("imapflow is not in %s (run scripts/deps.sh test)" % modules)
        with imap_daemon() as d:
            put_message(d, HELLO)
            put_message(d, OTHER, flags="S")
            m = imaplib_login(d)
            self.assertEqual(m.create("Work")[0], "OK")
            # an earlier session saw INBOX: no \Recent for imapflow
            self.assertEqual(m.select("INBOX")[0], "OK")
            m.logout()
            script = os.path.join(SRC, "test", "integration", "node", "imapflow_client.js")
            p = subprocess.Popen(["node", script, str(d.ports["imaps"]), CERT],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(os.environ, NODE_PATH=modules))
            steps = {}
            try:
                for line in p.stdout:
                    step = json.loads(line)
                    steps[step.get("step")] = step
                    if step.get("step") == "idle":
                        put_message(d, HELLO2)  # delivered while the client IDLEs
            finally:
                try:
                    rc = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
                err = p.stderr.read().decode("utf-8", "replace")
                p.stdout.close()
                p.stderr.close()
            self.assertEqual(rc, 0, (steps.get("error"), err[-3000:]))
            self.assertTrue({"IDLE", "UIDPLUS", "MOVE", "IMAP4rev1"} <=
                            set(steps["capabilities"]["caps"]), steps["capabilities"])
            self.assertEqual(steps["list"]["names"], ["Archive", "Drafts", "INBOX", "Junk",
                                                      "Sent", "Trash", "Work"])
            self.assertEqual(steps["open"], {"step": "open", "exists": 2, "uidNext": 3,
                                             "readOnly": False})
            msgs = steps["fetch"]["msgs"]
            self.assertEqual([(x["uid"], x["flags"], x["subject"], x["from"], x["size"])
                              for x in msgs],
                             [(1, [], "hello world", "a@example.org", len(HELLO)),
                              (2, ["\\Seen"], "something else", "b@example.org", len(OTHER))])
            self.assertEqual([base64.b64decode(x["source"]) for x in msgs], [HELLO, OTHER])
            self.assertEqual(steps["flag"]["flags"], ["\\Flagged"])
            self.assertEqual(steps["copy"]["destination"], "Work")
            self.assertEqual(steps["copy"]["uidMap"], [[1, 1], [2, 2]])
            self.assertEqual((steps["exists"]["count"], steps["exists"]["prevCount"]), (3, 2))
            self.assertIn("done", steps)
            self.assertEqual(server_state(d, "INBOX"), {strip_tuid(HELLO): "F",
                                                        strip_tuid(OTHER): "S",
                                                        strip_tuid(HELLO2): ""})
            self.assertEqual(server_state(d, "Work"), {strip_tuid(HELLO): "F",
                                                       strip_tuid(OTHER): "S"})


if __name__ == "__main__":
    main()
