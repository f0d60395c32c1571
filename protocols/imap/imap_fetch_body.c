/* SPDX-License-Identifier: GPL-2.0-or-later */
/* BODY[section]<partial> (RFC 3501 6.4.5): parsing a section, finding its
   bytes through the MIME tree, filtering header fields, and reading the
   literal in slices. */
#include "protocols/imap/imap_fetch_private.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap_arg.h"
#include "protocols/imap/imap_write.h"
#include "storage/mime.h"
#include "storage/msg_stream.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Section numbers accepted in one section ("1.2.3..."). */
#define SECTION_NUMBERS_MAX 256
/* Bytes read from the file at a time when filtering header fields. */
#define FILTER_CHUNK 16384

/* --- parsing --- */

/* "<offset.length>" after the section. Dovecot accepts a length of 0
   (an empty string) although RFC 3501's grammar says nz-number; so do we. */
static int parse_partial(struct strv t, struct imap_fetch_section *sec)
{
	const char *dot;
	struct strv a, b;

	if (t.len == 0)
		return 0;
	if (t.len < 5 || t.p[0] != '<' || t.p[t.len - 1] != '>')
		return -1;
	dot = memchr(t.p, '.', t.len);
	if (dot == NULL)
		return -1;
	a = (struct strv){t.p + 1, (size_t)(dot - t.p - 1)};
	b = (struct strv){dot + 1, (size_t)(t.p + t.len - 1 - dot - 1)};
	if (a.len == 0 || b.len == 0 ||
	    strv_to_u64(a, UINT32_MAX, &sec->offset) < 0 ||
	    strv_to_u64(b, UINT32_MAX, &sec->length) < 0)
		return -1;
	sec->partial = true;
	return 0;
}

/* The numbers and keyword of a section atom ("1.2.MIME", "HEADER"). */
static int parse_spec(struct strv t, struct arena *arena,
		      struct imap_fetch_section *sec, struct strv *kw_r)
{
	unsigned nums[SECTION_NUMBERS_MAX];
	size_t n = 0, i = 0;

	while (i < t.len && t.p[i] >= '0' && t.p[i] <= '9') {
		size_t start = i;
		uint32_t v;

		while (i < t.len && t.p[i] >= '0' && t.p[i] <= '9')
			i++;
		if (n == SECTION_NUMBERS_MAX || t.p[start] == '0' ||
		    strv_to_u32((struct strv){t.p + start, i - start}, &v) < 0)
			return -1;
		nums[n++] = v;
		if (i == t.len)
			break;
		if (t.p[i] != '.' || i + 1 == t.len)
			return -1;
		i++;
	}
	sec->part_count = n;
	if (n > 0) {
		sec->part = arena_alloc(arena, n * sizeof(*sec->part));
		memcpy(sec->part, nums, n * sizeof(*sec->part));
	}
	*kw_r = (struct strv){t.p + i, t.len - i};
	return 0;
}

static int parse_fields(const struct imap_arg *list, struct arena *arena,
			struct imap_fetch_section *sec)
{
	size_t n = imap_arg_count(list);

	if (imap_arg_type(list) != IMAP_ARG_LIST || n == 0)
		return -1;
	sec->fields = arena_alloc(arena, n * sizeof(*sec->fields));
	for (size_t i = 0; i < n; i++) {
		struct strv f;

		if (!imap_arg_get_astring(imap_arg_at(list, i), &f) ||
		    f.len == 0 || f.len > IMAP_FETCH_FIELD_MAX ||
		    memchr(f.p, ':', f.len) != NULL || strv_has_ctl(f))
			return -1;
		sec->fields[i] = f;
	}
	sec->field_count = n;
	return 0;
}

/* "BODY[<canonical section>]": numbers, the keyword and field names in
   upper case, as Dovecot echoes them. */
static const char *section_name(const struct imap_fetch_section *sec,
				struct strv kw, struct arena *arena)
{
	struct buf b;
	const char *name;

	buf_init(&b, 64 * 1024 + 1024 * 1024);
	buf_append_str(&b, "BODY[");
	for (size_t i = 0; i < sec->part_count; i++)
		buf_printf(&b, "%s%u", i > 0 ? "." : "", sec->part[i]);
	if (sec->part_count > 0 && kw.len > 0)
		buf_append_str(&b, ".");
	for (size_t i = 0; i < kw.len; i++)
		buf_printf(&b, "%c", toupper((unsigned char)kw.p[i]));
	if (sec->field_count > 0) {
		buf_append_str(&b, " (");
		for (size_t i = 0; i < sec->field_count; i++) {
			char up[IMAP_FETCH_FIELD_MAX];
			struct strv f = sec->fields[i];

			for (size_t k = 0; k < f.len; k++)
				up[k] = (char)toupper((unsigned char)f.p[k]);
			if (i > 0)
				buf_append_str(&b, " ");
			imap_write_astring(&b, up, f.len, false);
		}
		buf_append_str(&b, ")");
	}
	buf_append_str(&b, "]");
	name = arena_strndup(arena, b.data, b.len);
	buf_free(&b);
	return name;
}

int imap_fetch_section_parse(const struct imap_arg *arg, struct arena *arena,
			     struct imap_fetch_section *sec, bool *peek_r,
			     const char **error_r)
{
	const struct imap_arg *list = imap_arg_section(arg);
	struct strv t = imap_arg_text(arg), kw = {"", 0}, spec;
	const char *open = memchr(t.p, '[', t.len);
	const char *close = NULL;
	size_t n = imap_arg_count(list);

	memset(sec, 0, sizeof(*sec));
	*error_r = "Invalid BODY[..] section";
	for (size_t i = t.len; i-- > 0 && close == NULL;)
		if (t.p[i] == ']')
			close = t.p + i;
	if (list == NULL || open == NULL || close == NULL)
		return -1;
	spec = (struct strv){t.p, (size_t)(open - t.p)};
	if (strv_eq_cstr_ci(spec, "BINARY") ||
	    strv_eq_cstr_ci(spec, "BINARY.PEEK") ||
	    strv_eq_cstr_ci(spec, "BINARY.SIZE")) {
		/* RFC 3516: the hook for BINARY is here */
		*error_r = "BINARY is not supported";
		return -1;
	}
	*peek_r = strv_eq_cstr_ci(spec, "BODY.PEEK");
	if (!*peek_r && !strv_eq_cstr_ci(spec, "BODY"))
		return -1;
	if (parse_partial(
		    (struct strv){close + 1, (size_t)(t.p + t.len - close - 1)},
		    sec) < 0) {
		*error_r = "Invalid partial <offset.length>";
		return -1;
	}
	sec->kind = IMAP_SECTION_ALL;
	if (n > 2)
		return -1;
	if (n > 0) {
		struct strv atom;

		if (!imap_arg_get_atom(imap_arg_at(list, 0), &atom) ||
		    parse_spec(atom, arena, sec, &kw) < 0)
			return -1;
	}
	if (kw.len == 0)
		sec->kind = sec->part_count > 0 ? IMAP_SECTION_PART
						: IMAP_SECTION_ALL;
	else if (strv_eq_cstr_ci(kw, "HEADER"))
		sec->kind = IMAP_SECTION_HEADER;
	else if (strv_eq_cstr_ci(kw, "TEXT"))
		sec->kind = IMAP_SECTION_TEXT;
	else if (strv_eq_cstr_ci(kw, "MIME") && sec->part_count > 0)
		sec->kind = IMAP_SECTION_MIME;
	else if (strv_eq_cstr_ci(kw, "HEADER.FIELDS"))
		sec->kind = IMAP_SECTION_HEADER_FIELDS;
	else if (strv_eq_cstr_ci(kw, "HEADER.FIELDS.NOT"))
		sec->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
	else
		return -1;
	if (sec->kind == IMAP_SECTION_HEADER_FIELDS ||
	    sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT) {
		if (n != 2 ||
		    parse_fields(imap_arg_at(list, 1), arena, sec) < 0)
			return -1;
	} else if (n == 2) {
		return -1;
	}
	sec->name = section_name(sec, kw, arena);
	return 0;
}

/* --- finding the bytes --- */

/*
 * The part a section's numbers name. As Dovecot: a multipart's number k
 * is its k'th child; a part that is not a multipart answers to 1 once
 * (itself: BODY[1] of a one-part message, BODY[2.1] of a leaf part 2),
 * but not to 1.1; a message/rfc822 part followed by more numbers is
 * numbered through to the message it holds.
 */
static const struct mime_part *resolve(const struct mime_message *m,
				       const unsigned *num, size_t n)
{
	const struct mime_part *part = mime_message_root(m);
	bool self_used = false;

	for (size_t i = 0; i < n && part != NULL; i++) {
		if ((part->flags & MIME_PART_MULTIPART) != 0) {
			const struct mime_part *c = part->children;

			for (unsigned k = 1; c != NULL && k < num[i]; k++)
				c = c->next;
			part = c;
			self_used = false;
		} else if (num[i] != 1 || self_used) {
			return NULL;
		} else {
			self_used = true;
		}
		if (part != NULL && (part->flags & MIME_PART_RFC822) != 0 &&
		    part->children != NULL && i + 1 < n) {
			part = part->children;
			self_used = false;
		}
	}
	return part;
}

struct range {
	uint64_t start, end; /* file bytes */
	uint64_t vsize;	     /* converted size */
};

/*
 * A part of a multipart with an empty body whose header runs right into
 * the next boundary ("Content-Type: text/plain" LF "--b"): the parse
 * counts the line end before the boundary in the header, but it belongs
 * to the boundary (RFC 2046 5.1.1), and Dovecot's BODY[n.MIME] leaves it
 * out. Trims it from r.
 */
static void trim_boundary_crlf(const struct mime_part *part, int fd,
			       struct range *r)
{
	char b[3];
	ssize_t n;

	if (part->parent == NULL ||
	    (part->parent->flags & MIME_PART_MULTIPART) == 0 ||
	    part->body.physical != 0 || r->end - r->start < 2)
		return;
	n = pread(fd, b, sizeof(b), (off_t)(r->end - 2));
	if (n != 3 || b[1] != '\n' || b[2] != '-')
		return;
	r->end -= b[0] == '\r' ? 2 : 1;
	r->vsize -= 2;
}

/* The file bytes of sec; false when the section names nothing (an empty
   string then, as Dovecot answers). */
static bool section_range(const struct imap_fetch_section *sec,
			  const struct mime_message *m, int fd, struct range *r)
{
	const struct mime_part *part = resolve(m, sec->part, sec->part_count);
	uint64_t body = 0;

	if (part == NULL)
		return false;
	if (sec->kind != IMAP_SECTION_PART && sec->kind != IMAP_SECTION_MIME &&
	    sec->part_count > 0) {
		/* HEADER, TEXT, HEADER.FIELDS of part n: only a
		   message/rfc822 part has them (RFC 3501 6.4.5) */
		if ((part->flags & MIME_PART_RFC822) == 0 ||
		    part->children == NULL)
			return false;
		part = part->children;
	}
	body = part->physical_pos + part->header.physical;
	switch (sec->kind) {
	case IMAP_SECTION_PART:
	case IMAP_SECTION_TEXT:
		r->start = body;
		r->end = body + part->body.physical;
		r->vsize = part->body.virtual;
		break;
	default: /* the header: HEADER, MIME, HEADER.FIELDS[.NOT] */
		r->start = part->physical_pos;
		r->end = body;
		r->vsize = part->header.virtual;
		if (sec->kind == IMAP_SECTION_MIME)
			trim_boundary_crlf(part, fd, r);
		break;
	}
	return true;
}

/* --- header field filter (HEADER.FIELDS, HEADER.FIELDS.NOT) --- */

enum filter_state {
	FILTER_LINE_START,
	FILTER_LINE_CR, /* a CR at a line's start: maybe the blank line */
	FILTER_NAME,
	FILTER_KEEP,
	FILTER_DROP,
	FILTER_END, /* after the blank line */
};

struct filter {
	const struct imap_fetch_section *sec;
	enum filter_state st;
	char name[IMAP_FETCH_FIELD_MAX + 1];
	size_t name_len;
	bool last_keep;	 /* decision of the last field (continuations) */
	uint64_t out;	 /* bytes produced */
	uint64_t skip;	 /* drop the first skip bytes (partial offset) */
	struct buf *dst; /* NULL: only count */
};

static void filter_emit(struct filter *f, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (f->out++ >= f->skip && f->dst != NULL)
			buf_append(f->dst, p + i, 1);
	}
}

static bool field_wanted(const struct filter *f)
{
	struct strv name = {f->name, f->name_len};
	bool found = false;

	while (name.len > 0 &&
	       (name.p[name.len - 1] == ' ' || name.p[name.len - 1] == '\t' ||
		name.p[name.len - 1] == '\r'))
		name.len--;
	for (size_t i = 0; i < f->sec->field_count && !found; i++)
		found = strv_eq_ci(name, f->sec->fields[i]);
	return f->sec->kind == IMAP_SECTION_HEADER_FIELDS ? found : !found;
}

/* The field name is complete (or too long to match anything); at_lf: the
   line had no colon, so it is no field (HEADER.FIELDS never takes it,
   HEADER.FIELDS.NOT keeps it, as Dovecot). */
static void filter_decide(struct filter *f, bool at_lf)
{
	f->last_keep = at_lf ? f->sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT
			     : field_wanted(f);
	if (f->last_keep)
		filter_emit(f, f->name, f->name_len);
	f->st = f->last_keep ? FILTER_KEEP : FILTER_DROP;
}

static void filter_byte(struct filter *f, char c)
{
	switch (f->st) {
	case FILTER_LINE_START:
		if (c == '\r') {
			f->st = FILTER_LINE_CR;
			return;
		}
		if (c == ' ' || c == '\t') {
			/* a continuation line goes with its field */
			f->st = f->last_keep ? FILTER_KEEP : FILTER_DROP;
			break;
		}
		f->name_len = 0;
		f->st = FILTER_NAME;
		break;
	case FILTER_LINE_CR:
		if (c == '\n') {
			/* the blank line ends the header and is kept */
			filter_emit(f, "\r\n", 2);
			f->st = FILTER_END;
			return;
		}
		f->name[0] = '\r';
		f->name_len = 1;
		f->st = FILTER_NAME;
		break;
	case FILTER_END:
		return;
	default:
		break;
	}
	if (f->st == FILTER_NAME) {
		if (c != ':' && c != '\n' &&
		    f->name_len < IMAP_FETCH_FIELD_MAX) {
			f->name[f->name_len++] = c;
			return;
		}
		filter_decide(f, c == '\n');
	}
	if (f->st == FILTER_KEEP)
		filter_emit(f, &c, 1);
	if (c == '\n')
		f->st = FILTER_LINE_START;
}

/*
 * End of the header's bytes. As Dovecot: HEADER.FIELDS always ends with
 * the blank line, added when the header had none (then it also ends an
 * unterminated last line); HEADER.FIELDS.NOT gives the kept bytes as they
 * are.
 */
static void filter_finish(struct filter *f)
{
	if (f->st == FILTER_NAME)
		filter_decide(f, true);
	if (f->st != FILTER_END && f->sec->kind == IMAP_SECTION_HEADER_FIELDS)
		filter_emit(f, "\r\n", 2);
}

static bool is_filter(const struct imap_fetch_section *sec)
{
	return sec->kind == IMAP_SECTION_HEADER_FIELDS ||
	       sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT;
}

/* --- reading --- */

struct imap_fetch_body {
	struct msg_stream *stream; /* NULL: an empty section */
	uint64_t remaining;	   /* literal bytes still to hand out */
	bool padding;		   /* the file ended early: spaces */
	/* HEADER.FIELDS[.NOT] */
	struct filter filter;
	struct buf pending;
	size_t pending_off;
	bool src_eof;
};

static struct msg_stream *stream_dup(int fd, const struct range *r,
				     const char **error_r)
{
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	struct msg_stream *s;

	if (dfd < 0) {
		log_error("event=fetch_body error=\"dup: %s\"",
			  strerror(errno));
		*error_r = "cannot read the message";
		return NULL;
	}
	s = msg_stream_new_fd(dfd, MSG_PART_WHOLE);
	if (r != NULL)
		msg_stream_set_file_range(s, r->start, r->end);
	return s;
}

/* Size of the filtered header: one pass that only counts. */
static int filtered_size(const struct imap_fetch_section *sec, int fd,
			 const struct range *r, uint64_t *size_r,
			 const char **error_r)
{
	struct msg_stream *s = stream_dup(fd, r, error_r);
	struct filter f = {.sec = sec};
	char *chunk;
	ssize_t n;

	if (s == NULL)
		return -1;
	chunk = xmalloc(FILTER_CHUNK);
	while ((n = msg_stream_read(s, chunk, FILTER_CHUNK, error_r)) > 0)
		for (ssize_t i = 0; i < n; i++)
			filter_byte(&f, chunk[i]);
	free(chunk);
	msg_stream_free(&s);
	if (n < 0)
		return -1;
	filter_finish(&f);
	*size_r = f.out;
	return 0;
}

static uint64_t clip_partial(const struct imap_fetch_section *sec,
			     uint64_t size)
{
	if (!sec->partial)
		return size;
	if (sec->offset >= size)
		return 0;
	size -= sec->offset;
	return size < sec->length ? size : sec->length;
}

int imap_fetch_body_open(const struct imap_fetch_section *sec, int fd,
			 const struct mime_message *mime, uint64_t vsize,
			 struct imap_fetch_body **body_r, uint64_t *size_r,
			 const char **error_r)
{
	struct imap_fetch_body *b = xcalloc(1, sizeof(*b));
	struct range r = {0, UINT64_MAX, vsize};
	bool found = true;
	uint64_t full;

	*body_r = b;
	*size_r = 0;
	if (sec->kind != IMAP_SECTION_ALL)
		found = section_range(sec, mime, fd, &r);
	if (!found)
		return 0;
	full = r.vsize;
	if (is_filter(sec) && filtered_size(sec, fd, &r, &full, error_r) < 0)
		goto fail;
	b->remaining = clip_partial(sec, full);
	if (b->remaining == 0)
		return 0;
	b->stream = stream_dup(fd, sec->kind == IMAP_SECTION_ALL ? NULL : &r,
			       error_r);
	if (b->stream == NULL)
		goto fail;
	if (is_filter(sec)) {
		b->filter.sec = sec;
		b->filter.skip = sec->partial ? sec->offset : 0;
		b->filter.dst = &b->pending;
		buf_init(&b->pending, 4 * FILTER_CHUNK);
	} else if (sec->partial) {
		msg_stream_set_range(b->stream, sec->offset, sec->length);
	}
	*size_r = b->remaining;
	return 0;
fail:
	imap_fetch_body_free(body_r);
	return -1;
}

/* Refills the filter's pending bytes. */
static int filter_fill(struct imap_fetch_body *b, const char **error_r)
{
	char chunk[FILTER_CHUNK];
	ssize_t n;

	buf_reset(&b->pending);
	b->pending_off = 0;
	n = msg_stream_read(b->stream, chunk, sizeof(chunk), error_r);
	if (n < 0)
		return -1;
	if (n == 0) {
		if (!b->src_eof)
			filter_finish(&b->filter);
		b->src_eof = true;
		return 0;
	}
	for (ssize_t i = 0; i < n; i++)
		filter_byte(&b->filter, chunk[i]);
	return 0;
}

static ssize_t read_filtered(struct imap_fetch_body *b, char *out, size_t size,
			     const char **error_r)
{
	size_t n = 0;

	while (n < size && !b->src_eof) {
		size_t avail = b->pending.len - b->pending_off;

		if (avail == 0) {
			if (filter_fill(b, error_r) < 0)
				return -1;
			continue;
		}
		if (avail > size - n)
			avail = size - n;
		memcpy(out + n, b->pending.data + b->pending_off, avail);
		b->pending_off += avail;
		n += avail;
	}
	/* bytes the last fill made after the end of input */
	if (n < size && b->pending_off < b->pending.len) {
		size_t avail = b->pending.len - b->pending_off;

		if (avail > size - n)
			avail = size - n;
		memcpy(out + n, b->pending.data + b->pending_off, avail);
		b->pending_off += avail;
		n += avail;
	}
	return (ssize_t)n;
}

ssize_t imap_fetch_body_read(struct imap_fetch_body *b, char *buf, size_t size,
			     const char **error_r)
{
	ssize_t n = 0;

	if (size > b->remaining)
		size = (size_t)b->remaining;
	if (size == 0)
		return 0;
	if (!b->padding) {
		n = b->filter.dst != NULL
			    ? read_filtered(b, buf, size, error_r)
			    : msg_stream_read(b->stream, buf, size, error_r);
		if (n < 0)
			return -1;
		if (n == 0) {
			/* the literal's size is sent: keep the protocol in
			   step (the file changed under us) */
			log_error("event=fetch_short_file missing=%llu",
				  (unsigned long long)b->remaining);
			b->padding = true;
		}
	}
	if (b->padding) {
		memset(buf, ' ', size);
		n = (ssize_t)size;
	}
	/* RFC 3501 9: a literal's CHAR8 excludes NUL; 0x80 in its place, as
	   Dovecot sends (BINARY's literal8 will keep it) */
	for (char *p = buf;
	     (p = memchr(p, '\0', (size_t)(buf + n - p))) != NULL;)
		*p++ = (char)0x80;
	b->remaining -= (uint64_t)n;
	return n;
}

void imap_fetch_body_free(struct imap_fetch_body **bp)
{
	struct imap_fetch_body *b = *bp;

	if (b == NULL)
		return;
	msg_stream_free(&b->stream);
	if (b->filter.dst != NULL)
		buf_free(&b->pending);
	free(b);
	*bp = NULL;
}
