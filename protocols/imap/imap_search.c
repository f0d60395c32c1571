/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SEARCH: the key parser and the command (RFC 3501 6.4.4, 9 search-key). */
#include "protocols/imap/imap_search.h"

#include "protocols/imap/imap_condstore.h"
#include "protocols/imap/imap_search_private.h"
#include "protocols/imap/imap_searchres.h"
#include "protocols/imap/imap_seqset.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Nesting of NOT, OR and parentheses: the parser's depth limit bounds
   lists, but "NOT NOT NOT ..." is flat, so it is counted here. */
#define SEARCH_DEPTH_MAX 64

struct cursor {
	const struct imap_arg *list;
	size_t pos, end;
};

struct parse {
	struct imap_cmd *cmd;
	struct imap_search *search;
	const char *error; /* BAD reason (a fixed text) */
};

static const struct {
	const char *name;
	unsigned flag;
	bool negate;
} flag_keys[] = {
	{"ANSWERED", MAILDIR_FLAG_REPLIED, false},
	{"DELETED", MAILDIR_FLAG_DELETED, false},
	{"DRAFT", MAILDIR_FLAG_DRAFT, false},
	{"FLAGGED", MAILDIR_FLAG_FLAGGED, false},
	{"SEEN", MAILDIR_FLAG_SEEN, false},
	{"UNANSWERED", MAILDIR_FLAG_REPLIED, true},
	{"UNDELETED", MAILDIR_FLAG_DELETED, true},
	{"UNDRAFT", MAILDIR_FLAG_DRAFT, true},
	{"UNFLAGGED", MAILDIR_FLAG_FLAGGED, true},
	{"UNSEEN", MAILDIR_FLAG_SEEN, true},
};

static const struct {
	const char *name;
	enum imap_search_kind kind;
} date_keys[] = {
	{"BEFORE", IMAP_SK_BEFORE}, {"ON", IMAP_SK_ON},
	{"SINCE", IMAP_SK_SINCE},   {"SENTBEFORE", IMAP_SK_SENTBEFORE},
	{"SENTON", IMAP_SK_SENTON}, {"SENTSINCE", IMAP_SK_SENTSINCE},
};

static const struct {
	const char *key, *field;
	enum imap_search_hdr_form form;
} header_keys[] = {
	{"FROM", "From", IMAP_SEARCH_HDR_ADDRESS},
	{"TO", "To", IMAP_SEARCH_HDR_ADDRESS},
	{"CC", "Cc", IMAP_SEARCH_HDR_ADDRESS},
	{"BCC", "Bcc", IMAP_SEARCH_HDR_ADDRESS},
	{"SUBJECT", "Subject", IMAP_SEARCH_HDR_COMPRESS},
};

static struct imap_search_node *node_new(struct parse *p,
					 enum imap_search_kind kind)
{
	struct imap_search_node *n = arena_zalloc(p->cmd->arena, sizeof(*n));

	n->kind = kind;
	n->result = -1;
	return n;
}

static const struct imap_arg *next_arg(struct cursor *c)
{
	if (c->pos >= c->end)
		return NULL;
	return imap_arg_at(c->list, c->pos++);
}

static struct imap_search_node *wrap_not(struct parse *p,
					 struct imap_search_node *child)
{
	struct imap_search_node *n = node_new(p, IMAP_SK_NOT);

	n->child = child;
	return n;
}

static void raise_cost(struct parse *p, enum imap_search_cost cost)
{
	if (p->search->need < cost)
		p->search->need = cost;
}

static struct imap_search_node *parse_key(struct parse *p, struct cursor *c,
					  unsigned depth);

/* Keys up to the end of c, as one AND node (or the single key). */
static struct imap_search_node *parse_list(struct parse *p, struct cursor *c,
					   unsigned depth)
{
	struct imap_search_node *and = node_new(p, IMAP_SK_AND);
	struct imap_search_node **tail = &and->child;

	if (c->pos >= c->end) {
		p->error = "Missing search key";
		return NULL;
	}
	while (c->pos < c->end) {
		struct imap_search_node *k = parse_key(p, c, depth);

		if (k == NULL)
			return NULL;
		*tail = k;
		tail = &k->next;
	}
	return and->child->next == NULL ? and->child : and;
}

static struct imap_search_node *text_key(struct parse *p, struct cursor *c,
					 enum imap_search_kind kind)
{
	struct imap_search_node *n;
	struct strv s;

	if (!imap_arg_get_astring(next_arg(c), &s)) {
		p->error = "Search key needs a string";
		return NULL;
	}
	n = node_new(p, kind);
	imap_search_matcher_init(&n->match, p->cmd->arena, s.p, s.len);
	if (kind == IMAP_SK_HEADER) {
		n->empty_key = s.len == 0;
		n->list_next = p->search->hdr_keys;
		p->search->hdr_keys = n;
		raise_cost(p, IMAP_SEARCH_COST_HEADER);
	} else {
		n->list_next = p->search->text_keys;
		p->search->text_keys = n;
		if (kind == IMAP_SK_TEXT)
			p->search->text_any = true;
		raise_cost(p, IMAP_SEARCH_COST_BODY);
	}
	return n;
}

static struct imap_search_node *header_key(struct parse *p, struct cursor *c,
					   const char *field,
					   enum imap_search_hdr_form form)
{
	struct imap_search_node *n;
	struct strv name;

	if (field == NULL) {
		if (!imap_arg_get_astring(next_arg(c), &name) ||
		    name.len == 0 || memchr(name.p, ':', name.len) != NULL ||
		    memchr(name.p, 0, name.len) != NULL) {
			p->error = "HEADER needs a field name";
			return NULL;
		}
		field = arena_strndup(p->cmd->arena, name.p, name.len);
	}
	n = text_key(p, c, IMAP_SK_HEADER);
	if (n != NULL) {
		n->hdr_name = field;
		n->hdr_form = form;
	}
	return n;
}

/* A sequence or UID set argument, resolved against "*". */
static struct imap_search_node *set_key(struct parse *p,
					const struct imap_arg *a, bool uid)
{
	struct imap_search_node *n =
		node_new(p, uid ? IMAP_SK_UIDSET : IMAP_SK_SEQSET);
	const char *error = NULL;

	if (imap_arg_get_seqset(a, true, &n->u.set, &error) < 0) {
		p->error = uid ? "Invalid UID set" : "Invalid sequence set";
		return NULL;
	}
	/* heap memory: listed for imap_search_free() */
	n->list_next = p->search->sets;
	p->search->sets = n;
	if (imap_seqset_is_searchres(n->u.set)) {
		/* RFC 5182 2.1: "$" is the saved result (UIDs), with or
		   without the UID key; copied now, so a SAVE by this very
		   search does not change what it searches */
		imap_seqset_free(&n->u.set);
		n->u.set = imap_searchres_copy(p->cmd->s->sel);
		n->kind = IMAP_SK_UIDSET;
		return n;
	}
	/* a number past the end names no message (no BAD, as Dovecot) */
	imap_seqset_resolve(n->u.set,
			    uid ? p->search->star_uid : p->search->star_seq);
	return n;
}

static struct imap_search_node *simple_key(struct parse *p, struct strv k)
{
	if (strv_eq_cstr_ci(k, "ALL"))
		return node_new(p, IMAP_SK_ALL);
	/* RFC 3501 6.4.4: OLD is NOT RECENT, NEW is RECENT UNSEEN */
	if (strv_eq_cstr_ci(k, "RECENT"))
		return node_new(p, IMAP_SK_RECENT);
	if (strv_eq_cstr_ci(k, "OLD"))
		return wrap_not(p, node_new(p, IMAP_SK_RECENT));
	if (strv_eq_cstr_ci(k, "NEW")) {
		struct imap_search_node *and = node_new(p, IMAP_SK_AND);
		struct imap_search_node *seen = node_new(p, IMAP_SK_FLAG);

		seen->u.flag = MAILDIR_FLAG_SEEN;
		and->child = node_new(p, IMAP_SK_RECENT);
		and->child->next = wrap_not(p, seen);
		return and;
	}
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		struct imap_search_node *n;

		if (!strv_eq_cstr_ci(k, flag_keys[i].name))
			continue;
		n = node_new(p, IMAP_SK_FLAG);
		n->u.flag = flag_keys[i].flag;
		return flag_keys[i].negate ? wrap_not(p, n) : n;
	}
	return NULL;
}

static struct imap_search_node *keyword_key(struct parse *p, struct cursor *c,
					    bool negate)
{
	struct imap_search_node *n;
	const char *error = NULL;
	struct strv kw;

	/* flag-keyword = atom (RFC 3501 9) */
	if (!imap_arg_get_atom(next_arg(c), &kw)) {
		p->error = "KEYWORD needs a keyword";
		return NULL;
	}
	n = node_new(p, IMAP_SK_KEYWORD);
	n->u.keyword = mailbox_keyword_index(
		p->search->box, arena_strndup(p->cmd->arena, kw.p, kw.len),
		false, &error);
	return negate ? wrap_not(p, n) : n;
}

/* RFC 5032: OLDER / YOUNGER interval (seconds, nz-number) against
   INTERNALDATE as of now: OLDER n is INTERNALDATE <= now - n, YOUNGER n
   is INTERNALDATE >= now - n (both match a message exactly n seconds
   old, as Dovecot). */
static struct imap_search_node *within_key(struct parse *p, struct cursor *c,
					   struct strv k)
{
	struct imap_search_node *n;
	uint32_t secs;

	if (!imap_arg_get_number(next_arg(c), &secs) || secs == 0) {
		p->error = "Invalid interval";
		return NULL;
	}
	n = node_new(p, k.len == strlen("OLDER") ? IMAP_SK_OLDER
						 : IMAP_SK_YOUNGER);
	n->u.time = time(NULL) - (time_t)secs;
	raise_cost(p, IMAP_SEARCH_COST_META);
	return n;
}

/*
 * RFC 7162 3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer.
 * Merpati keeps one MODSEQ per message, not one per flag: a valid entry
 * ("/flags/\\Seen" priv|shared|all) is checked and the message's MODSEQ
 * is compared, as the RFC allows a server without per-flag values.
 */
static struct imap_search_node *modseq_key(struct parse *p, struct cursor *c)
{
	const struct imap_arg *a = next_arg(c);
	struct imap_search_node *n;
	struct strv entry, type;
	uint64_t modseq;

	if (imap_arg_type(a) == IMAP_ARG_QUOTED ||
	    imap_arg_type(a) == IMAP_ARG_LITERAL) {
		if (!imap_arg_get_string(a, &entry) || entry.len <= 7 ||
		    strncasecmp(entry.p, "/flags/", 7) != 0 ||
		    !imap_arg_get_atom(next_arg(c), &type) ||
		    !(strv_eq_cstr_ci(type, "priv") ||
		      strv_eq_cstr_ci(type, "shared") ||
		      strv_eq_cstr_ci(type, "all"))) {
			p->error = "Invalid MODSEQ entry";
			return NULL;
		}
		a = next_arg(c);
	}
	if (!imap_arg_get_number64(a, &modseq)) {
		p->error = "MODSEQ needs a mod-sequence";
		return NULL;
	}
	n = node_new(p, IMAP_SK_MODSEQ);
	n->u.modseq = modseq;
	p->search->modseq_key = true;
	return n;
}

static struct imap_search_node *param_key(struct parse *p, struct cursor *c,
					  struct strv k)
{
	struct imap_search_node *n;

	for (size_t i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++) {
		if (!strv_eq_cstr_ci(k, date_keys[i].name))
			continue;
		n = node_new(p, date_keys[i].kind);
		if (!imap_arg_get_date(next_arg(c), &n->u.day)) {
			p->error = "Invalid date";
			return NULL;
		}
		if (n->kind >= IMAP_SK_SENTBEFORE) {
			n->list_next = p->search->hdr_keys;
			p->search->hdr_keys = n;
			raise_cost(p, IMAP_SEARCH_COST_HEADER);
		} else {
			raise_cost(p, IMAP_SEARCH_COST_META);
		}
		return n;
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]);
	     i++)
		if (strv_eq_cstr_ci(k, header_keys[i].key))
			return header_key(p, c, header_keys[i].field,
					  header_keys[i].form);
	if (strv_eq_cstr_ci(k, "HEADER"))
		return header_key(p, c, NULL, IMAP_SEARCH_HDR_PLAIN);
	if (strv_eq_cstr_ci(k, "BODY"))
		return text_key(p, c, IMAP_SK_BODY);
	if (strv_eq_cstr_ci(k, "TEXT"))
		return text_key(p, c, IMAP_SK_TEXT);
	if (strv_eq_cstr_ci(k, "KEYWORD") || strv_eq_cstr_ci(k, "UNKEYWORD"))
		return keyword_key(p, c, k.len == strlen("UNKEYWORD"));
	if (strv_eq_cstr_ci(k, "LARGER") || strv_eq_cstr_ci(k, "SMALLER")) {
		uint32_t size;

		/* RFC 3501 9: number, 0..2^32-1 */
		if (!imap_arg_get_number(next_arg(c), &size)) {
			p->error = "Invalid size";
			return NULL;
		}
		n = node_new(p, k.len == strlen("LARGER") ? IMAP_SK_LARGER
							  : IMAP_SK_SMALLER);
		n->u.size = size;
		raise_cost(p, IMAP_SEARCH_COST_META);
		return n;
	}
	if (strv_eq_cstr_ci(k, "UID"))
		return set_key(p, next_arg(c), true);
	if (strv_eq_cstr_ci(k, "OLDER") || strv_eq_cstr_ci(k, "YOUNGER"))
		return within_key(p, c, k);
	if (strv_eq_cstr_ci(k, "MODSEQ"))
		return modseq_key(p, c);
	p->error = "Unknown search key";
	return NULL;
}

static struct imap_search_node *parse_key(struct parse *p, struct cursor *c,
					  unsigned depth)
{
	const struct imap_arg *a = next_arg(c);
	struct imap_search_node *n;
	struct strv k;

	if (depth > SEARCH_DEPTH_MAX) {
		p->error = "Search keys nested too deeply";
		return NULL;
	}
	if (a == NULL) {
		p->error = "Missing search key";
		return NULL;
	}
	if (imap_arg_type(a) == IMAP_ARG_LIST) {
		struct cursor sub = {a, 0, imap_arg_count(a)};

		return parse_list(p, &sub, depth + 1);
	}
	/* an atom: not imap_arg_get_atom(), which refuses the "*" of a
	   sequence set */
	if (imap_arg_type(a) != IMAP_ARG_ATOM) {
		p->error = "Unknown search key";
		return NULL;
	}
	k = imap_arg_text(a);
	if (k.len > 0 && ((k.p[0] >= '0' && k.p[0] <= '9') || k.p[0] == '*' ||
			  k.p[0] == '$'))
		return set_key(p, a, false);
	if (strv_eq_cstr_ci(k, "NOT")) {
		n = parse_key(p, c, depth + 1);
		return n == NULL ? NULL : wrap_not(p, n);
	}
	if (strv_eq_cstr_ci(k, "OR")) {
		struct imap_search_node *a1, *a2;

		if ((a1 = parse_key(p, c, depth + 1)) == NULL ||
		    (a2 = parse_key(p, c, depth + 1)) == NULL)
			return NULL;
		n = node_new(p, IMAP_SK_OR);
		n->child = a1;
		a1->next = a2;
		return n;
	}
	n = simple_key(p, k);
	if (n != NULL)
		return n;
	return param_key(p, c, k);
}

static struct imap_search *search_new(struct imap_cmd *cmd)
{
	struct imap_search *search = arena_zalloc(cmd->arena, sizeof(*search));
	struct mailbox_msg msg;

	search->cmd = cmd;
	search->box = cmd->s->sel->box;
	search->arena = cmd->arena;
	search->fd = -1;
	search->count = mailbox_count(search->box);
	search->star_seq = search->count;
	if (search->count > 0) {
		mailbox_get(search->box, search->count - 1, &msg);
		search->star_uid = msg.uid;
	}
	return search;
}

int imap_search_parse(struct imap_cmd *cmd, size_t argi,
		      struct imap_search **search_r)
{
	struct imap_search *search = search_new(cmd);
	struct parse p = {cmd, search, NULL};
	struct cursor c = {cmd->argv, cmd->first + argi,
			   imap_arg_count(cmd->argv)};
	struct strv word;

	/* RFC 3501 6.4.4: [CHARSET name]; US-ASCII must be known, and every
	   server takes UTF-8 (RFC 9051) */
	if (imap_arg_get_atom(imap_arg_at(c.list, c.pos), &word) &&
	    strv_eq_cstr_ci(word, "CHARSET")) {
		c.pos++;
		if (!imap_arg_get_astring(next_arg(&c), &word)) {
			imap_reply(cmd, "BAD", "CHARSET needs a name");
			return -1;
		}
		if (!imap_search_charset_key_ok(word.p, word.len)) {
			imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] "
					 "Unknown charset");
			return -1;
		}
	}
	search->root = parse_list(&p, &c, 0);
	if (search->root == NULL) {
		imap_search_free(&search);
		imap_reply(cmd, "BAD", "%s", p.error);
		return -1;
	}
	imap_search_eval_init(search);
	*search_r = search;
	return 0;
}

const unsigned *imap_search_result(const struct imap_search *search,
				   size_t *count_r)
{
	*count_r = search->hit_count;
	return search->hits;
}

uint64_t imap_search_result_modseq(const struct imap_search *search)
{
	uint64_t max = 0;

	if (!search->modseq_key)
		return 0;
	for (size_t i = 0; i < search->hit_count; i++) {
		struct mailbox_msg msg;

		mailbox_get(search->box, search->hits[i], &msg);
		if (msg.modseq > max)
			max = msg.modseq;
	}
	return max;
}

bool imap_search_has_modseq(const struct imap_search *search)
{
	return search->modseq_key;
}

void imap_search_free(struct imap_search **search)
{
	struct imap_search *s = *search;

	if (s == NULL)
		return;
	for (struct imap_search_node *n = s->sets; n != NULL; n = n->list_next)
		imap_seqset_free(&n->u.set);
	s->sets = NULL;
	imap_search_eval_free(s);
	*search = NULL;
}

/* The number a reply gives for view index idx: sequence number or UID. */
static uint32_t result_id(const struct imap_cmd *cmd,
			  const struct imap_search *search, unsigned idx)
{
	struct mailbox_msg msg;

	if (!cmd->uid)
		return idx + 1;
	mailbox_get(search->box, idx, &msg);
	return msg.uid;
}

/* "* SEARCH 2 5 7": view indices as sequence numbers, or UIDs */
static void write_result(struct imap_cmd *cmd, struct imap_search *search)
{
	struct buf b;
	size_t n;
	const unsigned *idx = imap_search_result(search, &n);
	uint64_t modseq = imap_search_result_modseq(search);

	buf_init(&b, 65536);
	buf_append_str(&b, "* SEARCH");
	for (size_t i = 0; i < n; i++) {
		if (buf_room(&b) < 16) {
			conn_write(cmd->s->conn, b.data, b.len);
			buf_reset(&b);
		}
		buf_printf(&b, " %u", result_id(cmd, search, idx[i]));
	}
	/* RFC 7162 3.1.5: the highest MODSEQ of the matches */
	if (buf_room(&b) < 64) {
		conn_write(cmd->s->conn, b.data, b.len);
		buf_reset(&b);
	}
	if (modseq > 0)
		buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)modseq);
	buf_append_str(&b, "\r\n");
	conn_write(cmd->s->conn, b.data, b.len);
	buf_free(&b);
}

/* RFC 4731 3.1 search-return-opt, and RFC 5182's SAVE */
enum search_return {
	SEARCH_RETURN_MIN = 1u << 0,
	SEARCH_RETURN_MAX = 1u << 1,
	SEARCH_RETURN_ALL = 1u << 2,
	SEARCH_RETURN_COUNT = 1u << 3,
	SEARCH_RETURN_SAVE = 1u << 4,
};

static const struct {
	const char *name;
	unsigned bit;
} return_opts[] = {
	{"MIN", SEARCH_RETURN_MIN},   {"MAX", SEARCH_RETURN_MAX},
	{"ALL", SEARCH_RETURN_ALL},   {"COUNT", SEARCH_RETURN_COUNT},
	{"SAVE", SEARCH_RETURN_SAVE},
};

/* What SEARCH was asked to return: its RETURN options and where the
   search keys begin. */
struct search_ctx {
	struct imap_search *search;
	unsigned opts;
	bool esearch; /* RETURN was given: the result is an ESEARCH */
};

/*
 * Reads "RETURN (opt ...)" at argument 0 when present: *argi_r is where
 * the keys start. Returns 0, or -1 with a BAD reason in *error_r
 * (ctx->opts has what was read before the error, so a failed SAVE can be
 * seen).
 */
static int parse_return(struct imap_cmd *cmd, struct search_ctx *ctx,
			size_t *argi_r, const char **error_r)
{
	const struct imap_arg *list;
	struct strv w;

	*argi_r = 0;
	if (!imap_arg_get_atom(imap_cmd_arg(cmd, 0), &w) ||
	    !strv_eq_cstr_ci(w, "RETURN"))
		return 0;
	*argi_r = 2;
	ctx->esearch = true;
	list = imap_cmd_arg(cmd, 1);
	if (imap_arg_type(list) != IMAP_ARG_LIST) {
		*error_r = "RETURN needs a list of options";
		return -1;
	}
	for (size_t i = 0; i < imap_arg_count(list); i++) {
		unsigned bit = 0;

		if (imap_arg_get_atom(imap_arg_at(list, i), &w))
			for (size_t j = 0;
			     j < sizeof(return_opts) / sizeof(return_opts[0]);
			     j++)
				if (strv_eq_cstr_ci(w, return_opts[j].name))
					bit = return_opts[j].bit;
		if (bit == 0) {
			*error_r = "Unknown RETURN option";
			return -1;
		}
		ctx->opts |= bit;
	}
	/* RFC 4731 3.1: RETURN () is RETURN (ALL) */
	if (ctx->opts == 0)
		ctx->opts = SEARCH_RETURN_ALL;
	return 0;
}

/* RFC 5182 2.4: SAVE with MIN and/or MAX (and neither ALL nor COUNT)
   keeps only those; with ALL or COUNT, every message found. */
static void save_result(struct imap_cmd *cmd, struct search_ctx *ctx)
{
	size_t n, k = 0;
	const unsigned *idx = imap_search_result(ctx->search, &n);
	uint32_t *uids = arena_alloc(cmd->arena, (n + 1) * sizeof(*uids));
	unsigned minmax = ctx->opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX);

	if ((ctx->opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) != 0)
		minmax = 0;
	struct mailbox_msg msg;

	for (size_t i = 0; i < n; i++) {
		if (minmax != 0 &&
		    !((i == 0 && (minmax & SEARCH_RETURN_MIN) != 0) ||
		      (i == n - 1 && (minmax & SEARCH_RETURN_MAX) != 0)))
			continue;
		mailbox_get(ctx->search->box, idx[i], &msg);
		uids[k++] = msg.uid;
	}
	imap_searchres_save(cmd->s->sel, uids, k);
}

/* " ALL 2,10:11": ranges of ascending numbers, written as they come */
static void write_all(struct imap_cmd *cmd, const struct imap_search *search,
		      struct buf *b)
{
	size_t n;
	const unsigned *idx = imap_search_result(search, &n);
	const char *sep = " ALL ";

	for (size_t i = 0; i < n;) {
		uint32_t lo = result_id(cmd, search, idx[i]), hi = lo;

		/* UIDs of consecutive indices may still be consecutive */
		for (i++; i < n; i++) {
			uint32_t next = result_id(cmd, search, idx[i]);

			if (next != hi + 1)
				break;
			hi = next;
		}
		if (buf_room(b) < 32) {
			conn_write(cmd->s->conn, b->data, b->len);
			buf_reset(b);
		}
		buf_append_str(b, sep);
		sep = ",";
		if (lo == hi)
			buf_printf(b, "%u", lo);
		else
			buf_printf(b, "%u:%u", lo, hi);
	}
}

/* RFC 7162 3.1.5: with a MODSEQ key, "MODSEQ n", the highest MODSEQ of
   the messages returned (of MIN and MAX alone when only they are) */
static void write_esearch_modseq(struct search_ctx *ctx, const unsigned *idx,
				 size_t n, struct buf *b)
{
	uint64_t max = 0;
	struct mailbox_msg msg;

	if (n == 0 || !imap_search_has_modseq(ctx->search))
		return;
	if ((ctx->opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) != 0) {
		max = imap_search_result_modseq(ctx->search);
	} else {
		for (int k = 0; k < 2; k++) {
			if ((ctx->opts & (k == 0 ? SEARCH_RETURN_MIN
						 : SEARCH_RETURN_MAX)) == 0)
				continue;
			mailbox_get(ctx->search->box, idx[k == 0 ? 0 : n - 1],
				    &msg);
			if (msg.modseq > max)
				max = msg.modseq;
		}
	}
	if (max > 0)
		buf_printf(b, " MODSEQ %llu", (unsigned long long)max);
}

/* RFC 4731 3.1: "* ESEARCH (TAG "x") [UID] MIN n MAX n ALL set COUNT n";
   MIN, MAX and ALL are left out when nothing matched. */
static void write_esearch(struct imap_cmd *cmd, struct search_ctx *ctx)
{
	size_t n;
	const unsigned *idx = imap_search_result(ctx->search, &n);
	struct buf b;

	buf_init(&b, 65536);
	buf_append_str(&b, "* ESEARCH (TAG ");
	imap_write_string(&b, cmd->tag.p, cmd->tag.len, false);
	buf_append_str(&b, ")");
	if (cmd->uid)
		buf_append_str(&b, " UID");
	if (n > 0 && (ctx->opts & SEARCH_RETURN_MIN) != 0)
		buf_printf(&b, " MIN %u", result_id(cmd, ctx->search, idx[0]));
	if (n > 0 && (ctx->opts & SEARCH_RETURN_MAX) != 0)
		buf_printf(&b, " MAX %u",
			   result_id(cmd, ctx->search, idx[n - 1]));
	if ((ctx->opts & SEARCH_RETURN_ALL) != 0)
		write_all(cmd, ctx->search, &b);
	if ((ctx->opts & SEARCH_RETURN_COUNT) != 0)
		buf_printf(&b, " COUNT %zu", n);
	write_esearch_modseq(ctx, idx, n, &b);
	buf_append_str(&b, "\r\n");
	conn_write(cmd->s->conn, b.data, b.len);
	buf_free(&b);
}

static enum imap_cmd_result search_resume(struct imap_cmd *cmd)
{
	struct search_ctx *ctx = cmd->state;

	if (imap_search_step(ctx->search) == IMAP_SEARCH_MORE) {
		/* let the loop serve other sessions, then go on */
		conn_kick(cmd->s->conn);
		return IMAP_CMD_PENDING;
	}
	if ((ctx->opts & SEARCH_RETURN_SAVE) != 0)
		save_result(cmd, ctx);
	if (!ctx->esearch)
		write_result(cmd, ctx->search);
	/* RFC 5182 2.4: RETURN (SAVE) alone gives no ESEARCH */
	else if (ctx->opts != SEARCH_RETURN_SAVE)
		write_esearch(cmd, ctx);
	return imap_cmd_ok(cmd, "SEARCH completed");
}

static void search_cleanup(struct imap_cmd *cmd)
{
	struct search_ctx *ctx = cmd->state;

	imap_search_free(&ctx->search);
	cmd->state = NULL;
}

enum imap_cmd_result imap_cmd_search(struct imap_cmd *cmd)
{
	struct search_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	const char *error = NULL;
	size_t argi = 0;

	if (parse_return(cmd, ctx, &argi, &error) < 0) {
		if ((ctx->opts & SEARCH_RETURN_SAVE) != 0)
			imap_searchres_clear(cmd->s->sel);
		imap_reply(cmd, "BAD", "%s", error);
		return IMAP_CMD_DONE;
	}
	if (imap_cmd_argc(cmd) <= argi) {
		if ((ctx->opts & SEARCH_RETURN_SAVE) != 0)
			imap_searchres_clear(cmd->s->sel);
		imap_reply(cmd, "BAD", "SEARCH needs search keys");
		return IMAP_CMD_DONE;
	}
	if (imap_search_parse(cmd, argi, &ctx->search) < 0) {
		/* RFC 5182 2.1: a failed SEARCH with SAVE empties "$" */
		if ((ctx->opts & SEARCH_RETURN_SAVE) != 0)
			imap_searchres_clear(cmd->s->sel);
		return IMAP_CMD_DONE;
	}
	/* RFC 7162 3.1: SEARCH MODSEQ enables CONDSTORE */
	if (imap_search_has_modseq(ctx->search))
		imap_condstore_enable(cmd->s);
	cmd->state = ctx;
	cmd->cleanup = search_cleanup;
	cmd->resume = search_resume;
	return search_resume(cmd);
}

void imap_search_capabilities(struct imap_session *s, struct buf *out)
{
	(void)s;
	buf_append_str(out, " ESEARCH SEARCHRES WITHIN SORT SORT=DISPLAY "
			    "THREAD=ORDEREDSUBJECT THREAD=REFERENCES");
}
