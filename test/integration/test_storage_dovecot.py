# SPDX-License-Identifier: GPL-2.0-or-later
"""Compatibility with Dovecot (doveadm, no daemon needed):
A. a Maildir Dovecot filled (deliveries, flags, keywords, folders,
   expunges) opens in Merpati with the same UIDVALIDITY, UID <-> message
   mapping, flags and keywords, and Dovecot still agrees afterwards;
   Merpati appends its deliveries to the UID list (the header stays as it
   was) and a header that lags behind the records still gives fresh UIDs,
   to Merpati and to Dovecot after it;
B. Dovecot reads a Maildir Merpati filled with the same UIDs, flags and
   folders; an expunge leaves the UID list at once; flags Dovecot changes
   get fresh MODSEQs in Merpati's index at the next sync.
Both ways the flag letters in the file names and the keyword names in
dovecot-keywords are compared with what each server reports."""
import grp
import os
import shutil
import subprocess

from storage_util import MailEnv, fail, read_index, read_uidlist

DOVEADM = shutil.which("doveadm") or fail("doveadm is not installed")
IGNORED_FLAGS = {"\\Recent"}


class Dovecot:
    def __init__(self, env, mail_dir):
        self.env = env
        self.mail_dir = mail_dir
        self.conf = os.path.join(env.dir, "dovecot.conf")
        base = os.path.join(env.dir, "dovecot")
        os.makedirs(os.path.join(base, "run"), exist_ok=True)
        group = grp.getgrgid(env.gid).gr_name
        with open(self.conf, "w") as f:
            f.write(f"""protocols =
ssl = no
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/log
mail_location = maildir:{mail_dir}
mail_uid = {env.user}
mail_gid = {group}
first_valid_uid = 0
first_valid_gid = 0
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = home={base}/home
}}
""")

    def run(self, *args, stdin=None):
        env = dict(os.environ, USER="testuser",
                   HOME=os.path.join(self.env.dir, "dovecot", "home"))
        p = subprocess.run([DOVEADM, "-c", self.conf, "-f", "tab"] +
                           list(args), input=stdin, capture_output=True,
                           env=env)
        if p.returncode != 0:
            fail(f"doveadm {' '.join(args)}: exit {p.returncode}: "
                 f"{p.stderr.decode()}")
        return p.stdout.decode()

    def table(self, *args):
        lines = self.run(*args).rstrip("\n").split("\n")
        head = lines[0].split("\t")
        return [dict(zip(head, line.split("\t"))) for line in lines[1:]]

    def messages(self, folder):
        """{uid: (frozenset(flags), base)}"""
        rows = self.table("fetch", "uid flags guid", "mailbox", folder)
        return {int(r["uid"]): (frozenset(f for f in r["flags"].split()
                                          if f not in IGNORED_FLAGS),
                                r["guid"]) for r in rows}

    def status(self, folder):
        r = self.table("mailbox", "status", "uidvalidity uidnext messages",
                       folder)[0]
        return {k: int(r[k]) for k in ("uidvalidity", "uidnext", "messages")}

    def folders(self):
        return {r["mailbox"] for r in self.table("mailbox", "list")}


LETTERS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered",
           "S": "\\Seen", "T": "\\Deleted"}


def disk_flags(folder_dir):
    """{base: frozenset(flag names)} from the file names' letters and the
    keyword names in dovecot-keywords."""
    names = {}
    kw_path = os.path.join(folder_dir, "dovecot-keywords")
    if os.path.exists(kw_path):
        with open(kw_path) as f:
            for line in f:
                idx, _, name = line.rstrip("\n").partition(" ")
                names[int(idx)] = name
    out = {}
    for sub in ("new", "cur"):
        for name in os.listdir(os.path.join(folder_dir, sub)):
            base, _, info = name.partition(":2,")
            flags = set()
            for c in info:
                if c in LETTERS:
                    flags.add(LETTERS[c])
                elif "a" <= c <= "z":
                    flags.add(names.get(ord(c) - ord("a"), f"kw:{c}"))
                else:
                    fail(f"unexpected flag letter {c!r} in {name}")
            out[base] = frozenset(flags)
    return out


def compare_disk(what, folder_dir, messages):
    """messages: {uid: (flags, base)} as a server reports them."""
    compare(what, {base: flags for flags, base in messages.values()},
            disk_flags(folder_dir))


def uidlist_lines(folder_dir):
    with open(os.path.join(folder_dir, "dovecot-uidlist")) as f:
        return f.read().split("\n")


def set_uidlist_header_n(folder_dir, n):
    """Rewrites N in the header in place (as a list Dovecot appended to
    without rewriting the header looks)."""
    lines = uidlist_lines(folder_dir)
    head = [f"N{n}" if h.startswith("N") else h for h in lines[0].split()]
    with open(os.path.join(folder_dir, "dovecot-uidlist"), "w") as f:
        f.write("\n".join([" ".join(head)] + lines[1:]))


def merpati_messages(env, user, folder):
    return {uid: (frozenset(() if flags == "-" else flags.split(",")), base)
            for uid, flags, _size, base in env.ls(user, folder)}


def compare(what, dovecot, merpati):
    if dovecot != merpati:
        fail(f"{what} differs:\n  dovecot: {sorted(dovecot.items()) if isinstance(dovecot, dict) else dovecot}\n"
             f"  merpati: {sorted(merpati.items()) if isinstance(merpati, dict) else merpati}")


def part_a(env):
    """Dovecot fills, Merpati reads."""
    user = "erin@example.org"
    root = env.root(user)
    os.makedirs(os.path.dirname(root), exist_ok=True)
    if os.geteuid() == 0:
        os.chown(os.path.dirname(root), env.uid, env.gid)
    dc = Dovecot(env, root)
    for i in range(1, 7):
        dc.run("save", "-m", "INBOX",
               stdin=b"From: a@b\nSubject: dovecot %d\n\nbody %d\n" % (i, i))
    dc.run("mailbox", "create", "Work/B\u00e4r")
    for i in range(2):
        dc.run("save", "-m", "Work/B\u00e4r",
               stdin=b"Subject: work %d\r\n\r\nbody\r\n" % i)
    dc.run("flags", "add", "\\Seen $Junk", "mailbox", "INBOX", "uid", "2")
    dc.run("flags", "add", "\\Flagged \\Answered", "mailbox", "INBOX",
           "uid", "3")
    dc.run("flags", "add", "foo $Label1", "mailbox", "INBOX", "uid", "4")
    dc.run("flags", "add", "\\Deleted \\Draft", "mailbox", "INBOX", "uid",
           "5")
    dc.run("flags", "add", "\\Seen worky", "mailbox", "Work/B\u00e4r", "uid",
           "2")
    dc.run("expunge", "mailbox", "INBOX", "uid", "1")
    dc.run("expunge", "mailbox", "INBOX", "uid", "6")
    dc.run("mailbox", "subscribe", "Work/B\u00e4r")
    if os.geteuid() == 0:
        # doveadm made it as the mail user; merpati drops to the same
        pass
    checked = 0
    for folder in ("INBOX", "Work/B\u00e4r"):
        want = dc.messages(folder)
        compare(f"A: {folder} messages", want,
                merpati_messages(env, user, folder))
        st = dc.status(folder)
        ms = env.status(user, folder)
        compare(f"A: {folder} status",
                (st["uidvalidity"], st["uidnext"], st["messages"]),
                (ms["uidvalidity"], ms["uidnext"], ms["messages"]))
        # Dovecot still agrees after Merpati synced (moved new/ to cur/)
        compare(f"A: {folder} after merpati", want, dc.messages(folder))
        folder_dir = root if folder == "INBOX" else os.path.join(
            root, ".Work.B&AOQ-r")
        compare_disk(f"A: {folder} letters on disk", folder_dir, want)
        checked += len(want)
    if len(dc.messages("INBOX")) != 4:
        fail("A: expected 4 messages left in INBOX")
    with open(os.path.join(root, "dovecot-keywords")) as f:
        kw_names = {line.split(" ", 1)[1].rstrip("\n") for line in f}
    if kw_names != {"$Junk", "foo", "$Label1"}:
        fail(f"A: dovecot-keywords names {sorted(kw_names)}")
    with open(os.path.join(root, "subscriptions")) as f:
        if "Work\tB&AOQ-r\n" not in f.read():
            fail("A: subscriptions file not in Dovecot's format")
    # Merpati delivers into the Dovecot folder: the next UID, Dovecot sees
    # it; the record is appended, the header left as it was
    head = uidlist_lines(root)[0]
    p = env.deliver(user, b"Subject: from merpati\n\nx\n")
    if p.returncode != 0:
        fail(f"A: deliver: {p.stderr!r}")
    lines = uidlist_lines(root)
    if lines[0] != head or not lines[-2].startswith("7 :"):
        fail(f"A: delivery rewrote the UID list: {lines[0]!r} "
             f"(was {head!r}), last {lines[-2]!r}")
    after = dc.messages("INBOX")
    if max(after) != 7:
        fail(f"A: merpati's delivery got UID {max(after)}, expected 7")
    compare("A: INBOX after a merpati delivery", after,
            merpati_messages(env, user, "INBOX"))
    # The header lags: N equals the last record's UID. Both servers still
    # give the next delivery a fresh UID.
    set_uidlist_header_n(root, 7)
    p = env.deliver(user, b"Subject: lagging header\n\nx\n")
    if p.returncode != 0:
        fail(f"A: deliver: {p.stderr!r}")
    if max(merpati_messages(env, user, "INBOX")) != 8:
        fail("A: merpati reused a UID under a lagging header")
    set_uidlist_header_n(root, 8)
    dc.run("save", "-m", "INBOX", stdin=b"Subject: dovecot lag\n\nx\n")
    after = dc.messages("INBOX")
    if sorted(after)[-2:] != [8, 9]:
        fail(f"A: dovecot after a lagging header: UIDs {sorted(after)}")
    set_uidlist_header_n(root, 5)
    p = env.deliver(user, b"Subject: lagging more\n\nx\n")
    if p.returncode != 0:
        fail(f"A: deliver: {p.stderr!r}")
    after = dc.messages("INBOX")
    if max(after) != 10:
        fail(f"A: merpati under a lagging header got {max(after)}")
    compare("A: INBOX after lagging headers", after,
            merpati_messages(env, user, "INBOX"))
    _, mapping = read_uidlist(root)
    if sorted(mapping.values()) != sorted(after):
        fail(f"A: UID list {sorted(mapping.values())} vs {sorted(after)}")
    return checked


def part_b(env):
    """Merpati fills, Dovecot reads."""
    user = "frank@example.org"
    for i in range(5):
        p = env.deliver(user, b"X-Id: %d\nSubject: merpati %d\n\nbody\n" %
                        (i, i))
        if p.returncode != 0:
            fail(f"B: deliver: {p.stderr!r}")
    for i in range(2):
        p = env.deliver(user, b"Subject: sub %d\n\nbody\n" % i,
                        folder="Sub/F\u00f6lder")
        if p.returncode != 0:
            fail(f"B: deliver -m: {p.stderr!r}")
    root = env.root(user)
    tool = lambda *a: subprocess.run(  # noqa: E731
        [env.tool] + list(a), check=True, capture_output=True,
        preexec_fn=env.as_mail_user(),
        env=dict(os.environ, MERPATI_TEST_FSYNC="no"))
    tool("flags", root, "INBOX")         # \Seen on all
    tool("expunge", root, "INBOX", "1")  # UID 1 goes
    # the expunge reached the file at once, not at the next sync
    _, mapping = read_uidlist(root)
    if sorted(mapping.values()) != [2, 3, 4, 5]:
        fail(f"B: UID list right after the expunge: {sorted(mapping.values())}")
    tool("flags", root, "Sub/F\u00f6lder")
    tool("setflags", root, "INBOX", "3", "\\Flagged", "\\Answered",
         "$Label1", "work")
    tool("setflags", root, "INBOX", "4", "\\Deleted", "\\Draft",
         "\\Seen", "work")
    with open(os.path.join(root, "dovecot-keywords")) as f:
        if f.read() != "0 $Label1\n1 work\n":
            fail("B: dovecot-keywords not as expected")
    want = merpati_messages(env, user, "INBOX")
    if sorted(want) != [2, 3, 4, 5]:
        fail(f"B: merpati UIDs {sorted(want)}")
    dc = Dovecot(env, root)
    compare("B: INBOX messages", dc.messages("INBOX"), want)
    compare_disk("B: INBOX letters on disk", root, want)
    if want[3][0] != frozenset({"\\Flagged", "\\Answered", "$Label1",
                                "work"}):
        fail(f"B: UID 3 flags {sorted(want[3][0])}")
    # Dovecot changes flags of Merpati's messages: Merpati reads them, and
    # gives those two (only) fresh MODSEQs at its next sync
    _, before, _ = read_index(root)
    highest = max(r["modseq"] for r in before)
    dc.run("flags", "add", "\\Flagged newkw", "mailbox", "INBOX", "uid", "5")
    dc.run("flags", "remove", "work", "mailbox", "INBOX", "uid", "3")
    want = dc.messages("INBOX")
    compare("B: INBOX after dovecot's flags", want,
            merpati_messages(env, user, "INBOX"))
    hdr, after, _ = read_index(root)
    for old_rec, rec in zip(before, after):
        changed = rec["uid"] in (3, 5)
        if changed and rec["modseq"] <= highest:
            fail(f"B: UID {rec['uid']} changed by Dovecot kept MODSEQ "
                 f"{rec['modseq']} (highest was {highest})")
        if not changed and rec["modseq"] != old_rec["modseq"]:
            fail(f"B: UID {rec['uid']} got a new MODSEQ unchanged")
    if hdr["highest"] <= highest:
        fail("B: HIGHESTMODSEQ did not rise")
    compare_disk("B: INBOX letters after dovecot's flags", root, want)
    if "newkw" not in want[5][0]:
        fail("B: dovecot's keyword did not arrive")
    compare("B: Sub/Földer messages", dc.messages("Sub/F\u00f6lder"),
            merpati_messages(env, user, "Sub/F\u00f6lder"))
    st, ms = dc.status("INBOX"), env.status(user)
    compare("B: INBOX status", (st["uidvalidity"], st["uidnext"]),
            (ms["uidvalidity"], ms["uidnext"]))
    folders = dc.folders()
    if not {"INBOX", "Sub", "Sub/F\u00f6lder"} <= folders:
        fail(f"B: dovecot lists {sorted(folders)}")
    # Dovecot delivers next: it continues our UIDs
    dc.run("save", "-m", "INBOX", stdin=b"Subject: from dovecot\n\nx\n")
    compare("B: after a dovecot delivery", dc.messages("INBOX"),
            merpati_messages(env, user, "INBOX"))
    if max(merpati_messages(env, user, "INBOX")) != 6:
        fail("B: dovecot's delivery did not get UID 6")
    return len(want)


def main():
    env = MailEnv()
    try:
        a = part_a(env)
        b = part_b(env)
        print(f"storage dovecot compat: A {a} messages, B {b} messages "
              f"agree: 2 passed, 0 failed")
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
