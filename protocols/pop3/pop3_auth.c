/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3_private.h"

#include "auth/auth.h"
#include "auth/auth_client.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "storage/mail_user.h"

#include <stdlib.h>
#include <string.h>

/* The password (or SASL data) is no longer needed in the input buffer. */
static void pop3_wipe(struct strv v)
{
	explicit_bzero((char *)v.p, v.len);
}

/* A refusal through the shared mapping (login.h): -ERR [CODE] reason. */
static void pop3_auth_refuse(struct pop3_session *s, enum auth_client_error e,
			     const char *reason)
{
	struct login_code c = login_code(LOGIN_PROTOCOL_POP3, e);

	if (c.code != NULL)
		pop3_reply(s, c.status, "[%s] %s", c.code, reason);
	else
		pop3_reply(s, c.status, "%s", reason);
}

static void pop3_login_challenge(void *context, const char *challenge)
{
	struct pop3_session *s = context;

	/* RFC 5034 4: "+" SP base64 challenge */
	pop3_reply(s, "+", "%s", challenge);
}

static void pop3_login_success(void *context, const struct auth_client_reply *r)
{
	struct pop3_session *s = context;
	struct mail_user u = {r->user, r->mail_root, r->overrides};

	(void)pop3_maildrop_open(s, &u);
}

static void pop3_login_failure(void *context, enum auth_client_error e,
			       const char *reason)
{
	pop3_auth_refuse(context, e, reason);
}

static void pop3_login_hangup(void *context)
{
	struct pop3_session *s = context;

	conn_close(s->conn, "too many failed logins");
}

struct login *pop3_auth_login_new(struct pop3_session *s)
{
	static const struct login_callbacks cb = {
		.challenge = pop3_login_challenge,
		.success = pop3_login_success,
		.failure = pop3_login_failure,
		.hangup = pop3_login_hangup,
	};
	struct login_settings set = {
		.protocol = LOGIN_PROTOCOL_POP3,
		.auth = s->ctx->set.auth,
		.max_failures = s->ctx->set.max_failures,
		.denied_by_default = s->ctx->set.login_denied_by_default,
	};

	return login_new(s->conn, &set, &cb, s);
}

static bool pop3_auth_available(struct pop3_session *s)
{
	if (s->ctx->set.auth != NULL)
		return true;
	pop3_auth_refuse(s, AUTH_CLIENT_ERROR_TEMP,
			 "Authentication is not available");
	return false;
}

bool pop3_cmd_user(struct pop3_session *s, struct strv args)
{
	if (!pop3_plaintext_allowed(s)) {
		pop3_auth_refuse(s, AUTH_CLIENT_ERROR_PRIVACY,
				 AUTH_PLAINTEXT_REFUSED);
		return true;
	}
	if (args.len == 0 || args.len > AUTH_USER_NAME_MAX ||
	    strv_has_ctl(args)) {
		pop3_reply(s, "-ERR", "Invalid user name");
		return true;
	}
	free(s->user);
	s->user = xstrndup(args.p, args.len);
	conn_write_str(s->conn, "+OK\r\n");
	return true;
}

bool pop3_cmd_pass(struct pop3_session *s, struct strv args)
{
	char *password;

	if (s->user == NULL) {
		pop3_wipe(args);
		pop3_reply(s, "-ERR", "No user name given, use USER first");
		return true;
	}
	if (!pop3_plaintext_allowed(s)) {
		pop3_wipe(args);
		pop3_auth_refuse(s, AUTH_CLIENT_ERROR_PRIVACY,
				 AUTH_PLAINTEXT_REFUSED);
		return true;
	}
	if (!pop3_auth_available(s))
		return true;
	/* RFC 1939 7: PASS has one argument, spaces belong to it */
	password = xstrndup(args.p, args.len);
	pop3_wipe(args);
	login_verify(s->login, s->user, password);
	xfree_secret(password, strlen(password));
	free(s->user);
	s->user = NULL;
	return false;
}

/* "AUTH" alone lists the mechanisms: not in RFC 5034, but older Outlook
   versions and others ask this way (the RFC 1734 era). */
static void pop3_auth_list(struct pop3_session *s)
{
	const char *pos = auth_client_mechanisms(s->ctx->set.auth,
						 pop3_plaintext_allowed(s));
	struct strv m;

	conn_write_str(s->conn, "+OK\r\n");
	while (login_mech_next(&pos, &m))
		conn_printf(s->conn, "%.*s\r\n", (int)m.len, m.p);
	conn_write_str(s->conn, ".\r\n");
}

bool pop3_cmd_auth(struct pop3_session *s, struct strv args)
{
	struct strv mech_v;
	char *mech, *ir = NULL;

	if (!pop3_auth_available(s))
		return true;
	if (args.len == 0) {
		pop3_auth_list(s);
		return true;
	}
	(void)strv_next_token(&args, &mech_v);
	if (mech_v.len == 0 || mech_v.len > 64 || strv_has_ctl(mech_v)) {
		pop3_reply(s, "-ERR", "Invalid mechanism name");
		return true;
	}
	mech = xstrndup(mech_v.p, mech_v.len);
	if (!login_mech_offered(s->ctx->set.auth, mech)) {
		pop3_reply(s, "-ERR", "Unsupported authentication mechanism");
		free(mech);
		return true;
	}
	if (auth_client_mech_is_plaintext(mech) && !pop3_plaintext_allowed(s)) {
		pop3_wipe(args);
		pop3_auth_refuse(s, AUTH_CLIENT_ERROR_PRIVACY,
				 AUTH_PLAINTEXT_REFUSED);
		free(mech);
		return true;
	}
	/* RFC 5034 4: an initial response, "=" for an empty one */
	if (args.len > 0) {
		ir = xstrndup(args.p, args.len);
		pop3_wipe(args);
	}
	login_sasl_start(s->login, mech, ir);
	if (ir != NULL)
		xfree_secret(ir, strlen(ir));
	free(mech);
	return false;
}

bool pop3_sasl_line(struct pop3_session *s, struct strv line)
{
	char *resp;

	/* RFC 5034 4: "*" cancels the exchange */
	if (line.len == 1 && line.p[0] == '*') {
		login_cancel(s->login);
		pop3_auth_refuse(s, AUTH_CLIENT_ERROR_MALFORMED,
				 "Authentication cancelled");
		return true;
	}
	resp = xstrndup(line.p, line.len);
	pop3_wipe(line);
	login_sasl_continue(s->login, resp);
	xfree_secret(resp, strlen(resp));
	return false;
}

bool pop3_cmd_apop(struct pop3_session *s, struct strv args)
{
	pop3_wipe(args);
	/* RFC 1939 7: APOP needs the shared secret in the clear on the
	   server; the auth helper only verifies, so it is not offered */
	pop3_auth_refuse(s, AUTH_CLIENT_ERROR_REFUSED,
			 "APOP is not supported, use USER/PASS or AUTH");
	return true;
}
