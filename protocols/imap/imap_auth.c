#include "protocols/imap/imap_auth.h"

#include "auth/auth.h"
#include "auth/auth_client.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct imap_auth {
	struct auth_client_request *req;
	char tag[IMAP_TAG_MAX + 1]; /* the command's tag: the line is gone */
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
	free(s->mail_root);
	s->mail_root = NULL;
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

/* Copies the tag and consumes the command line (wiping credentials). */
static void take_line(struct imap_session *s, struct imap_auth *a)
{
	size_t n = s->tag.len < IMAP_TAG_MAX ? s->tag.len : IMAP_TAG_MAX;

	memcpy(a->tag, s->tag.p, n);
	a->tag[n] = '\0';
	explicit_bzero((char *)s->args.p, s->args.len);
	conn_consume_line(s->conn);
	s->tag = (struct strv){a->tag, n};
}

/* While the helper decides: read nothing. */
static void wait_resume(struct imap_session *s)
{
	s->resume = wait_resume;
}

static void start_wait(struct imap_session *s)
{
	conn_pause_input(s->conn, true);
	s->resume = wait_resume;
}

static void auth_cb(const struct auth_client_reply *r, void *context);

static void login_ok(struct imap_session *s, const struct auth_client_reply *r)
{
	struct buf caps;

	free(s->user);
	free(s->mail_root);
	s->user = xstrdup(r->user);
	s->mail_root = xstrdup(r->mail_root);
	s->state = IMAP_STATE_AUTHENTICATED;
	s->auth->failures = 0;
	conn_set_user(s->conn, s->user);
	/* RFC 3501 5.4: the autologout timer is at least 30 minutes */
	conn_set_timeout(s->conn, s->ctx->set.timeout);
	conn_log_info(s->conn, "event=login user=%s mech=%s mail_root=%s",
		      s->user, s->auth->mech, s->mail_root);
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	imap_reply(s, "OK", "[CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

static void login_failed(struct imap_session *s,
			 const struct auth_client_reply *r)
{
	const char *reason = r->reason != NULL && r->reason[0] != '\0'
				     ? r->reason
				     : "Authentication failed";

	if (r->status == AUTH_CLIENT_TEMPFAIL) {
		conn_log_info(s->conn,
			      "event=login_tempfail mech=%s reason=\"%s\"",
			      s->auth->mech, reason);
		imap_reply(s, "NO", "[UNAVAILABLE] %s", reason);
		return;
	}
	conn_log_info(s->conn, "event=login_failed mech=%s reason=\"%s\"",
		      s->auth->mech, reason);
	/* RFC 3501 6.2.2: a malformed exchange is BAD, a refusal NO. */
	if (strstr(reason, "base64") != NULL)
		imap_reply(s, "BAD", "%s", reason);
	else
		imap_reply(s, "NO", "[AUTHENTICATIONFAILED] %s", reason);
	if (s->ctx->set.max_failures > 0 &&
	    ++s->auth->failures >= s->ctx->set.max_failures) {
		conn_write_str(s->conn, "* BYE Too many failed logins\r\n");
		s->stop_reading = true;
		conn_close(s->conn, "too many failed logins");
	}
}

/* The client's answer to a "+ challenge". */
static void sasl_line_resume(struct imap_session *s)
{
	struct imap_auth *a = s->auth;
	struct strv line;
	char *resp;
	int ret = conn_peek_line(s->conn, IMAP_LINE_MAX, &line);

	s->tag = (struct strv){a->tag, strlen(a->tag)};
	if (ret == 0) {
		s->resume = sasl_line_resume;
		return;
	}
	if (ret < 0) {
		conn_skip_line(s->conn);
		auth_client_request_cancel(&a->req);
		imap_reply(s, "BAD", "SASL response too long");
		return;
	}
	if (line.len == 1 && line.p[0] == '*') {
		conn_consume_line(s->conn);
		auth_client_request_cancel(&a->req);
		imap_reply(s, "BAD", "Authentication cancelled");
		return;
	}
	resp = xstrndup(line.p, line.len);
	explicit_bzero((char *)line.p, line.len);
	conn_consume_line(s->conn);
	auth_client_sasl_continue(a->req, resp);
	xfree_secret(resp, strlen(resp));
	start_wait(s);
}

static void auth_cb(const struct auth_client_reply *r, void *context)
{
	struct imap_session *s = context;
	struct imap_auth *a = s->auth;

	conn_pause_input(s->conn, false); /* also kicks process() */
	s->resume = NULL;
	s->tag = (struct strv){a->tag, strlen(a->tag)};
	switch (r->status) {
	case AUTH_CLIENT_CONTINUE:
		/* RFC 3501 7.5: "+" SP base64; an empty challenge is "+ " */
		conn_printf(s->conn, "+ %s\r\n", r->challenge);
		s->resume = sasl_line_resume;
		return;
	case AUTH_CLIENT_OK:
		a->req = NULL;
		login_ok(s, r);
		return;
	case AUTH_CLIENT_FAIL:
	case AUTH_CLIENT_TEMPFAIL:
		a->req = NULL;
		login_failed(s, r);
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

/* RFC 3501 9: astring = 1*ASTRING-CHAR / string (quoted only here). */
static int parse_astring(struct strv *args, char **out_r, const char **error_r)
{
	const char *p = args->p, *end = args->p + args->len;
	struct buf b;

	buf_init(&b, AUTH_PASSWORD_MAX + 1);
	if (p < end && *p == '{') {
		*error_r =
			"Literals are not supported in LOGIN, use a quoted string or AUTHENTICATE";
		return -1;
	}
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end &&
			    (p[1] == '"' || p[1] == '\\'))
				p++;
			else if (*p == '\\') {
				*error_r = "Invalid escape in quoted string";
				buf_free_secret(&b);
				return -1;
			}
			if (buf_append(&b, p, 1) < 0) {
				*error_r = "Argument too long";
				buf_free_secret(&b);
				return -1;
			}
		}
		if (p == end) {
			*error_r = "Unterminated quoted string";
			buf_free_secret(&b);
			return -1;
		}
		p++;
	} else {
		const char *start = p;

		while (p < end && *p != ' ' && (unsigned char)*p > 0x20 &&
		       (unsigned char)*p < 0x7f &&
		       strchr("(){%*\"\\", *p) == NULL)
			p++;
		if (p == start || (p < end && *p != ' ') ||
		    buf_append(&b, start, (size_t)(p - start)) < 0) {
			*error_r = "Invalid argument";
			buf_free_secret(&b);
			return -1;
		}
	}
	if (p < end && *p == ' ')
		p++;
	args->len = (size_t)(end - p);
	args->p = p;
	*out_r = xstrndup(b.data != NULL ? b.data : "", b.len);
	buf_free_secret(&b);
	return 0;
}

static void free_secret(char **p)
{
	if (*p != NULL)
		xfree_secret(*p, strlen(*p));
	*p = NULL;
}

enum imap_cmd_result imap_cmd_login(struct imap_session *s)
{
	struct imap_auth *a = auth_state(s);
	struct auth_client_info info = imap_auth_info(s);
	struct strv args = s->args;
	char *user = NULL, *pass = NULL;
	const char *error = NULL;
	int ret;

	ret = parse_astring(&args, &user, &error);
	if (ret == 0)
		ret = parse_astring(&args, &pass, &error);
	if (ret == 0 && args.len != 0) {
		error = "Unexpected arguments after the password";
		ret = -1;
	}
	take_line(s, a); /* copies the tag, wipes the password */
	snprintf(a->mech, sizeof(a->mech), "LOGIN-CMD");
	if (ret < 0) {
		imap_reply(s, "BAD", "%s", error);
	} else if (s->ctx->set.auth == NULL) {
		imap_reply(s, "NO",
			   "[UNAVAILABLE] Authentication is not available");
	} else if (!imap_plaintext_allowed(s)) {
		/* RFC 3501 6.2.3 (LOGINDISABLED), RFC 5530 PRIVACYREQUIRED */
		imap_reply(s, "NO", "[PRIVACYREQUIRED] %s",
			   AUTH_PLAINTEXT_REFUSED);
	} else {
		a->req = auth_client_verify(s->ctx->set.auth, &info, user, pass,
					    auth_cb, s);
		start_wait(s);
		ret = 1;
	}
	free_secret(&user);
	free_secret(&pass);
	return ret == 1 ? IMAP_CMD_PENDING : IMAP_CMD_DONE;
}

static bool mech_offered(struct imap_session *s, const char *mech)
{
	const char *p = auth_client_mechanisms(s->ctx->set.auth, true);
	size_t len = strlen(mech);

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n == len && strncmp(p, mech, n) == 0)
			return true;
		p += n;
		if (*p == ' ')
			p++;
	}
	return false;
}

/* AUTHENTICATE mech [initial-response] (RFC 3501 6.2.2, RFC 4959) */
enum imap_cmd_result imap_cmd_authenticate(struct imap_session *s)
{
	struct imap_auth *a = auth_state(s);
	struct auth_client_info info = imap_auth_info(s);
	struct strv args = s->args, mech, ir = {NULL, 0};
	char *ir_copy = NULL;
	bool has_ir;

	if (!strv_next_token(&args, &mech) || mech.len == 0 ||
	    mech.len >= sizeof(a->mech)) {
		take_line(s, a);
		imap_reply(s, "BAD", "Missing or invalid mechanism");
		return IMAP_CMD_DONE;
	}
	has_ir = strv_next_token(&args, &ir);
	snprintf(a->mech, sizeof(a->mech), "%.*s", (int)mech.len, mech.p);
	for (char *c = a->mech; *c != '\0'; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	if (has_ir)
		ir_copy = xstrndup(ir.p, ir.len);
	take_line(s, a);
	if (has_ir && args.len != 0) {
		imap_reply(s, "BAD", "Unexpected arguments");
	} else if (s->ctx->set.auth == NULL) {
		imap_reply(s, "NO",
			   "[UNAVAILABLE] Authentication is not available");
	} else if (!mech_offered(s, a->mech)) {
		imap_reply(s, "NO", "Unsupported authentication mechanism");
	} else if (auth_client_mech_is_plaintext(a->mech) &&
		   !imap_plaintext_allowed(s)) {
		imap_reply(s, "NO", "[PRIVACYREQUIRED] %s",
			   AUTH_PLAINTEXT_REFUSED);
	} else if (has_ir && strcmp(ir_copy, "*") == 0) {
		imap_reply(s, "BAD", "Authentication cancelled");
	} else {
		/* SASL-IR: "=" is an empty initial response (RFC 4959 3) */
		a->req = auth_client_sasl_start(s->ctx->set.auth, &info,
						a->mech, ir_copy, auth_cb, s);
		start_wait(s);
		free_secret(&ir_copy);
		return IMAP_CMD_PENDING;
	}
	free_secret(&ir_copy);
	return IMAP_CMD_DONE;
}
