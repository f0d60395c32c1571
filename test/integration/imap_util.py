# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the test_imap_*.py files: a daemon with IMAP users,
Maildir fixtures, and logged-in clients (imaplib and raw lines)."""

import imaplib

from harness import Daemon
from test_pop3 import chown_to_daemon, maildrop, message_files, put_message  # noqa: F401

USERS = ["alice:{PLAIN}secret::::::", "bob:{PLAIN}hunter2::::::"]
OPEN_AUTH = {"plaintext": "always", "allow_plain_scheme": "yes", "penalty_max": "0"}
PASSWORDS = {"alice": "secret", "bob": "hunter2"}


def imap_daemon(auth=None, users=None, **kw):
    sections = kw.pop("sections", {})
    sections.setdefault("auth", dict(OPEN_AUTH if auth is None else auth))
    return Daemon(sections=sections, users=USERS if users is None else users, **kw)


def imaplib_login(d, user="alice"):
    m = imaplib.IMAP4("127.0.0.1", d.ports["imap"], timeout=10)
    m.login(user, PASSWORDS[user])
    return m


def raw_login(d, user="alice"):
    """A LineClient logged in with LOGIN; the greeting and OK are read."""
    c = d.imap()
    c.expect(r"^\* OK ")
    c.cmd("l0 LOGIN %s %s" % (user, PASSWORDS[user]))
    c.expect(r"^l0 OK ")
    return c


def claim_recent(d, folder, user="alice"):
    """SELECTs folder once and logs out: an earlier session has seen its
    messages, so no later session sees \\Recent on them (RFC 3501 2.3.2).
    For tests whose exact FLAGS lines are not about \\Recent."""
    c = raw_login(d, user)
    c.cmd("r0 SELECT %s" % folder)
    lines = c.read_until_tagged("r0")
    assert lines[-1].startswith("r0 OK"), lines
    c.cmd("r1 LOGOUT")
    c.read_until_tagged("r1")
    c.close()
