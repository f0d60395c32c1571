/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * worker: one serving process.
 *
 * Forked by the master with the listening sockets open. It loads the TLS
 * credentials (still root), drops to server.user, then serves every
 * connection on one libev loop until told to stop:
 *   SIGTERM/SIGINT  say BYE to every client and exit 0 within seconds;
 *   SIGQUIT         stop accepting (a newer worker took over after a
 *                   reload) and exit once the last connection closed.
 */
#ifndef MERPATI_WORKER_H
#define MERPATI_WORKER_H

#include "server/config.h"
#include "server/ipcount.h"
#include "server/listener.h"

#include <sys/types.h>

struct worker_params {
	const struct config *config;
	const struct listener_set *listeners;
	int auth_channel; /* the auth channel's client end (auth_server.h) */
	struct ipcount *ipcount; /* connections per address, all workers */
	int ipcount_column;	 /* this worker's column (ipcount.h), or -1 */
	unsigned index;		 /* 0..workers-1, for logs */
	pid_t master;		 /* the master's pid (worker_main() exits
				    at once when it is no longer the parent) */
};

/* Runs the worker; never returns (exits the process). */
void worker_main(const struct worker_params *params) __attribute__((noreturn));

#endif
