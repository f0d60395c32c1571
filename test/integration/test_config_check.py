# SPDX-License-Identifier: GPL-2.0-or-later
"""merpatid -t, merpati check and merpatid's start run the same checks: a
configuration the daemon cannot run with is an error there, reported as
FILE:LINE: reason with exit status 1, not "valid". Each case starts from the
harness's working configuration and breaks one thing."""

import os
import shutil
import signal
import stat
import subprocess
import time
import unittest

from harness import KEY, MERPATI, MERPATID, Daemon, main


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def line_of(path, text):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(text):
                return n
    raise AssertionError("%r not in %s" % (text, path))


class ConfigCheck(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(start=False)

    def tearDown(self):
        self.d.cleanup()

    def checks(self, path, start=True):
        """(name, result) of every way to check: -t, merpati check and (for
        a configuration that must be refused) a start."""
        out = [("merpatid -t", run(MERPATID, "-t", "-c", path)),
               ("merpati check", run(MERPATI, "check", "-c", path))]
        if start:
            out.append(("merpatid -f", run(MERPATID, "-f", "-c", path)))
        return out

    def assert_error(self, key_line, reason, path=None):
        path = path or self.d.write_config()
        want = "%s:%d: %s" % (path, line_of(path, key_line), reason)
        for name, r in self.checks(path):
            self.assertEqual(r.returncode, 1, "%s: %s%s" % (name, r.stdout, r.stderr))
            self.assertIn(want, r.stderr, name)
            self.assertNotIn("valid", r.stdout, name)

    def test_working_config_is_valid(self):
        path = self.d.write_config()
        r = run(MERPATID, "-t", "-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration is valid", r.stdout)
        r = run(MERPATI, "check", "-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_listen_addresses(self):
        self.d.config["listen"]["imap"] = "127.0.0.1:99999"
        self.assert_error("imap = ", "listen.imap: 127.0.0.1:99999: bad port (1-65535)")
        self.d.config["listen"]["imap"] = "127.0.0.1"
        self.assert_error("imap = ", "listen.imap: 127.0.0.1: expected host:port")
        self.d.config["listen"]["imap"] = "localhost:143"
        self.assert_error("imap = ", "listen.imap: localhost:143: not a numeric IPv4 or IPv6 address")

    def test_same_address_for_two_protocols(self):
        self.d.config["listen"]["pop3"] = self.d.config["listen"]["imap"]
        self.assert_error("pop3 = ", "listen.pop3: %s is also in listen.imap" % self.d.config["listen"]["imap"])

    def test_unknown_backend(self):
        self.d.config["auth"]["backend"] = "ldap foo"
        self.assert_error("backend = ", "auth.backend: unknown backend (passwd-file, checkpassword, pam)")

    def test_missing_passwd_file(self):
        missing = os.path.join(self.d.dir, "no-users")
        self.d.config["auth"]["backend"] = "passwd-file " + missing
        self.assert_error("backend = ", "auth.backend: passwd-file %s: No such file or directory" % missing)

    def test_checkpassword_not_executable(self):
        prog = os.path.join(self.d.dir, "checkpw")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        os.chmod(prog, 0o644)
        self.d.config["auth"]["backend"] = "checkpassword " + prog
        self.assert_error("backend = ", "auth.backend: checkpassword %s: not executable" % prog)
        os.chmod(prog, 0o755)
        self.assertEqual(run(MERPATID, "-t", "-c", self.d.write_config()).returncode, 0)

    def test_mail_root(self):
        self.d.config["mail"]["root"] = "/srv/mail/%z"
        self.assert_error("root = ", "mail.root = /srv/mail/%z: unknown %-variable in mail root")
        self.d.config["mail"]["root"] = "mail/%u"
        self.assert_error("root = ", "mail.root = mail/%u: mail root is not an absolute path")

    def test_root_user(self):
        self.d.config["server"]["user"] = "root"
        self.assert_error("user = ", "server.user = root has uid 0: the workers refuse to serve as root")
        self.d.config["server"]["user"] = "no-such-user-here"
        self.assert_error("user = ", "unknown user 'no-such-user-here' (server.user)")

    def test_duplicate_key_and_section(self):
        path = self.d.write_config()
        with open(path, "a") as f:
            f.write("[mail]\nfsync = yes\n")
        n = line_of(path, "[mail]")
        for name, r in self.checks(path):
            self.assertEqual(r.returncode, 1, name)
            self.assertRegex(r.stderr, r"%s:\d+: section \[mail\] given twice \(first at line %d\)"
                             % (path, n), name)
        path = self.d.write_config()
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("[server]\n", "[server]\nworkers = 2\n", 1))
        first = line_of(path, "workers = 2")
        again = line_of(path, "workers = 1")
        for name, r in self.checks(path):
            self.assertEqual(r.returncode, 1, name)
            self.assertIn("%s:%d: server.workers given twice (first at line %d)"
                          % (path, again, first), r.stderr, name)

    def test_world_readable_key_warns(self):
        key = os.path.join(self.d.dir, "key.pem")
        shutil.copy(KEY, key)
        os.chmod(key, 0o644)
        self.d.config["tls"]["key"] = key
        path = self.d.write_config()
        want = "%s:%d: warning: tls.key: %s is readable by every user (chmod o-r)" % (
            path, line_of(path, "key = "), key)
        for name, r in self.checks(path, start=False):
            self.assertEqual(r.returncode, 0, name + r.stderr)
            self.assertIn(want, r.stderr, name)
        os.chmod(key, 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o640)
        r = run(MERPATID, "-t", "-c", path)
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("warning", r.stderr)


class Reload(unittest.TestCase):
    def test_sighup_to_a_config_that_cannot_run_keeps_the_old(self):
        """A reload runs the same checks: server.user = root (workers that
        die every second, then a daemon that gives up) and a duplicate key
        are refused, and the old configuration goes on serving."""
        with Daemon() as d:
            d.config["server"]["user"] = "root"
            path = d.write_config()
            d.signal(signal.SIGHUP)
            log = d.wait_log(r"event=reload_failed")
            self.assertIn('reason="%s:%d: server.user = root has uid 0: the workers refuse to serve as root"'
                          % (path, line_of(path, "user = ")), log)
            d.config["server"]["user"] = d.user
            d.config["mail"]["root"] = "relative/%u"
            d.config["server"]["user"] = "root"
            d.write_config()
            d.signal(signal.SIGHUP)
            log = d.wait_log(r"event=reload_failed", count=2)
            self.assertRegex(log, r'reason="[^"]*server\.user = root [^"]*; %s:%d: mail\.root = relative/%%u: '
                             r'mail root is not an absolute path"' % (path, line_of(path, "root = ")))
            time.sleep(1.5)
            c = d.imap()
            c.expect(r"^\* OK ")
            c.cmd("a LOGOUT")
            c.read_until_tagged("a")
            self.assertNotIn("event=worker_died", d.read_log())
            self.assertNotIn("event=reloaded", d.read_log())


if __name__ == "__main__":
    main()
