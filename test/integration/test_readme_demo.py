# SPDX-License-Identifier: GPL-2.0-or-later
"""The README's first command on a machine that has only the build packages.

`scripts/deps.sh build && cmake -S . -B build && cmake --build build && \
scripts/demo.sh`: the test runs the configure, the build and the demo in an
environment that sees only what `deps.sh build` and the base system install
(harness.build_only_env(): the test packages - cmocka, Python, clang-format,
curl, ... - are hidden from PATH, pkg-config and CMake's program search),
then uses the demo account. The test packages it hid are printed.
"""

import os
import poplib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import SRC, build_only_env, main, tls_context

README_COMMAND = ('scripts/deps.sh build && cmake -S . -B build && '
                  'cmake --build build -j"$(nproc)" && scripts/demo.sh')
DEMO_OFFSETS = (110, 143, 993, 995)


def readme_first_command():
    with open(os.path.join(SRC, "README.md")) as f:
        text = f.read()
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.strip()


def demo_port_base():
    """A base whose four demo ports lie below the ephemeral range (32768 on)
    and are free now."""
    for _ in range(200):
        base = random.randrange(5000, 31000)
        try:
            for off in DEMO_OFFSETS:
                s = socket.socket()
                try:
                    s.bind(("127.0.0.1", base + off))
                finally:
                    s.close()
        except OSError:
            continue
        return base
    raise AssertionError("no free demo port block below 32768")


class ReadmeDemo(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.fail("scripts/demo.sh needs root (it creates the vmail user); run the suite as root")
        self.tmp = tempfile.mkdtemp(prefix="merpati-demo-")
        os.chmod(self.tmp, 0o755)
        self.env, self.cmake_args, hidden = build_only_env(os.path.join(self.tmp, "env"))
        print("build-only environment: hidden test packages: %s" % " ".join(hidden))
        # the test packages must really be out of sight, or this proves nothing
        self.assertIn("libcmocka-dev", hidden)
        self.assertIn("python3", hidden)
        for prog in ("python3", "clang-format", "curl"):
            self.assertIsNone(shutil.which(prog, path=self.env["PATH"]), prog)
        self.build = os.path.join(self.tmp, "build")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_step(self, argv):
        r = subprocess.run(argv, env=self.env, cwd=SRC, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(r.returncode, 0, "%s failed:\n%s" % (" ".join(argv), r.stdout[-6000:]))
        return r.stdout

    def test_readme_command_one_with_build_packages_only(self):
        self.assertEqual(readme_first_command(), README_COMMAND)
        out = self.run_step(["cmake", "-S", ".", "-B", self.build] + self.cmake_args)
        self.assertIn("Merpati tests: off (missing cmocka, python3, clang-format;", out)
        self.run_step(["cmake", "--build", self.build, "-j2"])
        for prog in ("merpatid", "merpati"):
            self.assertTrue(os.access(os.path.join(self.build, prog), os.X_OK), prog)
        self.assertFalse(os.path.exists(os.path.join(self.build, "test")))
        for attempt in range(5):
            base = demo_port_base()
            if self.run_demo(base):
                return
        self.fail("demo ports were taken by others 5 times")

    def run_demo(self, base):
        """Starts demo.sh and uses the account; False when it lost a port."""
        demo_dir = os.path.join(self.tmp, "demo")
        env = dict(self.env, BUILD_DIR=self.build, DEMO_DIR=demo_dir, DEMO_PORT_BASE=str(base))
        log_path = os.path.join(self.tmp, "demo.log")
        log = open(log_path, "wb")
        proc = subprocess.Popen(["bash", os.path.join(SRC, "scripts", "demo.sh")], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", base + 995), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        text = open(log_path).read()
                        if "Address already in use" in text:
                            return False
                        raise AssertionError(text)
                    time.sleep(0.1)
            self.use_demo(base, os.path.join(demo_dir, "tls", "cert.pem"))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
            log.close()
        self.assertEqual(proc.returncode, 0, open(log_path).read())
        return True

    def use_demo(self, base, cert):
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


if __name__ == "__main__":
    main()
