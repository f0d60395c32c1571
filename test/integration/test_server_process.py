# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon as a process: configuration errors, -t/-n, SIGHUP reload of
config and certificate without dropping sessions, SIGTERM, privilege drop,
worker restart."""

import os
import re
import signal
import ssl
import subprocess
import time
import unittest

from harness import CERT, CERT2, KEY2, MERPATID, Daemon, main, tls_context


def run_merpatid(*args):
    return subprocess.run([MERPATID, *args], capture_output=True, text=True, timeout=30)


class ConfigErrors(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(start=False)

    def tearDown(self):
        self.d.cleanup()

    def write(self, text):
        with open(self.d.conf_path, "w") as f:
            f.write(text)
        return self.d.conf_path

    def assert_refused(self, text, line, reason):
        path = self.write(text)
        for args in (["-t", "-c", path], ["-f", "-c", path]):
            r = run_merpatid(*args)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("%s:%d: %s" % (path, line, reason), r.stderr)

    def test_unknown_key(self):
        self.assert_refused("[server]\nworkers = 1\nbogus = 2\n", 3,
                            "unknown key 'bogus' in section [server]")

    def test_unknown_section(self):
        self.assert_refused("# c\n[server]\nworkers = 1\n[nope]\nx = 1\n", 4,
                            "unknown section [nope]")
        self.assert_refused("[server]\n[empty]\n", 2, "unknown section [empty]")

    def test_bad_values(self):
        self.assert_refused("[server]\nworkers = many\n", 2,
                            "server.workers: 'many' is not a number from 1 to 64")
        self.assert_refused("[mail]\nfsync = perhaps\n", 2, "mail.fsync: 'perhaps' is not yes or no")
        self.assert_refused("[pop3]\nafter_download = burn\n", 2,
                            "pop3.after_download: 'burn' is not one of delete | seen | keep")
        self.assert_refused("[imap]\ntimeout = 60\n", 2,
                            "imap.timeout: '60' is not a number from 1800 to 86400")

    def test_proxy_protocol_not_silently_ignored(self):
        path = self.write("[listen]\nimap = 127.0.0.1:1\nproxy_protocol = yes\n")
        r = run_merpatid("-t", "-c", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("proxy_protocol = yes is not supported", r.stderr)

    def test_syntax_error(self):
        self.assert_refused("[server]\nthis line has no equals sign\n", 2, "syntax error")

    def test_unreadable_file(self):
        missing = os.path.join(self.d.dir, "missing.conf")
        r = run_merpatid("-t", "-c", missing)
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing + ": cannot open: No such file or directory", r.stderr)

    def test_inline_comments_and_print(self):
        # -t also checks the TLS files, user, backend: the harness's are real
        self.d.config["server"]["workers"] = "2   # two loops"
        self.d.config["pop3"] = {"after_download": "keep # POP leaves mail"}
        r = run_merpatid("-t", "-c", self.d.write_config())
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.write("[server]\nworkers = 2   # two loops\nlog = stderr\n[pop3]\nafter_download = keep # POP leaves mail\n")
        r = run_merpatid("-n", "-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("[server]\nuser = vmail\nworkers = 2\n", r.stdout)
        self.assertIn("after_download = keep\n", r.stdout)
        self.assertIn("priorities = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2\n", r.stdout)

    def test_bad_certificate_refuses_start(self):
        self.d.config["tls"]["cert"] = os.path.join(self.d.dir, "nocert.pem")
        self.d.write_config()
        r = run_merpatid("-f", "-c", self.d.conf_path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nocert.pem", r.stderr)

    def test_port_in_use_refuses_start(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.d.config["listen"]["imap"] = "127.0.0.1:%d" % s.getsockname()[1]
        self.d.write_config()
        r = run_merpatid("-f", "-c", self.d.conf_path)
        s.close()
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"listen\.imap: 127\.0\.0\.1:\d+: Address already in use")


def peer_cert(d):
    c = d.imaps(ctx=_any_ctx())
    der = c.sock.getpeercert(binary_form=True)
    c.close()
    return der


def _any_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class Signals(unittest.TestCase):
    def test_sighup_reloads_certificate_keeps_sessions(self):
        with Daemon() as d:
            self.assertEqual(peer_cert(d), pem_to_der(CERT))
            old = d.imap()
            old.readline()
            d.config["tls"]["cert"], d.config["tls"]["key"] = CERT2, KEY2
            d.write_config()
            d.signal(signal.SIGHUP)
            d.wait_log(r"event=reloaded")
            d.wait_log(r"event=worker_started", count=2)
            self.assertEqual(peer_cert(d), pem_to_der(CERT2))
            # the session opened before the reload is still served
            old.cmd("a1 NOOP")
            self.assertEqual(old.readline(), "a1 OK NOOP completed")
            old.cmd("a2 LOGOUT")
            self.assertEqual(old.read_until_tagged("a2")[-1], "a2 OK LOGOUT completed")
            # the retired worker exits once its last session is gone
            d.wait_log(r"event=worker_retired")

    def test_failed_reload_keeps_old_config(self):
        with Daemon() as d:
            with open(d.conf_path, "a") as f:
                f.write("[pop3]\nnonsense = 1\n")
            d.signal(signal.SIGHUP)
            log = d.wait_log(r"event=reload_failed")
            self.assertRegex(log, r"reload_failed reason=\".*merpati\.conf:\d+: unknown key 'nonsense'")
            c = d.imap()
            self.assertRegex(c.readline(), r"^\* OK ")
            self.assertEqual(peer_cert(d), pem_to_der(CERT))

    def test_sigterm_says_bye_and_exits_zero(self):
        d = Daemon()
        try:
            imap = d.imap()
            imap.readline()
            pop = d.pop3()
            pop.readline()
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            self.assertEqual(imap.readline(), "* BYE Server shutting down")
            self.assertTrue(imap.at_eof())
            self.assertRegex(pop.readline(), r"^-ERR \[SYS/TEMP\] ")
            self.assertTrue(pop.at_eof())
            d.proc.wait(10)
            self.assertLess(time.monotonic() - t0, 5.0)
            self.assertEqual(d.proc.returncode, 0)
            d.stop()
        finally:
            d.cleanup()

    def test_workers_drop_privileges_and_restart(self):
        with Daemon(sections={"server": {"workers": "2"}}) as d:
            d.wait_log(r"event=worker_started", count=2)
            pids = [int(p) for p in re.findall(r"merpatid\[(\d+)\]: level=info event=worker_started", d.read_log())]
            self.assertEqual(len(pids), 2)
            for pid in pids:
                with open("/proc/%d/status" % pid) as f:
                    uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", f.read(), re.M)
                import pwd
                want = pwd.getpwnam(d.user).pw_uid
                self.assertEqual([int(x) for x in uid.groups()], [want] * 3)
            # a worker that dies is replaced, and the service goes on
            d.allow_worker_death = True  # SIGKILLed here on purpose
            os.kill(pids[0], signal.SIGKILL)
            d.wait_log(r"event=worker_started", count=3)
            log = d.read_log()
            self.assertIn("event=worker_died pid=%d signal=9" % pids[0], log)
            c = d.imap()
            self.assertRegex(c.readline(), r"^\* OK ")


if __name__ == "__main__":
    main()
