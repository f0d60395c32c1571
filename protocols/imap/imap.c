#include "protocols/imap/imap.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_auth.h"
#include "protocols/imap/imap_private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct imap_context *imap_context_new(const struct imap_settings *set)
{
	struct imap_context *ctx = xcalloc(1, sizeof(*ctx));

	ctx->set = *set;
	return ctx;
}

void imap_context_free(struct imap_context **ctx)
{
	free(*ctx);
	*ctx = NULL;
}

bool imap_plaintext_allowed(const struct imap_session *s)
{
	return auth_plaintext_allowed(s->ctx->set.plaintext,
				      conn_is_tls(s->conn),
				      conn_is_loopback(s->conn));
}

void imap_capabilities(struct imap_session *s, struct buf *out)
{
	buf_append_str(out, "IMAP4rev1");
	if (s->state == IMAP_STATE_NOT_AUTHENTICATED) {
		if (conn_can_starttls(s->conn))
			buf_append_str(out, " STARTTLS");
		imap_auth_capabilities(s, out); /* imap_auth.c */
	}
}

void imap_reply(struct imap_session *s, const char *status, const char *fmt,
		...)
{
	va_list ap;
	struct buf b;

	buf_init(&b, 16384);
	buf_append(&b, s->tag.p, s->tag.len);
	buf_printf(&b, " %s ", status);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append(&b, "\r\n", 2);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static void *imap_open(struct conn *conn, void *ctx)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));
	struct buf caps;

	s->conn = conn;
	s->ctx = ctx;
	s->state = IMAP_STATE_NOT_AUTHENTICATED;
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	conn_printf(conn, "* OK [CAPABILITY %s] Merpati ready.\r\n", caps.data);
	buf_free(&caps);
	return s;
}

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+"> */
static bool imap_tag_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\+", c) == NULL;
}

static bool imap_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* Splits "tag SP command [SP args]". Returns 0, or -1 with a reason; a
   tag is returned even on error when one could be read. */
static int imap_split(struct imap_session *s, struct strv line,
		      struct strv *name_r, const char **error_r)
{
	size_t i = 0;

	while (i < line.len && imap_tag_char((unsigned char)line.p[i]))
		i++;
	s->tag = (struct strv){line.p, i};
	if (i == 0 || i > IMAP_TAG_MAX || (i < line.len && line.p[i] != ' ')) {
		s->tag = STRV_LIT("*");
		*error_r = "Missing or invalid tag";
		return -1;
	}
	if (i == line.len) {
		*error_r = "Missing command";
		return -1;
	}
	size_t start = ++i;

	while (i < line.len && imap_atom_char((unsigned char)line.p[i]))
		i++;
	*name_r = (struct strv){line.p + start, i - start};
	if (name_r->len == 0 || (i < line.len && line.p[i] != ' ')) {
		*error_r = "Invalid command name";
		return -1;
	}
	if (i < line.len)
		i++;
	s->args = (struct strv){line.p + i, line.len - i};
	return 0;
}

static const struct imap_command *imap_find(struct strv name)
{
	for (const struct imap_command *c = imap_commands; c->name != NULL;
	     c++) {
		if (strv_eq_cstr_ci(name, c->name))
			return c;
	}
	return NULL;
}

/* Runs one command line. Returns false when reading must stop. */
static bool imap_run_line(struct imap_session *s, struct strv line)
{
	const struct imap_command *cmd;
	const char *error;
	struct strv name;

	if (line.len == 0) {
		conn_consume_line(s->conn);
		conn_write_str(s->conn, "* BAD Empty command line\r\n");
		return true;
	}
	if (imap_split(s, line, &name, &error) < 0) {
		imap_reply(s, "BAD", "%s", error);
		conn_consume_line(s->conn);
		return true;
	}
	cmd = imap_find(name);
	if (cmd == NULL) {
		imap_reply(s, "BAD", "Unknown command %.*s", (int)name.len,
			   name.p);
		conn_consume_line(s->conn);
		return true;
	}
	if ((cmd->states & (1u << s->state)) == 0) {
		imap_reply(s, "BAD", "%s is not allowed %s", cmd->name,
			   s->state == IMAP_STATE_NOT_AUTHENTICATED
				   ? "before login"
				   : "in this state");
		conn_consume_line(s->conn);
		return true;
	}
	/* the handler consumes the line itself once it has what it needs */
	return cmd->run(s) == IMAP_CMD_DONE && !s->stop_reading;
}

static void imap_process(void *session)
{
	struct imap_session *s = session;

	if (s->resume != NULL) {
		void (*resume)(struct imap_session *) = s->resume;

		s->resume = NULL;
		resume(s);
		if (s->resume != NULL)
			return;
	}
	while (!s->stop_reading && !conn_is_closing(s->conn) &&
	       !conn_output_full(s->conn)) {
		struct strv line;
		int ret = conn_peek_line(s->conn, IMAP_LINE_MAX, &line);

		if (ret == 0)
			break;
		if (ret < 0) {
			/* RFC 9051 7.1: TOOBIG; the tag is lost with the line */
			conn_write_str(
				s->conn,
				"* BAD [TOOBIG] Command line too long\r\n");
			conn_log_info(s->conn, "event=line_too_long max=%u",
				      IMAP_LINE_MAX);
			conn_skip_line(s->conn);
			continue;
		}
		if (!imap_run_line(s, line))
			break;
	}
}

static void imap_bye(void *session, enum conn_bye why)
{
	struct imap_session *s = session;

	conn_write_str(s->conn,
		       why == CONN_BYE_SHUTDOWN
			       ? "* BYE Server shutting down\r\n"
			       : "* BYE Autologout; idle for too long\r\n");
}

static void imap_free(void *session)
{
	struct imap_session *s = session;

	imap_auth_session_free(s); /* imap_auth.c */
	free(s->user);
	free(s);
}

const struct conn_handler imap_conn_handler = {
	.name = "imap",
	.open = imap_open,
	.process = imap_process,
	.bye = imap_bye,
	.free = imap_free,
};
