#include "protocols/imap/imap_auth.h"

#include "auth/auth.h"
#include "auth/auth_client.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct imap_auth {
	struct auth_client_request *req;
	char mech[32];
	unsigned failures;
};

static struct imap_auth *auth_state(struct imap_session *s)
{
	if (s->auth == NULL)
		s->auth = xcalloc(1, sizeof(*s->auth));
	return s->auth;
}

void imap_auth_session_free(struct imap_session *s)
{
	if (s->auth == NULL)
		return;
	auth_client_request_cancel(&s->auth->req);
	free(s->auth);
	s->auth = NULL;
}

void imap_auth_capabilities(struct imap_session *s, struct buf *out)
{
	struct auth_client *ac = s->ctx->set.auth;
	bool plain = imap_plaintext_allowed(s);
	const char *mechs, *p;

	if (s->state != IMAP_STATE_NOT_AUTHENTICATED)
		return;
	if (ac == NULL) {
		buf_append_str(out, " LOGINDISABLED");
		return;
	}
	buf_append_str(out, " SASL-IR");
	mechs = auth_client_mechanisms(ac, plain);
	for (p = mechs; *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (n > 0)
			buf_printf(out, " AUTH=%.*s", (int)n, p);
		p += n;
		if (*p == ' ')
			p++;
	}
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

static void start_wait(struct imap_cmd *cmd)
{
	conn_pause_input(cmd->s->conn, true);
	cmd->resume = resume_wait;
}

static void cancel_request(struct imap_cmd *cmd)
{
	if (cmd->s->auth != NULL)
		auth_client_request_cancel(&cmd->s->auth->req);
}

static void login_ok(struct imap_cmd *cmd, const struct auth_client_reply *r)
{
	struct imap_session *s = cmd->s;
	const char *error = NULL;
	struct buf caps;

	if (imap_session_login(s, r->user, r->mail_root, &error) < 0) {
		conn_log_error(s->conn,
			       "event=login_failed reason=store mech=%s "
			       "mail_root=%s error=%s",
			       log_q(s->auth->mech), log_q(r->mail_root),
			       log_q(error));
		imap_reply(cmd, "NO", "[UNAVAILABLE] %s", error);
		return;
	}
	s->auth->failures = 0;
	conn_log_info(s->conn, "event=login mech=%s mail_root=%s",
		      log_q(s->auth->mech), log_q(s->mail_root));
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	imap_reply(cmd, "OK", "[CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

static void login_failed(struct imap_cmd *cmd,
			 const struct auth_client_reply *r)
{
	struct imap_session *s = cmd->s;
	const char *reason = r->reason != NULL && r->reason[0] != '\0'
				     ? r->reason
				     : "Authentication failed";

	if (r->status == AUTH_CLIENT_TEMPFAIL) {
		conn_log_info(s->conn, "event=login_tempfail mech=%s reason=%s",
			      log_q(s->auth->mech), log_q(reason));
		imap_reply(cmd, "NO", "[UNAVAILABLE] %s", reason);
		return;
	}
	conn_log_info(s->conn, "event=login_failed mech=%s reason=%s",
		      log_q(s->auth->mech), log_q(reason));
	/* RFC 3501 6.2.2: a malformed exchange is BAD, a refusal NO. */
	if (strstr(reason, "base64") != NULL)
		imap_reply(cmd, "BAD", "%s", reason);
	else
		imap_reply(cmd, "NO", "[AUTHENTICATIONFAILED] %s", reason);
	if (s->ctx->set.max_failures > 0 &&
	    ++s->auth->failures >= s->ctx->set.max_failures) {
		conn_write_str(s->conn, "* BYE Too many failed logins\r\n");
		s->stop_reading = true;
		conn_close(s->conn, "too many failed logins");
	}
}

/* The client's answer to a "+ challenge": a line, not a command. */
static enum imap_cmd_result sasl_line_resume(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_auth *a = s->auth;
	struct strv line;
	char *resp;
	int ret = conn_peek_line(s->conn, IMAP_LINE_MAX, &line);

	if (ret == 0)
		return IMAP_CMD_PENDING;
	if (ret < 0) {
		conn_skip_line(s->conn);
		auth_client_request_cancel(&a->req);
		imap_reply(cmd, "BAD", "SASL response too long");
		return IMAP_CMD_DONE;
	}
	if (line.len == 1 && line.p[0] == '*') {
		conn_consume_line(s->conn);
		auth_client_request_cancel(&a->req);
		imap_reply(cmd, "BAD", "Authentication cancelled");
		return IMAP_CMD_DONE;
	}
	resp = xstrndup(line.p, line.len);
	explicit_bzero((char *)line.p, line.len);
	conn_consume_line(s->conn);
	auth_client_sasl_continue(a->req, resp);
	xfree_secret(resp, strlen(resp));
	start_wait(cmd);
	return IMAP_CMD_PENDING;
}

static void auth_cb(const struct auth_client_reply *r, void *context)
{
	struct imap_session *s = context;
	struct imap_cmd *cmd = s->cmd;
	struct imap_auth *a = s->auth;

	conn_pause_input(s->conn, false); /* also kicks process() */
	cmd->resume = resume_done;
	switch (r->status) {
	case AUTH_CLIENT_CONTINUE:
		/* RFC 3501 7.5: "+" SP base64; an empty challenge is "+ " */
		conn_printf(s->conn, "+ %s\r\n", r->challenge);
		cmd->resume = sasl_line_resume;
		return;
	case AUTH_CLIENT_OK:
		a->req = NULL;
		login_ok(cmd, r);
		return;
	case AUTH_CLIENT_FAIL:
	case AUTH_CLIENT_TEMPFAIL:
		a->req = NULL;
		login_failed(cmd, r);
		return;
	}
}

static struct auth_client_info imap_auth_info(struct imap_session *s)
{
	return (struct auth_client_info){
		.service = "imap",
		.ip = conn_peer_ip(s->conn),
		.secured = conn_is_tls(s->conn),
	};
}

/* LOGIN userid password (RFC 3501 6.2.3); both astrings, literals too */
enum imap_cmd_result imap_cmd_login(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_auth *a = auth_state(s);
	struct auth_client_info info = imap_auth_info(s);
	const struct imap_arg *ua = imap_cmd_arg(cmd, 0);
	const struct imap_arg *pa = imap_cmd_arg(cmd, 1);
	struct strv user, pass;
	char *u, *p;

	snprintf(a->mech, sizeof(a->mech), "LOGIN-CMD");
	if (!imap_arg_get_astring(ua, &user) ||
	    !imap_arg_get_astring(pa, &pass) || imap_cmd_argc(cmd) != 2) {
		wipe_arg(pa);
		imap_reply(cmd, "BAD",
			   "LOGIN needs a user name and a password");
		return IMAP_CMD_DONE;
	}
	if (s->ctx->set.auth == NULL) {
		wipe_arg(pa);
		imap_reply(cmd, "NO",
			   "[UNAVAILABLE] Authentication is not available");
		return IMAP_CMD_DONE;
	}
	if (!imap_plaintext_allowed(s)) {
		wipe_arg(pa);
		/* RFC 3501 6.2.3 (LOGINDISABLED), RFC 5530 PRIVACYREQUIRED */
		imap_reply(cmd, "NO", "[PRIVACYREQUIRED] %s",
			   AUTH_PLAINTEXT_REFUSED);
		return IMAP_CMD_DONE;
	}
	if (memchr(user.p, '\0', user.len) != NULL ||
	    memchr(pass.p, '\0', pass.len) != NULL) {
		wipe_arg(pa);
		imap_reply(cmd, "NO",
			   "[AUTHENTICATIONFAILED] Invalid user "
			   "name or password");
		return IMAP_CMD_DONE;
	}
	u = xstrndup(user.p, user.len);
	p = xstrndup(pass.p, pass.len);
	wipe_arg(pa);
	cmd->cleanup = cancel_request;
	a->req = auth_client_verify(s->ctx->set.auth, &info, u, p, auth_cb, s);
	xfree_secret(u, strlen(u));
	xfree_secret(p, strlen(p));
	start_wait(cmd);
	return IMAP_CMD_PENDING;
}

static bool mech_offered(struct imap_session *s, const char *mech)
{
	const char *p = auth_client_mechanisms(s->ctx->set.auth, true);
	size_t len = strlen(mech);

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n == len && strncasecmp(p, mech, n) == 0)
			return true;
		p += n;
		if (*p == ' ')
			p++;
	}
	return false;
}

/* AUTHENTICATE mech [initial-response] (RFC 3501 6.2.2, RFC 4959) */
enum imap_cmd_result imap_cmd_authenticate(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_auth *a = auth_state(s);
	struct auth_client_info info = imap_auth_info(s);
	const struct imap_arg *ira = imap_cmd_arg(cmd, 1);
	struct strv mech, ir = {NULL, 0};
	bool has_ir = imap_cmd_argc(cmd) >= 2;
	char *ir_copy;

	if (!imap_arg_get_atom(imap_cmd_arg(cmd, 0), &mech) ||
	    mech.len >= sizeof(a->mech)) {
		wipe_arg(ira);
		imap_reply(cmd, "BAD", "Missing or invalid mechanism");
		return IMAP_CMD_DONE;
	}
	snprintf(a->mech, sizeof(a->mech), "%.*s", (int)mech.len, mech.p);
	for (char *c = a->mech; *c != '\0'; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	/* the initial response is base64 or "=": taken as sent, so that a
	   bad one gets the SASL layer's "invalid base64" BAD */
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
		imap_reply(cmd, "NO",
			   "[UNAVAILABLE] Authentication is not available");
	} else if (!mech_offered(s, a->mech)) {
		imap_reply(cmd, "NO", "Unsupported authentication mechanism");
	} else if (auth_client_mech_is_plaintext(a->mech) &&
		   !imap_plaintext_allowed(s)) {
		imap_reply(cmd, "NO", "[PRIVACYREQUIRED] %s",
			   AUTH_PLAINTEXT_REFUSED);
	} else if (has_ir && ir.len == 1 && ir.p[0] == '*') {
		imap_reply(cmd, "BAD", "Authentication cancelled");
	} else {
		/* SASL-IR: "=" is an empty initial response (RFC 4959 3) */
		ir_copy = has_ir ? xstrndup(ir.p, ir.len) : NULL;
		wipe_arg(ira);
		cmd->cleanup = cancel_request;
		a->req = auth_client_sasl_start(s->ctx->set.auth, &info,
						a->mech, ir_copy, auth_cb, s);
		if (ir_copy != NULL)
			xfree_secret(ir_copy, strlen(ir_copy));
		start_wait(cmd);
		return IMAP_CMD_PENDING;
	}
	wipe_arg(ira);
	return IMAP_CMD_DONE;
}
