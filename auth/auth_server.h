/*
 * auth_server: the privilege-separated auth helper process.
 *
 * Only this process reads password databases and runs PAM or checkpassword
 * programs; it stays root (so pam_unix can read /etc/shadow) and does
 * nothing else. The serving processes talk to it through auth_client.h over
 * an abstract unix socket ("\0<socket_name>"); it accepts only peers whose
 * uid (SO_PEERCRED) is 0 or settings.peer_uid. It runs auth.h on its own
 * libev loop with a worker pool for hashing and PAM, runs SASL exchanges
 * (auth_sasl.h) and applies the per-IP failure penalty (auth_penalty.h) on
 * timers.
 *
 * How the master uses it:
 *
 *   struct auth_settings set;          // server/auth_glue.h fills it
 *   pid_t helper;
 *   if (auth_server_spawn(&set, &helper, &error) < 0) ...fatal...
 *   // fork workers now: they call auth_client_new(loop, set.socket_name)
 *   // on SIGCHLD for `helper`: call auth_server_spawn() again (same name).
 *   // on SIGHUP: kill(helper, SIGTERM), reap it, spawn with new settings.
 *
 * While the helper is down, workers' requests fail with TEMPFAIL (after a
 * short reconnect grace period, see auth_client.h); nothing crashes.
 */
#ifndef MERPATI_AUTH_SERVER_H
#define MERPATI_AUTH_SERVER_H

#include "auth/auth.h"

#include <sys/types.h>

struct ev_loop;
struct auth_server;

/*
 * Binds and listens on the socket, then forks the helper. The child resets
 * its signal handlers and mask, asks to be killed when the parent dies,
 * runs its own fresh libev loop (ev_loop_new: the parent's default loop is
 * never touched) and _exit()s; it never returns. The parent closes its
 * copy of the socket and returns once the socket is listening, so workers
 * started right after can connect (their connections wait in the backlog
 * until the helper accepts). If the name is still taken (an old helper not
 * yet gone) the bind is retried for up to 3 seconds. Backend set-up errors
 * (e.g. an unknown backend) are found before the fork and returned.
 * Returns 0 with the helper's pid, or -1 with a reason (static storage).
 */
int auth_server_spawn(const struct auth_settings *set, pid_t *pid_r,
		      const char **error_r);

/* Creates the listening socket for name. Returns the fd or -1. */
int auth_server_listen(const char *socket_name, const char **error_r);

/*
 * In-process server on loop, serving listen_fd (taken over): what the
 * helper runs, exposed for tests. Returns NULL with a reason.
 */
struct auth_server *auth_server_new(struct ev_loop *loop,
				    const struct auth_settings *set,
				    int listen_fd, const char **error_r);
void auth_server_free(struct auth_server **server);

/* "merpati-auth-<pid>": the socket name the master should use. Static. */
const char *auth_server_default_socket_name(void);

#endif
