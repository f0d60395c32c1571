# SPDX-License-Identifier: GPL-2.0-or-later
"""Landlock sandbox of the worker and the auth helper (server.sandbox,
doc/security.md), seen from inside the running processes through
MERPATI_SANDBOX_PROBE: a worker can open nothing outside the mail root's
directory (not /etc/passwd, not the config, not a file a symlink planted in
a Maildir points to), connect to no TCP port; the passwd-file auth helper
(root) reads its users file and nothing else. The same probes with
server.sandbox = no succeed, so the denials are the sandbox's."""

import ctypes
import os
import re
import signal
import subprocess
import unittest

import harness
from harness import Daemon, main

USERS = ["alice:{PLAIN}secret::::::"]
OPEN_AUTH = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}
SECRET = b"SECRET-OUTSIDE-THE-MAIL-ROOT"
MESSAGE = b"From: a@example.org\nSubject: real\n\nhello\n"


def landlock_abi():
    """The Landlock ABI the kernel offers (0: none)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(abi, 0)


def chown_to_daemon(d, path):
    pw = harness.pwd.getpwnam(d.user)
    os.lchown(path, pw.pw_uid, pw.pw_gid)


class Setup:
    """A daemon (not started) with alice's Maildir holding one message, a
    symlink planted in it, and files outside the mail root."""

    def __init__(self, sandbox, backend=None):
        sections = {"auth": dict(OPEN_AUTH)}
        if sandbox is not None:
            sections["server"] = {"sandbox": sandbox}
        self.d = Daemon(sections=sections, users=USERS, start=False)
        d = self.d
        if backend is not None:
            d.config["auth"]["backend"] = backend
            d.write_config()
        self.root = os.path.join(d.mail, "alice")
        for sub in ("", "cur", "new", "tmp"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
            chown_to_daemon(d, os.path.join(self.root, sub))
        self.message = os.path.join(self.root, "new", "1700000000.M1P1.real")
        with open(self.message, "wb") as f:
            f.write(MESSAGE)
        chown_to_daemon(d, self.message)
        # readable and writable by anyone: only the sandbox can stop it
        self.outside = os.path.join(d.dir, "outside.txt")
        with open(self.outside, "wb") as f:
            f.write(b"From: x@example.org\n\n" + SECRET + b"\n")
        os.chmod(self.outside, 0o666)
        self.planted = os.path.join(self.root, "new", "1700000001.M2P2.planted")
        os.symlink(self.outside, self.planted)
        chown_to_daemon(d, self.planted)

    def start(self, probes):
        os.environ["MERPATI_SANDBOX_PROBE"] = " ".join(probes)
        try:
            self.d.start()
        finally:
            del os.environ["MERPATI_SANDBOX_PROBE"]
        return self.d

    def probes(self, process, count):
        """{(op, target): result} logged by `process` (waits for count)."""
        log = self.d.wait_log(r"event=sandbox_probe process=%s " % process, count=count)
        found = {}
        for m in re.finditer(r"event=sandbox_probe process=%s op=(\w+) target=\"([^\"]*)\" "
                             r"result=(\S+)" % process, log):
            found[(m.group(1), m.group(2))] = m.group(3)
        return found


class TestWorker(unittest.TestCase):
    def worker_probes(self, s):
        d = s.d
        tcp = "127.0.0.1:%d" % d.ports["pop3"]
        return {
            ("read", "/etc/passwd"): "EACCES",
            ("read", d.conf_path): "EACCES",
            ("read", s.outside): "EACCES",
            ("write", s.outside): "EACCES",
            ("read", s.planted): "EACCES",  # the symlink's target is outside
            ("read", s.message): "ok",
            ("write", s.message): "ok",
            ("read", d.mail): "ok",
            ("tcp", tcp): "EACCES",
        }

    def test_worker_confined_to_mail_root(self):
        abi = landlock_abi()
        self.assertGreaterEqual(abi, 6, "this test needs a kernel with Landlock ABI >= 6")
        s = Setup(sandbox=None)  # the default is yes
        want = self.worker_probes(s)
        with s.start(["%s:%s" % k for k in want]) as d:
            log = d.wait_log(r"event=sandbox process=worker ")
            self.assertIn('event=sandbox process=worker landlock_abi=%d mail="%s" tcp=denied '
                          'scoped=signals,abstract_unix seccomp=' % (abi, d.mail), log)
            self.assertEqual(s.probes("worker", len(want)), want)
            # exactly one sandbox line per worker
            self.assertEqual(len(re.findall(r"event=sandbox process=worker ", log)), 1)

    def test_worker_seccomp_filter(self):
        s = Setup(sandbox="yes")
        with s.start(["unshare"]) as d:
            log = d.wait_log(r"event=sandbox process=worker ")
            pid = re.search(r"merpatid\[(\d+)\]: level=info event=sandbox process=worker ", log).group(1)
            with open("/proc/%s/status" % pid) as f:
                status = dict(l.rstrip("\n").split(":\t", 1) for l in f if l.startswith("Seccomp"))
            if "seccomp=off" in log:
                # only sanitizer runtimes are let off (scripts/deps.sh
                # installs libseccomp for every other build)
                self.assertIn('seccomp=off seccomp_reason="sanitizer build"', log)
                self.assertEqual(status["Seccomp"], "0")
                self.assertEqual(s.probes("worker", 1), {("unshare", ""): "ok"})
            else:
                self.assertIn("seccomp=on", log)
                self.assertEqual(status, {"Seccomp": "2", "Seccomp_filters": "1"})
                # a call off the allow list fails as unknown
                self.assertEqual(s.probes("worker", 1), {("unshare", ""): "ENOSYS"})
            # and the worker serves under it: TLS, login, a message
            c = d.pop3()
            c.expect(r"^\+OK")
            c.cmd("STLS")
            c.expect(r"^\+OK")
            c.starttls()
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            c.expect(r"^\+OK Logged in\.$")  # the planted link is no message
            c.cmd("LIST")
            c.expect(r"^\+OK ")
            self.assertEqual(c.read_multiline(), ["1 45"])
            os.unlink(s.planted)
            c.cmd("QUIT")
            c.close()
            c = d.pop3s()
            c.expect(r"^\+OK")
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            c.expect(r"^\+OK Logged in\.$")
            c.cmd("LIST")
            c.expect(r"^\+OK ")
            self.assertEqual(c.read_multiline(), ["1 45"])
            c.cmd("QUIT")
            c.expect(r"^\+OK")

    def test_probes_succeed_without_sandbox(self):
        s = Setup(sandbox="no")
        want = {k: "ok" for k in self.worker_probes(s)}
        want[("unshare", "")] = "ok"
        with s.start(["%s:%s" % k for k in want]) as d:
            self.assertEqual(s.probes("worker", len(want)), want)
            self.assertNotIn("event=sandbox process=", d.read_log())

    def pop3_transcript(self, d):
        """Logs alice in and RETRs all she has; returns (PASS reply, all bytes)."""
        c = d.pop3()
        lines = [c.expect(r"^\+OK")]
        c.cmd("USER alice")
        lines.append(c.readline())
        c.cmd("PASS secret")
        reply = c.readline()
        lines.append(reply)
        if reply.startswith("+OK"):
            c.cmd("STAT")
            stat = c.readline()
            lines.append(stat)
            for i in range(1, int(stat.split()[1]) + 1):
                c.cmd("RETR %d" % i)
                lines.append(c.readline())
                lines += c.read_multiline()
            c.cmd("RSET")
            lines.append(c.readline())
        c.cmd("QUIT")
        lines.append(c.readline())
        c.close()
        return reply, "\n".join(lines).encode()

    def test_planted_symlink_never_served(self):
        s = Setup(sandbox="yes")
        with s.start([]) as d:
            reply, data = self.pop3_transcript(d)
            self.assertNotIn(SECRET, data)
            # storage could not read the planted file: the maildrop is
            # refused as a temporary failure (or, should storage skip
            # symlinks, only the real message is served)
            if reply.startswith("-ERR"):
                self.assertEqual(reply, "-ERR [SYS/TEMP] cannot open the message")
                self.assertRegex(d.read_log(), r"event=msg_open path=%s error=\"open: "
                                 r"Permission denied\"" % re.escape(s.planted))
            else:
                self.assertIn(b"Subject: real", data)
            with open(s.outside, "rb") as f:
                self.assertIn(SECRET, f.read())  # untouched

    def test_pop3_session_works_in_sandbox(self):
        s = Setup(sandbox="yes")
        os.unlink(s.planted)
        with s.start([]) as d:
            c = d.pop3()
            c.expect(r"^\+OK")
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS secret")
            c.expect(r"^\+OK Logged in\.$")
            c.cmd("RETR 1")
            c.expect(r"^\+OK 45 octets$")
            self.assertEqual(c.read_multiline(), ["From: a@example.org", "Subject: real", "", "hello"])
            c.cmd("QUIT")
            c.expect(r"^\+OK")
            d.wait_log(r"event=update expunged=1 ")
            # after_download = delete: the message left the server,
            # through a rename and an unlink inside the sandbox
            self.assertEqual(os.listdir(os.path.join(s.root, "new")), [])
            self.assertEqual(os.listdir(os.path.join(s.root, "cur")), [])

    def test_reload_sandboxes_new_generation(self):
        s = Setup(sandbox="yes")
        with s.start(["read:/etc/passwd"]) as d:
            d.wait_log(r"event=sandbox process=worker ")
            d.signal(signal.SIGHUP)
            log = d.wait_log(r"event=sandbox_probe process=worker op=read target=\"/etc/passwd\" "
                             r"result=EACCES", count=2)
            self.assertEqual(len(re.findall(r"event=sandbox process=worker landlock_abi=", log)), 2)


class TestConfig(unittest.TestCase):
    def test_sandbox_key(self):
        d = Daemon(start=False)
        try:
            out = subprocess.run([harness.MERPATID, "-n", "-c", d.conf_path],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("sandbox = yes\n", out.stdout)  # the default
            d.config["server"]["sandbox"] = "maybe"
            d.write_config()
            out = subprocess.run([harness.MERPATID, "-t", "-c", d.conf_path],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 1)
            self.assertRegex(out.stderr, r"%s:\d+: " % re.escape(d.conf_path))
            self.assertIn("sandbox", out.stderr)
        finally:
            d.cleanup()


class TestAuthHelper(unittest.TestCase):
    def test_passwd_file_helper_reads_only_its_directory(self):
        abi = landlock_abi()
        s = Setup(sandbox="yes")
        d = s.d
        want = {
            ("read", d.users_file): "ok",
            ("read", "/etc/passwd"): "EACCES",
            ("read", "/etc/shadow"): "EACCES",
            ("write", "/etc/passwd"): "EACCES",
            ("tcp", "127.0.0.1:%d" % d.ports["imap"]): "EACCES",
            # /proc is readable (peer checks), other processes' secrets not
            ("read", "/proc/self/stat"): "ok",
            ("read", "/proc/%d/mem" % os.getpid()): "EACCES",
        }
        with s.start(["%s:%s" % k for k in want]) as d:
            log = d.wait_log(r"event=sandbox process=auth ")
            self.assertIn("event=sandbox process=auth landlock_abi=%d files=passwd-file,proc tcp=denied"
                          % abi, log)
            self.assertEqual(s.probes("auth", len(want)), want)
            # and it still answers
            c = d.pop3()
            c.expect(r"^\+OK")
            c.cmd("USER alice")
            c.expect(r"^\+OK")
            c.cmd("PASS wrong")
            c.expect(r"^-ERR \[AUTH\] ")
            c.cmd("QUIT")
            c.close()

    def test_root_helper_unconfined_without_sandbox(self):
        s = Setup(sandbox="no")
        want = {("read", "/etc/shadow"): "ok", ("read", s.d.users_file): "ok",
                ("read", "/proc/%d/mem" % os.getpid()): "ok"}
        with s.start(["%s:%s" % k for k in want]) as d:
            self.assertEqual(s.probes("auth", len(want)), want)

    def test_checkpassword_helper_not_landlocked(self):
        s = Setup(sandbox="yes", backend="checkpassword /bin/false")
        with s.start(["read:/etc/passwd"]) as d:
            log = d.wait_log(r"event=sandbox process=auth ")
            self.assertIn('event=sandbox process=auth state=off '
                          'reason="backend checkpassword runs external code"', log)
            self.assertEqual(s.probes("auth", 1), {("read", "/etc/passwd"): "ok"})
            # the worker is confined all the same
            self.assertEqual(s.probes("worker", 1), {("read", "/etc/passwd"): "EACCES"})


if __name__ == "__main__":
    main()
