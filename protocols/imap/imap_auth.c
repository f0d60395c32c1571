/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_auth.h"

#include "auth/auth.h"
#include "auth/auth_client.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap_private.h"
#include "protocols/login/login.h"
#include "storage/mail_user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct imap_auth {
	struct login *login; /* protocols/login/login.h */
};

/* A refusal through the shared mapping (login.h): NO [CODE] / BAD. */
static void refuse(struct imap_cmd *cmd, enum auth_client_error e,
		   const char *reason)
{
	struct login_code c = login_code(LOGIN_PROTOCOL_IMAP, e);

	if (c.code != NULL)
		imap_reply(cmd, c.status, "[%s] %s", c.code, reason);
	else
		imap_reply(cmd, c.status, "%s", reason);
}

/* The command is finished: process() ends it on the next call. */
static enum imap_cmd_result resume_done(struct imap_cmd *cmd)
{
	(void)cmd;
	return IMAP_CMD_DONE;
}

/* While the helper decides: read nothing. */
static enum imap_cmd_result resume_wait(struct imap_cmd *cmd)
{
	(void)cmd;
	return IMAP_CMD_PENDING;
}

/* The client's answer to a "+ challenge": a line, not a command. */
static enum imap_cmd_result sasl_line_resume(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct login *l = s->auth->login;
	struct strv line;
	char *resp;
	int ret = conn_peek_line(s->conn, IMAP_LINE_MAX, &line);

	if (ret == 0)
		return IMAP_CMD_PENDING;
	if (ret < 0) {
		conn_skip_line(s->conn);
		login_cancel(l);
		refuse(cmd, AUTH_CLIENT_ERROR_MALFORMED,
		       "SASL response too long");
		return IMAP_CMD_DONE;
	}
	if (line.len == 1 && line.p[0] == '*') {
		conn_consume_line(s->conn);
		login_cancel(l);
		refuse(cmd, AUTH_CLIENT_ERROR_MALFORMED,
		       "Authentication cancelled");
		return IMAP_CMD_DONE;
	}
	resp = xstrndup(line.p, line.len);
	explicit_bzero((char *)line.p, line.len);
	conn_consume_line(s->conn);
	cmd->resume = resume_wait;
	login_sasl_continue(l, resp);
	xfree_secret(resp, strlen(resp));
	return IMAP_CMD_PENDING;
}

static void on_challenge(void *context, const char *challenge)
{
	struct imap_session *s = context;

	/* RFC 3501 7.5: "+" SP base64; an empty challenge is "+ " */
	conn_printf(s->conn, "+ %s\r\n", challenge);
	s->cmd->resume = sasl_line_resume;
}

static void on_success(void *context, const struct auth_client_reply *r)
{
	struct imap_session *s = context;
	struct imap_cmd *cmd = s->cmd;
	const char *mech = login_mech(s->auth->login);
	struct mail_user u = {r->user, r->mail_root, r->overrides};
	const char *error = NULL;
	struct buf caps;

	cmd->resume = resume_done;
	if (imap_session_login(s, &u, &error) < 0) {
		conn_log_error(s->conn,
			       "event=login_failed reason=store mech=%s "
			       "mail_root=%s error=%s",
			       log_q(mech), log_q(r->mail_root), log_q(error));
		conn_unclaim_user(s->conn); /* not logged in after all */
		refuse(cmd, AUTH_CLIENT_ERROR_TEMP, error);
		return;
	}
	conn_log_info(s->conn, "event=login mech=%s mail_root=%s", log_q(mech),
		      log_q(s->mail_root));
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	imap_reply(cmd, "OK", "[CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

static void on_failure(void *context, enum auth_client_error e,
		       const char *reason)
{
	struct imap_session *s = context;

	s->cmd->resume = resume_done;
	refuse(s->cmd, e, reason);
}

static void on_hangup(void *context)
{
	struct imap_session *s = context;

	conn_write_str(s->conn, "* BYE Too many failed logins\r\n");
	s->stop_reading = true;
	conn_close(s->conn, "too many failed logins");
}

static struct login *auth_login(struct imap_session *s)
{
	static const struct login_callbacks cb = {
		.challenge = on_challenge,
		.success = on_success,
		.failure = on_failure,
		.hangup = on_hangup,
	};
	struct login_settings set = {
		.protocol = LOGIN_PROTOCOL_IMAP,
		.auth = s->ctx->set.auth,
		.max_failures = s->ctx->set.max_failures,
		.denied_by_default = s->ctx->set.login_denied_by_default,
	};

	if (s->auth == NULL)
		s->auth = xcalloc(1, sizeof(*s->auth));
	if (s->auth->login == NULL)
		s->auth->login = login_new(s->conn, &set, &cb, s);
	return s->auth->login;
}

void imap_auth_session_free(struct imap_session *s)
{
	if (s->auth == NULL)
		return;
	login_free(&s->auth->login);
	free(s->auth);
	s->auth = NULL;
}

void imap_auth_capabilities(struct imap_session *s, struct buf *out)
{
	struct auth_client *ac = s->ctx->set.auth;
	bool plain = imap_plaintext_allowed(s);
	const char *pos;
	struct strv m;

	if (s->state != IMAP_STATE_NOT_AUTHENTICATED)
		return;
	if (ac == NULL) {
		buf_append_str(out, " LOGINDISABLED");
		return;
	}
	buf_append_str(out, " SASL-IR");
	pos = auth_client_mechanisms(ac, plain);
	while (login_mech_next(&pos, &m))
		buf_printf(out, " AUTH=%.*s", (int)m.len, m.p);
	if (!plain)
		buf_append_str(out, " LOGINDISABLED");
}

/* Wipes a credential the parser holds (its arena is reused later). */
static void wipe_arg(const struct imap_arg *a)
{
	struct strv t = imap_arg_text(a);

	if (t.len > 0)
		explicit_bzero((char *)t.p, t.len);
}

static void cancel_request(struct imap_cmd *cmd)
{
	if (cmd->s->auth != NULL && cmd->s->auth->login != NULL)
		login_cancel(cmd->s->auth->login);
}

/* LOGIN userid password (RFC 3501 6.2.3); both astrings, literals too */
enum imap_cmd_result imap_cmd_login(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	const struct imap_arg *ua = imap_cmd_arg(cmd, 0);
	const struct imap_arg *pa = imap_cmd_arg(cmd, 1);
	struct strv user, pass;
	char *u, *p;

	if (!imap_arg_get_astring(ua, &user) ||
	    !imap_arg_get_astring(pa, &pass) || imap_cmd_argc(cmd) != 2) {
		wipe_arg(pa);
		imap_reply(cmd, "BAD",
			   "LOGIN needs a user name and a password");
		return IMAP_CMD_DONE;
	}
	if (s->ctx->set.auth == NULL) {
		wipe_arg(pa);
		refuse(cmd, AUTH_CLIENT_ERROR_TEMP,
		       "Authentication is not available");
		return IMAP_CMD_DONE;
	}
	if (!imap_plaintext_allowed(s)) {
		wipe_arg(pa);
		/* RFC 3501 6.2.3 (LOGINDISABLED), RFC 5530 PRIVACYREQUIRED */
		refuse(cmd, AUTH_CLIENT_ERROR_PRIVACY, AUTH_PLAINTEXT_REFUSED);
		return IMAP_CMD_DONE;
	}
	if (memchr(user.p, '\0', user.len) != NULL ||
	    memchr(pass.p, '\0', pass.len) != NULL) {
		wipe_arg(pa);
		refuse(cmd, AUTH_CLIENT_ERROR_REFUSED,
		       "Invalid user name or password");
		return IMAP_CMD_DONE;
	}
	u = xstrndup(user.p, user.len);
	p = xstrndup(pass.p, pass.len);
	wipe_arg(pa);
	cmd->cleanup = cancel_request;
	cmd->resume = resume_wait;
	login_verify(auth_login(s), u, p);
	xfree_secret(u, strlen(u));
	xfree_secret(p, strlen(p));
	return IMAP_CMD_PENDING;
}

/* AUTHENTICATE mech [initial-response] (RFC 3501 6.2.2, RFC 4959) */
enum imap_cmd_result imap_cmd_authenticate(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	const struct imap_arg *ira = imap_cmd_arg(cmd, 1);
	struct strv mech_v, ir = {NULL, 0};
	bool has_ir = imap_cmd_argc(cmd) >= 2;
	char mech[32], *ir_copy;

	if (!imap_arg_get_atom(imap_cmd_arg(cmd, 0), &mech_v) ||
	    mech_v.len >= sizeof(mech)) {
		wipe_arg(ira);
		imap_reply(cmd, "BAD", "Missing or invalid mechanism");
		return IMAP_CMD_DONE;
	}
	snprintf(mech, sizeof(mech), "%.*s", (int)mech_v.len, mech_v.p);
	/* the initial response is base64 or "=": taken as sent, so that a
	   bad one gets the SASL layer's malformed class (BAD) */
	if (imap_arg_type(ira) == IMAP_ARG_ATOM)
		ir = imap_arg_text(ira);
	if (has_ir && (imap_cmd_argc(cmd) != 2 ||
		       (ir.p == NULL && !imap_arg_get_string(ira, &ir)) ||
		       memchr(ir.p, '\0', ir.len) != NULL)) {
		wipe_arg(ira);
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	if (s->ctx->set.auth == NULL) {
		refuse(cmd, AUTH_CLIENT_ERROR_TEMP,
		       "Authentication is not available");
	} else if (!login_mech_offered(s->ctx->set.auth, mech)) {
		imap_reply(cmd, "NO", "Unsupported authentication mechanism");
	} else if (auth_client_mech_is_plaintext(mech) &&
		   !imap_plaintext_allowed(s)) {
		refuse(cmd, AUTH_CLIENT_ERROR_PRIVACY, AUTH_PLAINTEXT_REFUSED);
	} else if (has_ir && ir.len == 1 && ir.p[0] == '*') {
		refuse(cmd, AUTH_CLIENT_ERROR_MALFORMED,
		       "Authentication cancelled");
	} else {
		/* SASL-IR: "=" is an empty initial response (RFC 4959 3) */
		ir_copy = has_ir ? xstrndup(ir.p, ir.len) : NULL;
		wipe_arg(ira);
		cmd->cleanup = cancel_request;
		cmd->resume = resume_wait;
		login_sasl_start(auth_login(s), mech, ir_copy);
		if (ir_copy != NULL)
			xfree_secret(ir_copy, strlen(ir_copy));
		return IMAP_CMD_PENDING;
	}
	wipe_arg(ira);
	return IMAP_CMD_DONE;
}

/* UNAUTHENTICATE (RFC 8437). A worker serves every user of the mail tree
   from one process and one sandbox (doc/security.md): nothing of the
   user's stays behind once the session state is released, so the next
   login on this connection is no different from one on a new
   connection. The failure count of this connection is kept. */
enum imap_cmd_result imap_cmd_unauthenticate(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct buf caps;

	if (imap_cmd_argc(cmd) != 0) {
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	conn_log_info(s->conn, "event=unauthenticate");
	imap_session_unauthenticate(s);
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	imap_reply(cmd, "OK", "[CAPABILITY %s] UNAUTHENTICATE completed",
		   caps.data);
	buf_free(&caps);
	return IMAP_CMD_DONE;
}
