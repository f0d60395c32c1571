# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's foundation: greetings, CAPABILITY/CAPA, STARTTLS/STLS, implicit
TLS, line handling, and the STARTTLS command-injection guard."""

import shutil
import socket
import ssl
import subprocess
import threading
import unittest

from harness import CERT, Daemon, LineClient, free_port, main, tls_context


class ImapBasics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_greeting_and_capability(self):
        c = self.d.imap()
        greeting = c.readline()
        self.assertRegex(greeting, r"^\* OK \[CAPABILITY IMAP4rev1( \S+)*\] ")
        caps = greeting.split("[CAPABILITY ", 1)[1].split("]", 1)[0].split()
        self.assertIn("STARTTLS", caps)
        self.assertIn("LOGINDISABLED", caps)  # plaintext = tls by default
        c.cmd("a1 CAPABILITY")
        lines = c.read_until_tagged("a1")
        self.assertEqual(lines[0], "* CAPABILITY " + " ".join(caps))
        self.assertEqual(lines[-1], "a1 OK CAPABILITY completed")
        c.cmd("a2 NOOP")
        self.assertEqual(c.readline(), "a2 OK NOOP completed")
        c.cmd("a3 LOGOUT")
        self.assertEqual(c.readline(), "* BYE Logging out")
        self.assertEqual(c.readline(), "a3 OK LOGOUT completed")
        self.assertTrue(c.at_eof())

    def test_errors_are_bad_with_reason(self):
        c = self.d.imap()
        c.readline()
        c.cmd("a1 FROBNICATE")
        self.assertEqual(c.readline(), "a1 BAD Unknown command FROBNICATE")
        c.cmd("a2 SELECT INBOX")
        self.assertRegex(c.readline(), r"^a2 BAD ")
        c.cmd("a3")
        self.assertEqual(c.readline(), "a3 BAD Missing command")
        c.cmd("")  # an empty line is ignored, as Dovecot does
        c.cmd("(x NOOP")
        self.assertEqual(c.readline(), "* BAD Invalid tag")
        c.cmd("a4 NOOP extra")
        self.assertEqual(c.readline(), "a4 BAD Unexpected arguments")
        c.cmd("a5 noop")  # command names are case-insensitive
        self.assertEqual(c.readline(), "a5 OK NOOP completed")
        # bare LF line ends are accepted as clients send them
        c.send("a6 NOOP\n")
        self.assertEqual(c.readline(), "a6 OK NOOP completed")

    def test_pipelined_commands_answered_in_order(self):
        c = self.d.imap()
        c.readline()
        c.send("".join("p%d NOOP\r\n" % i for i in range(50)))
        for i in range(50):
            self.assertEqual(c.readline(), "p%d OK NOOP completed" % i)

    def test_starttls_then_capability(self):
        c = self.d.imap()
        c.readline()
        c.cmd("a1 STARTTLS")
        self.assertEqual(c.readline(), "a1 OK Begin TLS negotiation now")
        c.starttls()
        self.assertIn(c.sock.version(), ("TLSv1.3", "TLSv1.2"))
        c.cmd("a2 CAPABILITY")
        lines = c.read_until_tagged("a2")
        caps = lines[0].split()[2:]
        self.assertEqual(caps[0], "IMAP4rev1")
        self.assertNotIn("STARTTLS", caps)  # RFC 3501 6.2.1: not again
        self.assertEqual(lines[-1], "a2 OK CAPABILITY completed")
        c.cmd("a3 STARTTLS")
        self.assertEqual(c.readline(), "a3 BAD TLS is already active")

    def test_plaintext_pipelined_after_starttls_is_not_executed(self):
        c = self.d.imap()
        c.readline()
        # RFC 2595 / CVE-2011-0411: b1 must never run, in clear or in TLS
        c.send("a1 STARTTLS\r\nb1 CAPABILITY\r\n")
        self.assertEqual(c.readline(), "a1 OK Begin TLS negotiation now")
        self.assertTrue(c.at_eof(), "server kept the connection: %r" % c.buf)
        self.assertNotIn(b"b1", c.buf)
        self.d.wait_log(r"event=starttls_injection")

    def test_implicit_tls_13(self):
        ctx = tls_context(minimum=ssl.TLSVersion.TLSv1_3)
        c = self.d.imaps(ctx=ctx)
        self.assertEqual(c.sock.version(), "TLSv1.3")
        greeting = c.readline()
        self.assertRegex(greeting, r"^\* OK \[CAPABILITY IMAP4rev1")
        self.assertNotIn("STARTTLS", greeting)
        c.cmd("a1 LOGOUT")
        self.assertEqual(c.read_until_tagged("a1")[-1], "a1 OK LOGOUT completed")

    def test_implicit_tls_12_allowed(self):
        ctx = tls_context(maximum=ssl.TLSVersion.TLSv1_2)
        c = self.d.imaps(ctx=ctx)
        self.assertEqual(c.sock.version(), "TLSv1.2")
        self.assertRegex(c.readline(), r"^\* OK ")

    def test_gnutls_cli_imaps(self):
        rc, text = gnutls_cli(self.d.ports["imaps"], "NORMAL:-VERS-ALL:+VERS-TLS1.3",
                              b"a1 CAPABILITY\r\na2 LOGOUT\r\n")
        self.assertIn("TLS1.3", text)
        self.assertIn("* CAPABILITY IMAP4rev1", text)
        self.assertIn("a2 OK LOGOUT completed", text)

    def test_overlong_line_rejected_and_others_served(self):
        c = self.d.imap()
        c.readline()
        other = self.d.imap()
        other.readline()
        c.send("a1 NOOP " + "x" * 200000 + "\r\n")
        # the tag was read before the line grew too long: the reply has it
        self.assertEqual(c.readline(), "a1 BAD [TOOBIG] Command line too long")
        other.cmd("o1 NOOP")
        self.assertEqual(other.readline(), "o1 OK NOOP completed")
        c.cmd("a2 NOOP")  # the rest of the long line was skipped, not run
        self.assertEqual(c.readline(), "a2 OK NOOP completed")

    def test_slow_byte_by_byte_client(self):
        c = self.d.imap()
        c.readline()
        for ch in "a1 NOOP\r\n":
            c.send(ch)
        self.assertEqual(c.readline(), "a1 OK NOOP completed")


def gnutls_cli(port, priority, commands=b"a1 CAPABILITY\r\n"):
    """gnutls-cli's transcript of commands over implicit TLS."""
    exe = shutil.which("gnutls-cli")
    assert exe, "gnutls-cli missing: apt-get install gnutls-bin"
    out = subprocess.run([exe, "--x509cafile", CERT, "--port", str(port),
                          "--priority", priority, "localhost"],
                         input=commands, capture_output=True, timeout=30)
    return out.returncode, (out.stdout + out.stderr).decode("utf-8", "replace")


class TlsVersions(unittest.TestCase):
    TLS11 = "NORMAL:-VERS-ALL:+VERS-TLS1.1"

    def test_tls11_refused_by_default(self):
        # control: this client does speak TLS 1.1 to a server that allows it
        allow = {"tls": {"priorities": "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1"}}
        with Daemon(sections=allow) as d:
            rc, text = gnutls_cli(d.ports["imaps"], self.TLS11)
            self.assertIn("TLS1.1", text)
            self.assertIn("* CAPABILITY IMAP4rev1", text)
        with Daemon() as d:
            rc, text = gnutls_cli(d.ports["imaps"], self.TLS11)
            self.assertNotEqual(rc, 0)
            self.assertNotIn("* CAPABILITY", text)
            d.wait_log(r"event=tls_failed")


class Ipv6Listener(unittest.TestCase):
    def test_imap_on_ipv6_loopback(self):
        port = free_port(socket.AF_INET6, "::1")
        with Daemon(sections={"listen": {"imap": "[::1]:%d" % port}}) as d:
            s = socket.create_connection(("::1", port), timeout=10)
            c = LineClient(s)
            self.assertRegex(c.readline(), r"^\* OK \[CAPABILITY IMAP4rev1")
            c.cmd("a1 NOOP")
            self.assertEqual(c.readline(), "a1 OK NOOP completed")
            # conn_is_loopback() knows ::1: the log names the v6 peer
            d.wait_log(r"proto=imap peer=\[::1\]:\d+ event=connect")


class Pop3Basics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def capa(self, c):
        c.cmd("CAPA")
        self.assertRegex(c.readline(), r"^\+OK")
        return c.read_multiline()

    def test_greeting_capa_stls(self):
        c = self.d.pop3()
        self.assertRegex(c.readline(), r"^\+OK ")
        caps = self.capa(c)
        self.assertIn("STLS", caps)
        self.assertIn("PIPELINING", caps)
        c.cmd("STLS")
        self.assertRegex(c.readline(), r"^\+OK ")
        c.starttls()
        caps = self.capa(c)
        self.assertNotIn("STLS", caps)
        c.cmd("STLS")
        self.assertRegex(c.readline(), r"^-ERR ")
        c.cmd("QUIT")
        self.assertRegex(c.readline(), r"^\+OK")
        self.assertTrue(c.at_eof())

    def test_unknown_command(self):
        c = self.d.pop3()
        c.readline()
        c.cmd("FROB")
        self.assertRegex(c.readline(), r"^-ERR .*FROB")

    def test_stls_injection(self):
        c = self.d.pop3()
        c.readline()
        c.send("STLS\r\nCAPA\r\n")
        self.assertRegex(c.readline(), r"^\+OK ")
        self.assertTrue(c.at_eof())
        self.assertNotIn(b"STLS", c.buf)

    def test_implicit_tls(self):
        c = self.d.pop3s()
        self.assertRegex(c.readline(), r"^\+OK ")
        self.assertNotIn("STLS", self.capa(c))

    def test_overlong_line(self):
        c = self.d.pop3()
        c.readline()
        c.send("USER " + "u" * 10000 + "\r\n")
        self.assertRegex(c.readline(), r"^-ERR .*too long")
        c.cmd("CAPA")
        self.assertRegex(c.readline(), r"^\+OK")


if __name__ == "__main__":
    main()
