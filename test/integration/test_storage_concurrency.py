# SPDX-License-Identifier: GPL-2.0-or-later
"""Concurrency: 4 processes each deliver 500 messages with `merpati
deliver` into one folder while another process changes flags and
expunges through the storage API. Afterwards every delivered message that
was not expunged is present exactly once, UIDs are unique and increase in
each deliverer's order, and the UID list matches the files."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from storage_util import (MailEnv, check_sizes, fail, message_files,
                          read_uidlist)

WORKERS = 4
PER_WORKER = 500
USER = "carol@example.org"


def deliver_worker(env, w):
    ok = []
    for i in range(PER_WORKER):
        msg_id = f"w{w}-{i}"
        data = (f"X-Id: {msg_id}\nSubject: message {i} of worker {w}\n\n"
                f"body {msg_id}\n").encode()
        p = env.deliver(USER, data)
        if p.returncode != 0:
            fail(f"deliver {msg_id}: exit {p.returncode}: {p.stderr!r}")
        ok.append(msg_id)
    return ok


def main():
    env = MailEnv()
    try:
        # the first delivery creates the mail root
        p = env.deliver(USER, b"X-Id: first\n\nfirst\n")
        if p.returncode != 0:
            fail(f"first deliver: {p.stderr!r}")
        folder = env.folder_dir(USER)
        stop = os.path.join(env.dir, "stop")
        mutator = subprocess.Popen(
            [env.tool, "mutate", env.root(USER), "INBOX", stop, "42"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=env.as_mail_user(),
            env=dict(os.environ, MERPATI_TEST_FSYNC="no"))
        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(lambda w: deliver_worker(env, w),
                                    range(WORKERS)))
        open(stop, "w").close()
        out, err = mutator.communicate(timeout=120)
        if mutator.returncode != 0:
            fail(f"mutator failed: {err.decode()}")
        sys.stderr.write(err.decode())
        expunged = [line.split(" ", 1)[1] for line in
                    out.decode().splitlines() if line.startswith("expunged ")]
        delivered = {"first"} | {m for r in results for m in r}
        if len(delivered) != WORKERS * PER_WORKER + 1:
            fail("deliveries missing")
        if len(set(expunged)) != len(expunged):
            fail("a message was expunged twice")

        # a final sync through merpati ls
        rows = env.ls(USER)
        fields, mapping = read_uidlist(folder)
        files = message_files(folder)
        check_sizes(folder, files)
        if set(mapping) != set(files):
            fail(f"UID list and files differ: only in list "
                 f"{sorted(set(mapping) - set(files))[:5]}, only files "
                 f"{sorted(set(files) - set(mapping))[:5]}")
        if [r[0] for r in rows] != sorted(mapping.values()):
            fail("merpati ls does not show the UID list")

        # which message is in which file
        present = {}
        for base, (sub, name) in files.items():
            with open(os.path.join(folder, sub, name), "rb") as f:
                first = f.readline().decode().strip()
            msg_id = first.split(": ", 1)[1]
            if msg_id in present:
                fail(f"{msg_id} present twice")
            present[msg_id] = mapping[base]
        if set(present) & set(expunged):
            fail(f"expunged yet present: {sorted(set(present) & set(expunged))[:5]}")
        lost = delivered - set(present) - set(expunged)
        if lost:
            fail(f"lost messages: {sorted(lost)[:10]}")
        for w in range(WORKERS):
            uids = [present[f"w{w}-{i}"] for i in range(PER_WORKER)
                    if f"w{w}-{i}" in present]
            if uids != sorted(uids):
                fail(f"worker {w}: UIDs not in delivery order")
        if len(present) < len(delivered) // 2 or not expunged:
            fail(f"expected most messages present and some expunged: "
                 f"{len(present)} present, {len(expunged)} expunged")
        if int(fields["next"]) <= max(present.values()):
            fail("N not above every UID")
        print(f"storage concurrency: {len(delivered)} delivered, "
              f"{len(expunged)} expunged, {len(present)} present, "
              f"next uid {fields['next']}: 1 passed, 0 failed")
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
