/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * login: the login exchange both front-ends share (IMAP LOGIN and
 * AUTHENTICATE, POP3 USER/PASS and AUTH): one request to the auth client
 * at a time, the SASL challenge/response loop, the failure count that ends
 * a connection, and the mapping of an error class to each protocol's reply
 * code. It knows no protocol syntax: the front-end writes every reply from
 * the callbacks.
 *
 *   struct login *l = login_new(conn, &set, &callbacks, session);
 *   login_verify(l, user, password);      // or login_sasl_start(l, mech, ir)
 *   // input is paused until a callback fires (on the loop, never inside
 *   // the call that started the request):
 *   //   challenge(ctx, b64): write "+ " b64; pass the client's next line
 *   //                         to login_sasl_continue() (or "*": cancel)
 *   //   success(ctx, reply): open the user's store; the connection is
 *   //                         already counted for the user (conn_claim_user:
 *   //                         over the cap, failure(LIMIT) comes instead)
 *   //   failure(ctx, error, reason): reply with login_code(proto, error)
 *   //                         (DENIED: right credentials, but the user's
 *   //                         allow_protocols= or the default leaves the
 *   //                         protocol out; not counted as a failure)
 *   //   hangup(ctx): the failure was the max_failures'th: say goodbye and
 *   //                close (called right after failure())
 *   login_free(&l);                        // cancels a request in flight
 */
#ifndef MERPATI_LOGIN_H
#define MERPATI_LOGIN_H

#include "auth/auth_client.h"
#include "lib/str.h"
#include "server/conn.h"

#include <stdbool.h>

enum login_protocol {
	LOGIN_PROTOCOL_IMAP,
	LOGIN_PROTOCOL_POP3,
};

struct login_settings {
	enum login_protocol protocol;
	struct auth_client *auth; /* the worker's auth client (borrowed) */
	/* failed logins (FAIL: refused or malformed) before hangup();
	   0: never hang up (the helper's penalty still slows guessing) */
	unsigned max_failures;
	/* auth.allow_protocols leaves this protocol out: only users whose
	   userdb entry lists it (allow_protocols=) may log in */
	bool denied_by_default;
};

struct login_callbacks {
	void (*challenge)(void *context, const char *challenge);
	/* reply->user, ->mail_root, ->overrides: valid during the call */
	void (*success)(void *context, const struct auth_client_reply *reply);
	/* reason: short, safe for the client */
	void (*failure)(void *context, enum auth_client_error error,
			const char *reason);
	void (*hangup)(void *context);
};

struct login;

/* A login state for conn (borrowed; the login must be freed first). */
struct login *login_new(struct conn *conn, const struct login_settings *set,
			const struct login_callbacks *callbacks, void *context);

/* Cancels a request in flight (no callback) and frees. Takes NULL, leaves
   NULL. */
void login_free(struct login **login);

/* Starts a plain password check; pauses input until a callback. */
void login_verify(struct login *login, const char *user, const char *password);

/* Starts a SASL exchange (mech as the client sent it, any case; ir: the
   base64 initial response as sent, "=" for an empty one, or NULL). */
void login_sasl_start(struct login *login, const char *mech, const char *ir);

/* The client's response (base64 text, no line end) to a challenge. */
void login_sasl_continue(struct login *login, const char *response);

/* Forgets the request in flight, if any (no callback fires for it). */
void login_cancel(struct login *login);

/* True between a start and its final callback. */
bool login_is_busy(const struct login *login);

/* True between a challenge() and the next login_sasl_continue(). */
bool login_wants_response(const struct login *login);

/* The mechanism of the current or last exchange, upper case ("LOGIN-CMD"
   for a plain check: IMAP LOGIN, POP3 USER/PASS), for logs. */
const char *login_mech(const struct login *login);

/*
 * Walks a space-separated mechanism list (auth_client_mechanisms()):
 * *pos starts at the list and moves on; returns false at the end.
 */
bool login_mech_next(const char **pos, struct strv *mech_r);

/* True when mech (any case) is one auth offers to some connection. */
bool login_mech_offered(struct auth_client *auth, const char *mech);

/*
 * Whether a comma-separated protocol list (a userdb's allow_protocols=
 * value, auth.allow_protocols) names the protocol ("imap", "pop3", any
 * case). Unknown names are ignored; an empty list names none.
 */
bool login_protocol_listed(const char *list, enum login_protocol protocol);

/* The reply for an error class: status ("NO", "BAD", "-ERR") and response
   code without brackets ("AUTHENTICATIONFAILED", "SYS/TEMP"), or NULL for
   none. RFC 5530 (IMAP), RFC 2449 and 3206 (POP3); doc/auth.md. */
struct login_code {
	const char *status;
	const char *code;
};

struct login_code login_code(enum login_protocol protocol,
			     enum auth_client_error error);

#endif
