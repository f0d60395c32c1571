# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the storage integration tests: a temporary mail root and
config, running `merpati`, and reading a Maildir directly. Stdlib only."""
import os
import pwd
import re
import shutil
import struct
import subprocess
import tempfile

MERPATI = os.environ.get("MERPATI", "merpati")
# test_storage_tool is built next to the unit tests (build/test/)
TOOL = os.path.join(os.path.dirname(os.path.abspath(MERPATI)), "test",
                    "test_storage_tool")


def fail(msg):
    raise AssertionError(msg)


def mail_user():
    """The user merpati drops to: nobody when we are root, else us."""
    if os.geteuid() == 0:
        return "nobody"
    return pwd.getpwuid(os.geteuid()).pw_name


class MailEnv:
    """A temporary directory with merpati.conf and a mail root template
    <dir>/mail/%d/%n. As root, the directory belongs to `nobody`."""

    def __init__(self, fsync=False):
        self.dir = tempfile.mkdtemp(prefix="merpati-storage-")
        os.chmod(self.dir, 0o755)
        self.user = mail_user()
        pw = pwd.getpwnam(self.user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        if os.geteuid() == 0:
            os.chown(self.dir, self.uid, self.gid)
        # a copy of the storage tool the mail owner can run even when the
        # build tree is out of its reach (a clone under /root)
        self.tool = os.path.join(self.dir, "test_storage_tool")
        shutil.copy(TOOL, self.tool)
        os.chmod(self.tool, 0o755)
        # the userdb `merpati deliver` and `ls` look users up in: deliver()
        # and ls() add the user they are given (add_user() for others)
        self.users_file = os.path.join(self.dir, "users")
        self.users = set()
        open(self.users_file, "w").close()
        os.chmod(self.users_file, 0o600)
        self.conf = os.path.join(self.dir, "merpati.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[server]
user = {self.user}
[auth]
backend = passwd-file {self.users_file}
[listen]
imap = 127.0.0.1:14399
imaps =
pop3 =
pop3s =
[mail]
root = {self.dir}/mail/%d/%n
fsync = {"yes" if fsync else "no"}
""")

    def add_user(self, user, fields=":::", extra=""):
        """Adds a passwd-file line for user (once): uid:gid:gecos:home in
        fields, then the extra fields (userdb_mail=..., userdb_quota_rule=...)."""
        if user in self.users:
            return
        self.users.add(user)
        with open(self.users_file, "a") as f:
            f.write(f"{user}:{{PLAIN}}unused-{len(self.users)}:{fields}::{extra}\n")

    def root(self, user):
        local, _, domain = user.partition("@")
        return os.path.join(self.dir, "mail", domain, local)

    def folder_dir(self, user, folder="INBOX"):
        if folder.upper() == "INBOX":
            return self.root(user)
        return os.path.join(self.root(user), "." + folder.replace("/", "."))

    def merpati(self, *args, stdin=None, env=None, check=True):
        e = dict(os.environ)
        if env:
            e.update(env)
        p = subprocess.run([MERPATI, args[0], "-c", self.conf] + list(args[1:]),
                           input=stdin, capture_output=True, env=e)
        if check and p.returncode != 0:
            fail(f"merpati {' '.join(args)}: exit {p.returncode}: "
                 f"{p.stderr.decode(errors='replace')}")
        return p

    def deliver(self, user, data, folder=None, env=None):
        self.add_user(user)
        args = ["deliver"] + (["-m", folder] if folder else []) + [user]
        return self.merpati(*args, stdin=data, env=env, check=False)

    def ls(self, user, folder="INBOX"):
        """[(uid, flags, size, base)] from `merpati ls`."""
        self.add_user(user)
        out = self.merpati("ls", user, folder).stdout.decode()
        rows = []
        for line in out.splitlines():
            uid, flags, size, base = line.split(" ")
            rows.append((int(uid), flags, int(size), base))
        return rows

    def status(self, user, folder="INBOX"):
        self.add_user(user)
        out = self.merpati("ls", "-s", user, folder).stdout.decode()
        return {k: int(v) for k, v in
                (kv.split("=") for kv in out.split())}

    def as_mail_user(self):
        """preexec_fn for a child that must act as the mail owner."""
        uid, gid = self.uid, self.gid

        def drop():
            if os.geteuid() == 0:
                os.setgid(gid)
                os.setuid(uid)
        return drop

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def read_uidlist(folder_dir):
    """(header fields, {base: uid}) of dovecot-uidlist, checking it.
    fields["next"] is the next UID by Dovecot's rule: records are appended
    without rewriting the header, so it is the larger of N and the last
    record's UID + 1."""
    with open(os.path.join(folder_dir, "dovecot-uidlist")) as f:
        lines = f.read().split("\n")
    if lines[-1] != "":
        fail("uidlist does not end in a newline")
    head = lines[0].split(" ")
    if head[0] != "3":
        fail(f"uidlist version {head[0]}")
    fields = {h[0]: h[1:] for h in head[1:]}
    mapping, last = {}, 0
    for line in lines[1:-1]:
        m = re.match(r"^(\d+)(?: [^:]*)? :(.+)$", line)
        if not m:
            fail(f"bad uidlist line {line!r}")
        uid, base = int(m.group(1)), m.group(2)
        if uid <= last:
            fail(f"uidlist UIDs not increasing at {line!r}")
        if base in mapping:
            fail(f"uidlist lists {base} twice")
        mapping[base], last = uid, uid
    fields["next"] = str(max(int(fields["N"]), last + 1))
    return fields, mapping


def message_files(folder_dir):
    """{base: (subdir, name)} for every file in new/ and cur/."""
    files = {}
    for sub in ("new", "cur"):
        for name in os.listdir(os.path.join(folder_dir, sub)):
            if name.startswith("."):
                continue
            base = name.split(":", 1)[0]
            if base in files:
                fail(f"{base} present twice ({files[base]} and {sub}/{name})")
            files[base] = (sub, name)
    return files


def check_sizes(folder_dir, files):
    """Every file is complete: its size is what ,S= in its name says."""
    for base, (sub, name) in files.items():
        m = re.search(r",S=(\d+)", base)
        if m is None:
            continue
        size = os.path.getsize(os.path.join(folder_dir, sub, name))
        if size != int(m.group(1)):
            fail(f"{sub}/{name}: {size} bytes, name says {m.group(1)}")


M64 = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def index_checksum(data):
    """merpati.index's checksum (storage/mindex.c), field 120..128 as 0."""
    p1, p2 = 0x9e3779b185ebca87, 0xc2b2ae3d27d4eb4f
    h = [p1, p2, p1 ^ 0x5555, p2 ^ 0xaaaa]
    data = bytearray(data)
    data[120:128] = bytes(8)
    n = len(data)
    full = n - n % 32
    padded = bytes(data) + bytes(32 - n % 32)
    for i in range(0, full + 32, 32):
        for lane, w in enumerate(struct.unpack_from("<4Q", padded, i)):
            h[lane] = (_rotl(h[lane], 23) + w * p1) & M64
    r = (n * p1) & M64
    for lane in range(4):
        r = (_rotl(r ^ ((h[lane] * p2) & M64), 27) * p1 + p2) & M64
    return r ^ (r >> 29)


def read_index(folder_dir):
    """merpati.index as (header dict, [record dicts], [(uid, modseq)]),
    checking its checksum and size (layout: doc/storage.md)."""
    with open(os.path.join(folder_dir, "merpati.index"), "rb") as f:
        data = f.read()
    if data[:8] != b"MPINDEX\n":
        fail("merpati.index: bad magic")
    (version, hsize, rsize, uidvalidity, uidnext, count, unseen, deleted,
     highest, floor, nexp, names_size) = struct.unpack_from("<8I2Q2I",
                                                            data, 8)
    if (version, hsize, rsize) != (1, 128, 64):
        fail(f"merpati.index: version {version}")
    if len(data) != 128 + 64 * count + 16 * nexp + names_size:
        fail("merpati.index: size does not match its header")
    if struct.unpack_from("<Q", data, 120)[0] != index_checksum(data):
        fail("merpati.index: checksum mismatch")
    names_at = 128 + 64 * count + 16 * nexp
    recs = []
    for i in range(count):
        (uid, flags, keywords, off, modseq, size, vsize, date, save_date,
         nlen) = struct.unpack_from("<4I3Q2qI", data, 128 + 64 * i)
        name = data[names_at + off:names_at + off + nlen].decode()
        recs.append({"uid": uid, "flags": flags, "keywords": keywords,
                     "modseq": modseq, "name": name})
    exps = [struct.unpack_from("<IIQ", data, 128 + 64 * count + 16 * i)
            for i in range(nexp)]
    hdr = {"uidvalidity": uidvalidity, "uidnext": uidnext, "count": count,
           "unseen": unseen, "deleted": deleted, "highest": highest,
           "floor": floor}
    return hdr, recs, [(u, m) for u, _, m in exps]


def read_modseq_ceiling(folder_dir):
    with open(os.path.join(folder_dir, "merpati.modseq")) as f:
        return int(f.read().strip())
