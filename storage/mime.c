/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/mime.h"

#include "lib/arena.h"
#include "lib/xalloc.h"
#include "storage/mime_private.h"
#include "storage/rfc822.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * How the parser works: input is cut into lines. In a header every line is
 * collected (its first MIME_FIELD_MAX bytes) and handled at its LF; in a
 * body a line is passed through at once unless it starts with "--" while
 * boundaries are active, then its first HOLD_MAX bytes wait until the LF
 * (or that many bytes) show whether it is a boundary line. Every byte is
 * counted, in file order, into the header or body of the part it belongs
 * to (account()); a part's sizes are added to its parent when it ends.
 * The LF (or CRLF) that ends a body line waits in pending_nl: before a
 * boundary line it belongs to the boundary (RFC 2046 5.1.1), not the part.
 */

/* Enough of a line to match any boundary: "--" + MIME_BOUNDARY_MAX and a
   little more (see boundary_find()). */
#define HOLD_MAX (2 + MIME_BOUNDARY_MAX + 8)

struct mime_message *mime_message_new(void)
{
	struct mime_message *msg = xcalloc(1, sizeof(*msg));

	msg->arena = arena_new(0);
	return msg;
}

void mime_message_free(struct mime_message **msgp)
{
	if (*msgp == NULL)
		return;
	arena_free(&(*msgp)->arena);
	free(*msgp);
	*msgp = NULL;
}

const struct mime_part *mime_message_root(const struct mime_message *msg)
{
	return msg->root;
}

static struct mime_part *part_new(struct mime_parser *p,
				  struct mime_part *parent)
{
	struct mime_part *part = arena_zalloc(p->arena, sizeof(*part));

	part->parent = parent;
	part->physical_pos = p->physical;
	part->virtual_pos = p->virtual;
	if (parent != NULL) {
		/* where the parent's bytes so far end: before the newline a
		   boundary took back from the parent's header */
		part->physical_pos = parent->physical_pos +
				     parent->header.physical +
				     parent->body.physical;
		part->virtual_pos = parent->virtual_pos +
				    parent->header.virtual +
				    parent->body.virtual;
		struct mime_part **tail = &parent->children;

		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = part;
		p->parts++;
		p->depth++;
	}
	return part;
}

static void header_start(struct mime_parser *p)
{
	p->state = MIME_STATE_HEADER;
	p->in_field = false;
	buf_reset(&p->field);
	p->prev_hdr_nl = 0;
	p->seen_content_type = false;
	p->last_boundary = NULL;
}

struct mime_parser *mime_parser_new(void)
{
	struct mime_parser *p = xcalloc(1, sizeof(*p));

	p->msg = mime_message_new();
	p->arena = p->msg->arena;
	buf_init(&p->line, BUF_UNLIMITED);
	buf_init(&p->field, BUF_UNLIMITED);
	for (unsigned i = 0; i < MIME_ENV_COUNT; i++)
		buf_init(&p->env[i], BUF_UNLIMITED);
	p->prev = '\n';
	p->msg->root = p->part = part_new(p, NULL);
	header_start(p);
	return p;
}

/* Counts bytes into a size, in file order (a LF is bare when the byte
   before it, in this or an earlier call, is not a CR). */
static void account(struct mime_parser *p, struct mime_size *sz,
		    const unsigned char *data, size_t n)
{
	const unsigned char *cur = data, *end = data + n, *lf;
	uint64_t bare = 0, lines = 0;

	if (n == 0)
		return;
	while ((lf = memchr(cur, '\n', (size_t)(end - cur))) != NULL) {
		unsigned char before = lf > data ? lf[-1] : p->prev;

		lines++;
		if (before != '\r')
			bare++;
		cur = lf + 1;
	}
	p->prev = data[n - 1];
	sz->physical += n;
	sz->virtual += n + bare;
	sz->lines += lines;
	p->physical += n;
	p->virtual += n + bare;
}

/* Ends the current part: its sizes go into its parent's body. */
static void part_finish(struct mime_parser *p)
{
	struct mime_part *part = p->part, *parent = part->parent;

	parent->body.physical += part->header.physical + part->body.physical;
	parent->body.virtual += part->header.virtual + part->body.virtual;
	parent->body.lines += part->header.lines + part->body.lines;
	p->part = parent;
	p->depth--;
}

/* ---- boundaries ---- */

/*
 * The boundary a line starts with, if any: the longest active one that is
 * a prefix of the line after "--" (a trailing "--" and CR not counted),
 * as RFC 2046 5.1.1 allows trailing blanks and Dovecot any text.
 */
static struct mime_boundary *boundary_find(struct mime_parser *p,
					   const unsigned char *line,
					   size_t len, bool complete,
					   bool *close_r)
{
	struct mime_boundary *best = NULL;
	size_t size;

	if (len < 2 || line[0] != '-' || line[1] != '-')
		return NULL;
	line += 2;
	len -= 2;
	size = len;
	if (complete) {
		if (size > 0 && line[size - 1] == '\r')
			size--;
		if (size > 2 && line[size - 1] == '-' && line[size - 2] == '-')
			size -= 2;
	}
	for (struct mime_boundary *b = p->boundaries; b != NULL; b = b->next) {
		if (b->len <= size && memcmp(b->text, line, b->len) == 0 &&
		    (best == NULL || best->len < b->len)) {
			best = b;
			if (best->len == size)
				break;
		}
	}
	if (best != NULL)
		*close_r = len >= best->len + 2 &&
			   memcmp(line + best->len, "--", 2) == 0;
	return best;
}

/* A boundary line of b starts: end the parts inside b's multipart. */
static void boundary_hit(struct mime_parser *p, struct mime_boundary *b,
			 bool close)
{
	while (p->part != b->part)
		part_finish(p);
	/* a closing delimiter retires b; any boundary of an inner
	   multipart that never closed is forgotten */
	p->boundaries = close ? b->next : b;
	p->state = MIME_STATE_BODY;
	p->rest = b->part;
	p->rest_new_part = !close;
}

/* ---- headers ---- */

static void end_headers(struct mime_parser *p, bool by_empty_line);

/* Bytes without a LF (a header line's) counted arithmetically. */
static void account_plain(struct mime_parser *p, struct mime_size *sz,
			  uint64_t n, unsigned char last)
{
	if (n == 0)
		return;
	sz->physical += n;
	sz->virtual += n;
	p->physical += n;
	p->virtual += n;
	p->prev = last;
}

static void header_line_account(struct mime_parser *p, bool has_lf)
{
	bool cr = has_lf && p->line_len > 0 && p->line_last == '\r';

	account_plain(p, &p->part->header, p->line_len, p->line_last);
	if (!has_lf) {
		p->prev_hdr_nl = 0;
		return;
	}
	account(p, &p->part->header, (const unsigned char *)"\n", 1);
	p->prev_hdr_nl = cr ? 2 : 1;
}

/* The previous header line's newline belongs to the boundary that ends
   the header: move it into the parent's body. */
static void header_give_back_newline(struct mime_parser *p)
{
	struct mime_part *part = p->part;

	if (p->prev_hdr_nl == 0 || part->parent == NULL)
		return;
	part->header.lines--;
	part->header.physical -= p->prev_hdr_nl;
	part->header.virtual -= 2;
	part->parent->body.lines++;
	part->parent->body.physical += p->prev_hdr_nl;
	part->parent->body.virtual += 2;
	p->prev_hdr_nl = 0;
}

static void end_headers(struct mime_parser *p, bool by_empty_line);

/* A header line is complete (has_lf false: at the end of input). Returns
   the boundary it is, if any, with the header(s) ended. */
static struct mime_boundary *header_line(struct mime_parser *p, bool has_lf,
					 bool *close_r)
{
	const unsigned char *d = (const unsigned char *)p->line.data;
	bool cr = has_lf && p->line_len > 0 && p->line_last == '\r';
	size_t kept = p->line.len;
	struct mime_boundary *b = NULL;

	if (p->boundaries != NULL && kept >= 2) {
		b = boundary_find(p, d, kept, has_lf && kept == p->line_len,
				  close_r);
		if (b != NULL && b->part == p->part)
			b = NULL; /* our own boundary: not yet */
	}
	if (b != NULL) {
		header_give_back_newline(p);
		/* a message/rfc822 child's header ends here too */
		while (p->state == MIME_STATE_HEADER)
			end_headers(p, false);
		return b;
	}
	if (has_lf && p->line_len == (cr ? 1u : 0u)) {
		header_line_account(p, true);
		end_headers(p, true);
		return NULL;
	}
	if (cr && kept == p->line_len)
		kept--; /* the CR of CRLF is not content */
	header_line_account(p, has_lf);
	mime_header_field_line(p, d != NULL ? (const char *)d : "", kept);
	return NULL;
}

static void zero_content(struct mime_part *part)
{
	part->type = part->subtype = NULL;
	part->params = NULL;
	part->param_count = 0;
	part->id = part->description = part->encoding = NULL;
	part->md5 = part->location = part->disposition = NULL;
	part->disp_params = NULL;
	part->disp_param_count = 0;
	part->language = NULL;
	part->language_count = 0;
}

static bool nesting_full(const struct mime_parser *p)
{
	return p->depth + 1 >= MIME_MAX_DEPTH || p->parts >= MIME_MAX_PARTS;
}

static void end_headers(struct mime_parser *p, bool by_empty_line)
{
	struct mime_part *part = p->part;
	bool multipart = false;

	mime_header_field_done(p);
	mime_header_envelope_commit(p);
	if (by_empty_line && p->last_boundary != NULL &&
	    (part->flags & MIME_PART_IS_MIME) != 0) {
		if (!nesting_full(p)) {
			struct mime_boundary *b =
				arena_zalloc(p->arena, sizeof(*b));

			b->part = part;
			b->text = p->last_boundary;
			b->len = strlen(b->text);
			b->next = p->boundaries;
			p->boundaries = b;
			multipart = true;
		} else {
			part->flags &= ~(unsigned)MIME_PART_MULTIPART;
		}
	}
	if ((part->flags & MIME_PART_IS_MIME) == 0) {
		/* not MIME: Content-* fields do not apply */
		part->flags = 0;
		zero_content(part);
	}
	p->last_boundary = NULL;
	if (!p->seen_content_type || (part->flags & MIME_PART_IS_MIME) == 0) {
		/* RFC 2046 5.1.5: multipart/digest parts default to
		   message/rfc822, everything else to text/plain */
		if (part->parent != NULL &&
		    (part->parent->flags & MIME_PART_DIGEST) != 0)
			part->flags |= MIME_PART_RFC822;
		else
			part->flags |= MIME_PART_TEXT;
	}
	p->state = MIME_STATE_BODY;
	p->line_started = false;
	p->pending_nl = 0;
	p->held_cr = false;
	if (multipart || (part->flags & MIME_PART_RFC822) == 0)
		return;
	if (nesting_full(p)) {
		part->flags &= ~(unsigned)MIME_PART_RFC822;
		return;
	}
	p->part = part_new(p, part);
	header_start(p);
}

/* ---- bodies ---- */

static void body_commit_newline(struct mime_parser *p, struct mime_size *sz)
{
	if (p->pending_nl == 2)
		account(p, sz, (const unsigned char *)"\r\n", 2);
	else if (p->pending_nl == 1)
		account(p, sz, (const unsigned char *)"\n", 1);
	p->pending_nl = 0;
}

/* Line bytes without LF for the current part's body; a final CR waits. */
static void body_bytes(struct mime_parser *p, const unsigned char *d, size_t n)
{
	struct mime_size *sz = &p->part->body;

	if (n == 0)
		return;
	if (p->held_cr) {
		account(p, sz, (const unsigned char *)"\r", 1);
		p->held_cr = false;
	}
	if (d[n - 1] == '\r') {
		account(p, sz, d, n - 1);
		p->held_cr = true;
	} else {
		account(p, sz, d, n);
	}
}

/* The held start of a body line is known: a boundary or text. */
static void body_decide(struct mime_parser *p, bool complete)
{
	const unsigned char *d = (const unsigned char *)p->line.data;
	struct mime_boundary *b = NULL;
	bool close = false;

	if (p->line.len >= 2)
		b = boundary_find(p, d, p->line.len, complete, &close);
	p->line_started = true;
	if (b == NULL) {
		body_commit_newline(p, &p->part->body);
		body_bytes(p, d, p->line.len);
	} else {
		boundary_hit(p, b, close);
		body_commit_newline(p, &p->rest->body);
		account(p, &p->rest->body, d, p->line.len);
	}
	buf_reset(&p->line);
}

/* After the LF of a boundary line. */
static void boundary_line_done(struct mime_parser *p)
{
	struct mime_part *mp = p->rest;

	p->rest = NULL;
	p->line_started = false;
	if (!p->rest_new_part || p->boundaries == NULL ||
	    p->boundaries->part != mp)
		return; /* the epilogue follows */
	if (p->parts >= MIME_MAX_PARTS)
		return; /* no more parts: the rest is body text */
	p->part = part_new(p, mp);
	p->part->flags |= MIME_PART_IS_MIME;
	header_start(p);
}

/* Body input up to (not including) a LF or the end of the chunk. */
static void body_run(struct mime_parser *p, const unsigned char *d, size_t n)
{
	if (n == 0)
		return;
	if (!p->line_started && p->rest == NULL) {
		if (p->boundaries == NULL) {
			body_commit_newline(p, &p->part->body);
			p->line_started = true;
		}
		/* hold the start of a line that may be a boundary line */
		while (n > 0 && !p->line_started) {
			size_t k;

			buf_append(&p->line, d, 1);
			d++;
			n--;
			k = p->line.len;
			if ((k <= 2 && p->line.data[k - 1] != '-') ||
			    k >= HOLD_MAX)
				body_decide(p, false);
		}
	}
	if (n == 0)
		return;
	if (p->rest != NULL)
		account(p, &p->rest->body, d, n);
	else
		body_bytes(p, d, n);
}

static void body_lf(struct mime_parser *p)
{
	if (!p->line_started && p->rest == NULL) {
		if (p->line.len > 0)
			body_decide(p, true);
		else
			body_commit_newline(p, &p->part->body);
	}
	if (p->rest != NULL) {
		account(p, &p->rest->body, (const unsigned char *)"\n", 1);
		boundary_line_done(p);
		return;
	}
	p->pending_nl = p->held_cr ? 2 : 1;
	p->held_cr = false;
	p->line_started = false;
}

/* ---- input ---- */

static void header_run(struct mime_parser *p, const unsigned char *d, size_t n)
{
	if (n == 0)
		return;
	if (p->line.len < MIME_FIELD_MAX) {
		size_t room = MIME_FIELD_MAX - p->line.len;

		buf_append(&p->line, d, n < room ? n : room);
	}
	p->line_len += n;
	p->line_last = d[n - 1];
}

/* A header line ends (has_lf false: at the end of input). */
static void header_end_line(struct mime_parser *p, bool has_lf)
{
	bool close = false;
	struct mime_boundary *b = header_line(p, has_lf, &close);
	uint64_t len = p->line_len;
	unsigned char last = p->line_last;

	buf_reset(&p->line);
	p->line_len = 0;
	if (b == NULL)
		return;
	/* it was a boundary line: it belongs to its multipart's body */
	boundary_hit(p, b, close);
	account_plain(p, &p->rest->body, len, last);
	if (!has_lf)
		return;
	account(p, &p->rest->body, (const unsigned char *)"\n", 1);
	boundary_line_done(p);
}

void mime_parser_feed(struct mime_parser *p, const void *data, size_t len)
{
	const unsigned char *d = data, *end = d + len;

	while (d < end) {
		const unsigned char *lf = memchr(d, '\n', (size_t)(end - d));
		size_t n = lf != NULL ? (size_t)(lf - d) : (size_t)(end - d);

		if (p->state == MIME_STATE_HEADER) {
			header_run(p, d, n);
			if (lf != NULL)
				header_end_line(p, true);
		} else {
			body_run(p, d, n);
			if (lf != NULL)
				body_lf(p);
		}
		d += n + (lf != NULL ? 1 : 0);
	}
}

struct mime_message *mime_parser_finish(struct mime_parser **pp)
{
	struct mime_parser *p = *pp;
	struct mime_message *msg = p->msg;

	if (p->state == MIME_STATE_HEADER) {
		if (p->line_len > 0)
			header_end_line(p, false);
		while (p->state == MIME_STATE_HEADER)
			end_headers(p, false);
	} else {
		if (!p->line_started && p->rest == NULL && p->line.len > 0)
			body_decide(p, false);
		if (p->rest == NULL) {
			body_commit_newline(p, &p->part->body);
			if (p->held_cr)
				account(p, &p->part->body,
					(const unsigned char *)"\r", 1);
		}
	}
	while (p->part->parent != NULL)
		part_finish(p);
	buf_free(&p->line);
	buf_free(&p->field);
	for (unsigned i = 0; i < MIME_ENV_COUNT; i++)
		buf_free(&p->env[i]);
	free(p);
	*pp = NULL;
	return msg;
}

#define PARSE_READ_SIZE (64 * 1024)

int mime_parse_fd(int fd, struct mime_message **msg_r, const char **error_r)
{
	struct mime_parser *p = mime_parser_new();
	char *buf = xmalloc(PARSE_READ_SIZE);
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(fd, buf, PARSE_READ_SIZE, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			struct mime_message *m = mime_parser_finish(&p);

			mime_message_free(&m);
			free(buf);
			*error_r = "cannot read the message";
			return -1;
		}
		if (n == 0)
			break;
		mime_parser_feed(p, buf, (size_t)n);
		off += n;
	}
	free(buf);
	*msg_r = mime_parser_finish(&p);
	return 0;
}
