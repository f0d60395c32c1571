/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/login/login.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct login {
	struct conn *conn;
	struct login_settings set;
	struct login_callbacks cb;
	void *context;
	struct auth_client_request *req; /* in flight, or NULL */
	bool wants_response;		 /* a challenge was sent */
	unsigned failures;		 /* FAIL replies on this connection */
	char mech[32];
};

struct login *login_new(struct conn *conn, const struct login_settings *set,
			const struct login_callbacks *callbacks, void *context)
{
	struct login *l = xcalloc(1, sizeof(*l));

	l->conn = conn;
	l->set = *set;
	l->cb = *callbacks;
	l->context = context;
	return l;
}

void login_cancel(struct login *login)
{
	auth_client_request_cancel(&login->req);
	login->wants_response = false;
}

void login_free(struct login **login)
{
	if (*login == NULL)
		return;
	login_cancel(*login);
	free(*login);
	*login = NULL;
}

bool login_is_busy(const struct login *login)
{
	return login->req != NULL;
}

bool login_wants_response(const struct login *login)
{
	return login->wants_response;
}

const char *login_mech(const struct login *login)
{
	return login->mech;
}

bool login_mech_next(const char **pos, struct strv *mech_r)
{
	const char *p = *pos;

	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*pos = p;
		return false;
	}
	mech_r->p = p;
	mech_r->len = strcspn(p, " ");
	*pos = p + mech_r->len;
	return true;
}

bool login_mech_offered(struct auth_client *auth, const char *mech)
{
	const char *pos = auth_client_mechanisms(auth, true);
	struct strv m;

	/* RFC 4422 3.1: mechanism names are compared case-insensitively */
	while (login_mech_next(&pos, &m)) {
		if (strv_eq_cstr_ci(m, mech))
			return true;
	}
	return false;
}

static const char *login_service(const struct login *l)
{
	return l->set.protocol == LOGIN_PROTOCOL_IMAP ? "imap" : "pop3";
}

static void login_failed(struct login *l, const struct auth_client_reply *r)
{
	enum auth_client_error e = r->error;
	const char *reason = r->reason != NULL && r->reason[0] != '\0'
				     ? r->reason
				     : "Authentication failed";

	if (e == AUTH_CLIENT_ERROR_NONE)
		e = r->status == AUTH_CLIENT_TEMPFAIL
			    ? AUTH_CLIENT_ERROR_TEMP
			    : AUTH_CLIENT_ERROR_REFUSED;
	conn_log_info(l->conn, "event=%s mech=%s reason=%s",
		      e == AUTH_CLIENT_ERROR_TEMP ? "login_tempfail"
						  : "login_failed",
		      log_q(l->mech), log_q(reason));
	l->cb.failure(l->context, e, reason);
	/* an outage says nothing about the client: not counted */
	if (e == AUTH_CLIENT_ERROR_TEMP || l->set.max_failures == 0)
		return;
	if (++l->failures >= l->set.max_failures)
		l->cb.hangup(l->context);
}

bool login_protocol_listed(const char *list, enum login_protocol protocol)
{
	const char *name = protocol == LOGIN_PROTOCOL_IMAP ? "imap" : "pop3";
	size_t name_len = strlen(name);

	while (*list != '\0') {
		size_t len;

		list += strspn(list, ", \t");
		len = strcspn(list, ", \t");
		if (len == name_len && strncasecmp(list, name, len) == 0)
			return true;
		list += len;
	}
	return false;
}

/* The userdb's allow_protocols= (userdb_ prefix already taken off by the
   backend), else the server default. */
static bool login_protocol_allowed(const struct login *l,
				   const char *const *overrides)
{
	static const char key[] = "allow_protocols=";

	for (; overrides != NULL && *overrides != NULL; overrides++) {
		if (strncmp(*overrides, key, sizeof(key) - 1) == 0)
			return login_protocol_listed(
				*overrides + sizeof(key) - 1, l->set.protocol);
	}
	return !l->set.denied_by_default;
}

/* The credentials are right; the user's protocol access, then the
   per-user-per-address cap have the last word (neither is a failed login:
   not counted towards max_failures). */
static void login_succeeded(struct login *l, const struct auth_client_reply *r)
{
	if (!login_protocol_allowed(l, r->overrides)) {
		conn_log_info(l->conn,
			      "event=login_denied user=%s protocol=%s mech=%s "
			      "reason=\"protocol not allowed\"",
			      log_q(r->user), log_q(login_service(l)),
			      log_q(l->mech));
		l->cb.failure(l->context, AUTH_CLIENT_ERROR_DENIED,
			      l->set.protocol == LOGIN_PROTOCOL_IMAP
				      ? "IMAP access is not allowed for this "
					"account"
				      : "POP3 access is not allowed for this "
					"account");
		return;
	}
	if (conn_claim_user(l->conn, r->user) < 0) {
		conn_log_info(l->conn,
			      "event=login_refused mech=%s user=%s "
			      "reason=\"too many connections for this user "
			      "from this address\"",
			      log_q(l->mech), log_q(r->user));
		l->cb.failure(l->context, AUTH_CLIENT_ERROR_LIMIT,
			      "Too many connections for this user from this "
			      "address");
		return;
	}
	l->cb.success(l->context, r);
}

static void login_cb(const struct auth_client_reply *r, void *context)
{
	struct login *l = context;

	conn_pause_input(l->conn, false);
	if (r->status == AUTH_CLIENT_CONTINUE) {
		l->wants_response = true;
		l->cb.challenge(l->context, r->challenge);
		return;
	}
	l->req = NULL;
	l->wants_response = false;
	if (r->status == AUTH_CLIENT_OK) {
		login_succeeded(l, r);
		return;
	}
	login_failed(l, r);
}

static struct auth_client_info login_info(const struct login *l)
{
	return (struct auth_client_info){
		.service = login_service(l),
		.ip = conn_peer_ip(l->conn),
		.secured = conn_is_tls(l->conn),
	};
}

void login_verify(struct login *login, const char *user, const char *password)
{
	struct auth_client_info info = login_info(login);

	login_cancel(login);
	snprintf(login->mech, sizeof(login->mech), "LOGIN-CMD");
	login->req = auth_client_verify(login->set.auth, &info, user, password,
					login_cb, login);
	conn_pause_input(login->conn, true);
}

void login_sasl_start(struct login *login, const char *mech, const char *ir)
{
	struct auth_client_info info = login_info(login);

	login_cancel(login);
	snprintf(login->mech, sizeof(login->mech), "%s", mech);
	for (char *c = login->mech; *c != '\0'; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	login->req = auth_client_sasl_start(login->set.auth, &info, login->mech,
					    ir, login_cb, login);
	conn_pause_input(login->conn, true);
}

void login_sasl_continue(struct login *login, const char *response)
{
	login->wants_response = false;
	if (login->req == NULL)
		return;
	auth_client_sasl_continue(login->req, response);
	conn_pause_input(login->conn, true);
}

struct login_code login_code(enum login_protocol protocol,
			     enum auth_client_error error)
{
	bool imap = protocol == LOGIN_PROTOCOL_IMAP;

	switch (error) {
	case AUTH_CLIENT_ERROR_MALFORMED:
		/* RFC 3501 6.2.2: a malformed exchange (bad base64, "*")
		   is BAD; POP3 has only -ERR (RFC 5034 4) */
		return (struct login_code){imap ? "BAD" : "-ERR", NULL};
	case AUTH_CLIENT_ERROR_TEMP:
		/* RFC 5530 3, RFC 3206 4 */
		return (struct login_code){imap ? "NO" : "-ERR",
					   imap ? "UNAVAILABLE" : "SYS/TEMP"};
	case AUTH_CLIENT_ERROR_PRIVACY:
		/* RFC 5530 3; POP3 has no privacy code: [AUTH] (RFC 3206) */
		return (struct login_code){imap ? "NO" : "-ERR",
					   imap ? "PRIVACYREQUIRED" : "AUTH"};
	case AUTH_CLIENT_ERROR_LIMIT:
		/* RFC 5530 3 LIMIT; RFC 2449 8.1.1 IN-USE: the maildrop
		   is busy, the credentials were right */
		return (struct login_code){imap ? "NO" : "-ERR",
					   imap ? "LIMIT" : "IN-USE"};
	case AUTH_CLIENT_ERROR_DENIED:
		/* RFC 5530 3: authenticated, but not allowed in; RFC 3206
		   5: [AUTH] covers any refusal of the credentials */
		return (struct login_code){imap ? "NO" : "-ERR",
					   imap ? "AUTHORIZATIONFAILED"
						: "AUTH"};
	case AUTH_CLIENT_ERROR_NONE:
	case AUTH_CLIENT_ERROR_REFUSED:
		break;
	}
	/* RFC 5530 3, RFC 3206 5 */
	return (struct login_code){imap ? "NO" : "-ERR",
				   imap ? "AUTHENTICATIONFAILED" : "AUTH"};
}
