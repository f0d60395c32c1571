# SPDX-License-Identifier: GPL-2.0-or-later
"""Log lines stay one event of key=value pairs whatever a client or a
helper program sends: user names with spaces and '=' are quoted (no forged
ip= field for fail2ban), control and non-UTF-8 bytes are escaped as \\xNN,
a checkpassword program's output is captured, capped and escaped instead
of going to the log raw, login lines carry user= once."""

import base64
import os
import re
import subprocess
import unittest

import harness

MERPATI = harness.MERPATI
OPEN = {"plaintext": "always", "penalty_max": "0", "max_failures": "10"}

# key=value or key="quoted \" value" (log_quote()'s two forms)
FIELD = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^\s"]+)')


def fields(line):
    """The key=value pairs of one log line, after the level=."""
    return FIELD.findall(line[line.index("level="):])


def pw(password, scheme=None, rounds=None):
    args = [MERPATI, "pw"] + (["-s", scheme] if scheme else []) + (["-r", str(rounds)] if rounds else [])
    out = subprocess.run(args, input=(password + "\n").encode(), capture_output=True, check=True)
    return out.stdout.decode().strip()


def log_bytes(d):
    with open(d.log_path, "rb") as f:
        return f.read()


class LogTest(unittest.TestCase):
    def test_forged_fields_and_bytes(self):
        users = ["alice:" + pw("secret", "SHA512-CRYPT", 1000)]
        with harness.Daemon(sections={"auth": OPEN}, users=users) as d:
            p = d.pop3()
            p.expect(r"^\+OK")
            p.cmd("USER x ip=203.0.113.9")
            p.expect(r"^\+OK")
            p.cmd("PASS wrong")
            p.expect(r"^-ERR \[AUTH\]")
            # a name with a quote, a space, non-UTF-8 and valid UTF-8
            c = d.imap()
            c.expect(r"^\* OK ")
            c.cmd("a AUTHENTICATE PLAIN " + base64.b64encode(b'\0q"b caf\xe9 j\xc3\xb6\0wrong').decode())
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a NO \[AUTHENTICATIONFAILED\]")
            c.cmd("b LOGIN alice secret")
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b OK ")
            c.cmd('d CREATE "x ip=fake"')
            self.assertRegex(c.read_until_tagged("d")[-1], r"^d OK ")
            c.cmd("c LOGOUT")
            c.read_until_tagged("c")
            d.wait_log(r"event=auth_failed .*user=\"q")
            d.wait_log(r"user=alice event=disconnect")
            raw = log_bytes(d)
            self.assertNotIn(b"\xe9", raw)
            self.assertIn(b'\xc3\xb6', raw)  # valid UTF-8 is kept
            log = raw.decode("utf-8")
            failed = [l for l in log.splitlines() if "event=auth_failed" in l]
            self.assertEqual(len(failed), 2, failed)
            f = fields(failed[0])
            self.assertIn(("user", '"x ip=203.0.113.9"'), f)
            self.assertEqual([v for k, v in f if k == "ip"], ["127.0.0.1"], f)
            self.assertIn(("user", '"q\\"b caf\\xe9 j\u00f6"'), fields(failed[1]))
            self.assertIn('event=create folder="x ip=fake"', log)
            # every log line parses as key=value pairs: no stray text
            for line in log.splitlines():
                if " level=" not in line:
                    continue  # not a log line (a config warning on stderr)
                rest = FIELD.sub("", line[line.index("level="):])
                self.assertEqual(rest.strip(), "", line)
            # the login line carries user= once (from the connection)
            login = [l for l in log.splitlines() if "event=login " in l]
            self.assertEqual(len(login), 1, login)
            self.assertEqual(login[0].count("user="), 1, login[0])
            self.assertIn("user=alice ", login[0])

    def test_checkpassword_output_is_capped(self):
        d = harness.Daemon(start=False)
        script = os.path.join(d.dir, "checkpw")
        with open(script, "w") as f:
            f.write("#!/bin/bash\n"
                    "IFS= read -r -d '' user <&3\n"
                    "[ \"$user\" = noisy ] && { head -c 5000000 /dev/zero; echo $'\\e[2Jcleared' >&2; }\n"
                    "[ \"$user\" = esc ] && { printf '\\e[2Jcleared\\n' >&2; exit 1; }\n"
                    "[ \"$user\" = quiet ] && exec \"$@\"\n"
                    "exit 1\n")
        os.chmod(script, 0o755)
        d.config["auth"].update(OPEN, backend="checkpassword " + script)
        d.write_config()
        d.start()
        with d:
            c = d.imap()
            c.expect(r"^\* OK ")
            c.cmd("a LOGIN noisy pw")
            self.assertRegex(c.read_until_tagged("a")[-1], r"^a NO \[AUTHENTICATIONFAILED\]")
            c.cmd("e LOGIN esc pw")
            self.assertRegex(c.read_until_tagged("e")[-1], r"^e NO \[AUTHENTICATIONFAILED\]")
            c.cmd("b LOGIN quiet pw")
            self.assertRegex(c.read_until_tagged("b")[-1], r"^b OK ")
            log = d.wait_log(r"event=checkpassword_output", count=2)
            raw = log_bytes(d)
            print("log size after 5 MB of checkpassword output: %d bytes" % len(raw))
            self.assertLess(len(raw), 64 * 1024)
            self.assertNotIn(b"\0", raw)
            self.assertNotIn(b"\x1b", raw)
            lines = [l for l in log.splitlines() if "event=checkpassword_output" in l]
            self.assertEqual(len(lines), 2, lines)
            self.assertIn('user=esc bytes=12 truncated=no output="\\x1b[2Jcleared\\x0a"', lines[1])
            f = dict(fields(lines[0]))
            self.assertEqual(f["user"], "noisy")
            self.assertEqual(f["bytes"], str(5000000 + len("\x1b[2Jcleared\n")))
            self.assertEqual(f["truncated"], "yes")
            self.assertTrue(f["output"].startswith('"\\x00\\x00\\x00'), f["output"][:40])
            self.assertTrue(f["output"].endswith('..."'), f["output"][-40:])
            self.assertLess(len(lines[0]), 2100)


if __name__ == "__main__":
    harness.main()
