/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_fetch.h"

#include "lib/log.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap_bodystructure.h"
#include "protocols/imap/imap_condstore.h"
#include "protocols/imap/imap_date.h"
#include "protocols/imap/imap_envelope.h"
#include "protocols/imap/imap_fetch_private.h"
#include "protocols/imap/imap_msgset.h"
#include "protocols/imap/imap_seqset.h"
#include "protocols/imap/imap_sync.h"
#include "storage/cache.h"
#include "storage/mailbox.h"
#include "storage/mime.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The folder cache keeps each message's ENVELOPE as written (as Dovecot
   keeps imap.envelope), so a warm FETCH ENVELOPE neither rebuilds the
   MIME tree nor parses an address. Take a new id when imap_envelope.c
   writes differently: the old entries are then never read. */
#define FETCH_CACHE_ENVELOPE (MAIL_CACHE_FIELD_FIRST_USER + 1)
/* Bytes of a literal read from the file per slice. */
#define FETCH_SLICE (64 * 1024)
/* Largest non-literal part of one response (a BODYSTRUCTURE of a message
   at MIME_MAX_PARTS parts); more is a server error for that message. */
#define FETCH_LINE_MAX (32 * 1024 * 1024)
/* Items in one FETCH. */
#define FETCH_ITEMS_MAX 1000

/* --- the item list --- */

static const struct {
	const char *name;
	enum imap_fetch_item_kind kind;
} simple_items[] = {
	{"FLAGS", IMAP_FETCH_FLAGS},
	{"UID", IMAP_FETCH_UID},
	{"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
	{"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
	{"ENVELOPE", IMAP_FETCH_ENVELOPE},
	{"BODY", IMAP_FETCH_BODY},
	{"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
	{"MODSEQ", IMAP_FETCH_MODSEQ},
};

/* RFC 3501 6.4.5: the macros, only alone */
static const struct {
	const char *name;
	const char *items[5];
} macros[] = {
	{"ALL", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL}},
	{"FAST", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL, NULL}},
	{"FULL", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}},
};

static void plan_add(struct imap_fetch_plan *plan, enum imap_fetch_item_kind k,
		     const struct imap_fetch_section *sec)
{
	struct imap_fetch_item *it = &plan->items[plan->count++];

	it->kind = k;
	if (sec != NULL)
		it->sec = *sec;
	switch (k) {
	case IMAP_FETCH_FLAGS:
		plan->has_flags = true;
		break;
	case IMAP_FETCH_UID:
		plan->has_uid = true;
		break;
	case IMAP_FETCH_MODSEQ:
		plan->has_modseq = true;
		break;
	case IMAP_FETCH_ENVELOPE:
		plan->has_envelope = true;
		break;
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		plan->need_mime = true;
		break;
	case IMAP_FETCH_SECTION:
		plan->need_file = true;
		if (sec->kind != IMAP_SECTION_ALL)
			plan->need_mime = true;
		break;
	default:
		break;
	}
}

/* A plain item name; false when unknown. */
static bool parse_simple(struct strv name, struct imap_fetch_plan *plan)
{
	static const struct {
		const char *name;
		enum imap_fetch_section_kind kind;
		bool seen;
	} rfc822[] = {
		{"RFC822", IMAP_SECTION_ALL, true},
		{"RFC822.HEADER", IMAP_SECTION_HEADER, false},
		{"RFC822.TEXT", IMAP_SECTION_TEXT, true},
	};

	for (size_t i = 0; i < sizeof(simple_items) / sizeof(*simple_items);
	     i++) {
		if (strv_eq_cstr_ci(name, simple_items[i].name)) {
			plan_add(plan, simple_items[i].kind, NULL);
			return true;
		}
	}
	for (size_t i = 0; i < 3; i++) {
		struct imap_fetch_section sec = {.kind = rfc822[i].kind,
						 .name = rfc822[i].name};

		if (!strv_eq_cstr_ci(name, rfc822[i].name))
			continue;
		plan_add(plan, IMAP_FETCH_SECTION, &sec);
		plan->sets_seen |= rfc822[i].seen;
		return true;
	}
	return false;
}

static int parse_item(struct imap_cmd *cmd, const struct imap_arg *a,
		      struct imap_fetch_plan *plan)
{
	struct imap_fetch_section sec;
	const char *error = NULL;
	bool peek = false;
	struct strv name;

	if (imap_arg_section(a) != NULL) {
		if (imap_fetch_section_parse(a, cmd->arena, &sec, &peek,
					     &error) < 0) {
			imap_reply(cmd, "BAD", "%s", error);
			return -1;
		}
		plan_add(plan, IMAP_FETCH_SECTION, &sec);
		plan->sets_seen |= !peek;
		return 0;
	}
	if (!imap_arg_get_atom(a, &name) || !parse_simple(name, plan)) {
		imap_reply(cmd, "BAD", "Unknown FETCH item");
		return -1;
	}
	return 0;
}

static int parse_plan(struct imap_cmd *cmd, const struct imap_arg *a,
		      struct imap_fetch_plan *plan)
{
	size_t n = imap_arg_type(a) == IMAP_ARG_LIST ? imap_arg_count(a) : 1;
	struct strv name;

	memset(plan, 0, sizeof(*plan));
	if (n == 0 || n > FETCH_ITEMS_MAX) {
		imap_reply(cmd, "BAD", "FETCH needs 1 to %d items",
			   FETCH_ITEMS_MAX);
		return -1;
	}
	/* room for the macros' five and UID FETCH's UID */
	plan->items = arena_zalloc(cmd->arena, (n + 6) * sizeof(*plan->items));
	if (imap_arg_type(a) != IMAP_ARG_LIST && imap_arg_section(a) == NULL &&
	    imap_arg_get_atom(a, &name)) {
		for (size_t i = 0; i < sizeof(macros) / sizeof(*macros); i++) {
			if (!strv_eq_cstr_ci(name, macros[i].name))
				continue;
			for (size_t k = 0; k < 5 && macros[i].items[k]; k++)
				parse_simple(strv_from_cstr(macros[i].items[k]),
					     plan);
			return 0;
		}
	}
	if (imap_arg_type(a) != IMAP_ARG_LIST)
		return parse_item(cmd, a, plan);
	for (size_t i = 0; i < n; i++)
		if (parse_item(cmd, imap_arg_at(a, i), plan) < 0)
			return -1;
	return 0;
}

/* --- the running command --- */

struct fetch_state {
	struct imap_fetch_plan plan;
	struct imap_msgset set;
	bool *seen_set; /* per set entry: this FETCH set \Seen */
	size_t pos;	/* set entry being answered */
	size_t item;	/* next item of it */
	bool started;	/* its "* n FETCH (" is written */
	bool need_sep;	/* an item was written: the next needs a space */
	/* the message being answered */
	int fd;
	struct mime_message *mime;
	uint64_t vsize;
	time_t date;
	struct buf envelope; /* the cached ENVELOPE, when there */
	bool envelope_cached;
	struct imap_fetch_body *body; /* literal being sent */
	struct buf line;	      /* response bytes before a literal */
	char *slice;		      /* FETCH_SLICE bytes */
	bool expunged;		      /* a message was left out */
	bool failed;		      /* a message could not be read */
};

static void message_end(struct fetch_state *st)
{
	imap_fetch_body_free(&st->body);
	mime_message_free(&st->mime);
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	st->started = false;
	st->item = 0;
	st->pos++;
}

static void fetch_cleanup(struct imap_cmd *cmd)
{
	struct fetch_state *st = cmd->state;

	if (st == NULL)
		return;
	imap_fetch_body_free(&st->body);
	mime_message_free(&st->mime);
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	buf_free(&st->line);
	buf_free(&st->envelope);
	free(st->slice);
	st->slice = NULL;
	cmd->state = NULL;
}

/* RFC 3501 6.4.5: sets \Seen on the messages that lack it, in one update
   (one lock, a rename each), and remembers which for their FLAGS. */
static void set_seen(struct imap_cmd *cmd, struct fetch_state *st)
{
	struct mailbox *box = cmd->s->sel->box;
	uint32_t *uids =
		arena_alloc(cmd->arena, (st->set.count + 1) * sizeof(*uids));
	const char *error = NULL;
	size_t n = 0;

	st->seen_set = arena_zalloc(cmd->arena, st->set.count + 1);
	for (size_t i = 0; i < st->set.count; i++) {
		struct mailbox_msg msg;

		mailbox_get(box, st->set.idx[i], &msg);
		if ((msg.flags & MAILDIR_FLAG_SEEN) != 0)
			continue;
		uids[n++] = msg.uid;
		st->seen_set[i] = true;
	}
	if (n == 0)
		return;
	if (mailbox_update_flags(box, uids, n, MAILBOX_FLAGS_ADD,
				 MAILDIR_FLAG_SEEN, 0, &error) < 0) {
		conn_log_error(cmd->s->conn,
			       "event=fetch_seen folder=%s error=%s",
			       log_q(cmd->s->sel->name), log_q(error));
		memset(st->seen_set, 0, st->set.count);
	}
}

/* Copies the message's cached ENVELOPE to st->envelope, when there. */
static void envelope_lookup(struct mailbox *box, unsigned idx,
			    struct fetch_state *st)
{
	struct mailbox_msg msg;
	const void *data;
	size_t len;

	mailbox_get(box, idx, &msg);
	buf_reset(&st->envelope);
	st->envelope_cached =
		mail_cache_get(mailbox_cache(box), msg.uid,
			       FETCH_CACHE_ENVELOPE, &data, &len) &&
		buf_append(&st->envelope, data, len) == 0;
}

/* ENVELOPE from the cache, else written from the MIME tree and cached. */
static int write_envelope(struct imap_cmd *cmd, struct fetch_state *st,
			  unsigned idx, struct buf *b)
{
	struct mailbox *box = cmd->s->sel->box;
	struct mailbox_msg msg;
	size_t start;
	int ret;

	buf_append_str(b, "ENVELOPE (");
	if (st->envelope_cached) {
		ret = buf_append(b, st->envelope.data, st->envelope.len);
	} else {
		start = b->len;
		ret = imap_envelope_write(
			b, mime_message_root(st->mime)->envelope);
		mailbox_get(box, idx, &msg);
		if (ret == 0)
			mail_cache_put(mailbox_cache(box), msg.uid,
				       FETCH_CACHE_ENVELOPE, b->data + start,
				       b->len - start);
	}
	buf_append_str(b, ")");
	return ret;
}

/* Reads what the message's response needs before it starts. Returns 0,
   or -1 when the message must be left out. */
static int message_load(struct imap_cmd *cmd, struct fetch_state *st,
			unsigned idx)
{
	struct mailbox *box = cmd->s->sel->box;
	const struct imap_fetch_plan *plan = &st->plan;
	const char *error = NULL;
	uint64_t size;
	int ret = 0;

	if (plan->need_file)
		ret = mailbox_msg_open(box, idx, &st->fd, &error);
	if (plan->has_envelope)
		envelope_lookup(box, idx, st);
	if (ret == 0 &&
	    (plan->need_mime || (plan->has_envelope && !st->envelope_cached)))
		ret = mailbox_mime_get(box, idx, &st->mime, &error);
	for (size_t i = 0; ret == 0 && i < plan->count; i++) {
		enum imap_fetch_item_kind k = plan->items[i].kind;

		if (k == IMAP_FETCH_RFC822_SIZE || k == IMAP_FETCH_SECTION)
			ret = mailbox_msg_sizes(box, idx, &size, &st->vsize,
						&error);
		else if (k == IMAP_FETCH_INTERNALDATE)
			ret = mailbox_msg_date(box, idx, &st->date, &error);
	}
	if (ret == 0)
		return 0;
	if (maildir_last_error(cmd->s->store) == MAILDIR_ERROR_EXPUNGED) {
		st->expunged = true;
	} else {
		st->failed = true;
		conn_log_error(cmd->s->conn,
			       "event=fetch_failed folder=%s seq=%u "
			       "error=%s",
			       log_q(cmd->s->sel->name), idx + 1, log_q(error));
	}
	return -1;
}

static void write_date(struct buf *b, time_t t)
{
	char text[IMAP_DATE_TIME_LEN + 1];
	struct tm tm;
	int zone = 0;

	if (localtime_r(&t, &tm) != NULL)
		zone = (int)(tm.tm_gmtoff / 60);
	if (imap_date_time_write(t, zone, text) < 0)
		imap_date_time_write(0, 0, text);
	buf_printf(b, "INTERNALDATE \"%s\"", text);
}

/* Appends one item that is not a literal. Returns 0 or -1 (too big). */
static int write_simple(struct imap_cmd *cmd, struct fetch_state *st,
			const struct imap_fetch_item *it, unsigned idx,
			struct buf *b)
{
	const struct mime_part *root =
		st->mime != NULL ? mime_message_root(st->mime) : NULL;
	struct mailbox_msg msg;
	int ret = 0;

	switch (it->kind) {
	case IMAP_FETCH_FLAGS:
		imap_sync_write_flags(cmd->s, idx, b);
		break;
	case IMAP_FETCH_UID:
		mailbox_get(cmd->s->sel->box, idx, &msg);
		buf_append_str(b, "UID ");
		buf_append_u64(b, msg.uid);
		break;
	case IMAP_FETCH_MODSEQ:
		mailbox_get(cmd->s->sel->box, idx, &msg);
		buf_printf(b, "MODSEQ (%llu)", (unsigned long long)msg.modseq);
		break;
	case IMAP_FETCH_INTERNALDATE:
		write_date(b, st->date);
		break;
	case IMAP_FETCH_RFC822_SIZE:
		buf_append_str(b, "RFC822.SIZE ");
		buf_append_u64(b, st->vsize);
		break;
	case IMAP_FETCH_ENVELOPE:
		ret = write_envelope(cmd, st, idx, b);
		break;
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		buf_append_str(b, it->kind == IMAP_FETCH_BODY
					  ? "BODY ("
					  : "BODYSTRUCTURE (");
		ret = imap_bodystructure_write(
			b, root, it->kind == IMAP_FETCH_BODYSTRUCTURE);
		buf_append_str(b, ")");
		break;
	case IMAP_FETCH_SECTION:
		break;
	}
	return ret < 0 || buf_room(b) == 0 ? -1 : 0;
}

/* Starts section item it: its name and literal header go to st->line. */
static int section_begin(struct fetch_state *st,
			 const struct imap_fetch_item *it, const char **error_r)
{
	const struct imap_fetch_section *sec = &it->sec;
	uint64_t size;

	if (imap_fetch_body_open(sec, st->fd, st->mime, st->vsize, &st->body,
				 &size, error_r) < 0)
		return -1;
	buf_append_str(&st->line, sec->name);
	if (sec->partial)
		buf_printf(&st->line, "<%llu>",
			   (unsigned long long)sec->offset);
	buf_printf(&st->line, " {%llu}\r\n", (unsigned long long)size);
	return 0;
}

static void flush_line(struct imap_cmd *cmd, struct fetch_state *st)
{
	if (st->line.len > 0)
		conn_write(cmd->s->conn, st->line.data, st->line.len);
	buf_reset(&st->line);
}

/* Sends literal bytes until the section ends (true) or the output is
   full (false). A read error ends the literal with spaces. */
static bool stream_body(struct imap_cmd *cmd, struct fetch_state *st)
{
	const char *error = NULL;

	while (!conn_output_full(cmd->s->conn)) {
		ssize_t n = imap_fetch_body_read(st->body, st->slice,
						 FETCH_SLICE, &error);

		if (n < 0) {
			conn_log_error(cmd->s->conn,
				       "event=fetch_read folder=%s "
				       "error=%s",
				       log_q(cmd->s->sel->name), log_q(error));
			st->failed = true;
			imap_fetch_body_free(&st->body);
			return true;
		}
		if (n == 0) {
			imap_fetch_body_free(&st->body);
			return true;
		}
		conn_write(cmd->s->conn, st->slice, (size_t)n);
	}
	return false;
}

/* Writes "* n FETCH (" and the items the client did not ask for: UID
   for UID FETCH, FLAGS when this FETCH set \Seen. */
static void message_begin(struct imap_cmd *cmd, struct fetch_state *st,
			  unsigned idx)
{
	struct mailbox_msg msg;
	const char *sep = "";

	bool seen = st->seen_set != NULL && st->seen_set[st->pos];
	/* RFC 7162 3.2.4: once CONDSTORE is on, a FETCH that sets \Seen
	   reports UID and MODSEQ with the new flags */
	bool condstore = seen && imap_condstore_on(cmd->s);

	/* no printf here: FETCH 1:* of a big folder writes this per message */
	buf_append_str(&st->line, "* ");
	buf_append_u64(&st->line, idx + 1);
	buf_append_str(&st->line, " FETCH (");
	st->need_sep = false;
	if (cmd->uid || condstore)
		mailbox_get(cmd->s->sel->box, idx, &msg);
	if ((cmd->uid || condstore) && !st->plan.has_uid) {
		buf_append_str(&st->line, "UID ");
		buf_append_u64(&st->line, msg.uid);
		sep = " ";
		st->need_sep = true;
	}
	if (seen && !st->plan.has_flags) {
		buf_append_str(&st->line, sep);
		imap_sync_write_flags(cmd->s, idx, &st->line);
		sep = " ";
		st->need_sep = true;
	}
	if (condstore && !st->plan.has_modseq) {
		buf_printf(&st->line, "%sMODSEQ (%llu)", sep,
			   (unsigned long long)msg.modseq);
		st->need_sep = true;
	}
	st->started = true;
	st->item = 0;
}

/* Continues the current message. Returns false when the output is full
   (call again), true when the message is done. */
static bool message_continue(struct imap_cmd *cmd, struct fetch_state *st,
			     unsigned idx)
{
	const char *error = NULL;

	if (st->body != NULL && !stream_body(cmd, st))
		return false;
	for (; st->item < st->plan.count; st->item++) {
		const struct imap_fetch_item *it = &st->plan.items[st->item];
		if (conn_output_full(cmd->s->conn)) {
			flush_line(cmd, st);
			return false;
		}
		if (st->need_sep)
			buf_append_str(&st->line, " ");
		st->need_sep = true;
		if (it->kind != IMAP_FETCH_SECTION) {
			if (write_simple(cmd, st, it, idx, &st->line) < 0) {
				conn_log_error(cmd->s->conn,
					       "event=fetch_too_big seq=%u",
					       idx + 1);
				st->failed = true;
				buf_append_str(&st->line, " NIL");
			}
			continue;
		}
		if (section_begin(st, it, &error) < 0) {
			st->failed = true;
			buf_append_str(&st->line, it->sec.name);
			buf_append_str(&st->line, " NIL");
			continue;
		}
		flush_line(cmd, st);
		st->item++;
		if (!stream_body(cmd, st))
			return false;
		st->item--;
	}
	buf_append_str(&st->line, ")\r\n");
	flush_line(cmd, st);
	return true;
}

static enum imap_cmd_result fetch_finish(struct imap_cmd *cmd)
{
	struct fetch_state *st = cmd->state;
	bool expunged = st->expunged, failed = st->failed;

	fetch_cleanup(cmd);
	if (expunged)
		return imap_cmd_no(cmd, "[EXPUNGEISSUED] Some of the requested "
					"messages no longer exist");
	if (failed)
		return imap_cmd_no(cmd, "[SERVERBUG] Some messages could not "
					"be read");
	return imap_cmd_ok(cmd, "FETCH completed");
}

static enum imap_cmd_result fetch_resume(struct imap_cmd *cmd)
{
	struct fetch_state *st = cmd->state;

	while (st->pos < st->set.count) {
		unsigned idx = st->set.idx[st->pos];

		if (conn_is_closing(cmd->s->conn)) {
			fetch_cleanup(cmd);
			return IMAP_CMD_DONE;
		}
		if (conn_output_full(cmd->s->conn)) {
			cmd->resume = fetch_resume;
			return IMAP_CMD_PENDING;
		}
		if (!st->started) {
			if (message_load(cmd, st, idx) < 0) {
				message_end(st);
				continue;
			}
			message_begin(cmd, st, idx);
		}
		if (!message_continue(cmd, st, idx)) {
			cmd->resume = fetch_resume;
			return IMAP_CMD_PENDING;
		}
		message_end(st);
	}
	return fetch_finish(cmd);
}

/* FETCH modifiers (RFC 7162 3.1.4.1, 3.2.6) */
struct fetch_mods {
	bool changedsince;
	uint64_t modseq;
	bool vanished;
};

/* "(CHANGEDSINCE n [VANISHED])"; -1 after replying BAD. */
static int parse_mods(struct imap_cmd *cmd, const struct imap_arg *list,
		      struct fetch_mods *m)
{
	size_t n = imap_arg_count(list);

	memset(m, 0, sizeof(*m));
	if (imap_arg_type(list) != IMAP_ARG_LIST || n == 0) {
		imap_reply(cmd, "BAD", "Invalid FETCH modifiers");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct strv name;

		if (!imap_arg_get_atom(imap_arg_at(list, i), &name)) {
			imap_reply(cmd, "BAD", "Invalid FETCH modifiers");
			return -1;
		}
		if (strv_eq_cstr_ci(name, "CHANGEDSINCE") && !m->changedsince) {
			/* 0 is outside mod-sequence-value, but Dovecot and
			   clients take it as "everything" */
			if (!imap_condstore_arg_modseq(imap_arg_at(list, ++i),
						       true, &m->modseq)) {
				imap_reply(cmd, "BAD",
					   "CHANGEDSINCE needs a mod-sequence");
				return -1;
			}
			m->changedsince = true;
		} else if (strv_eq_cstr_ci(name, "VANISHED") && !m->vanished) {
			m->vanished = true;
		} else {
			imap_reply(cmd, "BAD", "Unknown FETCH modifier");
			return -1;
		}
	}
	/* RFC 7162 3.2.6: UID FETCH only, with CHANGEDSINCE, and only
	   after ENABLE QRESYNC */
	if (m->vanished && (!cmd->uid || !m->changedsince ||
			    !imap_condstore_qresync_on(cmd->s))) {
		imap_reply(cmd, "BAD",
			   "VANISHED needs UID FETCH, CHANGEDSINCE and "
			   "ENABLE QRESYNC");
		return -1;
	}
	return 0;
}

/* CHANGEDSINCE: only messages whose MODSEQ is above it */
static void filter_changed(struct mailbox *box, struct imap_msgset *set,
			   uint64_t modseq)
{
	size_t out = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct mailbox_msg msg;

		mailbox_get(box, set->idx[i], &msg);
		if (msg.modseq > modseq)
			set->idx[out++] = set->idx[i];
	}
	set->count = out;
}

/* RFC 7162 3.2.6: "* VANISHED (EARLIER)" for the UIDs of the command's
   set expunged since modseq, before the FETCH responses */
static void write_vanished(struct imap_cmd *cmd, uint64_t modseq)
{
	struct mailbox *box = cmd->s->sel->box;
	struct imap_condstore_range *r;
	struct imap_seqset *set = NULL;
	const char *error = NULL;
	size_t count = 0;

	if (imap_arg_get_seqset(imap_cmd_arg(cmd, 0), false, &set, &error) < 0)
		return;
	/* "*" reaches the highest UID ever given: UIDs expunged above the
	   last message are in "n:*" too */
	imap_seqset_resolve(set, mailbox_uidnext(box) - 1);
	r = imap_condstore_vanished(box, modseq, set, 0, &count);
	imap_condstore_write_vanished(cmd->s, true, r, count);
	free(r);
	imap_seqset_free(&set);
}

enum imap_cmd_result imap_cmd_fetch(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct fetch_state *st;
	struct fetch_mods mods = {0};
	size_t argc = imap_cmd_argc(cmd);

	if (argc != 2 && argc != 3) {
		imap_reply(cmd, "BAD", "FETCH needs a set and items");
		return IMAP_CMD_DONE;
	}
	st = arena_zalloc(cmd->arena, sizeof(*st));
	st->fd = -1;
	buf_init(&st->envelope, MAIL_CACHE_BLOB_MAX);
	if (parse_plan(cmd, imap_cmd_arg(cmd, 1), &st->plan) < 0 ||
	    imap_msgset_arg(cmd, 0, false, &st->set) < 0 ||
	    (argc == 3 && parse_mods(cmd, imap_cmd_arg(cmd, 2), &mods) < 0))
		return IMAP_CMD_DONE;
	/* RFC 7162 3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE */
	if (st->plan.has_modseq || mods.changedsince)
		imap_condstore_enable(s);
	if (mods.vanished)
		write_vanished(cmd, mods.modseq);
	if (mods.changedsince) {
		filter_changed(s->sel->box, &st->set, mods.modseq);
		/* RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ */
		if (!st->plan.has_modseq)
			plan_add(&st->plan, IMAP_FETCH_MODSEQ, NULL);
	}
	buf_init(&st->line, FETCH_LINE_MAX);
	st->slice = xmalloc(FETCH_SLICE);
	cmd->state = st;
	cmd->cleanup = fetch_cleanup;
	/* RFC 3501 6.4.5: \Seen is set implicitly; EXAMINE is read-only
	   (6.3.2) */
	if (st->plan.sets_seen && !s->sel->readonly)
		set_seen(cmd, st);
	return fetch_resume(cmd);
}
