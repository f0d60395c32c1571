/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_append.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_folder.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_parser.h"
#include "protocols/imap/imap_store.h"
#include "storage/mailbox.h"

#include <stdlib.h>
#include <string.h>

/* Messages one MULTIAPPEND may carry. */
#define IMAP_APPEND_MAX_MESSAGES 1000

struct imap_append_msg {
	struct mailbox_append *ctx; /* NULL once finished or dropped */
	unsigned flags;
	uint32_t keywords;
	time_t date; /* 0: now */
	uint32_t uid;
};

struct imap_append {
	struct mailbox *box;
	char *name;
	struct imap_append_msg *msgs;
	size_t count, cap;
	const char *error; /* a write failed: the command fails */
	enum maildir_error kind;
};

static void append_free(struct imap_append **app)
{
	struct imap_append *a = *app;

	if (a == NULL)
		return;
	for (size_t i = 0; i < a->count; i++)
		mailbox_append_abort(&a->msgs[i].ctx);
	free(a->msgs);
	mailbox_free(&a->box);
	free(a->name);
	free(a);
	*app = NULL;
}

void imap_append_abort(struct imap_session *s)
{
	append_free(&s->append);
}

/* "tag NO ..." for a literal we refuse, before its bytes come. */
static void refuse(struct imap_session *s, const struct imap_parser_literal *li,
		   const char *code, const char *text)
{
	conn_printf(s->conn, "%.*s NO %s%s\r\n", (int)li->tag.len, li->tag.p,
		    code, text);
	imap_parser_literal_refuse(s->parser);
	append_free(&s->append);
}

static void sink(void *context, const void *data, size_t len)
{
	struct imap_session *s = context;
	struct imap_append *a = s->append;
	struct imap_append_msg *m;
	const char *error = NULL;

	if (a == NULL || a->count == 0 || a->error != NULL)
		return;
	m = &a->msgs[a->count - 1];
	if (mailbox_append_write(m->ctx, data, len, &error) < 0) {
		a->error = error;
		a->kind = maildir_last_error(mailbox_store(a->box));
	}
}

/* Flags and date before the literal at top index li->top_index. */
static bool read_options(struct imap_session *s,
			 const struct imap_parser_literal *li,
			 struct imap_append_msg *m, const char **error_r)
{
	size_t first = li->top_index;
	const struct imap_arg *a;

	/* the options run back to the mailbox (index 0) or to the previous
	   message's literal */
	while (first > 1) {
		a = imap_parser_literal_top_arg(s->parser, first - 1);
		if (imap_arg_type(a) == IMAP_ARG_LITERAL)
			break;
		first--;
	}
	for (size_t i = first; i < li->top_index; i++) {
		int zone;

		a = imap_parser_literal_top_arg(s->parser, i);
		if (imap_arg_type(a) == IMAP_ARG_LIST && i == first) {
			struct strv *flags = NULL;
			size_t n = 0;

			if (!imap_arg_get_flags(a, imap_parser_arena(s->parser),
						&flags, &n)) {
				*error_r = "Invalid flag list";
				return false;
			}
			continue;
		}
		if (!imap_arg_get_date_time(a, &m->date, &zone)) {
			*error_r = "Invalid date-time";
			return false;
		}
	}
	return true;
}

void imap_append_literal(struct imap_session *s)
{
	struct imap_parser_literal li;
	struct imap_append *a = s->append;
	struct imap_append_msg *m;
	const char *error = NULL;
	uint64_t max = s->ctx->set.append_max;

	imap_parser_literal_info(s->parser, &li);
	if (li.depth != 0 || li.top_index == 0) {
		/* not a message: a literal among the options, kept */
		if (imap_parser_literal_accept(s->parser, NULL, NULL) < 0)
			append_free(&s->append);
		return;
	}
	if (a == NULL) {
		struct strv raw;
		char *name = NULL;

		if (!imap_arg_get_mailbox(
			    imap_parser_literal_top_arg(s->parser, 0), &raw)) {
			/* the command will get its BAD when complete */
			imap_parser_literal_accept(s->parser, NULL, NULL);
			return;
		}
		a = s->append = xcalloc(1, sizeof(*a));
		if (imap_folder_name(s, raw, &name, &error) < 0) {
			refuse(s, &li, "[CANNOT] ", error);
			return;
		}
		a->name = name;
		/* no sync: a folder changed since its index was written
		   would be scanned here, on the loop; APPEND needs none */
		if (mailbox_open(s->store, name, MAILBOX_OPEN_NO_SYNC, &a->box,
				 &error) < 0) {
			bool missing = maildir_last_error(s->store) ==
				       MAILDIR_ERROR_NOT_FOUND;

			/* RFC 3501 6.3.11: TRYCREATE for a missing folder */
			refuse(s, &li,
			       missing ? "[TRYCREATE] " : imap_storage_code(s),
			       error);
			return;
		}
	}
	if (max > 0 && li.size > max) {
		/* RFC 7889: refused before the first byte is stored */
		refuse(s, &li, "[TOOBIG] ", "Message too big");
		return;
	}
	if (a->count == IMAP_APPEND_MAX_MESSAGES) {
		refuse(s, &li, "[LIMIT] ", "Too many messages");
		return;
	}
	if (a->count == a->cap) {
		a->cap = a->cap == 0 ? 4 : 2 * a->cap;
		a->msgs = xrealloc(a->msgs, a->cap * sizeof(*a->msgs));
	}
	m = &a->msgs[a->count];
	memset(m, 0, sizeof(*m));
	if (!read_options(s, &li, m, &error)) {
		conn_printf(s->conn, "%.*s BAD %s\r\n", (int)li.tag.len,
			    li.tag.p, error);
		imap_parser_literal_refuse(s->parser);
		append_free(&s->append);
		return;
	}
	if (mailbox_append_begin(a->box, &m->ctx, &error) < 0) {
		refuse(s, &li, imap_storage_code(s), error);
		return;
	}
	a->count++;
	imap_parser_literal_accept(s->parser, sink, s);
}

/* "[APPENDUID v uids] " (RFC 4315 3) */
static void write_appenduid(struct buf *b, struct imap_append *a)
{
	buf_printf(b, "[APPENDUID %u ", mailbox_uidvalidity(a->box));
	for (size_t i = 0; i < a->count; i++) {
		size_t j = i;

		while (j + 1 < a->count &&
		       a->msgs[j + 1].uid == a->msgs[j].uid + 1)
			j++;
		if (j > i)
			buf_printf(b, "%s%u:%u", i > 0 ? "," : "",
				   a->msgs[i].uid, a->msgs[j].uid);
		else
			buf_printf(b, "%s%u", i > 0 ? "," : "", a->msgs[i].uid);
		i = j;
	}
	buf_append_str(b, "] ");
}

/* Checks the whole command: mailbox, then groups of [flags] [date]
   literal. Returns the number of messages, or -1. */
static long check_syntax(struct imap_cmd *cmd)
{
	size_t n = imap_cmd_argc(cmd), i = 1;
	long msgs = 0;
	struct strv raw;

	if (!imap_arg_get_mailbox(imap_cmd_arg(cmd, 0), &raw))
		return -1;
	while (i < n) {
		if (imap_arg_type(imap_cmd_arg(cmd, i)) == IMAP_ARG_LIST)
			i++;
		if (i < n &&
		    imap_arg_type(imap_cmd_arg(cmd, i)) == IMAP_ARG_QUOTED)
			i++;
		if (i >= n ||
		    imap_arg_type(imap_cmd_arg(cmd, i)) != IMAP_ARG_LITERAL)
			return -1;
		i++;
		msgs++;
	}
	return msgs;
}

/* Keyword and flag bits of group k's flag list. */
static int group_flags(struct imap_cmd *cmd, struct imap_append *a)
{
	size_t n = imap_cmd_argc(cmd), k = 0;

	for (size_t i = 1; i < n && k < a->count; i++) {
		const struct imap_arg *arg = imap_cmd_arg(cmd, i);

		if (imap_arg_type(arg) == IMAP_ARG_LITERAL) {
			k++;
			continue;
		}
		if (imap_arg_type(arg) != IMAP_ARG_LIST)
			continue;
		if (imap_store_parse_flags(cmd, arg, a->box, true,
					   &a->msgs[k].flags,
					   &a->msgs[k].keywords) < 0)
			return -1;
	}
	return 0;
}

/* The commit of every message (fsync, rename, the UID under the folder's
   lock) on a storage thread (imap_job.h). */
struct append_job {
	struct imap_append *a;
	size_t done; /* messages stored */
	const char *error;
	enum maildir_error kind;
};

static void append_work(void *ctx)
{
	struct append_job *j = ctx;
	struct imap_append *a = j->a;

	for (; j->done < a->count; j->done++) {
		struct imap_append_msg *m = &a->msgs[j->done];

		if (mailbox_append_finish(&m->ctx, m->flags, m->keywords,
					  m->date, &m->uid, &j->error) < 0)
			break;
	}
	if (j->done < a->count) {
		/* all or nothing (RFC 3502 5): take back what was stored */
		uint32_t *uids = xcalloc(j->done + 1, sizeof(*uids));
		const char *ignored = NULL;

		j->kind = maildir_last_error(mailbox_store(a->box));
		for (size_t i = 0; i < j->done; i++)
			uids[i] = a->msgs[i].uid;
		if (j->done > 0)
			mailbox_expunge(a->box, uids, j->done, &ignored);
		free(uids);
	}
}

static void append_job_free(void *ctx)
{
	struct append_job *j = ctx;

	append_free(&j->a);
	free(j);
}

static enum imap_cmd_result append_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct append_job *j = ctx;
	struct imap_append *a = j->a;
	struct buf code;

	if (j->done < a->count) {
		conn_log_warn(s->conn,
			      "event=append_failed folder=\"%s\" "
			      "error=\"%s\"",
			      a->name, j->error);
		return imap_cmd_no(cmd, "%s%s", imap_storage_code_of(j->kind),
				   j->error);
	}
	conn_log_info(s->conn, "event=append folder=\"%s\" count=%zu", a->name,
		      a->count);
	buf_init(&code, 1024 * 1024);
	write_appenduid(&code, a);
	imap_cmd_ok(cmd, "%.*sAPPEND completed", (int)code.len, code.data);
	buf_free(&code);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_append(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_append *a = s->append;
	long msgs = check_syntax(cmd);
	struct append_job *j;

	if (msgs <= 0) {
		append_free(&s->append);
		imap_reply(cmd, "BAD", "APPEND needs a mailbox and a message");
		return IMAP_CMD_DONE;
	}
	if (a == NULL || a->count != (size_t)msgs) {
		/* every message literal went through imap_append_literal() */
		append_free(&s->append);
		return imap_cmd_no(cmd, "[SERVERBUG] Message data not stored");
	}
	if (a->error != NULL) {
		enum imap_cmd_result r = imap_cmd_no(
			cmd, "%s%s",
			a->kind == MAILDIR_ERROR_NO_SPACE ? "[OVERQUOTA] "
							  : "[UNAVAILABLE] ",
			a->error);

		append_free(&s->append);
		return r;
	}
	if (group_flags(cmd, a) < 0) {
		append_free(&s->append);
		return IMAP_CMD_DONE;
	}
	/* the job owns the messages now (a session freed meanwhile must not
	   drop them under it) */
	j = xcalloc(1, sizeof(*j));
	j->a = a;
	s->append = NULL;
	return imap_job_run(cmd, append_work, append_done, append_job_free, j,
			    true);
}
