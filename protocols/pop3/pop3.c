#include "protocols/pop3/pop3.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
	POP3_STATE_UPDATE,
};

struct pop3_context {
	struct pop3_settings set;
};

struct pop3_session {
	struct conn *conn;
	struct pop3_context *ctx;
	enum pop3_state state;
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

static void *pop3_open(struct conn *conn, void *ctx)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->ctx = ctx;
	conn_write_str(conn, "+OK Merpati POP3 ready.\r\n");
	return s;
}

static void pop3_capa(struct pop3_session *s)
{
	conn_write_str(s->conn, "+OK Capability list follows\r\n");
	if (conn_can_starttls(s->conn))
		conn_write_str(s->conn, "STLS\r\n");
	conn_write_str(
		s->conn,
		"PIPELINING\r\nRESP-CODES\r\nIMPLEMENTATION Merpati\r\n.\r\n");
}

/* Runs one command line. Returns false when reading must stop. */
static bool pop3_run(struct pop3_session *s, struct strv line)
{
	struct strv cmd;

	if (!strv_next_token(&line, &cmd))
		cmd = STRV_LIT("");
	if (strv_eq_cstr_ci(cmd, "CAPA") && line.len == 0) {
		pop3_capa(s);
	} else if (strv_eq_cstr_ci(cmd, "NOOP") && line.len == 0 &&
		   s->state == POP3_STATE_TRANSACTION) {
		conn_write_str(s->conn, "+OK\r\n");
	} else if (strv_eq_cstr_ci(cmd, "QUIT") && line.len == 0) {
		conn_write_str(s->conn, "+OK Bye\r\n");
		conn_close(s->conn, "quit");
		return false;
	} else if (strv_eq_cstr_ci(cmd, "STLS") && line.len == 0 &&
		   s->state == POP3_STATE_AUTHORIZATION) {
		if (!conn_can_starttls(s->conn)) {
			conn_write_str(
				s->conn,
				"-ERR TLS is already active or not available\r\n");
			return true;
		}
		conn_write_str(s->conn, "+OK Begin TLS negotiation\r\n");
		conn_starttls(s->conn);
		return false;
	} else if (cmd.len == 0) {
		conn_write_str(s->conn, "-ERR Empty command\r\n");
	} else {
		conn_printf(s->conn,
			    "-ERR Unknown command or wrong state: %.*s\r\n",
			    (int)(cmd.len > 40 ? 40 : cmd.len), cmd.p);
	}
	return true;
}

static void pop3_process(void *session)
{
	struct pop3_session *s = session;

	while (!conn_is_closing(s->conn) && !conn_output_full(s->conn)) {
		struct strv line;
		int ret = conn_peek_line(s->conn, POP3_LINE_MAX, &line);
		bool go_on;

		if (ret == 0)
			break;
		if (ret < 0) {
			conn_write_str(s->conn,
				       "-ERR Command line too long\r\n");
			conn_log_info(s->conn, "event=line_too_long max=%u",
				      POP3_LINE_MAX);
			conn_skip_line(s->conn);
			continue;
		}
		go_on = pop3_run(s, line);
		conn_consume_line(s->conn);
		if (!go_on)
			break;
	}
}

static void pop3_bye(void *session, enum conn_bye why)
{
	struct pop3_session *s = session;

	conn_write_str(s->conn,
		       why == CONN_BYE_SHUTDOWN
			       ? "-ERR [SYS/TEMP] Server shutting down\r\n"
			       : "-ERR Idle for too long, closing\r\n");
}

static void pop3_free(void *session)
{
	free(session);
}

const struct conn_handler pop3_conn_handler = {
	.name = "pop3",
	.open = pop3_open,
	.process = pop3_process,
	.bye = pop3_bye,
	.free = pop3_free,
};
