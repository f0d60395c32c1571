"""The README's first command ends in scripts/demo.sh: run it for real (on
shifted ports and a temporary directory) and use the demo account."""

import os
import poplib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import MERPATID, SRC, main, tls_context


class ReadmeDemo(unittest.TestCase):
    def test_demo_script_serves_demo_mail(self):
        if os.geteuid() != 0:
            self.fail("scripts/demo.sh needs root (it creates the vmail user); run the suite as root")
        tmp = tempfile.mkdtemp(prefix="merpati-demo-")
        os.chmod(tmp, 0o755)
        base = 20000 + os.getpid() % 20000
        env = dict(os.environ, BUILD_DIR=os.path.dirname(MERPATID), DEMO_DIR=tmp,
                   DEMO_PORT_BASE=str(base))
        log = open(os.path.join(tmp, "demo.log"), "wb")
        proc = subprocess.Popen(["bash", os.path.join(SRC, "scripts", "demo.sh")], env=env,
                                stdout=log, stderr=log, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", base + 995), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(open(log.name).read())
                    time.sleep(0.1)
            cert = os.path.join(tmp, "tls", "cert.pem")
            p = poplib.POP3_SSL("127.0.0.1", base + 995, context=tls_context(cert))
            p.user("demo")
            p.pass_("demo")
            count, size = p.stat()
            self.assertEqual(count, 3)
            subjects = []
            for i in range(1, 4):
                lines = p.top(i, 0)[1]
                subjects += [l.decode() for l in lines if l.startswith(b"Subject:")]
            self.assertEqual(subjects, ["Subject: Demo message %d" % i for i in (1, 2, 3)])
            p.rset()
            p.quit()
            # loopback may log in over plain IMAP in the demo (tls-or-loopback)
            s = socket.create_connection(("127.0.0.1", base + 143), timeout=10)
            greeting = s.recv(4096).decode()
            self.assertIn("IMAP4rev1", greeting)
            self.assertNotIn("LOGINDISABLED", greeting)
            s.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
            log.close()
        self.assertEqual(proc.returncode, 0, open(log.name).read())
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
