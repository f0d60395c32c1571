# SPDX-License-Identifier: GPL-2.0-or-later
"""Integration-test harness: runs the real merpatid on free loopback ports.

    with Daemon() as d:                 # writes a config into a temp dir
        c = d.imap()                    # a LineClient connected to IMAP
        c.expect(r"^\* OK ")

Daemon() writes a configuration (overridable per section), a passwd-file and
an empty mail root into a temporary directory, starts `merpatid -f` on free
127.0.0.1 ports, waits until every listener accepts, and on exit sends
SIGTERM and fails the test if the daemon did not exit 0 within the grace
period or logged a crash (sanitizer report, worker death).

Environment (set by ctest): MERPATID, MERPATI (binaries), MERPATI_SRC.
"""

import ctypes
import glob
import os
import pwd
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

SRC = os.environ.get("MERPATI_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
MERPATID = os.environ.get("MERPATID", os.path.join(SRC, "build", "merpatid"))
MERPATI = os.environ.get("MERPATI", os.path.join(SRC, "build", "merpati"))
CERTS = os.path.join(SRC, "test", "integration", "certs")
CERT = os.path.join(CERTS, "cert1.pem")
KEY = os.path.join(CERTS, "key1.pem")
CERT2 = os.path.join(CERTS, "cert2.pem")
KEY2 = os.path.join(CERTS, "key2.pem")
TEST_USER = "merpati-test"

# Lines in the daemon's log that mean something crashed.
CRASH_PATTERNS = re.compile(
    r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|"
    r"event=worker_died|event=worker_failed|Segmentation fault|Aborted"
)


PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """A preexec_fn for Popen: the child gets SIGTERM when the test process
    dies (PR_SET_PDEATHSIG), so a killed test leaves no daemon behind. The
    master stays root, which keeps the setting (a credential change clears
    it); its workers set their own and follow it."""
    parent = os.getpid()

    def preexec():
        if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            os._exit(127)
        # the test died between fork and prctl: do not outlive it
        if os.getppid() != parent:
            os._exit(127)
    return preexec


def ephemeral_low():
    """The first port of the kernel's ephemeral range (client sockets)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out = set()


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A TCP port nobody holds right now, below the ephemeral range.

    Ports from the ephemeral range (32768-60999) can be taken at any time
    by some client socket; these come from 10000 up to its start, chosen at
    random and never twice in one process. Another test can still bind one
    before our daemon does: Daemon.start() picks new ports and retries."""
    low = min(ephemeral_low(), 65536)
    for _ in range(10000):
        port = random.randrange(10000, max(low, 10001))
        if port in _handed_out:
            continue
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((host, port))
        except OSError:
            continue
        finally:
            s.close()
        _handed_out.add(port)
        return port
    raise AssertionError("no free port below %d" % low)


BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def deps_list(kind):
    """The packages `scripts/deps.sh` installs for `kind` ("build" or "test")."""
    out = subprocess.run(["bash", os.path.join(SRC, "scripts", "deps.sh"), "list", kind],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def _installed_packages():
    """{name: (base, [[alternative, ...], ...])} of installed packages, and
    {virtual name: [providers]}; base is Essential or Priority required."""
    fmt = "${db:Status-Abbrev}\t${Package}\t${Essential}\t${Priority}\t${Depends}\t${Pre-Depends}\t${Provides}\n"
    out = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], check=True,
                         capture_output=True, text=True).stdout
    strip = lambda item: re.sub(r"[ (:].*", "", item.strip())
    packages, provides = {}, {}
    for line in out.splitlines():
        status, name, essential, priority, depends, pre, provided = line.split("\t")
        if not status.startswith("ii"):
            continue
        alts = [[strip(a) for a in d.split("|")] for d in (depends + "," + pre).split(",") if d.strip()]
        packages[name] = (essential == "yes" or priority == "required", alts)
        for p in provided.split(","):
            if strip(p):
                provides.setdefault(strip(p), []).append(name)
    return packages, provides


def build_only_packages():
    """The installed packages a fresh Debian machine has after `deps.sh
    build`: the build list, the base system (Essential and required
    packages) and everything they depend on (every installed alternative)."""
    packages, provides = _installed_packages()
    todo = deps_list("build") + [n for n, (base, _) in packages.items() if base]
    seen = set()
    while todo:
        name = todo.pop()
        for p in ([name] if name in packages else []) + provides.get(name, []):
            if p not in seen:
                seen.add(p)
                todo.extend(a for alt in packages[p][1] for a in alt)
    return seen


def build_only_env(workdir):
    """An environment that sees only what build_only_packages() install.

    PATH is a directory of links to those packages' programs (a program no
    package owns, such as a pyenv shim or /usr/local, is left out) and
    PKG_CONFIG_LIBDIR one of links to their .pc files. Returns (env, cmake
    arguments that keep CMake from searching the real program directories,
    names of the test packages so hidden)."""
    allowed = build_only_packages()
    pc_dirs = subprocess.run(["pkg-config", "--variable", "pc_path", "pkg-config"], check=True,
                             capture_output=True, text=True).stdout.strip().split(":")
    owned = set()
    for name in allowed:
        for lst in glob.glob("/var/lib/dpkg/info/%s.list" % name) + \
                glob.glob("/var/lib/dpkg/info/%s:*.list" % name):
            with open(lst, encoding="utf-8", errors="replace") as f:
                for path in f.read().splitlines():
                    if path.startswith(BIN_DIRS) or path.endswith(".pc"):
                        owned.add(os.path.realpath(path))
    bindir, pcdir = os.path.join(workdir, "bin"), os.path.join(workdir, "pkgconfig")
    os.makedirs(bindir)
    os.makedirs(pcdir)
    for src_dirs, dest in ((BIN_DIRS, bindir), (pc_dirs, pcdir)):
        for d in src_dirs:
            for entry in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                path = os.path.join(d, entry)
                link = os.path.join(dest, entry)
                if os.path.realpath(path) in owned and not os.path.lexists(link):
                    os.symlink(path, link)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYENV", "VIRTUAL_ENV"))}
    env.update(PATH=bindir, PKG_CONFIG_LIBDIR=pcdir, PKG_CONFIG_PATH="")
    ignore = ";".join(list(BIN_DIRS) + [p for p in os.environ.get("PATH", "").split(":") if p])
    hidden = sorted(p for p in deps_list("test") if p not in allowed)
    return env, ["-DCMAKE_IGNORE_PATH=" + ignore], hidden


def mail_user():
    """The user the daemon drops to: a dedicated one when we are root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", TEST_USER], check=True)
    return TEST_USER


def tls_context(cafile=CERT, minimum=None, maximum=None):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


class LineClient:
    """A blocking line-oriented client for IMAP and POP3 transcripts."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")

    def readline(self):
        """One line without its CRLF (bytes decoded as UTF-8), or None at EOF."""
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                if self.buf:
                    rest, self.buf = self.buf, b""
                    return rest.decode("utf-8", "replace")
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def read_until_tagged(self, tag):
        """Lines up to and including the one starting with `tag `."""
        lines = []
        while True:
            line = self.readline()
            if line is None:
                raise AssertionError("connection closed before %s completed; got %r" % (tag, lines))
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def read_multiline(self):
        """A POP3 multi-line body after its +OK line: lines up to '.'."""
        lines = []
        while True:
            line = self.readline()
            if line is None:
                raise AssertionError("connection closed inside a multi-line reply")
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith(".") else line)

    def expect(self, pattern):
        line = self.readline()
        if line is None or not re.search(pattern, line):
            raise AssertionError("expected %r, got %r" % (pattern, line))
        return line

    def at_eof(self, timeout=5.0):
        """True when the server closed the connection (reads nothing more)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False
        if data:
            self.buf += data
            return False
        return True

    def starttls(self, ctx=None, server_hostname="localhost"):
        assert not self.buf, "bytes left before TLS: %r" % self.buf
        ctx = ctx or tls_context()
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        return self.sock

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Daemon:
    """A merpatid with its own config, ports and mail root."""

    def __init__(self, sections=None, users=None, cert=CERT, key=KEY, workers=1, start=True):
        self.dir = tempfile.mkdtemp(prefix="merpati-test-")
        os.chmod(self.dir, 0o755)
        self.user = mail_user()
        self.ports = {k: free_port() for k in ("imap", "imaps", "pop3", "pop3s")}
        self.mail = os.path.join(self.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        self.users_file = os.path.join(self.dir, "users")
        with open(self.users_file, "w") as f:
            for line in users or []:
                f.write(line + "\n")
        os.chmod(self.users_file, 0o600)
        # git checks the test keys out 0644, which the daemon warns about
        # (a key readable by every user): each daemon reads a 0600 copy
        # in its own directory; write_config() maps KEY and KEY2 to them
        self.key_copies = {}
        for i, src in enumerate((KEY, KEY2), 1):
            dst = os.path.join(self.dir, "key%d.pem" % i)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
            self.key_copies[src] = dst
        key = self.key_copies.get(key, key)
        self.cert, self.key = cert, key
        self.config = {
            "server": {"user": self.user, "workers": str(workers), "log": "stderr",
                       "log_level": "debug"},
            "listen": {k: "127.0.0.1:%d" % p for k, p in self.ports.items()},
            "tls": {"cert": cert, "key": key},
            "auth": {"backend": "passwd-file " + self.users_file},
            "mail": {"root": os.path.join(self.mail, "%u"), "fsync": "no"},
        }
        for section, values in (sections or {}).items():
            self.config.setdefault(section, {}).update(values)
        self.conf_path = os.path.join(self.dir, "merpati.conf")
        self.write_config()
        self.log_path = os.path.join(self.dir, "merpatid.log")
        self.proc = None
        self.allow_worker_death = False  # a test that kills workers on purpose
        self.retries = 0  # starts lost to a port taken by someone else
        if start:
            self.start()

    def write_config(self, config=None):
        with open(self.conf_path, "w") as f:
            f.write("# written by test/integration/harness.py\n")
            for section, values in (config or self.config).items():
                f.write("[%s]\n" % section)
                for k, v in values.items():
                    if section == "tls" and k == "key":
                        v = self.key_copies.get(v, v)
                    f.write("%s = %s\n" % (k, v))
        return self.conf_path

    def start(self, timeout=15.0, attempts=5):
        """Starts merpatid and waits until every listener accepts. When it
        lost one of the harness's own ports to another process before it
        could bind (EADDRINUSE), picks new ones and tries again."""
        for attempt in range(attempts):
            try:
                return self._start_once(timeout)
            except AssertionError as e:
                if "Address already in use" not in str(e) or attempt == attempts - 1 \
                        or not self.repick_ports():
                    raise
                self.retries += 1

    def repick_ports(self):
        """New ports for the listeners the harness chose; False when a
        test set the listen addresses itself."""
        auto = {k: "127.0.0.1:%d" % p for k, p in self.ports.items()}
        if any(self.config["listen"].get(k) != v for k, v in auto.items()):
            return False
        self.ports = {k: free_port() for k in self.ports}
        self.config["listen"].update({k: "127.0.0.1:%d" % p for k, p in self.ports.items()})
        self.write_config()
        return True

    def _start_once(self, timeout):
        self.log = open(self.log_path, "ab")
        log_start = self.log.tell()
        self.proc = subprocess.Popen([MERPATID, "-f", "-c", self.conf_path],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     preexec_fn=die_with_parent())
        deadline = time.monotonic() + timeout
        for host, port in self.listening_addrs():
            while True:
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    self.proc = None
                    self.log.close()
                    raise AssertionError("merpatid exited with %s at start:\n%s"
                                         % (code, self.read_log()[log_start:]))
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("merpatid did not listen on %d:\n%s" % (port, self.read_log()))
                    time.sleep(0.05)
        self.wait_log(r"event=worker_started")

    def listening_addrs(self):
        """(host, port) of every configured listener."""
        addrs = []
        for kind in self.ports:
            for addr in self.config["listen"].get(kind, "").split():
                host, port = addr.rsplit(":", 1)
                addrs.append((host.strip("[]"), int(port)))
        return addrs

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=10.0, count=1):
        """Waits until `pattern` occurs `count` times in the log; returns the log."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.read_log()
            if len(re.findall(pattern, log)) >= count:
                return log
            if time.monotonic() > deadline:
                raise AssertionError("log never showed %r:\n%s" % (pattern, log[-4000:]))
            time.sleep(0.05)

    def connect(self, kind, tls=None, ctx=None):
        sock = socket.create_connection(("127.0.0.1", self.ports[kind]), timeout=10)
        if tls is None:
            tls = kind.endswith("s")
        if tls:
            sock = (ctx or tls_context(self.cert)).wrap_socket(sock, server_hostname="localhost")
        return LineClient(sock)

    def imap(self, **kw):
        return self.connect("imap", **kw)

    def imaps(self, **kw):
        return self.connect("imaps", **kw)

    def pop3(self, **kw):
        return self.connect("pop3", **kw)

    def pop3s(self, **kw):
        return self.connect("pop3s", **kw)

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self, timeout=10.0):
        """SIGTERM; asserts exit status 0 and no crash in the log."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("merpatid did not stop within %.0fs of SIGTERM:\n%s"
                                     % (timeout, self.read_log()[-4000:]))
        code = self.proc.returncode
        self.proc = None
        self.log.close()
        self.check_log()
        if code != 0:
            raise AssertionError("merpatid exited with %s:\n%s" % (code, self.read_log()[-4000:]))

    def check_log(self):
        log = self.read_log()
        if self.allow_worker_death:
            log = re.sub(r"event=worker_died pid=\d+ signal=9\b", "", log)
        m = CRASH_PATTERNS.search(log)
        if m:
            raise AssertionError("merpatid log shows a crash (%s):\n%s" % (m.group(0), log[-6000:]))

    def cleanup(self):
        """Removes the directory; a daemon still running (a test that did
        not stop() it) is stopped first, not left behind for good."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop()
        except AssertionError:
            if exc_type is None:
                raise
        finally:
            if exc_type is None:
                self.cleanup()
            else:
                print("merpatid log kept in", self.log_path)
                print(self.read_log()[-6000:])
        return False


def main():
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2, warnings="ignore")
