/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3.h"

#include "auth/auth.h"
#include "lib/xalloc.h"
#include "protocols/pop3/pop3_private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Unknown or misplaced commands tolerated before hanging up (a client
   that talks another protocol, or a flood). */
#define POP3_BAD_COMMANDS_MAX 20

struct pop3_command {
	const char *name;
	unsigned states; /* bit (1 << enum pop3_state) per allowed state */
	bool (*func)(struct pop3_session *s, struct strv args);
};

#define AUTHZ (1u << POP3_STATE_AUTHORIZATION)
#define TRANS (1u << POP3_STATE_TRANSACTION)

static const struct pop3_command pop3_commands[] = {
	{"USER", AUTHZ, pop3_cmd_user},
	{"PASS", AUTHZ, pop3_cmd_pass},
	{"AUTH", AUTHZ, pop3_cmd_auth},
	{"APOP", AUTHZ, pop3_cmd_apop},
	{"STAT", TRANS, pop3_cmd_stat},
	{"LIST", TRANS, pop3_cmd_list},
	{"UIDL", TRANS, pop3_cmd_uidl},
	{"RETR", TRANS, pop3_cmd_retr},
	{"TOP", TRANS, pop3_cmd_top},
	{"DELE", TRANS, pop3_cmd_dele},
	{"RSET", TRANS, pop3_cmd_rset},
	{"NOOP", TRANS, pop3_cmd_noop},
	{NULL, 0, NULL},
};

struct pop3_context *pop3_context_new(const struct pop3_settings *set)
{
	struct pop3_context *ctx = xcalloc(1, sizeof(*ctx));

	ctx->set = *set;
	return ctx;
}

void pop3_context_free(struct pop3_context **ctx)
{
	free(*ctx);
	*ctx = NULL;
}

void pop3_reply(struct pop3_session *s, const char *status, const char *fmt,
		...)
{
	va_list ap;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_append_str(&b, status);
	if (fmt[0] != '\0') {
		buf_append(&b, " ", 1);
		va_start(ap, fmt);
		buf_vprintf(&b, fmt, ap);
		va_end(ap);
	}
	buf_append(&b, "\r\n", 2);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

bool pop3_plaintext_allowed(const struct pop3_session *s)
{
	return auth_plaintext_allowed(s->ctx->set.plaintext,
				      conn_is_tls(s->conn),
				      conn_is_loopback(s->conn));
}

static void *pop3_open(struct conn *conn, void *ctx)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->ctx = ctx;
	s->state = POP3_STATE_AUTHORIZATION;
	s->login = pop3_auth_login_new(s);
	buf_init(&s->chunk, BUF_UNLIMITED);
	/* no APOP timestamp: the auth helper cannot hand out plaintext
	   passwords, so APOP is not offered (RFC 1939 7) */
	conn_write_str(conn, "+OK Merpati POP3 ready.\r\n");
	return s;
}

static bool pop3_cmd_stls(struct pop3_session *s)
{
	if (!conn_can_starttls(s->conn)) {
		pop3_reply(s, "-ERR", "TLS is already active or not available");
		return true;
	}
	/* RFC 2595 4: forget what USER said; CAPA is recomputed after TLS */
	free(s->user);
	s->user = NULL;
	pop3_reply(s, "+OK", "Begin TLS negotiation");
	conn_starttls(s->conn);
	return false;
}

static bool pop3_cmd_quit(struct pop3_session *s)
{
	if (s->state == POP3_STATE_TRANSACTION)
		return pop3_cmd_quit_transaction(s);
	/* RFC 1939 5: QUIT in AUTHORIZATION does not enter UPDATE */
	pop3_reply(s, "+OK", "Logging out");
	conn_close(s->conn, "quit");
	return false;
}

static const struct pop3_command *pop3_find(struct strv name)
{
	for (const struct pop3_command *c = pop3_commands; c->name != NULL;
	     c++) {
		if (strv_eq_cstr_ci(name, c->name))
			return c;
	}
	return NULL;
}

static bool pop3_bad_command(struct pop3_session *s)
{
	if (++s->bad_commands < POP3_BAD_COMMANDS_MAX)
		return true;
	pop3_reply(s, "-ERR", "Too many bad commands, closing");
	conn_close(s->conn, "too many bad commands");
	return false;
}

bool pop3_printable(struct strv v)
{
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < 0x21 || v.p[i] > 0x7e)
			return false;
	}
	return true;
}

/* Runs one command line. Returns false when reading must stop. */
static bool pop3_run(struct pop3_session *s, struct strv line)
{
	const struct pop3_command *c;
	struct strv cmd;

	if (!strv_next_token(&line, &cmd) || cmd.len == 0) {
		pop3_reply(s, "-ERR", "Empty command");
		return pop3_bad_command(s);
	}
	if (line.len > 0 &&
	    (strv_eq_cstr_ci(cmd, "CAPA") || strv_eq_cstr_ci(cmd, "QUIT") ||
	     strv_eq_cstr_ci(cmd, "STLS"))) {
		pop3_reply(s, "-ERR", "Too many arguments");
		return true;
	}
	if (strv_eq_cstr_ci(cmd, "CAPA")) {
		pop3_cmd_capa(s);
		return true;
	}
	if (strv_eq_cstr_ci(cmd, "QUIT"))
		return pop3_cmd_quit(s);
	if (strv_eq_cstr_ci(cmd, "STLS")) {
		if (s->state == POP3_STATE_AUTHORIZATION)
			return pop3_cmd_stls(s);
		pop3_reply(s, "-ERR", "Command not valid in this state: STLS");
		return pop3_bad_command(s);
	}
	c = pop3_find(cmd);
	if (c == NULL) {
		if (!pop3_printable(cmd) || cmd.len > 40)
			pop3_reply(s, "-ERR", "Unknown command");
		else
			pop3_reply(s, "-ERR", "Unknown command: %.*s",
				   (int)cmd.len, cmd.p);
		return pop3_bad_command(s);
	}
	if ((c->states & (1u << s->state)) == 0) {
		pop3_reply(s, "-ERR", "Command not valid in this state: %s",
			   c->name);
		return pop3_bad_command(s);
	}
	return c->func(s, line);
}

/* Runs the current job; true when it finished and input may be read. */
static bool pop3_job_run(struct pop3_session *s)
{
	switch (s->job) {
	case POP3_JOB_NONE:
		return true;
	case POP3_JOB_STORAGE:
		return false; /* done() kicks process() */
	case POP3_JOB_LIST:
	case POP3_JOB_UIDL:
		return pop3_job_list_run(s);
	case POP3_JOB_SEND:
		return pop3_job_send_run(s);
	}
	return true;
}

static void pop3_process(void *session)
{
	struct pop3_session *s = session;

	while (!conn_is_closing(s->conn)) {
		struct strv line;
		bool go_on;
		int ret;

		if (s->job != POP3_JOB_NONE) {
			if (!pop3_job_run(s))
				break;
			continue;
		}
		if (conn_output_full(s->conn) ||
		    (login_is_busy(s->login) &&
		     !login_wants_response(s->login)))
			break;
		ret = conn_peek_line(s->conn, POP3_LINE_MAX, &line);
		if (ret == 0)
			break;
		if (ret < 0) {
			pop3_reply(s, "-ERR", "Command line too long");
			conn_log_info(s->conn, "event=line_too_long max=%u",
				      POP3_LINE_MAX);
			conn_skip_line(s->conn);
			if (login_wants_response(s->login))
				login_cancel(s->login);
			continue;
		}
		if (login_wants_response(s->login))
			go_on = pop3_sasl_line(s, line);
		else
			go_on = pop3_run(s, line);
		conn_consume_line(s->conn);
		if (!go_on)
			break;
	}
}

static void pop3_bye(void *session, enum conn_bye why)
{
	struct pop3_session *s = session;

	/* RFC 1939 3: a timeout ends the session without UPDATE */
	conn_write_str(s->conn,
		       why == CONN_BYE_SHUTDOWN
			       ? "-ERR [SYS/TEMP] Server shutting down\r\n"
			       : "-ERR Disconnected for inactivity\r\n");
}

static void pop3_free(void *session)
{
	struct pop3_session *s = session;

	login_free(&s->login);
	pop3_job_send_abort(s);
	pop3_maildrop_cancel(s);
	pop3_maildrop_close(s);
	if (s->user != NULL)
		xfree_secret(s->user, strlen(s->user));
	buf_free(&s->chunk);
	free(s);
}

const struct conn_handler pop3_conn_handler = {
	.name = "pop3",
	.open = pop3_open,
	.process = pop3_process,
	.bye = pop3_bye,
	.free = pop3_free,
	/* RFC 2449 8.1.2 / RFC 3206 4: a temporary condition */
	.refuse = "-ERR [SYS/TEMP] Too many connections, try later\r\n",
};
