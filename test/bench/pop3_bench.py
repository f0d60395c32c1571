#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""POP3 benchmark: Merpati and Dovecot side by side on copies of the same
maildrop (10,000 messages by default), in one run, as ratios.

For each server and for a cold session (first login: UID list and caches
are built) and a warm one (second login), it measures wall-clock time of
  login   USER/PASS until "+OK" (includes opening and scanning the maildrop)
  list    LIST
  uidl    UIDL
  retr    RETR of every message, one after the other as clients do
the CPU time (user + system) the serving process spent on the session,
and the peak memory (VmHWM) of that process: Merpati's worker (long-lived,
so its peak includes start-up), Dovecot's pop3 process (one per session;
Dovecot's login, auth and master processes are not counted, nor are
Merpati's master and auth helper). The client is the same Python
code for both, so ratios understate differences on the server side.

Usage (as root: the servers drop to the harness's mail user):
    MERPATID=build/merpatid python3 test/bench/pop3_bench.py [-n 10000]
Not a ctest test: it takes a minute or two and measures, it does not judge.
"""

import argparse
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Daemon, free_port  # noqa: E402

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua merpati dove letter mail").split()


def make_message(rng, i):
    size = rng.choice([1500] * 7 + [12000] * 2 + [60000])
    size = int(size * rng.uniform(0.5, 1.5))
    head = ("Return-Path: <sender%d@example.org>\nFrom: Sender %d <sender%d@example.org>\n"
            "To: alice@example.org\nSubject: benchmark message %d\n"
            "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%d@bench.example.org>\n\n"
            % (i, i, i, i, i))
    lines = []
    total = len(head)
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        if rng.random() < 0.02:
            line = "." + line
        lines.append(line)
        total += len(line) + 1
    return (head + "\n".join(lines) + "\n").encode()


def build_maildrop(root, n, uid, gid):
    rng = random.Random(1234)
    for sub in ("", "cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    t0 = 1700000000
    for i in range(n):
        with open(os.path.join(root, "new", "%d.M%dP1.bench" % (t0 + i, i)), "wb") as f:
            f.write(make_message(rng, i))
    chown_tree(root, uid, gid)


def chown_tree(root, uid, gid):
    for dirpath, _, files in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in files:
            os.chown(os.path.join(dirpath, name), uid, gid)


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 2:]
                return out
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def multiline(self):
        start = 0
        while True:
            if self.buf.startswith(b".\r\n"):
                self.buf = self.buf[3:]
                return b""
            i = self.buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                out, self.buf = self.buf[:i + 2], self.buf[i + 5:]
                return out
            start = max(0, len(self.buf) - 4)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        line = self.line()
        if not line.startswith(b"+OK"):
            raise RuntimeError("%s -> %r" % (text, line))
        return line


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session(port, count_expected, pid_of_server, cpu_before=None):
    """One POP3 session; returns (timings dict, VmHWM kB, bytes, server CPU s).
    cpu_before: the serving process's CPU time before the session (a
    long-lived worker), or None (a process that exists for this session)."""
    t = {}
    c = Client(port)
    c.line()
    cpu0 = cpu_before() if cpu_before is not None else 0.0
    t0 = time.perf_counter()
    c.cmd("USER alice")
    c.cmd("PASS secret")
    t["login"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    c.cmd("LIST")
    n = c.multiline().count(b"\r\n")
    t["list"] = time.perf_counter() - t0
    if n != count_expected:
        raise RuntimeError("LIST shows %d messages, expected %d" % (n, count_expected))
    t0 = time.perf_counter()
    c.cmd("UIDL")
    c.multiline()
    t["uidl"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    total = 0
    for i in range(1, n + 1):
        c.cmd("RETR %d" % i)
        total += len(c.multiline())
    t["retr"] = time.perf_counter() - t0
    pid = pid_of_server()
    hwm = vm_hwm(pid)
    cpu = cpu_seconds(pid) - cpu0
    c.cmd("QUIT")
    c.sock.close()
    return t, hwm, total, cpu


def vm_hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                out.append((int(entry), f.read().replace(b"\0", b" ").decode()))
    return out


def run_merpati(mail_src, n):
    d = Daemon(sections={"auth": {"plaintext": "always", "allow_plain_scheme": "yes"},
                         "pop3": {"after_download": "keep"},
                         "server": {"log_level": "info"}},
               users=["alice:{PLAIN}secret::::::"])
    try:
        shutil.copytree(mail_src, os.path.join(d.mail, "alice"), symlinks=True)
        pw = pwd.getpwnam(d.user)
        chown_tree(os.path.join(d.mail, "alice"), pw.pw_uid, pw.pw_gid)
        pids = [int(p) for p in re.findall(r"merpatid\[(\d+)\]: level=info event=worker_started",
                                           d.read_log())]
        worker = pids[-1]
        print("merpati worker VmHWM before any session: %d kB" % vm_hwm(worker))
        results = [session(d.ports["pop3"], n, lambda: worker, lambda: cpu_seconds(worker))
                   for _ in range(2)]
        return results
    finally:
        d.stop()
        d.cleanup()


DOVECOT_CONF = """
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
base_dir = {run}
state_dir = {run}
log_path = {dir}/dovecot.log
mail_location = maildir:{mail}/%u
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def run_dovecot(mail_src, n):
    if shutil.which("dovecot") is None:
        raise SystemExit("dovecot is not installed (Debian: dovecot-pop3d)")
    work = tempfile.mkdtemp(prefix="pop3-bench-dovecot-")
    os.chmod(work, 0o755)
    pw = pwd.getpwnam(harness.mail_user())
    mail = os.path.join(work, "mail")
    run = os.path.join(work, "run")
    os.makedirs(mail)
    os.makedirs(run)
    shutil.copytree(mail_src, os.path.join(mail, "alice"), symlinks=True)
    chown_tree(mail, pw.pw_uid, pw.pw_gid)
    with open(os.path.join(work, "users"), "w") as f:
        f.write("alice:secret\n")
    port = free_port()
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(DOVECOT_CONF.format(run=run, dir=work, mail=mail, uid=pw.pw_uid,
                                    gid=pw.pw_gid, port=port))
    proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    log = open(os.path.join(work, "dovecot.log")).read() if os.path.exists(
                        os.path.join(work, "dovecot.log")) else ""
                    raise SystemExit("dovecot did not start:\n" + log)
                time.sleep(0.05)

        def pop3_pid():
            for pid, cmd in children(proc.pid):
                if cmd.startswith("dovecot/pop3 ") or cmd.strip() == "dovecot/pop3":
                    return pid
            raise RuntimeError("no dovecot/pop3 process: %r" % children(proc.pid))

        return [session(port, n, pop3_pid) for _ in range(2)]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--messages", type=int, default=10000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (the servers drop to the mail user)")
    pw = pwd.getpwnam(harness.mail_user())
    src = tempfile.mkdtemp(prefix="pop3-bench-src-")
    try:
        t0 = time.perf_counter()
        maildrop = os.path.join(src, "alice")
        build_maildrop(maildrop, args.messages, pw.pw_uid, pw.pw_gid)
        size = sum(os.path.getsize(os.path.join(maildrop, "new", f))
                   for f in os.listdir(os.path.join(maildrop, "new")))
        print("maildrop: %d messages, %.1f MB (built in %.1fs)"
              % (args.messages, size / 1e6, time.perf_counter() - t0))
        mer = run_merpati(maildrop, args.messages)
        dov = run_dovecot(maildrop, args.messages)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    for label, idx in (("cold (first login)", 0), ("warm (second login)", 1)):
        (mt, mh, mb, mc), (dt, dh, db, dc) = mer[idx], dov[idx]
        if mb != db:
            print("WARNING: RETR bytes differ: merpati %d, dovecot %d" % (mb, db))
        print("\n%s" % label)
        print("  %-8s %12s %12s %8s" % ("step", "merpati s", "dovecot s", "ratio"))
        for step in ("login", "list", "uidl", "retr"):
            print("  %-8s %12.4f %12.4f %8.2f" % (step, mt[step], dt[step], mt[step] / dt[step]))
        tm, td = sum(mt.values()), sum(dt.values())
        print("  %-8s %12.4f %12.4f %8.2f" % ("total", tm, td, tm / td))
        print("  %-8s %12.4f %12.4f %8.2f" % ("srv CPU", mc, dc, mc / dc if dc else 0.0))
        print("  %-8s %10d kB %10d kB %8.2f" % ("VmHWM", mh, dh, mh / dh))
    print("\nratio = merpati / dovecot (below 1: Merpati is faster / smaller)")


if __name__ == "__main__":
    main()
