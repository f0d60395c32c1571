/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_append.h"
#include "protocols/imap/imap_auth.h"
#include "protocols/imap/imap_compress.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_parser.h"
#include "protocols/imap/imap_private.h"
#include "protocols/imap/imap_quota.h"
#include "protocols/imap/imap_recent.h"
#include "protocols/imap/imap_search.h"
#include "protocols/imap/imap_searchres.h"
#include "protocols/imap/imap_session_cmds.h"
#include "protocols/imap/imap_special_use.h"
#include "protocols/imap/imap_sync.h"
#include "storage/mail_user.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Seconds a command may wait for a folder's UID list lock: storage calls
   still run on the worker's loop, so give up early ([UNAVAILABLE]) rather
   than stall every session of the worker. */
#define IMAP_LOCK_WAIT_SECS 5

struct imap_context *imap_context_new(const struct imap_settings *set)
{
	struct imap_context *ctx = xcalloc(1, sizeof(*ctx));

	ctx->set = *set;
	for (size_t i = 0; i < IMAP_SPECIAL_FOLDERS; i++) {
		if (set->special_folders[i] != NULL)
			ctx->set.special_folders[i] =
				xstrdup(set->special_folders[i]);
	}
	return ctx;
}

void imap_context_free(struct imap_context **ctx)
{
	if (*ctx == NULL)
		return;
	for (size_t i = 0; i < IMAP_SPECIAL_FOLDERS; i++)
		free((char *)(*ctx)->set.special_folders[i]);
	free(*ctx);
	*ctx = NULL;
}

const struct imap_settings *imap_session_settings(const struct imap_session *s)
{
	return &s->ctx->set;
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
		buf_append_str(out, " LITERAL- ID ENABLE");
		imap_auth_capabilities(s, out); /* imap_auth.c */
		return;
	}
	buf_append_str(out, " LITERAL+ IDLE UIDPLUS MOVE UNSELECT CHILDREN "
			    "MULTIAPPEND ID ENABLE NAMESPACE");
	buf_append_str(out, " SPECIAL-USE CREATE-SPECIAL-USE"); /* RFC 6154 */
	buf_append_str(out, " LIST-EXTENDED LIST-STATUS STATUS=SIZE");
	buf_append_str(out, " UNAUTHENTICATE"); /* RFC 8437, imap_auth.c */
	imap_enable_capabilities(s, out);
	/* RFC 7889: the largest message APPEND takes */
	buf_printf(out, " APPENDLIMIT=%llu",
		   (unsigned long long)(s->ctx->set.append_max > 0
						? s->ctx->set.append_max
						: IMAP_PARSER_LITERAL_MAX));
	imap_compress_capabilities(s, out); /* imap_compress.c */
	imap_search_capabilities(s, out);   /* imap_search.c */
	imap_quota_capabilities(s, out);    /* imap_quota.c */
}

size_t imap_cmd_argc(const struct imap_cmd *cmd)
{
	size_t n = imap_arg_count(cmd->argv);

	return n > cmd->first ? n - cmd->first : 0;
}

const struct imap_arg *imap_cmd_arg(const struct imap_cmd *cmd, size_t i)
{
	return imap_arg_at(cmd->argv, cmd->first + i);
}

/* "<tag> <status> <text>\r\n" into b (initialised here). */
__attribute__((format(printf, 4, 0))) static void
imap_vformat(struct imap_cmd *cmd, struct buf *b, const char *status,
	     const char *fmt, va_list ap)
{
	/* room for long response codes: COPYUID, MODIFIED (RFC 7162) */
	buf_init(b, 64 * 1024 * 1024);
	buf_append(b, cmd->tag.p, cmd->tag.len);
	buf_printf(b, " %s ", status);
	buf_vprintf(b, fmt, ap);
	buf_append(b, "\r\n", 2);
}

__attribute__((format(printf, 3, 0))) static void
imap_vreply(struct imap_cmd *cmd, const char *status, const char *fmt,
	    va_list ap)
{
	struct buf b;

	imap_vformat(cmd, &b, status, fmt, ap);
	conn_write(cmd->s->conn, b.data, b.len);
	buf_free(&b);
}

void imap_reply(struct imap_cmd *cmd, const char *status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	imap_vreply(cmd, status, fmt, ap);
	va_end(ap);
}

enum imap_cmd_result imap_cmd_done(struct imap_cmd *cmd, const char *status,
				   const char *fmt, ...)
{
	struct imap_session *s = cmd->s;
	struct buf b;
	va_list ap;

	va_start(ap, fmt);
	imap_vformat(cmd, &b, status, fmt, ap);
	va_end(ap);
	if (s->sel != NULL && strcmp(status, "BAD") != 0) {
		/* RFC 3501 7.4.1: no EXPUNGE at the end of FETCH, STORE,
		   SEARCH (and COPY) with sequence numbers */
		bool expunges_ok = cmd->def == NULL ||
				   (cmd->def->flags & IMAP_CMDF_SEQ) == 0 ||
				   cmd->uid;

		/* a sync that may scan runs on a storage thread, and the
		   tagged line waits for its untagged responses (imap_job.h) */
		if (expunges_ok &&
		    imap_job_sync_start(s, b.data, b.len, NULL, NULL)) {
			buf_free(&b);
			return IMAP_CMD_DONE;
		}
		imap_sync(s, expunges_ok);
	}
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	return IMAP_CMD_DONE;
}

const char *imap_storage_code(struct imap_session *s)
{
	return imap_storage_code_of(maildir_last_error(s->store));
}

const char *imap_storage_code_of(enum maildir_error kind)
{
	switch (kind) {
	case MAILDIR_ERROR_NOT_FOUND:
		return "[NONEXISTENT] ";
	case MAILDIR_ERROR_EXISTS:
		return "[ALREADYEXISTS] ";
	case MAILDIR_ERROR_INVALID_NAME:
		return "[CANNOT] ";
	case MAILDIR_ERROR_NOT_ALLOWED:
		return "[CANNOT] ";
	case MAILDIR_ERROR_EXPUNGED:
		return "[EXPUNGEISSUED] ";
	case MAILDIR_ERROR_TEMP:
	case MAILDIR_ERROR_UNREADABLE: /* a file the server cannot read */
		return "[UNAVAILABLE] ";
	case MAILDIR_ERROR_NO_SPACE:
		return "[OVERQUOTA] ";
	case MAILDIR_ERROR_NONE:
		break;
	}
	return "[SERVERBUG] ";
}

int imap_session_login(struct imap_session *s, const struct mail_user *user,
		       const char **error_r)
{
	struct maildir_settings mset;
	struct imap_parser_settings pset;

	maildir_settings_init(&mset);
	mset.fsync = s->ctx->set.fsync;
	mset.lock_timeout_secs = IMAP_LOCK_WAIT_SECS;
	mset.quota_bytes =
		s->ctx->set.quota_bytes; /* the userdb may override */
	if (mail_user_open(user, &mset, &s->store, error_r) != MAIL_USER_OK)
		return -1;
	free(s->user);
	free(s->mail_root);
	s->user = xstrdup(user->name);
	s->mail_root = xstrdup(user->mail_root);
	s->state = IMAP_STATE_AUTHENTICATED;
	imap_parser_settings_default(&pset, true);
	if (s->ctx->set.append_max > 0)
		pset.literal_max = s->ctx->set.append_max;
	pset.pause_at_literals = true; /* APPEND streams its message */
	imap_parser_set_settings(s->parser, &pset);
	conn_set_user(s->conn, s->user);
	/* RFC 3501 5.4: the autologout timer is at least 30 minutes */
	conn_set_timeout(s->conn, s->ctx->set.timeout);
	imap_special_use_setup(s); /* imap_special_use.c */
	return 0;
}

void imap_session_unauthenticate(struct imap_session *s)
{
	struct imap_parser_settings pset;

	imap_session_unselect(s);
	maildir_free(&s->store);
	free(s->user);
	free(s->mail_root);
	s->user = NULL;
	s->mail_root = NULL;
	s->enabled = 0;
	s->state = IMAP_STATE_NOT_AUTHENTICATED;
	imap_parser_settings_default(&pset, false);
	imap_parser_set_settings(s->parser, &pset);
	conn_unclaim_user(s->conn);
	conn_set_user(s->conn, NULL);
	conn_restart_login(s->conn);
}

void imap_session_unselect(struct imap_session *s)
{
	if (s->sel == NULL)
		return;
	mailbox_cache_save(s->sel->box);
	mailbox_free(&s->sel->box);
	imap_recent_free(&s->sel->recent);
	free(s->sel->name);
	imap_searchres_free(s->sel);
	free(s->sel);
	s->sel = NULL;
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTHENTICATED;
}

static void *imap_open(struct conn *conn, void *ctx)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));
	struct imap_parser_settings pset;
	struct buf caps;

	s->conn = conn;
	s->ctx = ctx;
	s->state = IMAP_STATE_NOT_AUTHENTICATED;
	imap_parser_settings_default(&pset, false);
	s->parser = imap_parser_new(&pset);
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	conn_printf(conn, "* OK [CAPABILITY %s] Merpati ready.\r\n", caps.data);
	buf_free(&caps);
	return s;
}

static const struct imap_command *imap_find(struct strv name, unsigned flags)
{
	for (const struct imap_command *c = imap_commands; c->name != NULL;
	     c++) {
		if (!strv_eq_cstr_ci(name, c->name))
			continue;
		if (flags != 0 ? (c->flags & flags) != 0
			       : (c->flags & IMAP_CMDF_UID_ONLY) == 0)
			return c;
	}
	return NULL;
}

/* Ends the running command (its tagged reply is written). */
static void imap_cmd_end(struct imap_session *s)
{
	struct imap_cmd *cmd = s->cmd;

	if (cmd == NULL)
		return;
	if (cmd->cleanup != NULL)
		cmd->cleanup(cmd);
	s->cmd = NULL;
}

static enum imap_cmd_result imap_dispatch(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	const struct imap_command *def;

	if (strv_eq_cstr_ci(cmd->name, "UID")) {
		struct strv sub;

		if (!imap_arg_get_atom(imap_arg_at(cmd->argv, 0), &sub)) {
			imap_reply(cmd, "BAD", "UID needs a command");
			return IMAP_CMD_DONE;
		}
		def = imap_find(sub, IMAP_CMDF_UID | IMAP_CMDF_UID_ONLY);
		if (def == NULL) {
			imap_reply(cmd, "BAD", "Unknown UID command");
			return IMAP_CMD_DONE;
		}
		cmd->uid = true;
		cmd->first = 1;
	} else {
		def = imap_find(cmd->name, 0);
		if (def == NULL) {
			/* a name is ATOM-CHARs only: safe to echo */
			imap_reply(cmd, "BAD", "Unknown command %.*s",
				   (int)cmd->name.len, cmd->name.p);
			return IMAP_CMD_DONE;
		}
	}
	if ((def->states & (1u << s->state)) == 0) {
		imap_reply(cmd, "BAD", "%s is not allowed %s", def->name,
			   s->state == IMAP_STATE_NOT_AUTHENTICATED
				   ? "before login"
			   : (def->states & IMAP_IN_SELECTED) != 0
				   ? "without a selected mailbox"
			   : (def->states & IMAP_IN_NOAUTH) != 0
				   ? "after login"
				   : "in this state");
		return IMAP_CMD_DONE;
	}
	cmd->def = def;
	return def->run(cmd);
}

/* A complete command from the parser. Returns false when the session
   must stop reading for now (the command is pending). */
static bool imap_run(struct imap_session *s)
{
	struct arena *arena = imap_parser_arena(s->parser);
	struct imap_cmd *cmd = arena_zalloc(arena, sizeof(*cmd));

	cmd->s = s;
	cmd->tag = imap_parser_tag(s->parser);
	cmd->name = imap_parser_name(s->parser);
	cmd->argv = imap_parser_args(s->parser);
	cmd->arena = arena;
	s->cmd = cmd;
	if (imap_dispatch(cmd) == IMAP_CMD_PENDING)
		return false;
	imap_cmd_end(s);
	return true;
}

/* Runs the pending command again. Returns false while it is still
   pending. */
static bool imap_resume(struct imap_session *s)
{
	struct imap_cmd *cmd = s->cmd;

	if (cmd->resume == NULL || cmd->resume(cmd) == IMAP_CMD_PENDING)
		return false;
	imap_cmd_end(s);
	return true;
}

static void imap_parse_error(struct imap_session *s)
{
	const struct imap_parser_error *e = imap_parser_error(s->parser);
	struct buf b;

	imap_append_abort(s); /* a failed APPEND stores nothing */
	buf_init(&b, 1024);
	imap_parser_error_reply(s->parser, &b);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	if (e->class == IMAP_PARSER_ERR_FATAL) {
		conn_log_info(s->conn, "event=protocol_error reason=%s",
			      log_q(e->reason));
		s->stop_reading = true;
		conn_close(s->conn, "protocol error");
	}
}

/* The parser paused at a literal header (after login only). */
static void imap_literal(struct imap_session *s)
{
	struct imap_parser_literal li;

	imap_parser_literal_info(s->parser, &li);
	if (strv_eq_cstr_ci(li.name, "APPEND")) {
		imap_append_literal(s); /* streamed to tmp/ */
		return;
	}
	/* anything else is kept in memory, within the parser's limits */
	if (imap_parser_literal_accept(s->parser, NULL, NULL) < 0)
		imap_parse_error(s);
}

static void imap_process(void *session)
{
	struct imap_session *s = session;

	if (s->starttls_pending) {
		/* called again once the handshake is done */
		if (!conn_is_tls(s->conn))
			return;
		s->starttls_pending = false;
	}
	/* a command's end sync on a storage thread: nothing runs meanwhile */
	if (!imap_job_sync_finish(s))
		return;
	if (s->cmd != NULL && !imap_resume(s))
		return;
	while (!s->stop_reading && !conn_is_closing(s->conn) &&
	       !conn_output_full(s->conn) && !s->starttls_pending &&
	       !imap_job_sync_busy(s)) {
		struct buf *in = conn_input(s->conn);
		size_t used = 0;
		int r = imap_parser_feed(s->parser, in->data, in->len, &used);

		buf_consume(in, used);
		switch (r) {
		case IMAP_PARSER_MORE:
			return;
		case IMAP_PARSER_CONTINUE:
			conn_write_str(s->conn, "+ OK\r\n");
			break;
		case IMAP_PARSER_LITERAL:
			imap_literal(s);
			break;
		case IMAP_PARSER_COMMAND:
			if (!imap_run(s))
				return;
			break;
		default:
			imap_parse_error(s);
			break;
		}
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

	imap_job_sync_cancel(s); /* before anything touches the folder */
	imap_cmd_end(s);
	imap_append_abort(s);
	imap_auth_session_free(s); /* imap_auth.c */
	imap_session_unselect(s);
	maildir_free(&s->store);
	imap_parser_free(&s->parser);
	free(s->user);
	free(s->mail_root);
	free(s);
}

const struct conn_handler imap_conn_handler = {
	.name = "imap",
	.open = imap_open,
	.process = imap_process,
	.bye = imap_bye,
	.free = imap_free,
	/* RFC 3501 7.1.5: BYE as the greeting refuses the connection */
	.refuse = "* BYE Too many connections, try later\r\n",
};
