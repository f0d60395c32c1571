# SPDX-License-Identifier: GPL-2.0-or-later
"""merpati autoconfig: Thunderbird's config-v1.1.xml and the RFC 6186 SRV
records for the configured listeners, parsed as a client would."""

import os
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from harness import MERPATI, main

CONFIG = """[listen]
imap = 127.0.0.1:1143 0.0.0.0:143
imaps = [::]:993
pop3 =
pop3s = 0.0.0.0:995
[mail]
root = /var/vmail/%%d/%%n
[autoconfig]
%s
"""


def run(*args):
    return subprocess.run([MERPATI, "autoconfig"] + list(args), capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)


class Autoconfig(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="merpati-autoconfig-")
        self.conf = os.path.join(self.dir, "merpati.conf")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, autoconfig, listen=None):
        text = CONFIG % autoconfig
        if listen is not None:
            text = text.replace("imap = 127.0.0.1:1143 0.0.0.0:143", listen)
        with open(self.conf, "w") as f:
            f.write(text)
        return self.conf

    def xml(self, autoconfig="hostname = mail.example.org", domain="example.org"):
        r = run("-c", self.write(autoconfig), domain)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return ET.fromstring(r.stdout)

    def servers(self, root):
        return [{c.tag: c.text for c in s} | {"type": s.get("type")}
                for s in root.find("emailProvider").findall("incomingServer")]

    def test_xml_lists_each_listener(self):
        root = self.xml()
        self.assertEqual(root.tag, "clientConfig")
        self.assertEqual(root.get("version"), "1.1")
        provider = root.find("emailProvider")
        self.assertEqual(provider.get("id"), "example.org")
        self.assertEqual(provider.find("domain").text, "example.org")
        self.assertEqual(provider.find("displayName").text, "example.org")
        common = {"hostname": "mail.example.org",
                  "authentication": "password-cleartext",
                  "username": "%EMAILADDRESS%"}
        # implicit TLS first (RFC 8314); the loopback IMAP address is not
        # one a client can reach, the other IMAP address is
        self.assertEqual(self.servers(root), [
            dict(common, type="imap", port="993", socketType="SSL"),
            dict(common, type="imap", port="143", socketType="STARTTLS"),
            dict(common, type="pop3", port="995", socketType="SSL"),
        ])

    def test_localpart_and_defaults(self):
        root = self.xml("username = localpart")
        for s in self.servers(root):
            self.assertEqual(s["username"], "%EMAILLOCALPART%")
            # no hostname configured: the domain itself
            self.assertEqual(s["hostname"], "example.org")

    def test_config_text_is_escaped(self):
        name = "Example <Mail> & \"Co\" 'x'"
        root = self.xml("display_name = " + name)
        self.assertEqual(root.find("emailProvider/displayName").text, name)

    def test_loopback_only_listener_is_left_out(self):
        r = run("-c", self.write("", listen="imap = 127.0.0.1:143 [::1]:143"),
                "example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        types = [(s["type"], s["socketType"]) for s in self.servers(ET.fromstring(r.stdout))]
        self.assertEqual(types, [("imap", "SSL"), ("pop3", "SSL")])

    def test_srv_records(self):
        r = run("-c", self.write("hostname = mail.example.org"), "--srv", "example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 mail.example.org.",
            "_imap._tcp.example.org. 3600 IN SRV 10 1 143 mail.example.org.",
            "_pop3s._tcp.example.org. 3600 IN SRV 20 1 995 mail.example.org.",
            # RFC 6186 3.4: a service not offered
            "_pop3._tcp.example.org. 3600 IN SRV 0 0 0 .",
        ])

    def test_bad_names_are_refused(self):
        r = run("-c", self.write(""), "exa<mple.org")
        self.assertEqual(r.returncode, 64)
        self.assertIn("'exa<mple.org' is not a domain name", r.stderr)
        self.assertEqual(r.stdout, "")
        path = self.write("hostname = mail example.org")
        r = run("-c", path, "--srv", "example.org")
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:9: autoconfig.hostname: 'mail example.org' is not a host name" % path,
                      r.stderr)
        self.assertEqual(r.stdout, "")

    def test_usage_and_bad_config(self):
        self.assertEqual(run().returncode, 64)
        self.assertEqual(run("--bogus", "example.org").returncode, 64)
        path = self.write("username = nobody")
        r = run("-c", path, "example.org")
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:9: autoconfig.username: 'nobody' is not one of address | localpart" % path,
                      r.stderr)


if __name__ == "__main__":
    main()
