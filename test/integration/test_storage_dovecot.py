"""Compatibility with Dovecot (doveadm, no daemon needed):
A. a Maildir Dovecot filled (deliveries, flags, keywords, folders,
   expunges) opens in Merpati with the same UIDVALIDITY, UID <-> message
   mapping, flags and keywords, and Dovecot still agrees afterwards;
B. Dovecot reads a Maildir Merpati filled with the same UIDs, flags and
   folders."""
import grp
import os
import shutil
import subprocess

from storage_util import MailEnv, fail

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
        checked += len(want)
    if len(dc.messages("INBOX")) != 4:
        fail("A: expected 4 messages left in INBOX")
    with open(os.path.join(root, "subscriptions")) as f:
        if "Work\tB&AOQ-r\n" not in f.read():
            fail("A: subscriptions file not in Dovecot's format")
    # Merpati delivers into the Dovecot folder: the next UID, Dovecot sees it
    p = env.deliver(user, b"Subject: from merpati\n\nx\n")
    if p.returncode != 0:
        fail(f"A: deliver: {p.stderr!r}")
    after = dc.messages("INBOX")
    if max(after) != 7:
        fail(f"A: merpati's delivery got UID {max(after)}, expected 7")
    compare("A: INBOX after a merpati delivery", after,
            merpati_messages(env, user, "INBOX"))
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
    tool("flags", root, "Sub/F\u00f6lder")
    want = merpati_messages(env, user, "INBOX")
    if sorted(want) != [2, 3, 4, 5]:
        fail(f"B: merpati UIDs {sorted(want)}")
    dc = Dovecot(env, root)
    compare("B: INBOX messages", dc.messages("INBOX"), want)
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
