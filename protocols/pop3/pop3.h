/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pop3: the POP3 front-end (RFC 1939, 2449, 2595, 5034).
 *
 * The server creates one context per worker process from the settings and
 * hands it to every POP3 listener; each connection then runs a session
 * through pop3_conn_handler.
 *
 * A session: AUTHORIZATION (USER/PASS, AUTH, STLS, CAPA) -> the auth client
 * checks the credentials -> the user's maildrop (INBOX of the mail root)
 * is locked against other POP3 sessions (pop3_lock.h), opened and its
 * message list fixed -> TRANSACTION (STAT, LIST, UIDL, TOP, RETR, DELE,
 * RSET, NOOP) -> QUIT runs UPDATE: DELE'd messages are expunged and
 * retrieved ones are handled per after_download. A connection that ends
 * any other way changes nothing. See doc/pop3.md.
 */
#ifndef MERPATI_POP3_H
#define MERPATI_POP3_H

#include "auth/auth.h"
#include "server/conn.h"

#include <stdbool.h>
#include <stdint.h>

/* Longest command line accepted. RFC 2449 allows 255 octets; AUTH lines
   with SASL initial responses (RFC 5034) can be longer. */
#define POP3_LINE_MAX 4096

struct auth_client;

/* What happens at QUIT to a message the client retrieved (RETR). */
enum pop3_after_download {
	POP3_AFTER_DOWNLOAD_DELETE, /* expunged (EXPIRE 0) */
	POP3_AFTER_DOWNLOAD_SEEN,   /* moved to cur/ with \Seen */
	POP3_AFTER_DOWNLOAD_KEEP,   /* left as it is */
};

struct pop3_settings {
	unsigned timeout; /* seconds idle after login (>= 10 min) */
	enum auth_plaintext plaintext; /* where USER/PASS, PLAIN are allowed */
	enum pop3_after_download after_download; /* pop3.after_download */
	unsigned login_delay; /* seconds between logins of a user; 0: none */
	struct auth_client *auth; /* the worker's auth client (borrowed) */
	bool fsync;		  /* mail.fsync, for the storage layer */
	unsigned max_failures; /* failed logins before hanging up; 0: never */
	/* auth.allow_protocols leaves POP3 out (login_settings) */
	bool login_denied_by_default;
	uint64_t quota_bytes; /* mail.quota: the default limit, 0 none */
};

struct pop3_context;

/* A context holding a copy of the settings. */
struct pop3_context *pop3_context_new(const struct pop3_settings *set);

/* Frees the context; takes NULL, leaves NULL. */
void pop3_context_free(struct pop3_context **ctx);

/* The connection handler for POP3 listeners; ctx is a pop3_context. */
extern const struct conn_handler pop3_conn_handler;

#endif
