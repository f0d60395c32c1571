/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_client: how a serving process (an IMAP or POP3 worker) logs users
 * in. It talks to the auth helper (auth_server.h) over a connection it
 * hands down the master's channel, and never blocks its loop: every request
 * answers through a callback on the loop, never from inside the call that
 * started it.
 *
 * One client per worker process, created after the worker dropped root,
 * on the channel's client end inherited from the master:
 *
 *   struct auth_client *ac = auth_client_new(loop, channel_fd);
 *
 * Plain passwords (IMAP LOGIN, POP3 USER + PASS):
 *
 *   if (!auth_plaintext_allowed(policy, conn_is_tls(c), conn_is_loopback(c)))
 *           refuse with AUTH_PLAINTEXT_REFUSED;
 *   struct auth_client_info info = {"pop3", conn_peer_ip(c), conn_is_tls(c)};
 *   s->auth_req = auth_client_verify(ac, &info, user, pass, login_cb, s);
 *   conn_pause_input(c, true);
 *
 *   static void login_cb(const struct auth_client_reply *r, void *ctx)
 *   {       s->auth_req = NULL;     // the handle is gone after a final reply
 *           conn_pause_input(c, false);
 *           switch (r->status) {
 *           case AUTH_CLIENT_OK:       // r->user, r->mail_root: log in
 *           case AUTH_CLIENT_FAIL:     // "-ERR [AUTH] " r->reason; count it
 *           case AUTH_CLIENT_TEMPFAIL: // "-ERR [SYS/TEMP] " r->reason
 *           } }
 *
 * SASL (IMAP AUTHENTICATE, POP3 AUTH), with or without an initial response:
 *
 *   if (auth_client_mech_is_plaintext(mech) && !plaintext allowed) refuse;
 *   s->auth_req = auth_client_sasl_start(ac, &info, mech, ir_or_NULL, cb, s);
 *   cb: CONTINUE -> write "+ " r->challenge CRLF (IMAP) / "+ " ... (POP3),
 *       read the client's line; if it is "*": auth_client_request_cancel()
 *       and answer BAD / -ERR "Authentication cancelled"; otherwise
 *       auth_client_sasl_continue(s->auth_req, line).
 *       OK / FAIL / TEMPFAIL as above; r->error gives the class (a
 *       malformed exchange, a refusal, an outage) for the reply code.
 *
 * When the connection closes mid-request: auth_client_request_cancel(&req);
 * the callback then never fires. The front-ends do all this through the
 * shared login module (protocols/login/login.h), which also counts FAIL
 * replies and hangs up after auth.max_failures of them.
 *
 * If the helper dies, requests in flight get TEMPFAIL; the next request
 * reconnects: its connection waits in the channel for the helper the master
 * starts next, for up to AUTH_CLIENT_CONNECT_GRACE seconds, then TEMPFAIL.
 * A connection whose first bytes do not come from the channel maker's uid
 * (root) is dropped.
 */
#ifndef MERPATI_AUTH_CLIENT_H
#define MERPATI_AUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct ev_loop;
struct auth_client;
struct auth_client_request;

/* Seconds to wait for a (restarting) helper to answer. */
#define AUTH_CLIENT_CONNECT_GRACE 5.0
/* Seconds after which an unanswered request is a TEMPFAIL. */
#define AUTH_CLIENT_REQUEST_TIMEOUT 120.0

enum auth_client_status {
	AUTH_CLIENT_OK,
	AUTH_CLIENT_FAIL,     /* wrong credentials, or a bad SASL exchange */
	AUTH_CLIENT_TEMPFAIL, /* the helper or a backend is unavailable */
	AUTH_CLIENT_CONTINUE, /* SASL: send the challenge, wait for a reply */
};

/*
 * Why a login did not succeed, for the reply code (protocols/login/login.h
 * maps each class to IMAP's and POP3's): never found by reading the reason
 * text. The helper sends the class with each FAIL and TEMPFAIL.
 */
enum auth_client_error {
	AUTH_CLIENT_ERROR_NONE,	     /* OK, CONTINUE */
	AUTH_CLIENT_ERROR_MALFORMED, /* FAIL: the client broke the exchange
					(invalid base64, "*" cancel) */
	AUTH_CLIENT_ERROR_REFUSED,   /* FAIL: wrong credentials, unknown user
					or mechanism */
	AUTH_CLIENT_ERROR_TEMP,	     /* TEMPFAIL: helper or backend outage */
	AUTH_CLIENT_ERROR_PRIVACY,   /* never from the helper: a front-end
					refused plaintext without TLS */
	AUTH_CLIENT_ERROR_LIMIT,     /* never from the helper: too many
					connections for the user from the
					address */
	AUTH_CLIENT_ERROR_DENIED,    /* never from the helper: the user may
					not use this protocol (login.h) */
};

struct auth_client_reply {
	enum auth_client_status status;
	enum auth_client_error error; /* FAIL/TEMPFAIL: the class */
	const char *user;	      /* OK: the canonical user name */
	const char *mail_root;	      /* OK: the user's Maildir root */
	const char *const *overrides; /* OK: "key=value" per-user settings,
					 NULL-terminated (never NULL) */
	const char *challenge; /* CONTINUE: base64 ("" for an empty one) */
	const char *reason;    /* FAIL/TEMPFAIL: short, safe for clients */
};

/* Everything in the reply is valid only during the callback. */

typedef void auth_client_callback(const struct auth_client_reply *reply,
				  void *context);

/* Who is asking (logs and the helper's per-IP penalty). */
struct auth_client_info {
	const char *service; /* "imap" or "pop3" */
	const char *ip;	     /* conn_peer_ip() */
	bool secured;	     /* TLS (for the log) */
};

/*
 * A client on the channel's client end channel_fd (auth_server_channel();
 * borrowed: keep it open while the client lives). The channel's maker
 * (SO_PEERCRED) must be root or our own uid, else every request fails
 * with TEMPFAIL and the reason is logged. Connects at once and again
 * when needed; never fails.
 */
struct auth_client *auth_client_new(struct ev_loop *loop, int channel_fd);

/* Frees the client; pending requests are dropped without callbacks. Not
   from inside one of its callbacks. Takes NULL, leaves NULL. */
void auth_client_free(struct auth_client **client);

/*
 * Checks user + password (user is validated by the helper: names with
 * control bytes, '/', ".." or over 255 bytes FAIL). Never NULL. The handle
 * stays valid until a final (non-CONTINUE) callback returned or it is
 * cancelled.
 */
struct auth_client_request *
auth_client_verify(struct auth_client *client,
		   const struct auth_client_info *info, const char *user,
		   const char *password, auth_client_callback *callback,
		   void *context);

/*
 * Starts a SASL exchange with mech ("PLAIN", "LOGIN", "SCRAM-SHA-256";
 * case-insensitive). initial_response is the client's base64 text as sent
 * (SASL-IR, "=" for an empty one) or NULL for none.
 */
struct auth_client_request *
auth_client_sasl_start(struct auth_client *client,
		       const struct auth_client_info *info, const char *mech,
		       const char *initial_response,
		       auth_client_callback *callback, void *context);

/*
 * Looks user up in the userdb without a password (LMTP's RCPT TO): OK
 * with r->user, r->mail_root and r->overrides; FAIL (REFUSED) for an
 * unknown user; TEMPFAIL for an outage or a chain that cannot look users
 * up (checkpassword, PAM). No failure penalty applies. Never NULL.
 */
struct auth_client_request *auth_client_userdb(struct auth_client *client,
					       const char *service,
					       const char *user,
					       auth_client_callback *callback,
					       void *context);

/* Sends the client's next response (base64 text as received, without the
   line end) after a CONTINUE. */
void auth_client_sasl_continue(struct auth_client_request *request,
			       const char *response);

/* Forgets a request: its callback never fires. Takes NULL, leaves NULL. */
void auth_client_request_cancel(struct auth_client_request **request);

/*
 * The SASL mechanisms to advertise (IMAP "AUTH=" items, POP3 "SASL" line),
 * space-separated: PLAIN and LOGIN only when plaintext_allowed. Valid until
 * the next call.
 */
const char *auth_client_mechanisms(struct auth_client *client,
				   bool plaintext_allowed);

/* True for mechanisms that carry the password in the clear (PLAIN, LOGIN):
   subject to auth.plaintext. */
bool auth_client_mech_is_plaintext(const char *mech);

/* True when connected to the helper (tests). */
bool auth_client_is_connected(const struct auth_client *client);

#endif
