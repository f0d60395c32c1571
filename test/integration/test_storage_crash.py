# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash safety: 200 rounds of kill -9 at a random moment during a
delivery, an append, a flag change, an expunge or an index rebuild. After
each: the next delivery succeeds (a stale lock is recovered), no message
file is half-written in new/ or cur/, the UID list matches the files, a
message keeps its UID, and no UID is ever reused. After the next sync the
index (merpati.index) agrees with the files and the UID list (UIDs, names,
flags), HIGHESTMODSEQ never goes back and stays under the ceiling in
merpati.modseq, and no MODSEQ is reused: a message whose flags changed, or
that is new, has a MODSEQ above every one seen before."""
import os
import random
import signal
import subprocess
import threading
import time

from storage_util import (MailEnv, MERPATI, check_sizes, fail,
                          message_files, read_index, read_modseq_ceiling,
                          read_uidlist)

ROUNDS = int(os.environ.get("ROUNDS", "200"))
USER = "dave@example.org"
BIG = b"".join(b"line %06d of a large message body\n" % i
               for i in range(20000))


def start_op(env, op, seq):
    tool_env = dict(os.environ, MERPATI_TEST_FSYNC="no")
    if op == "deliver":
        p = subprocess.Popen([MERPATI, "deliver", "-c", env.conf, USER],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        def feed():
            # slowly, so that the kill often lands mid-message
            try:
                p.stdin.write(b"X-Id: crash-%d\nSubject: big\n\n" % seq)
                for k in range(0, len(BIG), 65536):
                    p.stdin.write(BIG[k:k + 65536])
                    p.stdin.flush()
                    time.sleep(0.002)
                p.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
        threading.Thread(target=feed, daemon=True).start()
        return p
    if op == "reindex":
        # the index is rebuilt from scratch (a big write) while we kill
        try:
            os.unlink(os.path.join(env.folder_dir(USER), "merpati.index"))
        except FileNotFoundError:
            pass
    args = {"append": ["append", env.root(USER), "INBOX", "20"],
            "flags": ["flags", env.root(USER), "INBOX"],
            "expunge": ["expunge", env.root(USER), "INBOX", "3"],
            "reindex": ["bench-open", env.root(USER), "INBOX", "1"]}[op]
    return subprocess.Popen([env.tool] + args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            preexec_fn=env.as_mail_user(), env=tool_env)


def check_index(rnd, op, folder, files, mapping, fields, highest, seen):
    """The index agrees with the files and the list; MODSEQs only rise."""
    hdr, recs, exps = read_index(folder)
    what = f"round {rnd} ({op})"
    if hdr["uidvalidity"] != int(fields["V"]):
        fail(f"{what}: index UIDVALIDITY {hdr['uidvalidity']}")
    by_uid = {uid: base for base, uid in mapping.items()}
    if [r["uid"] for r in recs] != sorted(by_uid):
        fail(f"{what}: index UIDs differ from the UID list")
    if hdr["highest"] < highest:
        fail(f"{what}: HIGHESTMODSEQ went back {highest} -> "
             f"{hdr['highest']}")
    if read_modseq_ceiling(folder) < hdr["highest"]:
        fail(f"{what}: HIGHESTMODSEQ above the persisted ceiling")
    now = {}
    for r in recs:
        sub, name = files[by_uid[r["uid"]]]
        if r["name"] != name or bool(r["flags"] & 0x100) != (sub == "new"):
            fail(f"{what}: index says {r['name']}, the file is "
                 f"{sub}/{name}")
        letters = name.partition(":2,")[2]
        if r["modseq"] > hdr["highest"]:
            fail(f"{what}: MODSEQ {r['modseq']} above HIGHESTMODSEQ")
        old = seen.get(r["uid"])
        if old is None or old[0] != letters:
            if r["modseq"] <= highest:
                fail(f"{what}: UID {r['uid']} changed or new with MODSEQ "
                     f"{r['modseq']}, not above {highest}")
        elif r["modseq"] < old[1]:
            fail(f"{what}: UID {r['uid']} MODSEQ went back")
        now[r["uid"]] = (letters, r["modseq"])
    for uid, modseq in exps:
        if uid in now:
            fail(f"{what}: UID {uid} logged expunged but present")
    return hdr["highest"], now


def main():
    rng = random.Random(1234)
    env = MailEnv()
    try:
        folder = env.folder_dir(USER)
        for i in range(30):
            p = env.deliver(USER, b"X-Id: seed-%d\n\nseed\n" % i)
            if p.returncode != 0:
                fail(f"seed delivery: {p.stderr!r}")
        uid_of = {}       # base -> uid, for every message ever seen
        max_uid = 0
        stale_locks = 0
        killed = {"deliver": 0, "append": 0, "flags": 0, "expunge": 0,
                  "reindex": 0}
        seen = {}         # uid -> (flag letters, modseq) at the last check
        highest = 0
        for rnd in range(ROUNDS):
            op = rng.choice(list(killed))
            p = start_op(env, op, rnd)
            time.sleep(rng.uniform(0, 0.03))
            p.send_signal(signal.SIGKILL)
            p.wait()
            if p.returncode == -signal.SIGKILL:
                killed[op] += 1
            if os.path.exists(os.path.join(folder, "dovecot-uidlist.lock")):
                stale_locks += 1
            # the next operation succeeds, also with a dead holder's lock
            t0 = time.monotonic()
            d = env.deliver(USER, b"X-Id: after-%d\n\nafter\n" % rnd)
            if d.returncode != 0:
                fail(f"round {rnd} ({op}): delivery after kill failed: "
                     f"exit {d.returncode} {d.stderr!r}")
            if time.monotonic() - t0 > 1:
                print(f"round {rnd} ({op}): recovery took {time.monotonic() - t0:.1f}s", d.stderr)
            if time.monotonic() - t0 > 10:
                fail(f"round {rnd}: recovery took too long")
            env.ls(USER)  # a sync: assigns and drops UIDs
            files = message_files(folder)
            check_sizes(folder, files)
            fields, mapping = read_uidlist(folder)
            if set(mapping) != set(files):
                fail(f"round {rnd} ({op}): UID list and files differ")
            for base, uid in mapping.items():
                if base in uid_of:
                    if uid_of[base] != uid:
                        fail(f"round {rnd}: {base} changed UID "
                             f"{uid_of[base]} -> {uid}")
                elif uid <= max_uid:
                    fail(f"round {rnd} ({op}): UID {uid} reused "
                         f"(max seen {max_uid})")
            for base, uid in mapping.items():
                uid_of[base] = uid
            max_uid = max([max_uid] + list(mapping.values()))
            if int(fields["next"]) <= max_uid:
                fail(f"round {rnd}: N{fields['next']} not above {max_uid}")
            highest, seen = check_index(rnd, op, folder, files, mapping,
                                        fields, highest, seen)
        tmp_left = len(os.listdir(os.path.join(folder, "tmp")))
        print(f"storage crash: {ROUNDS} rounds, killed mid-operation "
              f"{killed}, stale locks recovered {stale_locks}, "
              f"tmp files left {tmp_left}, max uid {max_uid}: "
              f"1 passed, 0 failed")
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
