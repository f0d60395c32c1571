"""Crash safety: 200 rounds of kill -9 at a random moment during a
delivery, an append, a flag change or an expunge. After each: the next
delivery succeeds (a stale lock is recovered), no message file is
half-written in new/ or cur/, the UID list matches the files, a message
keeps its UID, and no UID is ever reused."""
import os
import random
import signal
import subprocess
import threading
import time

from storage_util import (MailEnv, MERPATI, check_sizes, fail,
                          message_files, read_uidlist)

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
    args = {"append": ["append", env.root(USER), "INBOX", "20"],
            "flags": ["flags", env.root(USER), "INBOX"],
            "expunge": ["expunge", env.root(USER), "INBOX", "3"]}[op]
    return subprocess.Popen([env.tool] + args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            preexec_fn=env.as_mail_user(), env=tool_env)


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
        killed = {"deliver": 0, "append": 0, "flags": 0, "expunge": 0}
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
        tmp_left = len(os.listdir(os.path.join(folder, "tmp")))
        print(f"storage crash: {ROUNDS} rounds, killed mid-operation "
              f"{killed}, stale locks recovered {stale_locks}, "
              f"tmp files left {tmp_left}, max uid {max_uid}: "
              f"1 passed, 0 failed")
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
