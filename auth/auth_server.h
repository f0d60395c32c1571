/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_server: the privilege-separated auth helper process.
 *
 * Only this process reads password databases and runs PAM or checkpassword
 * programs; it stays root (so pam_unix can read /etc/shadow) and does
 * nothing else. It runs auth.h on its own libev loop with a worker pool for
 * hashing and PAM, runs SASL exchanges (auth_sasl.h) and applies the per-IP
 * failure penalty (auth_penalty.h) on timers.
 *
 * The channel. There is no socket name anyone could bind or connect to:
 * the master makes one SOCK_SEQPACKET socketpair at start
 * (auth_server_channel()) and keeps both ends for its whole life, across
 * reloads and helper restarts. Workers inherit the client end, helpers the
 * server end. A worker connects by making a fresh stream socketpair and
 * sending one end, with SCM_RIGHTS, down the client end (auth_client.h);
 * whichever helper runs receives it and serves it. Connections sent while
 * no helper runs wait in the channel for the next one. The helper checks
 * SO_PEERCRED of every connection it receives (uid root or
 * settings.peer_uid, pid the master's or a child of the master); the
 * worker checks the credentials of the helper's first bytes (uid root).
 *
 * How the master uses it:
 *
 *   int cfd, sfd;                      // once, before forking anything
 *   if (auth_server_channel(&cfd, &sfd, &error) < 0) ...fatal...
 *   struct auth_settings set;          // server/auth_glue.h fills it
 *   pid_t helper;
 *   if (auth_server_spawn(&set, sfd, &helper, &error) < 0) retry later
 *   // fork workers: each closes sfd and calls auth_client_new(loop, cfd)
 *   // on SIGCHLD for `helper`: auth_server_spawn() again (same sfd).
 *   // on SIGHUP: kill(helper, SIGTERM), reap it, spawn with new settings.
 *
 * While the helper is down, workers' requests wait for the next helper for
 * up to AUTH_CLIENT_CONNECT_GRACE seconds, then fail with TEMPFAIL (see
 * auth_client.h); nothing crashes.
 */
#ifndef MERPATI_AUTH_SERVER_H
#define MERPATI_AUTH_SERVER_H

#include "auth/auth.h"

#include <sys/types.h>

struct ev_loop;
struct auth_server;

/*
 * Creates the channel: *client_fd_r for workers (send only), *server_fd_r
 * for helpers (receive only), both close-on-exec. Returns 0, or -1 with a
 * reason (static storage).
 */
int auth_server_channel(int *client_fd_r, int *server_fd_r,
			const char **error_r);

/*
 * Forks a helper serving the channel's server end channel_fd (the caller
 * keeps its descriptor for later helpers). The child resets its signal
 * handlers and mask (SIGHUP and SIGINT ignored: the master decides when it
 * stops), asks to be killed when the parent dies, runs its own fresh libev
 * loop (ev_loop_new: the parent's default loop is never touched) and
 * _exit()s; it never returns. Settings errors (e.g. an unknown backend)
 * are found before the fork and returned. Returns 0 with the helper's pid,
 * or -1 with a reason (static storage).
 */
int auth_server_spawn(const struct auth_settings *set, int channel_fd,
		      pid_t *pid_r, const char **error_r);

/*
 * In-process server on loop, serving the channel's server end channel_fd
 * (taken over: closed by auth_server_free()): what the helper runs,
 * exposed for tests. Returns NULL with a reason.
 */
struct auth_server *auth_server_new(struct ev_loop *loop,
				    const struct auth_settings *set,
				    int channel_fd, const char **error_r);
void auth_server_free(struct auth_server **server);

#endif
