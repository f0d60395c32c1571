/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SORT (RFC 5256 3, RFC 5957); see imap_sort.h. */
#include "protocols/imap/imap_sort.h"

#include "protocols/imap/imap_basesubject.h"
#include "protocols/imap/imap_msgkeys.h"
#include "protocols/imap/imap_search.h"
#include "protocols/imap/imap_search_text.h"
#include "storage/mailbox.h"

#include <stdlib.h>
#include <string.h>

/* Criteria in one SORT: the keys are few, repeats are pointless. */
#define SORT_CRITERIA_MAX 16

enum sort_key {
	SORT_ARRIVAL,
	SORT_CC,
	SORT_DATE,
	SORT_FROM,
	SORT_SIZE,
	SORT_SUBJECT,
	SORT_TO,
	SORT_DISPLAYFROM,
	SORT_DISPLAYTO,
};

static const struct {
	const char *name;
	enum sort_key key;
	unsigned need; /* enum imap_msgkeys_need */
} sort_keys[] = {
	{"ARRIVAL", SORT_ARRIVAL, IMAP_MSGKEYS_NEED_ARRIVAL},
	{"CC", SORT_CC, IMAP_MSGKEYS_NEED_HEADER},
	{"DATE", SORT_DATE, IMAP_MSGKEYS_NEED_HEADER},
	{"FROM", SORT_FROM, IMAP_MSGKEYS_NEED_HEADER},
	{"SIZE", SORT_SIZE, IMAP_MSGKEYS_NEED_SIZE},
	{"SUBJECT", SORT_SUBJECT, IMAP_MSGKEYS_NEED_HEADER},
	{"TO", SORT_TO, IMAP_MSGKEYS_NEED_HEADER},
	{"DISPLAYFROM", SORT_DISPLAYFROM, IMAP_MSGKEYS_NEED_HEADER},
	{"DISPLAYTO", SORT_DISPLAYTO, IMAP_MSGKEYS_NEED_HEADER},
};

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

struct sort_state {
	struct imap_search *search;
	struct sort_criterion crit[SORT_CRITERIA_MAX];
	size_t ncrit;
	unsigned need;
	bool searched;
	struct imap_msgkeys_item *items;
	size_t count, pos;
};

static int cmp_num(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_crit(const struct imap_msgkeys_item *a,
		    const struct imap_msgkeys_item *b, enum sort_key key)
{
	switch (key) {
	case SORT_ARRIVAL:
		return cmp_num(a->arrival, b->arrival);
	case SORT_CC:
		return imap_basesubject_cmp(a->keys.cc, b->keys.cc);
	case SORT_DATE:
		return cmp_num(a->sent, b->sent);
	case SORT_FROM:
		return imap_basesubject_cmp(a->keys.from, b->keys.from);
	case SORT_SIZE:
		return a->size < b->size ? -1 : a->size > b->size;
	case SORT_SUBJECT:
		return imap_basesubject_cmp(a->keys.subject, b->keys.subject);
	case SORT_TO:
		return imap_basesubject_cmp(a->keys.to, b->keys.to);
	case SORT_DISPLAYFROM:
		return imap_basesubject_cmp(a->keys.display_from,
					    b->keys.display_from);
	case SORT_DISPLAYTO:
		return imap_basesubject_cmp(a->keys.display_to,
					    b->keys.display_to);
	}
	return 0;
}

static int cmp_items(const void *x, const void *y, void *ctx)
{
	const struct imap_msgkeys_item *a = x, *b = y;
	const struct sort_state *st = ctx;

	for (size_t i = 0; i < st->ncrit; i++) {
		int r = cmp_crit(a, b, st->crit[i].key);

		if (r != 0)
			return st->crit[i].reverse ? -r : r;
	}
	/* RFC 5256 3: ties in mailbox order, whatever REVERSE said */
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* "(criteria)" at argument 0. Returns 0, or -1 with a BAD reason. */
static int parse_criteria(struct imap_cmd *cmd, struct sort_state *st,
			  const char **error_r)
{
	const struct imap_arg *list = imap_cmd_arg(cmd, 0);
	bool reverse = false;
	struct strv w;

	if (imap_arg_type(list) != IMAP_ARG_LIST || imap_arg_count(list) == 0) {
		*error_r = "SORT needs a list of sort criteria";
		return -1;
	}
	for (size_t i = 0; i < imap_arg_count(list); i++) {
		size_t k = 0, nkeys = sizeof(sort_keys) / sizeof(sort_keys[0]);

		if (!imap_arg_get_atom(imap_arg_at(list, i), &w)) {
			*error_r = "Unknown sort criterion";
			return -1;
		}
		if (strv_eq_cstr_ci(w, "REVERSE") && !reverse) {
			reverse = true;
			continue;
		}
		while (k < nkeys && !strv_eq_cstr_ci(w, sort_keys[k].name))
			k++;
		if (k == nkeys) {
			*error_r = "Unknown sort criterion";
			return -1;
		}
		if (st->ncrit == SORT_CRITERIA_MAX) {
			*error_r = "Too many sort criteria";
			return -1;
		}
		st->crit[st->ncrit].key = sort_keys[k].key;
		st->crit[st->ncrit++].reverse = reverse;
		st->need |= sort_keys[k].need;
		reverse = false;
	}
	if (reverse) {
		*error_r = "REVERSE needs a sort key";
		return -1;
	}
	return 0;
}

static void write_sorted(struct imap_cmd *cmd, struct sort_state *st)
{
	struct mailbox *box = cmd->s->sel->box;
	struct buf b;

	buf_init(&b, 65536);
	buf_append_str(&b, "* SORT");
	for (size_t i = 0; i < st->count; i++) {
		uint32_t v = st->items[i].idx + 1;

		if (cmd->uid) {
			struct mailbox_msg msg;

			mailbox_get(box, st->items[i].idx, &msg);
			v = msg.uid;
		}
		if (buf_room(&b) < 16) {
			conn_write(cmd->s->conn, b.data, b.len);
			buf_reset(&b);
		}
		buf_printf(&b, " %u", v);
	}
	buf_append_str(&b, "\r\n");
	conn_write(cmd->s->conn, b.data, b.len);
	buf_free(&b);
}

static enum imap_cmd_result sort_resume(struct imap_cmd *cmd)
{
	struct sort_state *st = cmd->state;

	if (!st->searched) {
		const unsigned *hits;

		if (imap_search_step(st->search) == IMAP_SEARCH_MORE) {
			conn_kick(cmd->s->conn);
			return IMAP_CMD_PENDING;
		}
		st->searched = true;
		hits = imap_search_result(st->search, &st->count);
		st->items = arena_zalloc(cmd->arena,
					 (st->count + 1) * sizeof(*st->items));
		for (size_t i = 0; i < st->count; i++)
			st->items[i].idx = hits[i];
	}
	/* the keys, in slices like the search itself */
	if (!imap_msgkeys_load(cmd->s->sel->box, cmd->arena, st->items,
			       st->count, &st->pos, st->need,
			       imap_msgkeys_now_usec() +
				       IMAP_SEARCH_SLICE_USEC)) {
		conn_kick(cmd->s->conn);
		return IMAP_CMD_PENDING;
	}
	qsort_r(st->items, st->count, sizeof(*st->items), cmp_items, st);
	write_sorted(cmd, st);
	return imap_cmd_ok(cmd, "SORT completed");
}

static void sort_cleanup(struct imap_cmd *cmd)
{
	struct sort_state *st = cmd->state;

	imap_search_free(&st->search);
	cmd->state = NULL;
}

enum imap_cmd_result imap_cmd_sort(struct imap_cmd *cmd)
{
	struct sort_state *st = arena_zalloc(cmd->arena, sizeof(*st));
	const char *error = NULL;
	struct strv cs;

	if (imap_cmd_argc(cmd) < 3) {
		imap_reply(cmd, "BAD",
			   "SORT needs criteria, a charset and search keys");
		return IMAP_CMD_DONE;
	}
	if (parse_criteria(cmd, st, &error) < 0) {
		imap_reply(cmd, "BAD", "%s", error);
		return IMAP_CMD_DONE;
	}
	if (!imap_arg_get_astring(imap_cmd_arg(cmd, 1), &cs)) {
		imap_reply(cmd, "BAD", "SORT needs a charset");
		return IMAP_CMD_DONE;
	}
	if (!imap_search_charset_key_ok(cs.p, cs.len))
		return imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] "
					"Unknown charset");
	if (imap_search_parse(cmd, 2, &st->search) < 0)
		return IMAP_CMD_DONE;
	cmd->state = st;
	cmd->cleanup = sort_cleanup;
	cmd->resume = sort_resume;
	return sort_resume(cmd);
}
