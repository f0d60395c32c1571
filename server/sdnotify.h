/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdnotify: tells the service manager what the daemon is doing, the
 * sd_notify(3) protocol without libsystemd.
 *
 * Under a systemd unit with Type=notify, $NOTIFY_SOCKET names an AF_UNIX
 * datagram socket: an absolute path, or "@name" for a name in the abstract
 * namespace (the '@' stands for the leading NUL byte). Each call sends one
 * datagram of newline-separated VAR=VALUE assignments, such as "READY=1",
 * "RELOADING=1", "STOPPING=1", "STATUS=text".
 */
#ifndef MERPATI_SDNOTIFY_H
#define MERPATI_SDNOTIFY_H

/* Sends `state` (at most SDNOTIFY_MAX bytes) as one datagram to
   $NOTIFY_SOCKET. Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset or
   empty (not started by a service manager: nothing to do), -1 when the
   variable is not an absolute path or "@name", is too long for a socket
   address, or the send failed; *error_r then says why (static storage,
   valid until the next call). Never blocks: the socket is non-blocking. */
int sdnotify_send(const char *state, const char **error_r);

#define SDNOTIFY_MAX 1024

/* The first descriptor systemd passes (sd_listen_fds(3)). */
#define SDNOTIFY_LISTEN_FDS_START 3

/* Socket activation: the number of descriptors the service manager passed,
   starting at SDNOTIFY_LISTEN_FDS_START, when $LISTEN_PID is this process
   and $LISTEN_FDS a count; 0 otherwise (started by hand, or the variables
   were meant for another process). Unsets LISTEN_PID, LISTEN_FDS and
   LISTEN_FDNAMES so that no child takes them for its own. */
unsigned sdnotify_listen_fds(void);

#endif
