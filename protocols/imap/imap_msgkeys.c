/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SORT/THREAD header keys, cached per message; see imap_msgkeys.h. */
#include "protocols/imap/imap_msgkeys.h"

#include "lib/buf.h"
#include "lib/str.h"
#include "protocols/imap/imap_basesubject.h"
#include "storage/mailbox.h"
#include "storage/rfc822.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BLOB_VERSION 1
#define CHUNK (32 * 1024)
/* decoded text of one field (encoded words may grow 4 times) */
#define VALUE_MAX (4 * IMAP_MSGKEYS_HEADER_MAX)

enum hdr_field {
	HDR_SUBJECT,
	HDR_DATE,
	HDR_FROM,
	HDR_TO,
	HDR_CC,
	HDR_MESSAGE_ID,
	HDR_IN_REPLY_TO,
	HDR_REFERENCES,
	HDR_COUNT
};

static const char *const hdr_names[HDR_COUNT] = {
	"Subject", "Date",	 "From",	"To",
	"Cc",	   "Message-ID", "In-Reply-To", "References",
};

/* --- dates (RFC 5322 3.3 and 4.3) --- */

static const char *skip_cfws(const char *p, const char *end)
{
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		} else if (*p == '(') {
			int depth = 0;

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

static int read_digits(const char **pp, const char *end, int max, int *n_r)
{
	const char *p = *pp;
	int n = 0, d = 0;

	while (p < end && *p >= '0' && *p <= '9' && d < max) {
		n = n * 10 + (*p++ - '0');
		d++;
	}
	if (d == 0)
		return -1;
	*pp = p;
	*n_r = n;
	return d;
}

/* The zone's offset east of UTC in seconds (RFC 5322 3.3 and 4.3:
   unknown and military zones are -0000). */
static int zone_offset(const char *p, const char *end)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {
		{"UT", 0},   {"GMT", 0},  {"EST", -5}, {"EDT", -4}, {"CST", -6},
		{"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
	};

	size_t n = 0;
	int hh, mm;

	p = skip_cfws(p, end);
	if (p < end && (*p == '+' || *p == '-') && end - p >= 5) {
		const char *q = p + 1;

		if (read_digits(&q, end, 2, &hh) != 2 ||
		    read_digits(&q, end, 2, &mm) != 2 || mm > 59)
			return 0;
		return (*p == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	}
	while (p + n < end &&
	       ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z')))
		n++;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strlen(zones[i].name) == n &&
		    strncasecmp(p, zones[i].name, n) == 0)
			return zones[i].hours * 3600;
	return 0;
}

int imap_msgkeys_parse_date(const char *value, size_t len, int64_t *utc_r)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	const char *p = value, *end = value + len;
	struct tm tm;
	int day, year, hour, min, sec = 0, digits, mon = -1;

	memset(&tm, 0, sizeof(tm));
	p = skip_cfws(p, end);
	/* [day-of-week ","] */
	if (p < end && !(*p >= '0' && *p <= '9')) {
		while (p < end && *p != ',' && *p != ' ')
			p++;
		if (p < end && *p == ',')
			p++;
		p = skip_cfws(p, end);
	}
	if (read_digits(&p, end, 2, &day) < 0)
		return -1;
	p = skip_cfws(p, end);
	if (end - p < 3)
		return -1;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(p, months + 3 * m, 3) == 0)
			mon = m;
	if (mon < 0)
		return -1;
	while (p < end && *p != ' ' && *p != '\t' && *p != '(')
		p++;
	p = skip_cfws(p, end);
	if ((digits = read_digits(&p, end, 4, &year)) < 0)
		return -1;
	/* RFC 5322 4.3: two digits are 1950..2049, three are + 1900 */
	if (digits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (digits == 3)
		year += 1900;
	p = skip_cfws(p, end);
	if (read_digits(&p, end, 2, &hour) < 0 || p >= end || *p++ != ':' ||
	    read_digits(&p, end, 2, &min) < 0)
		return -1;
	if (p < end && *p == ':') {
		p++;
		if (read_digits(&p, end, 2, &sec) < 0)
			return -1;
	}
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec > 59 ? 59 : sec;
	*utc_r = (int64_t)timegm(&tm) - zone_offset(p, end);
	return 0;
}

/* --- message IDs (as Dovecot's message_id_get_next()) --- */

/* "local@domain>" after a '<' through the RFC 5322 tokenizer. */
static bool strict_msgid(const char **pp, const char *end, struct buf *out)
{
	struct rfc822_parser p;
	int ret;

	rfc822_parser_init(&p, *pp, (size_t)(end - *pp), NULL);
	rfc822_skip_lwsp(&p);
	if (p.data < p.end && *p.data == '"')
		ret = rfc822_parse_quoted_string(&p, out);
	else
		ret = rfc822_parse_dot_atom(&p, out);
	if (ret <= 0 || p.data >= p.end || *p.data != '@')
		return false;
	buf_append(out, "@", 1);
	p.data++;
	rfc822_skip_lwsp(&p);
	if (rfc822_parse_dot_atom(&p, out) <= 0 || p.data >= p.end ||
	    *p.data != '>')
		return false;
	*pp = (const char *)p.data + 1;
	return true;
}

const char *imap_msgkeys_next_msgid(const char **pp, const char *end,
				    struct arena *arena)
{
	const char *p = *pp, *q;
	const char *id = NULL;
	struct buf b;
	bool at;

	buf_init(&b, 65536);
	while (id == NULL) {
		while (p < end && *p != '<')
			p++;
		if (p >= end)
			break;
		p++;
		buf_reset(&b);
		if (strict_msgid(&p, end, &b)) {
			id = arena_strndup(arena, b.data, b.len);
			break;
		}
		/* not valid: still an ID when an '@' comes before '>' */
		at = false;
		for (q = p; q < end && *q != '>'; q++)
			at |= *q == '@';
		if (q < end && at) {
			buf_reset(&b);
			for (const char *c = p; c < q; c++)
				if (*c != ' ' && *c != '\t' && *c != '\r' &&
				    *c != '\n')
					buf_append(&b, c, 1);
			id = arena_strndup(arena, b.data != NULL ? b.data : "",
					   b.len);
			p = q + 1;
			break;
		}
		p = q;
	}
	buf_free(&b);
	*pp = p;
	return id;
}

/* --- computing the keys from header fields --- */

/* The first address of a field (parsed in tmp), or NULL. */
static struct rfc822_address *first_address(struct arena *tmp, struct strv v)
{
	return v.p != NULL ? rfc822_address_parse(tmp, v.p, v.len) : NULL;
}

static const char *first_mailbox(struct arena *arena, struct arena *tmp,
				 struct strv v)
{
	struct rfc822_address *a = first_address(tmp, v);

	return arena_strdup(arena,
			    a != NULL && a->mailbox != NULL ? a->mailbox : "");
}

static const char *first_display(struct arena *arena, struct arena *tmp,
				 struct strv v)
{
	struct rfc822_address *a = first_address(tmp, v);
	struct buf b;
	const char *s;

	if (a == NULL)
		return "";
	if (a->name != NULL && *a->name != '\0') {
		buf_init(&b, VALUE_MAX);
		rfc822_decode_words(a->name, strlen(a->name), &b);
		s = arena_strndup(arena, b.data != NULL ? b.data : "", b.len);
		buf_free(&b);
		return s;
	}
	if (a->mailbox == NULL)
		return "";
	if (a->domain == NULL || *a->domain == '\0')
		return arena_strdup(arena, a->mailbox);
	return arena_printf(arena, "%s@%s", a->mailbox, a->domain);
}

static void set_refs(struct imap_msgkeys *k, struct arena *arena,
		     struct strv refs, struct strv in_reply_to)
{
	const char *ids[IMAP_MSGKEYS_REFS_MAX];
	unsigned n = 0;
	const char *p, *id;

	if (refs.p != NULL) {
		p = refs.p;
		while ((id = imap_msgkeys_next_msgid(&p, refs.p + refs.len,
						     arena)) != NULL) {
			/* keep the newest: the last ones link the parent */
			if (n == IMAP_MSGKEYS_REFS_MAX) {
				memmove(ids, ids + 1, (n - 1) * sizeof(*ids));
				n--;
			}
			ids[n++] = id;
		}
	}
	/* RFC 5256 THREAD=REFERENCES 1: without valid References, the
	   first valid ID of In-Reply-To is the only reference */
	if (n == 0 && in_reply_to.p != NULL) {
		p = in_reply_to.p;
		id = imap_msgkeys_next_msgid(
			&p, in_reply_to.p + in_reply_to.len, arena);
		if (id != NULL)
			ids[n++] = id;
	}
	k->ref_count = n;
	k->refs = arena_alloc(arena, (n + 1) * sizeof(*k->refs));
	memcpy(k->refs, ids, n * sizeof(*ids));
}

static void compute(struct imap_msgkeys *k, struct arena *arena,
		    struct arena *tmp, const struct strv *f)
{
	struct buf b;
	const char *p;

	memset(k, 0, sizeof(*k));
	buf_init(&b, VALUE_MAX);
	if (f[HDR_SUBJECT].p != NULL)
		imap_basesubject(f[HDR_SUBJECT].p, f[HDR_SUBJECT].len, &b,
				 &k->reply_or_fwd);
	k->subject = arena_strndup(arena, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	k->has_date = f[HDR_DATE].p != NULL &&
		      imap_msgkeys_parse_date(f[HDR_DATE].p, f[HDR_DATE].len,
					      &k->date) == 0;
	k->from = first_mailbox(arena, tmp, f[HDR_FROM]);
	k->to = first_mailbox(arena, tmp, f[HDR_TO]);
	k->cc = first_mailbox(arena, tmp, f[HDR_CC]);
	k->display_from = first_display(arena, tmp, f[HDR_FROM]);
	k->display_to = first_display(arena, tmp, f[HDR_TO]);
	if (f[HDR_MESSAGE_ID].p != NULL) {
		p = f[HDR_MESSAGE_ID].p;
		k->msgid = imap_msgkeys_next_msgid(
			&p, f[HDR_MESSAGE_ID].p + f[HDR_MESSAGE_ID].len, arena);
	}
	set_refs(k, arena, f[HDR_REFERENCES], f[HDR_IN_REPLY_TO]);
}

/* --- the header from the file --- */

/* Reads the header (up to the empty line, or the cap) into hdr. */
static int read_header(struct mailbox *box, unsigned idx, struct buf *hdr,
		       const char **error_r)
{
	char *chunk = malloc(CHUNK);
	uint64_t pos = 0;
	int fd = -1, ret = -1;

	if (chunk == NULL || mailbox_msg_open(box, idx, &fd, error_r) < 0)
		goto out;
	while (hdr->len < IMAP_MSGKEYS_HEADER_MAX) {
		ssize_t n = pread(fd, chunk, CHUNK, (off_t)pos);
		const char *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = "Cannot read the message";
			goto out;
		}
		if (n == 0)
			break;
		pos += (uint64_t)n;
		buf_append(hdr, chunk, (size_t)n);
		/* the empty line: "\n\n" or "\n\r\n" (or at the start) */
		end = hdr->len > 0 && hdr->data[0] == '\n' ? hdr->data : NULL;
		for (size_t i = 1; end == NULL && i < hdr->len; i++)
			if (hdr->data[i] == '\n' &&
			    (hdr->data[i - 1] == '\n' ||
			     (hdr->data[i - 1] == '\r' &&
			      (i < 2 || hdr->data[i - 2] == '\n'))))
				end = hdr->data + i;
		if (end != NULL) {
			hdr->len = (size_t)(end - hdr->data);
			break;
		}
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(chunk);
	return ret;
}

/* The first field of each wanted name, unfolded, in arena. */
static void split_fields(struct arena *arena, const char *h, size_t len,
			 struct strv *f)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, colon = 0, name_len;
		struct buf v;

		/* one field: this line and its continuation lines */
		for (; i < len; i++) {
			if (h[i] == ':' && colon == 0)
				colon = i;
			if (h[i] == '\n' &&
			    !(i + 1 < len &&
			      (h[i + 1] == ' ' || h[i + 1] == '\t')))
				break;
		}
		i++;
		if (colon == 0 || h[start] == ' ' || h[start] == '\t')
			continue;
		name_len = colon - start;
		while (name_len > 0 && (h[start + name_len - 1] == ' ' ||
					h[start + name_len - 1] == '\t'))
			name_len--;
		for (int k = 0; k < HDR_COUNT; k++) {
			size_t vs = colon + 1, ve = i > len ? len : i;

			if (f[k].p != NULL ||
			    strlen(hdr_names[k]) != name_len ||
			    strncasecmp(h + start, hdr_names[k], name_len) != 0)
				continue;
			while (vs < ve && (h[vs] == ' ' || h[vs] == '\t'))
				vs++;
			buf_init(&v, ve - vs + 1);
			for (size_t j = vs; j < ve; j++)
				if (h[j] != '\r' && h[j] != '\n')
					buf_append(&v, h + j, 1);
			f[k].p = arena_strndup(
				arena, v.data != NULL ? v.data : "", v.len);
			f[k].len = v.len;
			buf_free(&v);
		}
	}
}

/* --- the cache blob: version, flags, date, strings, references --- */

/* Appends a length and the bytes; false once b is full. */
static bool put_str(struct buf *b, const char *s)
{
	uint32_t n = s != NULL ? (uint32_t)strlen(s) : UINT32_MAX;

	if (buf_append(b, &n, sizeof(n)) < 0)
		return false;
	return s == NULL || buf_append(b, s, n) == 0;
}

static void save_blob(struct mailbox *box, uint32_t uid,
		      const struct imap_msgkeys *k)
{
	struct buf b;
	uint8_t head[2] = {BLOB_VERSION,
			   (uint8_t)(k->reply_or_fwd | k->has_date << 1)};
	uint32_t n = k->ref_count;
	bool ok;

	buf_init(&b, MAIL_CACHE_BLOB_MAX);
	ok = buf_append(&b, head, sizeof(head)) == 0 &&
	     buf_append(&b, &k->date, sizeof(k->date)) == 0 &&
	     put_str(&b, k->subject) && put_str(&b, k->from) &&
	     put_str(&b, k->to) && put_str(&b, k->cc) &&
	     put_str(&b, k->display_from) && put_str(&b, k->display_to) &&
	     put_str(&b, k->msgid) && buf_append(&b, &n, sizeof(n)) == 0;
	for (unsigned i = 0; ok && i < n; i++)
		ok = put_str(&b, k->refs[i]);
	/* a blob that did not fit is not cached: it is read again */
	if (ok)
		mail_cache_put(mailbox_cache(box), uid,
			       IMAP_MSGKEYS_CACHE_FIELD, b.data, b.len);
	buf_free(&b);
}

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static void get_raw(struct reader *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

static const char *get_str(struct reader *r, struct arena *arena)
{
	uint32_t n;
	const char *s;

	get_raw(r, &n, sizeof(n));
	if (r->bad || n == UINT32_MAX)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	s = arena_strndup(arena, (const char *)r->p, n);
	r->p += n;
	return s;
}

static bool load_blob(const void *data, size_t len, struct arena *arena,
		      struct imap_msgkeys *k)
{
	struct reader r = {data, (const uint8_t *)data + len, false};
	uint8_t head[2];
	uint32_t n;

	memset(k, 0, sizeof(*k));
	get_raw(&r, head, sizeof(head));
	if (r.bad || head[0] != BLOB_VERSION)
		return false;
	k->reply_or_fwd = (head[1] & 1) != 0;
	k->has_date = (head[1] & 2) != 0;
	get_raw(&r, &k->date, sizeof(k->date));
	k->subject = get_str(&r, arena);
	k->from = get_str(&r, arena);
	k->to = get_str(&r, arena);
	k->cc = get_str(&r, arena);
	k->display_from = get_str(&r, arena);
	k->display_to = get_str(&r, arena);
	k->msgid = get_str(&r, arena);
	get_raw(&r, &n, sizeof(n));
	if (r.bad || n > IMAP_MSGKEYS_REFS_MAX)
		return false;
	k->refs = arena_alloc(arena, (n + 1) * sizeof(*k->refs));
	for (k->ref_count = 0; k->ref_count < n; k->ref_count++)
		if ((k->refs[k->ref_count] = get_str(&r, arena)) == NULL)
			return false;
	return !r.bad && r.p == r.end && k->subject != NULL &&
	       k->from != NULL && k->to != NULL && k->cc != NULL &&
	       k->display_from != NULL && k->display_to != NULL;
}

int imap_msgkeys_get(struct mailbox *box, unsigned idx, struct arena *arena,
		     struct imap_msgkeys *keys_r, const char **error_r)
{
	struct strv f[HDR_COUNT];
	struct mailbox_msg msg;
	const void *data;
	size_t len;
	struct buf hdr;
	struct arena *tmp;

	mailbox_get(box, idx, &msg);
	if (mail_cache_get(mailbox_cache(box), msg.uid,
			   IMAP_MSGKEYS_CACHE_FIELD, &data, &len) &&
	    load_blob(data, len, arena, keys_r))
		return 0;
	buf_init(&hdr, IMAP_MSGKEYS_HEADER_MAX + CHUNK);
	if (read_header(box, idx, &hdr, error_r) < 0) {
		buf_free(&hdr);
		memset(keys_r, 0, sizeof(*keys_r));
		keys_r->subject = keys_r->from = keys_r->to = keys_r->cc = "";
		keys_r->display_from = keys_r->display_to = "";
		return -1;
	}
	memset(f, 0, sizeof(f));
	tmp = arena_new(16384);
	split_fields(tmp, hdr.data != NULL ? hdr.data : "", hdr.len, f);
	compute(keys_r, arena, tmp, f);
	arena_free(&tmp);
	buf_free(&hdr);
	save_blob(box, msg.uid, keys_r);
	return 0;
}

uint64_t imap_msgkeys_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool imap_msgkeys_load(struct mailbox *box, struct arena *arena,
		       struct imap_msgkeys_item *items, size_t n, size_t *pos,
		       unsigned need, uint64_t deadline_usec)
{
	while (*pos < n) {
		struct imap_msgkeys_item *it = &items[*pos];
		const char *error = NULL;
		time_t t = 0;
		uint64_t vsize = 0, size;

		(*pos)++;
		if ((need & (IMAP_MSGKEYS_NEED_ARRIVAL |
			     IMAP_MSGKEYS_NEED_HEADER)) != 0 &&
		    mailbox_msg_date(box, it->idx, &t, &error) < 0)
			t = 0;
		it->arrival = t;
		if ((need & IMAP_MSGKEYS_NEED_SIZE) != 0 &&
		    mailbox_msg_sizes(box, it->idx, &size, &vsize, &error) < 0)
			vsize = 0;
		it->size = vsize;
		if ((need & IMAP_MSGKEYS_NEED_HEADER) != 0) {
			imap_msgkeys_get(box, it->idx, arena, &it->keys,
					 &error);
			it->sent =
				it->keys.has_date ? it->keys.date : it->arrival;
		}
		if (imap_msgkeys_now_usec() > deadline_usec)
			break;
	}
	return *pos == n;
}
