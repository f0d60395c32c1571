/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conn_server: the server's side of connections (listeners and the worker
 * create them and stop them; front-ends use conn.h only).
 */
#ifndef MERPATI_CONN_SERVER_H
#define MERPATI_CONN_SERVER_H

#include "server/conn.h"
#include "server/tls.h"

#include <stdbool.h>
#include <sys/socket.h>

/*
 * Takes over the accepted socket fd and starts serving it with handler.
 * creds may be NULL (no TLS at all); with implicit_tls the TLS handshake
 * runs first. handler_ctx goes to handler->open(). peer is the client
 * address. The connection frees itself when it closes.
 */
struct conn *conn_new(struct ev_loop *loop, int fd,
		      const struct sockaddr_storage *peer,
		      const struct conn_handler *handler, void *handler_ctx,
		      struct tls_creds *creds, bool implicit_tls,
		      const struct conn_limits *limits);

/* Says goodbye to every connection (handler->bye(why)) and closes them. */
void conn_close_all(enum conn_bye why);

/* Calls hook with the peer IP (as at accept, conn_format_addr()) each time
   a connection is freed; NULL for none. */
void conn_set_free_hook(void (*hook)(const char *ip));

/* conn_claim_user() asks claim (0: counted, 1: allowed without a count,
   -1: over the limit); unclaim gives a counted claim back
   (conn_unclaim_user(), or at free before the free hook). NULL for none:
   every claim succeeds. */
void conn_set_claim_hooks(int (*claim)(const char *user, const char *ip),
			  void (*unclaim)(const char *user, const char *ip));

/* Open connections in this process, in total and from one peer IP. */
unsigned conn_count(void);
unsigned conn_count_from_ip(const char *ip);

/* Formats a socket address as "ip" and port. */
void conn_format_addr(const struct sockaddr_storage *ss, char *ip,
		      size_t ip_size, unsigned *port_r);

#endif
