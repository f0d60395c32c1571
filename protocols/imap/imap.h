/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap: the IMAP front-end (RFC 3501, RFC 9051).
 *
 * The server creates one context per worker process from the settings and
 * hands it to every IMAP listener; each connection then runs a session
 * through imap_conn_handler.
 */
#ifndef MERPATI_IMAP_H
#define MERPATI_IMAP_H

#include "auth/auth.h"
#include "server/conn.h"

#include <stdbool.h>
#include <stdint.h>

/* Longest command line accepted (RFC 7162 3.2.6 asks for at least 8192). */
#define IMAP_LINE_MAX 65536

struct auth_client;

/* Special-use folders made at first login (RFC 6154), in this order:
   \Sent \Drafts \Trash \Junk \Archive. */
#define IMAP_SPECIAL_FOLDERS 5

struct imap_settings {
	/* seconds idle after login (>= 30 min, RFC 3501 5.4) */
	unsigned timeout;
	enum auth_plaintext plaintext; /* where LOGIN/PLAIN are allowed */
	struct auth_client *auth;      /* the worker's auth client (borrowed) */
	unsigned max_failures;	       /* failed logins before hanging up */
	/* auth.allow_protocols leaves IMAP out (login_settings) */
	bool login_denied_by_default;
	bool fsync; /* mail.fsync, for the storage layer */
	/* largest APPEND literal (APPENDLIMIT); 0: the parser's default */
	uint64_t append_max;
	bool compress; /* offer COMPRESS=DEFLATE after login */
	/* folder names (UTF-8, '/') per IMAP_SPECIAL_FOLDERS; NULL or "":
	   none. Copied by imap_context_new(). */
	const char *special_folders[IMAP_SPECIAL_FOLDERS];
	uint64_t quota_bytes; /* mail.quota: the default limit, 0 none */
};

struct imap_context;

/* A context holding a copy of the settings. */
struct imap_context *imap_context_new(const struct imap_settings *set);

/* Frees the context; takes NULL, leaves NULL. */
void imap_context_free(struct imap_context **ctx);

/* The connection handler for IMAP listeners; ctx is an imap_context. */
extern const struct conn_handler imap_conn_handler;

#endif
