/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SEARCH evaluation: the key tree against one message at a time, reading
   only what the answer needs, in slices (imap_search.h). */
#include "protocols/imap/imap_search_private.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_recent.h"
#include "protocols/imap/imap_seqset.h"
#include "storage/mailbox.h"
#include "storage/mime.h"
#include "storage/rfc822.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* File bytes read at once; every buffer below is sized from it. */
#define CHUNK (32 * 1024)
/* Bytes kept of one header field (as the MIME parser keeps). */
#define FIELD_MAX MIME_FIELD_MAX

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void imap_search_eval_init(struct imap_search *s)
{
	s->hits = arena_alloc(s->arena, (s->count + 1) * sizeof(*s->hits));
	s->chunk = xmalloc(CHUNK);
	buf_init(&s->decoded, CHUNK + 16);
	/* charset output: up to 4 bytes per input byte, U+FFFD is 3 */
	buf_init(&s->utf8, 4 * CHUNK + 64);
	buf_init(&s->folded, 4 * CHUNK + 64);
	buf_init(&s->hs.field, FIELD_MAX);
	s->fd = -1;
	s->cs.cd = (iconv_t)-1;
}

static void scan_close(struct imap_search *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	mime_message_free(&s->mime);
	if (s->cs_open)
		imap_search_charset_close(&s->cs);
	s->cs_open = false;
}

void imap_search_eval_free(struct imap_search *s)
{
	scan_close(s);
	free(s->chunk);
	s->chunk = NULL;
	buf_free(&s->decoded);
	buf_free(&s->utf8);
	buf_free(&s->folded);
	buf_free(&s->hs.field);
}

/* --- the tree, in three-valued logic: 1, 0, -1 (not known yet) --- */

static int day_cmp(enum imap_search_kind k, time_t wall, time_t day)
{
	switch (k) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
		return wall < day;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
		return wall >= day && wall < day + 86400;
	default:
		return wall >= day;
	}
}

static int eval(struct imap_search *s, const struct imap_search_node *n,
		const struct mailbox_msg *msg)
{
	int r = 0, c;

	switch (n->kind) {
	case IMAP_SK_ALL:
		return 1;
	case IMAP_SK_NONE:
		return 0;
	case IMAP_SK_AND:
		r = 1;
		for (const struct imap_search_node *k = n->child; k != NULL;
		     k = k->next) {
			if ((c = eval(s, k, msg)) == 0)
				return 0;
			if (c < 0)
				r = -1;
		}
		return r;
	case IMAP_SK_OR:
		for (const struct imap_search_node *k = n->child; k != NULL;
		     k = k->next) {
			if ((c = eval(s, k, msg)) == 1)
				return 1;
			if (c < 0)
				r = -1;
		}
		return r;
	case IMAP_SK_NOT:
		c = eval(s, n->child, msg);
		return c < 0 ? -1 : !c;
	case IMAP_SK_SEQSET:
		return imap_seqset_contains(n->u.set, s->idx + 1);
	case IMAP_SK_UIDSET:
		return imap_seqset_contains(n->u.set, msg->uid);
	case IMAP_SK_FLAG:
		return (msg->flags & n->u.flag) != 0;
	case IMAP_SK_MODSEQ:
		return msg->modseq >= n->u.modseq;
	case IMAP_SK_RECENT:
		return imap_recent_has(s->cmd->s->sel->recent, msg->uid);
	case IMAP_SK_KEYWORD:
		return n->u.keyword >= 0 &&
		       (msg->keywords & (1u << n->u.keyword)) != 0;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		if (!s->msg.meta)
			return -1;
		return n->kind == IMAP_SK_LARGER ? s->msg.vsize > n->u.size
						 : s->msg.vsize < n->u.size;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		if (!s->msg.meta)
			return -1;
		return day_cmp(n->kind, s->msg.internal_day, n->u.day);
	case IMAP_SK_OLDER:
	case IMAP_SK_YOUNGER:
		if (!s->msg.meta)
			return -1;
		return n->kind == IMAP_SK_OLDER ? s->msg.internal <= n->u.time
						: s->msg.internal >= n->u.time;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		if (n->match.found)
			return 1;
		return s->msg.text_done ? 0 : -1;
	default: /* HEADER, SENT* */
		return n->result;
	}
}

/* --- header fields --- */

static void hsplit_reset(struct imap_search_hsplit *h)
{
	buf_reset(&h->field);
	h->line_start = true;
	h->cr_at_start = false;
	h->done = false;
}

/* Rewrites an address list as "Name <box@domain>, ..." (what FROM, TO,
   CC and BCC match against, as Dovecot does), encoded words still in. */
static void write_addresses(struct arena *arena, const char *v, size_t len,
			    struct buf *out)
{
	struct rfc822_address *a = rfc822_address_parse(arena, v, len);
	bool in_group = false;
	const char *sep = "";

	for (; a != NULL; a = a->next) {
		buf_append_str(out, sep);
		sep = ", ";
		if (a->domain == NULL) {
			if (!in_group) {
				buf_append_str(out,
					       a->mailbox ? a->mailbox : "");
				buf_append_str(out, ": ");
				sep = "";
			} else {
				buf_append_str(out, ";");
			}
			in_group = !in_group;
			continue;
		}
		if ((a->name == NULL || *a->name == '\0') && a->route == NULL) {
			buf_printf(out, "%s@%s", a->mailbox ? a->mailbox : "",
				   a->domain);
			continue;
		}
		if (a->name != NULL && *a->name != '\0')
			buf_printf(out, "%s ", a->name);
		buf_append_str(out, "<");
		if (a->route != NULL)
			buf_printf(out, "%s:", a->route);
		buf_append_str(out, a->mailbox ? a->mailbox : "");
		if (*a->domain != '\0')
			buf_printf(out, "@%s", a->domain);
		buf_append_str(out, ">");
	}
}

/* The value as a HEADER key of this form sees it, decoded and folded,
   into out. */
static void prepare_value(enum imap_search_hdr_form f, const char *v,
			  size_t len, struct buf *out)
{
	struct buf tmp, dec;

	buf_init(&tmp, 4 * FIELD_MAX);
	buf_init(&dec, 4 * FIELD_MAX);
	if (f == IMAP_SEARCH_HDR_ADDRESS) {
		struct arena *a = arena_new(4096);

		write_addresses(a, v, len, &tmp);
		arena_free(&a);
	} else if (f == IMAP_SEARCH_HDR_COMPRESS) {
		bool blank = true;

		for (size_t i = 0; i < len; i++) {
			bool b = v[i] == ' ' || v[i] == '\t';

			if (!b || !blank)
				buf_append(&tmp, b ? " " : v + i, 1);
			blank = b;
		}
	} else {
		buf_append(&tmp, v, len);
	}
	rfc822_decode_words(tmp.data != NULL ? tmp.data : "", tmp.len, &dec);
	imap_search_text_fold(dec.data != NULL ? dec.data : "", dec.len, true,
			      out);
	buf_free(&tmp);
	buf_free(&dec);
}

static void top_field(struct imap_search *s, struct strv name, const char *v,
		      size_t len)
{
	struct buf val;

	buf_init(&val, 4 * FIELD_MAX);
	for (struct imap_search_node *n = s->hdr_keys; n != NULL;
	     n = n->list_next) {
		time_t wall;

		if (n->result >= 0)
			continue;
		if (n->kind != IMAP_SK_HEADER) {
			/* SENT*: the first Date field decides */
			if (!strv_eq_cstr_ci(name, "Date"))
				continue;
			n->result = imap_search_parse_date_header(v, len,
								  &wall) == 0 &&
				    day_cmp(n->kind - IMAP_SK_SENTBEFORE +
						    IMAP_SK_BEFORE,
					    wall, n->u.day);
			continue;
		}
		if (!strv_eq_cstr_ci(name, n->hdr_name))
			continue;
		if (n->empty_key) {
			n->result = 1;
			continue;
		}
		buf_reset(&val);
		prepare_value(n->hdr_form, v, len, &val);
		imap_search_matcher_reset(&n->match);
		if (imap_search_matcher_feed(&n->match, val.data, val.len))
			n->result = 1;
	}
	buf_free(&val);
}

static void feed_text(struct imap_search *s, const void *data, size_t len,
		      bool header)
{
	for (struct imap_search_node *n = s->text_keys; n != NULL;
	     n = n->list_next)
		if (!header || n->kind == IMAP_SK_TEXT)
			imap_search_matcher_feed(&n->match, data, len);
}

/* TEXT sees every header line as "Name: decoded value" CRLF. */
static void text_field(struct imap_search *s, struct strv name, const char *v,
		       size_t len)
{
	struct buf line, folded;

	buf_init(&line, 5 * FIELD_MAX);
	buf_init(&folded, 5 * FIELD_MAX);
	buf_append(&line, name.p, name.len);
	if (v != NULL) {
		buf_append_str(&line, ": ");
		rfc822_decode_words(v, len, &line);
	}
	buf_append_str(&line, "\r\n");
	imap_search_text_fold(line.data, line.len, true, &folded);
	feed_text(s, folded.data, folded.len, true);
	buf_free(&line);
	buf_free(&folded);
}

static void field_done(struct imap_search *s, bool top)
{
	struct buf *f = &s->hs.field;
	char *colon = f->len > 0 ? memchr(f->data, ':', f->len) : NULL;
	struct strv name;
	const char *v;
	size_t len;

	if (colon == NULL) {
		/* a line that is no field: only TEXT sees it, as it is */
		if (s->text_any && f->len > 0)
			text_field(s, (struct strv){f->data, f->len}, NULL, 0);
		return;
	}
	name = (struct strv){f->data, (size_t)(colon - f->data)};
	while (name.len > 0 &&
	       (name.p[name.len - 1] == ' ' || name.p[name.len - 1] == '\t'))
		name.len--;
	v = colon + 1;
	len = f->len - (size_t)(v - f->data);
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	if (strv_eq_cstr_ci(name, "Content-Transfer-Encoding"))
		s->cte_seen = true;
	if (top && s->hdr_keys != NULL)
		top_field(s, name, v, len);
	if (s->text_any)
		text_field(s, name, v, len);
}

/* Splits header bytes into fields, unfolded (line ends dropped, the
   blanks that fold kept). Returns the bytes used: fewer than len when
   the empty line ending the header was among them. */
static size_t hsplit_feed(struct imap_search *s, const char *p, size_t len,
			  bool top)
{
	struct imap_search_hsplit *h = &s->hs;

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (h->line_start) {
			if (c == ' ' || c == '\t') {
				h->line_start = false;
				buf_append(&h->field, " ", 1);
				continue;
			}
			if (c == '\r' && !h->cr_at_start) {
				h->cr_at_start = true;
				continue;
			}
			field_done(s, top);
			buf_reset(&h->field);
			if (c == '\n') {
				h->done = true;
				return i + 1;
			}
			h->line_start = false;
			h->cr_at_start = false;
		}
		if (c == '\n') {
			h->line_start = true;
			h->cr_at_start = false;
		} else if (c != '\r') {
			buf_append(&h->field, c == '\t' ? " " : &c, 1);
		}
	}
	return len;
}

static void hsplit_end(struct imap_search *s, bool top)
{
	if (!s->hs.done)
		field_done(s, top);
	buf_reset(&s->hs.field);
	s->hs.done = true;
}

/* --- bodies --- */

static bool any_new_match(struct imap_search *s, bool *seen)
{
	bool any = false;

	for (struct imap_search_node *n = s->text_keys; n != NULL;
	     n = n->list_next)
		any |= n->match.found;
	if (any == *seen)
		return false;
	*seen = any;
	return true;
}

/* decoded -> UTF-8 -> folded -> matchers */
static void body_feed(struct imap_search *s, const char *p, size_t len)
{
	size_t used;

	buf_reset(&s->decoded);
	imap_search_decoder_feed(&s->dec, p, len, &s->decoded);
	imap_search_charset_feed(&s->cs, s->decoded.data, s->decoded.len,
				 &s->utf8);
	buf_reset(&s->folded);
	used = imap_search_text_fold(s->utf8.data, s->utf8.len, false,
				     &s->folded);
	buf_consume(&s->utf8, used);
	feed_text(s, s->folded.data, s->folded.len, false);
}

static void body_end(struct imap_search *s)
{
	buf_reset(&s->decoded);
	imap_search_decoder_finish(&s->dec, &s->decoded);
	imap_search_charset_feed(&s->cs, s->decoded.data, s->decoded.len,
				 &s->utf8);
	buf_reset(&s->folded);
	imap_search_text_fold(s->utf8.data, s->utf8.len, true, &s->folded);
	buf_reset(&s->utf8);
	feed_text(s, s->folded.data, s->folded.len, false);
	if (s->cs_open)
		imap_search_charset_close(&s->cs);
	s->cs_open = false;
}

static const char *part_charset(const struct mime_part *part)
{
	for (unsigned i = 0; i < part->param_count; i++)
		if (strcasecmp(part->params[i].name, "charset") == 0)
			return part->params[i].value;
	return NULL;
}

/* RFC 3501 gives no rule; like Dovecot, only text and message bodies
   are text (an image's base64 is not searched). */
static bool body_is_text(const struct mime_part *part)
{
	if (part->children != NULL)
		return false;
	if ((part->flags & (MIME_PART_TEXT | MIME_PART_RFC822)) != 0)
		return true;
	return part->type != NULL && strcasecmp(part->type, "message") == 0;
}

static void body_begin(struct imap_search *s)
{
	const struct mime_part *part = s->part;
	const char *encoding;

	s->part_header = false;
	s->pos = s->end = 0;
	if (!body_is_text(part))
		return;
	/* not MIME: Content-* fields do not apply (RFC 2045 4); a field the
	   MIME parser could not read ("x y", empty) is an unknown encoding */
	if ((part->flags & MIME_PART_IS_MIME) == 0)
		encoding = NULL;
	else if (part->encoding != NULL)
		encoding = part->encoding;
	else
		encoding = s->cte_seen ? "" : NULL;
	imap_search_decoder_init(&s->dec, encoding);
	/* as Dovecot: a body in an unknown encoding is not searched */
	if (s->dec.cte == IMAP_SEARCH_CTE_UNKNOWN)
		return;
	s->pos = part->physical_pos + part->header.physical;
	s->end = s->pos + part->body.physical;
	/* an unknown charset is searched as it is */
	(void)imap_search_charset_open(&s->cs, (part->flags & MIME_PART_TEXT)
						       ? part_charset(part)
						       : NULL);
	s->cs_open = true;
	buf_reset(&s->utf8);
}

static void part_begin(struct imap_search *s, const struct mime_part *part)
{
	s->part = part;
	/* Dovecot's matcher, too, starts afresh with every part */
	for (struct imap_search_node *n = s->text_keys; n != NULL;
	     n = n->list_next)
		imap_search_matcher_reset(&n->match);
	/* the header is read also without TEXT keys: the transfer
	   encoding is taken from it */
	s->cte_seen = false;
	s->part_header = true;
	s->pos = part->physical_pos;
	s->end = s->pos + part->header.physical;
	hsplit_reset(&s->hs);
}

/* The next part in tree order, or NULL. */
static const struct mime_part *next_part(const struct mime_part *p)
{
	if (p->children != NULL)
		return p->children;
	while (p != NULL && p->next == NULL)
		p = p->parent;
	return p != NULL ? p->next : NULL;
}

/* --- reading --- */

enum read_result {
	READ_DONE,    /* the region is read (or the reader stopped) */
	READ_PENDING, /* the slice is used up */
	READ_DECIDED, /* the message's answer is known */
};

static enum read_result read_region(struct imap_search *s, bool header,
				    bool top, const struct mailbox_msg *msg)
{
	bool seen = false;

	any_new_match(s, &seen);
	while (s->pos < s->end) {
		size_t want = s->end - s->pos < CHUNK ? s->end - s->pos : CHUNK;
		ssize_t n;

		if (now_usec() > s->deadline_usec)
			return READ_PENDING;
		n = pread(s->fd, s->chunk, want, (off_t)s->pos);
		if (n <= 0)
			break; /* a message shorter than its tree: stop */
		if (header) {
			size_t used = hsplit_feed(s, s->chunk, (size_t)n, top);

			s->pos += used;
			if (s->hs.done)
				break;
			continue;
		}
		s->pos += (size_t)n;
		body_feed(s, s->chunk, (size_t)n);
		if (any_new_match(s, &seen) && eval(s, s->root, msg) >= 0)
			return READ_DECIDED;
	}
	if (header)
		hsplit_end(s, top);
	else
		body_end(s);
	return READ_DONE;
}

static int load_meta(struct imap_search *s)
{
	const char *error = NULL;
	uint64_t size;
	time_t t;
	struct tm tm;

	if (mailbox_msg_sizes(s->box, s->idx, &size, &s->msg.vsize, &error) <
		    0 ||
	    mailbox_msg_date(s->box, s->idx, &t, &error) < 0)
		return -1;
	/* RFC 3501 6.4.4: the day of INTERNALDATE "disregarding time and
	   timezone", as INTERNALDATE is shown: in the server's zone */
	localtime_r(&t, &tm);
	s->msg.internal = t;
	s->msg.internal_day = t + tm.tm_gmtoff;
	s->msg.meta = true;
	return 0;
}

static void message_start(struct imap_search *s)
{
	s->msg.meta = false;
	s->msg.text_done = false;
	for (struct imap_search_node *n = s->hdr_keys; n != NULL;
	     n = n->list_next) {
		n->result = -1;
		imap_search_matcher_restart(&n->match);
	}
	for (struct imap_search_node *n = s->text_keys; n != NULL;
	     n = n->list_next)
		imap_search_matcher_restart(&n->match);
}

/* The header is read: header keys not answered did not match. */
static void header_done(struct imap_search *s)
{
	for (struct imap_search_node *n = s->hdr_keys; n != NULL;
	     n = n->list_next)
		if (n->result < 0)
			n->result = 0;
}

/* Walks the parts from s->part on. */
static enum read_result parts_step(struct imap_search *s,
				   const struct mailbox_msg *msg)
{
	while (s->part != NULL) {
		enum read_result r = read_region(s, s->part_header, false, msg);

		if (r != READ_DONE)
			return r;
		if (s->part_header)
			body_begin(s);
		else if ((s->part = next_part(s->part)) != NULL)
			part_begin(s, s->part);
	}
	return READ_DONE;
}

static int finish(struct imap_search *s, const struct mailbox_msg *msg)
{
	scan_close(s);
	s->phase = IMAP_SEARCH_PHASE_START;
	s->msg.text_done = true;
	header_done(s);
	return eval(s, s->root, msg) == 1;
}

/* 1: match, 0: no match, -1: the slice ended inside the message. */
static int message_step(struct imap_search *s)
{
	const char *error = NULL;
	struct mailbox_msg msg;
	int r;

	mailbox_get(s->box, s->idx, &msg);
	switch (s->phase) {
	case IMAP_SEARCH_PHASE_START:
		message_start(s);
		if ((r = eval(s, s->root, &msg)) >= 0)
			return r;
		if (s->need >= IMAP_SEARCH_COST_META) {
			/* expunged by someone else meanwhile: no match */
			if (load_meta(s) < 0)
				return 0;
			if ((r = eval(s, s->root, &msg)) >= 0)
				return r;
		}
		if (mailbox_msg_open(s->box, s->idx, &s->fd, &error) < 0)
			return 0;
		s->phase = IMAP_SEARCH_PHASE_HEADER;
		s->pos = 0;
		s->end = UINT64_MAX;
		s->cte_seen = false;
		hsplit_reset(&s->hs);
		for (struct imap_search_node *n = s->text_keys; n != NULL;
		     n = n->list_next)
			imap_search_matcher_reset(&n->match);
		/* fall through */
	case IMAP_SEARCH_PHASE_HEADER:
		if (read_region(s, true, true, &msg) == READ_PENDING)
			return -1;
		header_done(s);
		if (eval(s, s->root, &msg) >= 0 ||
		    mailbox_mime_get(s->box, s->idx, &s->mime, &error) < 0)
			return finish(s, &msg);
		s->phase = IMAP_SEARCH_PHASE_PARTS;
		/* the top header was read: go on with its body */
		s->part = mime_message_root(s->mime);
		body_begin(s);
		/* fall through */
	default:
		if (parts_step(s, &msg) == READ_PENDING)
			return -1;
		return finish(s, &msg);
	}
}

enum imap_search_status imap_search_step(struct imap_search *s)
{
	s->deadline_usec = now_usec() + IMAP_SEARCH_SLICE_USEC;
	while (s->idx < s->count) {
		int r = message_step(s);

		if (r < 0)
			return IMAP_SEARCH_MORE;
		if (r > 0)
			s->hits[s->hit_count++] = s->idx;
		s->idx++;
		if (now_usec() > s->deadline_usec && s->idx < s->count)
			return IMAP_SEARCH_MORE;
	}
	return IMAP_SEARCH_DONE;
}

/* --- Date: fields (RFC 5322 3.3, with the obsolete forms) --- */

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		} else if (*p == '(') {
			int depth = 0;

			/* a comment, nested */
			for (; p < end; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0) {
					p++;
					break;
				}
			}
		} else {
			break;
		}
	}
	return p;
}

static int read_num(const char **pp, const char *end, int max_digits, int *n_r)
{
	const char *p = *pp;
	int n = 0, d = 0;

	while (p < end && *p >= '0' && *p <= '9' && d < max_digits) {
		n = n * 10 + (*p++ - '0');
		d++;
	}
	if (d == 0)
		return -1;
	*pp = p;
	*n_r = n;
	return d;
}

int imap_search_parse_date_header(const char *value, size_t len, time_t *wall_r)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	const char *p = value, *end = value + len;
	struct tm tm;
	int day, year, hour, min, sec = 0, digits, mon = -1;

	memset(&tm, 0, sizeof(tm));
	p = skip_blanks(p, end);
	/* [day-of-week ","] */
	if (p < end && !(*p >= '0' && *p <= '9')) {
		while (p < end && *p != ',' && *p != ' ')
			p++;
		if (p < end && *p == ',')
			p++;
		p = skip_blanks(p, end);
	}
	if (read_num(&p, end, 2, &day) < 0)
		return -1;
	p = skip_blanks(p, end);
	if (end - p < 3)
		return -1;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(p, months + 3 * m, 3) == 0)
			mon = m;
	if (mon < 0)
		return -1;
	while (p < end && *p != ' ' && *p != '\t' && *p != '(')
		p++;
	p = skip_blanks(p, end);
	if ((digits = read_num(&p, end, 4, &year)) < 0)
		return -1;
	/* RFC 5322 4.3: two digits are 1950..2049, three are + 1900 */
	if (digits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (digits == 3)
		year += 1900;
	p = skip_blanks(p, end);
	if (read_num(&p, end, 2, &hour) < 0 || p >= end || *p++ != ':' ||
	    read_num(&p, end, 2, &min) < 0)
		return -1;
	if (p < end && *p == ':') {
		p++;
		if (read_num(&p, end, 2, &sec) < 0)
			return -1;
	}
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	/* the wall clock where it was written: RFC 3501 6.4.4 disregards
	   the zone, so it is not read */
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec > 59 ? 59 : sec;
	*wall_r = timegm(&tm);
	return 0;
}
