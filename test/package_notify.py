# SPDX-License-Identifier: GPL-2.0-or-later
"""The service manager's end of sd_notify for test/package.sh.

    package_notify.py @NAME|PATH READY_FILE WANT...

Binds a datagram socket (an abstract name for "@NAME"), creates READY_FILE
once bound, then waits for datagrams holding each WANT line (READY=1,
RELOADING=1, STOPPING=1) in that order. Prints each datagram; exits 0 when
all came, 1 after 30 seconds without them."""

import socket
import sys
import time


def main():
    name, ready_file, wants = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:] if name.startswith("@") else name)
    open(ready_file, "w").close()
    deadline = time.monotonic() + 30
    while wants:
        left = deadline - time.monotonic()
        if left <= 0:
            print("timed out waiting for %s" % wants[0], flush=True)
            return 1
        sock.settimeout(left)
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            continue
        print(repr(msg), flush=True)
        if wants[0] in msg.split("\n"):
            wants.pop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
