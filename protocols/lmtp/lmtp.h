/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lmtp: the LMTP front-end (RFC 2033): how an MTA (Postfix's
 * `virtual_transport = lmtp:unix:...`) hands mail to merpatid.
 *
 * LHLO (PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SIZE), MAIL FROM, RCPT
 * TO, DATA, RSET, NOOP, QUIT. Each RCPT is looked up in the userdb through
 * the auth helper (auth_client_userdb()): 550 5.1.1 for an unknown user,
 * 451 when the lookup is not possible now. DATA is dot-unstuffed as it
 * arrives and written to a tmp/ file of every accepted recipient's INBOX
 * (never held whole in memory); after the final dot the files are
 * fsynced, renamed into new/ and given their UIDs on a storage thread,
 * and one reply per recipient follows, in RCPT order: 250, 452 4.2.2 when
 * the mailbox is over its quota (Maildir++ quota from mail.quota or the
 * userdb's quota_rule, or ENOSPC/EDQUOT; 552 5.2.2 for the quota with
 * quota_bounce), 451 for other temporary failures.
 * A client that leaves before the final dot leaves nothing behind: the
 * tmp/ files are removed.
 */
#ifndef MERPATI_LMTP_H
#define MERPATI_LMTP_H

#include "server/conn.h"

#include <stdbool.h>
#include <stdint.h>

/* Longest command line (RFC 5321 4.5.3.1.4 says 512 with the CRLF). */
#define LMTP_LINE_MAX 4096
/* Recipients of one transaction (RFC 5321 4.5.3.1.8: at least 100). */
#define LMTP_RCPT_MAX 100

struct auth_client;

struct lmtp_settings {
	struct auth_client *auth; /* the worker's auth client (borrowed) */
	bool fsync;		  /* mail.fsync */
	uint64_t max_size;	  /* lmtp.max_size: bytes of one message */
	unsigned timeout;	  /* seconds idle */
	uint64_t quota_bytes;	  /* mail.quota: the default limit, 0 none */
	bool quota_bounce; /* mail.quota_bounce: over quota is 552 5.2.2 */
};

struct lmtp_context;

/* A context holding a copy of the settings and the host name. */
struct lmtp_context *lmtp_context_new(const struct lmtp_settings *set);

/* Frees the context; takes NULL, leaves NULL. */
void lmtp_context_free(struct lmtp_context **ctx);

/* The connection handler for LMTP listeners; ctx is an lmtp_context. */
extern const struct conn_handler lmtp_conn_handler;

#endif
