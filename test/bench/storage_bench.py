#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Storage benchmark (measured, not a ctest test): for a folder of N
messages, the time and peak RSS to open it cold (no UID list, no cache, no
Dovecot index) and warm, and the time for 1,000 deliveries, next to
Dovecot's figures for the same folder (doveadm mailbox status / doveadm
save, same Maildir copy, same machine, one run), and the warm open net of
process start-up (the same command on an empty folder, subtracted). Then, in one process
(test_storage_tool bench-open): a warm open of the first session and of
each further one, and the private memory each further session with the
folder open costs; and 1,000 deliveries into an empty folder, to compare
with the same into the big one.

usage: MERPATI=build/merpati test/bench/storage_bench.py [N] [DELIVERIES]
Needs doveadm and /usr/bin/time (apt-get install time)."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from storage_util import MailEnv  # noqa: E402
from test_storage_dovecot import Dovecot  # noqa: E402

TIME = "/usr/bin/time"


def measure(cmd, env=None):
    """(seconds, peak RSS in MiB) of one command, via /usr/bin/time -v."""
    p = subprocess.run([TIME, "-v"] + cmd, capture_output=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {p.stderr.decode()[-2000:]}")
    err = p.stderr.decode()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)",
                     err)
    secs = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 +
            float(wall.group(3)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                        err).group(1)) / 1024
    return secs, rss


def wall(cmd, env=None, runs=15):
    """Median (wall-clock, CPU) seconds of cmd over runs (after one
    warm-up); CPU is user + system time, which the machine's load does not
    stretch as it stretches the wall clock."""
    walls, cpus = [], []
    for i in range(runs + 1):
        t = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}")
        if i > 0:
            walls.append(time.monotonic() - t)
            cpus.append(ru.ru_utime + ru.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def empty_folder(root, name, uid, gid):
    """An empty Maildir++ folder .name under root (for both servers)."""
    path = os.path.join(root, "." + name)
    for sub in ("", "cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
        os.chown(os.path.join(path, sub), uid, gid)
    open(os.path.join(path, "maildirfolder"), "w").close()
    os.chown(os.path.join(path, "maildirfolder"), uid, gid)


def make_maildir(root, n, uid, gid):
    """n messages in cur/ as an MTA and a mail client leave them: plain
    base names (no ,S=/,W=), a few flags."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    body = b"".join(b"line %d of the body of a benchmark message\n" % k
                    for k in range(40))
    t0 = 1700000000
    for i in range(n):
        name = "%d.M%dP%d.bench:2,%s" % (t0 + i // 100, i, 4242,
                                          "S" if i % 3 else "")
        with open(os.path.join(root, "cur", name), "wb") as f:
            f.write(b"From: a@example.org\nTo: b@example.org\n"
                    b"Subject: benchmark %d\nMessage-ID: <%d@bench>\n\n" %
                    (i, i) + body)
    for dirpath, dirs, files in os.walk(os.path.dirname(root)):
        os.chown(dirpath, uid, gid)
        for f in files:
            os.chown(os.path.join(dirpath, f), uid, gid)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    deliveries = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if not shutil.which("doveadm") or not os.path.exists(TIME):
        sys.exit("needs doveadm and /usr/bin/time")
    merpati = os.environ.get("MERPATI", "merpati")
    env = MailEnv(fsync=True)
    env.add_user("bench@example.org")  # deliver and ls know their users
    env.add_user("empty@example.org")
    try:
        m_root = env.root("bench@example.org")
        d_root = os.path.join(env.dir, "dovecot-mail")
        t = time.monotonic()
        make_maildir(m_root, n, env.uid, env.gid)
        shutil.copytree(m_root, d_root)
        for dirpath, dirs, files in os.walk(d_root):
            os.chown(dirpath, env.uid, env.gid)
            for f in files:
                os.chown(os.path.join(dirpath, f), env.uid, env.gid)
        print(f"# {n} messages generated in {time.monotonic() - t:.1f}s; "
              f"fsync on for both")
        dc = Dovecot(env, d_root)
        dc_env = dict(os.environ, USER="testuser",
                      HOME=os.path.join(env.dir, "dovecot", "home"))
        m_open = [merpati, "ls", "-c", env.conf, "-s", "bench@example.org"]
        d_open = ["doveadm", "-c", dc.conf, "mailbox", "status",
                  "messages uidnext", "INBOX"]
        rows = []
        for label in ("open cold", "open warm"):
            ms, mr = measure(m_open)
            ds, dr = measure(d_open, env=dc_env)
            rows.append((label, ms, mr, ds, dr))
        # the warm open alone: the same command on an empty folder of the
        # same user is the process's start-up, config and user lookup
        empty_folder(m_root, "Empty", env.uid, env.gid)
        empty_folder(d_root, "Empty", env.uid, env.gid)
        net = {}
        for who, cmd, small_cmd, e in (
                ("merpati", m_open, m_open + ["Empty"], None),
                ("dovecot", d_open, d_open[:-1] + ["Empty"], dc_env)):
            big = wall(cmd, env=e)
            small = wall(small_cmd, env=e)
            net[who] = (big, small)
        msg = (b"From: a@example.org\nSubject: delivery\n\n" +
               b"a line of the delivered body\n" * 60)
        # the same deliveries into the big folder and into an empty one,
        # interleaved in blocks of 100 so that the machine's load (it
        # changes by the minute on a shared VM) falls on both alike
        e_user = "empty@example.org"
        p = subprocess.run([merpati, "deliver", "-c", env.conf, e_user],
                           input=msg, capture_output=True)
        m_del = m_del_empty = 0.0
        for block in range(0, deliveries, 100):
            for user in ("bench@example.org", e_user):
                t = time.monotonic()
                for _ in range(min(100, deliveries - block)):
                    p = subprocess.run([merpati, "deliver", "-c", env.conf,
                                        user], input=msg,
                                       capture_output=True)
                    if p.returncode != 0:
                        sys.exit(f"deliver failed: {p.stderr!r}")
                if user == e_user:
                    m_del_empty += time.monotonic() - t
                else:
                    m_del += time.monotonic() - t
        t = time.monotonic()
        for _ in range(deliveries):
            subprocess.run(["doveadm", "-c", dc.conf, "save", "-m", "INBOX"],
                           input=msg, check=True, capture_output=True,
                           env=dc_env)
        d_del = time.monotonic() - t
        ms, mr = measure(m_open)
        ds, dr = measure(d_open, env=dc_env)
        rows.append(("open after deliveries", ms, mr, ds, dr))
        # in one process: warm opens and memory per session (the folder
        # settles first: the index is trusted two seconds after a change)
        subprocess.run([merpati, "ls", "-c", env.conf, "-s",
                        "bench@example.org"], check=True,
                       capture_output=True)
        time.sleep(2.5)
        subprocess.run([merpati, "ls", "-c", env.conf, "-s",
                        "bench@example.org"], check=True,
                       capture_output=True)
        tool_env = dict(os.environ, MERPATI_TEST_FSYNC="no")
        out = subprocess.run([env.tool, "bench-open", m_root, "INBOX", "21"],
                             check=True, capture_output=True,
                             env=tool_env, preexec_fn=env.as_mail_user()
                             ).stdout.decode()
        inproc = dict(kv.split("=") for kv in out.split())
        t = time.monotonic()
        subprocess.run([env.tool, "setflags", m_root, "INBOX", "5", "\\Seen",
                        "\\Flagged"], check=True, capture_output=True,
                       env=tool_env, preexec_fn=env.as_mail_user())
        m_flag = time.monotonic() - t
        t = time.monotonic()
        dc.run("flags", "add", "\\Flagged", "mailbox", "INBOX", "uid", "5")
        d_flag = time.monotonic() - t
        print(f"{'':24} {'merpati s':>10} {'MiB':>7} {'dovecot s':>10} "
              f"{'MiB':>7} {'ratio':>6}")
        for label, ms, mr, ds, dr in rows:
            print(f"{label:24} {ms:10.2f} {mr:7.1f} {ds:10.2f} {dr:7.1f} "
                  f"{ms / ds if ds else 0:6.2f}")
        print(f"{str(deliveries) + ' deliveries':24} {m_del:10.2f} {'':7} "
              f"{d_del:10.2f} {'':7} {m_del / d_del:6.2f}")
        print(f"{str(deliveries) + ' into an empty folder':24} "
              f"{m_del_empty:10.2f} ({m_del / m_del_empty:.2f}x of that "
              f"into {n} messages)")
        print(f"{'flag change, one msg':24} {m_flag:10.2f} {'':7} "
              f"{d_flag:10.2f} {'':7} {m_flag / d_flag:6.2f}")
        print(f"# in one process, {n} messages: warm open of the first "
              f"session {int(inproc['first_us']) / 1000:.2f} ms, of each "
              f"further one {int(inproc['open_us']) / 1000:.3f} ms; "
              f"private memory per further session "
              f"{inproc['session_kib']} KiB; HIGHESTMODSEQ "
              f"{inproc['modseq']}")
        for who in ("merpati", "dovecot"):
            big, small = net[who]
            print(f"# warm open, {who} (median of 15; wall / CPU ms): "
                  f"{n} messages {big[0] * 1000:.2f} / {big[1] * 1000:.2f}, "
                  f"empty folder {small[0] * 1000:.2f} / "
                  f"{small[1] * 1000:.2f}: the open itself "
                  f"{(big[0] - small[0]) * 1000:.2f} / "
                  f"{(big[1] - small[1]) * 1000:.2f}")
        print("# dovecot deliveries: doveadm save (dovecot-lda needs the "
              "auth daemon); both start one process per message")
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
