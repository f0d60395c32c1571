#include "protocols/pop3/pop3_private.h"

#include "auth/auth.h"
#include "auth/auth_client.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static struct auth_client_info pop3_auth_info(const struct pop3_session *s)
{
	return (struct auth_client_info){
		.service = "pop3",
		.ip = conn_peer_ip(s->conn),
		.secured = conn_is_tls(s->conn),
	};
}

void pop3_auth_cancel(struct pop3_session *s)
{
	auth_client_request_cancel(&s->auth_req);
	s->sasl_reply = false;
}

/* The password (or SASL data) is no longer needed in the input buffer. */
static void pop3_wipe(struct strv v)
{
	explicit_bzero((char *)v.p, v.len);
}

static void pop3_auth_failed(struct pop3_session *s,
			     const struct auth_client_reply *r)
{
	const char *reason = r->reason != NULL && r->reason[0] != '\0'
				     ? r->reason
				     : "Authentication failed";

	if (r->status == AUTH_CLIENT_TEMPFAIL) {
		conn_log_info(s->conn, "event=login_tempfail reason=%s",
			      log_q(reason));
		pop3_reply(s, "-ERR", "[SYS/TEMP] %s", reason);
		return;
	}
	conn_log_info(s->conn, "event=login_failed reason=%s", log_q(reason));
	pop3_reply(s, "-ERR", "[AUTH] %s", reason);
	if (++s->failures >= s->ctx->set.max_failures) {
		conn_close(s->conn, "too many failed logins");
		return;
	}
}

static void pop3_auth_cb(const struct auth_client_reply *r, void *context)
{
	struct pop3_session *s = context;

	conn_pause_input(s->conn, false);
	if (r->status == AUTH_CLIENT_CONTINUE) {
		/* RFC 5034 4: "+" SP base64 challenge */
		pop3_reply(s, "+", "%s", r->challenge);
		s->sasl_reply = true;
		return;
	}
	s->auth_req = NULL;
	s->sasl_reply = false;
	if (r->status != AUTH_CLIENT_OK) {
		pop3_auth_failed(s, r);
		return;
	}
	(void)pop3_maildrop_open(s, r->user, r->mail_root);
}

static bool pop3_auth_available(struct pop3_session *s)
{
	if (s->ctx->set.auth != NULL)
		return true;
	pop3_reply(s, "-ERR", "[SYS/TEMP] Authentication is not available");
	return false;
}

bool pop3_cmd_user(struct pop3_session *s, struct strv args)
{
	if (!pop3_plaintext_allowed(s)) {
		pop3_reply(s, "-ERR", "[AUTH] %s", AUTH_PLAINTEXT_REFUSED);
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
	struct auth_client_info info = pop3_auth_info(s);
	char *password;

	if (s->user == NULL) {
		pop3_wipe(args);
		pop3_reply(s, "-ERR", "No user name given, use USER first");
		return true;
	}
	if (!pop3_plaintext_allowed(s)) {
		pop3_wipe(args);
		pop3_reply(s, "-ERR", "[AUTH] %s", AUTH_PLAINTEXT_REFUSED);
		return true;
	}
	if (!pop3_auth_available(s))
		return true;
	/* RFC 1939 7: PASS has one argument, spaces belong to it */
	password = xstrndup(args.p, args.len);
	pop3_wipe(args);
	s->auth_req = auth_client_verify(s->ctx->set.auth, &info, s->user,
					 password, pop3_auth_cb, s);
	xfree_secret(password, strlen(password));
	free(s->user);
	s->user = NULL;
	conn_pause_input(s->conn, true);
	return false;
}

static bool pop3_mech_offered(struct pop3_session *s, const char *mech)
{
	const char *all = auth_client_mechanisms(s->ctx->set.auth, true);
	size_t len = strlen(mech);

	for (const char *p = all; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == len && strncasecmp(p, mech, len) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* "AUTH" alone lists the mechanisms: not in RFC 5034, but older Outlook
   versions and others ask this way (the RFC 1734 era). */
static void pop3_auth_list(struct pop3_session *s)
{
	const char *mechs = auth_client_mechanisms(s->ctx->set.auth,
						   pop3_plaintext_allowed(s));

	conn_write_str(s->conn, "+OK\r\n");
	for (const char *p = mechs; *p != '\0';) {
		const char *end = strchr(p, ' ');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		conn_printf(s->conn, "%.*s\r\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
	conn_write_str(s->conn, ".\r\n");
}

bool pop3_cmd_auth(struct pop3_session *s, struct strv args)
{
	struct auth_client_info info = pop3_auth_info(s);
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
	if (!pop3_mech_offered(s, mech)) {
		pop3_reply(s, "-ERR", "Unsupported authentication mechanism");
		free(mech);
		return true;
	}
	if (auth_client_mech_is_plaintext(mech) && !pop3_plaintext_allowed(s)) {
		pop3_wipe(args);
		pop3_reply(s, "-ERR", "[AUTH] %s", AUTH_PLAINTEXT_REFUSED);
		free(mech);
		return true;
	}
	/* RFC 5034 4: an initial response, "=" for an empty one */
	if (args.len > 0) {
		ir = xstrndup(args.p, args.len);
		pop3_wipe(args);
	}
	s->auth_req = auth_client_sasl_start(s->ctx->set.auth, &info, mech, ir,
					     pop3_auth_cb, s);
	if (ir != NULL)
		xfree_secret(ir, strlen(ir));
	free(mech);
	conn_pause_input(s->conn, true);
	return false;
}

bool pop3_sasl_line(struct pop3_session *s, struct strv line)
{
	char *resp;

	s->sasl_reply = false;
	/* RFC 5034 4: "*" cancels the exchange */
	if (line.len == 1 && line.p[0] == '*') {
		pop3_auth_cancel(s);
		pop3_reply(s, "-ERR", "Authentication cancelled");
		return true;
	}
	resp = xstrndup(line.p, line.len);
	pop3_wipe(line);
	auth_client_sasl_continue(s->auth_req, resp);
	xfree_secret(resp, strlen(resp));
	conn_pause_input(s->conn, true);
	return false;
}

bool pop3_cmd_apop(struct pop3_session *s, struct strv args)
{
	pop3_wipe(args);
	/* RFC 1939 7: APOP needs the shared secret in the clear on the
	   server; the auth helper only verifies, so it is not offered */
	pop3_reply(s, "-ERR",
		   "[AUTH] APOP is not supported, use USER/PASS or AUTH");
	return true;
}
