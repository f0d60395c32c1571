/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/rfc822.h"

#include "lib/arena.h"
#include "lib/base64.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Character classes (RFC 5322 3.2.3 atext, RFC 2045 5.1 token): 1 atext,
 * 2 atext and token (letters, digits, 8-bit), 4 atext but a MIME tspecial
 * ('/', '=', '?'). 8-bit bytes count as atext, as Dovecot reads them.
 */
static unsigned char char_class(unsigned char c)
{
	if (c >= 0x80)
		return 2;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 2;
	if (c == '/' || c == '=' || c == '?')
		return 4;
	if (c != 0 && strchr("!#$%&'*+-^_`{|}~", c) != NULL)
		return 1;
	return 0;
}

static bool is_atext(unsigned char c)
{
	return char_class(c) != 0;
}

static bool is_token(unsigned char c)
{
	unsigned char k = char_class(c);

	return k == 1 || k == 2;
}

void rfc822_parser_init(struct rfc822_parser *p, const void *data, size_t len,
			struct buf *last_comment)
{
	p->data = data;
	p->end = p->data + len;
	p->last_comment = last_comment;
}

static int skip_comment(struct rfc822_parser *p)
{
	const unsigned char *start;
	struct buf *c = p->last_comment;
	int level = 1;
	size_t len;

	if (c != NULL)
		buf_reset(c);
	start = ++p->data;
	for (; p->data < p->end; p->data++) {
		switch (*p->data) {
		case '\0':
			if (c != NULL) {
				buf_append(c, start, (size_t)(p->data - start));
				buf_append_str(c, RFC822_NUL_REPLACEMENT);
				start = p->data + 1;
			}
			break;
		case '(':
			level++;
			break;
		case ')':
			if (--level > 0)
				break;
			if (c != NULL)
				buf_append(c, start, (size_t)(p->data - start));
			p->data++;
			return p->data < p->end ? 1 : 0;
		case '\n':
			/* folding: drop the (CR)LF */
			if (c == NULL)
				break;
			len = (size_t)(p->data - start);
			if (len > 0 && start[len - 1] == '\r')
				len--;
			buf_append(c, start, len);
			start = p->data + 1;
			break;
		case '\\':
			p->data++;
			if (p->data >= p->end)
				return -1;
			if (*p->data == '\r' || *p->data == '\n' ||
			    *p->data == '\0') {
				p->data--; /* not a quoted-pair */
				break;
			}
			if (c != NULL)
				buf_append(c, start,
					   (size_t)(p->data - start - 1));
			start = p->data;
			break;
		}
	}
	return -1; /* missing ')' */
}

int rfc822_skip_lwsp(struct rfc822_parser *p)
{
	while (p->data < p->end) {
		unsigned char c = *p->data;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p->data++;
			continue;
		}
		if (c != '(')
			break;
		if (skip_comment(p) < 0)
			return -1;
	}
	return p->data < p->end ? 1 : 0;
}

int rfc822_parse_atom(struct rfc822_parser *p, struct buf *out)
{
	const unsigned char *start;

	if (p->data >= p->end || !is_atext(*p->data))
		return -1;
	for (start = p->data++; p->data < p->end; p->data++) {
		if (is_atext(*p->data))
			continue;
		buf_append(out, start, (size_t)(p->data - start));
		return rfc822_skip_lwsp(p);
	}
	buf_append(out, start, (size_t)(p->data - start));
	return 0;
}

int rfc822_parse_dot_atom(struct rfc822_parser *p, struct buf *out)
{
	const unsigned char *start;
	int ret;

	/* RFC 822 compatibility: CFWS allowed around the dots */
	if (p->data >= p->end || !is_atext(*p->data))
		return -1;
	for (start = p->data++; p->data < p->end;) {
		if (is_atext(*p->data)) {
			p->data++;
			continue;
		}
		if (start == p->data)
			return -1;
		buf_append(out, start, (size_t)(p->data - start));
		if ((ret = rfc822_skip_lwsp(p)) <= 0)
			return ret;
		if (*p->data != '.')
			return 1;
		p->data++;
		buf_append(out, ".", 1);
		if (rfc822_skip_lwsp(p) <= 0)
			return -1;
		start = p->data;
	}
	buf_append(out, start, (size_t)(p->data - start));
	return 0;
}

int rfc822_parse_mime_token(struct rfc822_parser *p, struct buf *out)
{
	const unsigned char *start;

	for (start = p->data; p->data < p->end; p->data++) {
		if (is_token(*p->data) || *p->data == '.')
			continue;
		buf_append(out, start, (size_t)(p->data - start));
		return rfc822_skip_lwsp(p);
	}
	buf_append(out, start, (size_t)(p->data - start));
	return 0;
}

int rfc822_parse_quoted_string(struct rfc822_parser *p, struct buf *out)
{
	const unsigned char *start;
	size_t len;

	p->data++; /* the '"' */
	for (start = p->data; p->data < p->end; p->data++) {
		switch (*p->data) {
		case '\0':
			buf_append(out, start, (size_t)(p->data - start));
			buf_append_str(out, RFC822_NUL_REPLACEMENT);
			start = p->data + 1;
			break;
		case '"':
			buf_append(out, start, (size_t)(p->data - start));
			p->data++;
			return rfc822_skip_lwsp(p);
		case '\n':
			/* folding whitespace: drop the (CR)LF */
			len = (size_t)(p->data - start);
			if (len > 0 && start[len - 1] == '\r')
				len--;
			buf_append(out, start, len);
			start = p->data + 1;
			break;
		case '\\':
			p->data++;
			if (p->data >= p->end)
				return -1;
			if (*p->data == '\r' || *p->data == '\n' ||
			    *p->data == '\0') {
				p->data--; /* not a quoted-pair */
				break;
			}
			buf_append(out, start, (size_t)(p->data - start - 1));
			start = p->data;
			break;
		}
	}
	return -1; /* missing '"' */
}

/* Atoms and dots without skipping the whitespace between words silently. */
static int parse_atom_or_dot(struct rfc822_parser *p, struct buf *out)
{
	const unsigned char *start;

	for (start = p->data; p->data < p->end; p->data++) {
		if (is_atext(*p->data) || *p->data == '.')
			continue;
		buf_append(out, start, (size_t)(p->data - start));
		return rfc822_skip_lwsp(p);
	}
	buf_append(out, start, (size_t)(p->data - start));
	return 0;
}

int rfc822_parse_phrase(struct rfc822_parser *p, struct buf *out)
{
	int ret;

	/* phrase = 1*word / obs-phrase; obs-phrase = word *(word / "." /
	   CFWS) */
	if (p->data >= p->end)
		return 0;
	if (*p->data == '.')
		return -1;
	for (;;) {
		if (*p->data == '"')
			ret = rfc822_parse_quoted_string(p, out);
		else
			ret = parse_atom_or_dot(p, out);
		if (ret <= 0)
			return ret;
		if (!is_atext(*p->data) && *p->data != '"' && *p->data != '.')
			break;
		buf_append(out, " ", 1);
	}
	return rfc822_skip_lwsp(p);
}

static int parse_domain_literal(struct rfc822_parser *p, struct buf *out)
{
	const unsigned char *start;
	size_t len;

	for (start = p->data++; p->data < p->end; p->data++) {
		switch (*p->data) {
		case '\0':
			buf_append(out, start, (size_t)(p->data - start));
			buf_append_str(out, RFC822_NUL_REPLACEMENT);
			start = p->data + 1;
			break;
		case '[':
			return -1;
		case ']':
			buf_append(out, start, (size_t)(p->data - start + 1));
			p->data++;
			return rfc822_skip_lwsp(p);
		case '\n':
			len = (size_t)(p->data - start);
			if (len > 0 && start[len - 1] == '\r')
				len--;
			buf_append(out, start, len);
			start = p->data + 1;
			break;
		case '\\':
			p->data++;
			if (p->data >= p->end)
				return -1;
			if (*p->data == '\r' || *p->data == '\n' ||
			    *p->data == '\0') {
				buf_append(out, start,
					   (size_t)(p->data - start));
				start = p->data;
				p->data--;
			}
			break;
		}
	}
	return -1; /* missing ']' */
}

int rfc822_parse_domain(struct rfc822_parser *p, struct buf *out)
{
	p->data++; /* the '@' */
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	if (*p->data == '[')
		return parse_domain_literal(p, out);
	return rfc822_parse_dot_atom(p, out);
}

int rfc822_parse_content_type(struct rfc822_parser *p, struct buf *out)
{
	size_t pos0 = out->len, pos;
	int ret;

	/* a broken type leaves nothing behind, but a lone "text" stays */
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	if (rfc822_parse_mime_token(p, out) <= 0 || out->len == pos0)
		return -1;
	if (*p->data != '/') {
		buf_truncate(out, pos0);
		return -1;
	}
	p->data++;
	if (rfc822_skip_lwsp(p) <= 0) {
		buf_truncate(out, pos0);
		return -1;
	}
	buf_append(out, "/", 1);
	pos = out->len;
	if ((ret = rfc822_parse_mime_token(p, out)) < 0 || out->len == pos ||
	    (p->data < p->end && *p->data != ';')) {
		buf_truncate(out, pos0);
		return -1;
	}
	return ret;
}

/* "; key=value": 1 parsed, 0 at the end, -1 broken. */
static int parse_content_param(struct rfc822_parser *p, struct buf *key,
			       struct buf *value)
{
	int ret;

	buf_reset(key);
	buf_reset(value);
	if (p->data >= p->end)
		return 0;
	if (*p->data != ';')
		return -1;
	p->data++;
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	if (rfc822_parse_mime_token(p, key) <= 0)
		return -1;
	if (*p->data != '=')
		return -1;
	p->data++;
	if ((ret = rfc822_skip_lwsp(p)) <= 0) {
		/* broken: no value */
	} else if (*p->data == '"') {
		ret = rfc822_parse_quoted_string(p, value);
	} else if (*p->data == '=') {
		/* broken senders write name==?utf-8?b?...?= unquoted */
		while (p->data < p->end && *p->data != ';' && *p->data != ' ' &&
		       *p->data != '\t' && *p->data != '\r' &&
		       *p->data != '\n') {
			buf_append(value, p->data, 1);
			p->data++;
		}
	} else {
		ret = rfc822_parse_mime_token(p, value);
	}
	return ret < 0 ? -1 : 1;
}

/* A C string of a buffer, cut at its first NUL as a C API would. */
static char *buf_dup(struct arena *arena, const struct buf *b)
{
	if (b->len == 0)
		return arena_strdup(arena, "");
	return arena_strndup(arena, b->data, strnlen(b->data, b->len));
}

struct param_piece {
	char *key; /* name without the "*n*" suffix */
	char *value;
	unsigned idx;
	bool extended;
	unsigned order; /* input order, for a stable sort */
};

static int piece_cmp(const void *a, const void *b)
{
	const struct param_piece *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r != 0)
		return r;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

#define PARAMS_MAX 1000

/* An RFC 2231 piece "name*[n][*]": true and filled in when key is one. */
static bool split_2231(struct arena *arena, const char *key,
		       struct param_piece *pc)
{
	const char *star = strchr(key, '*'), *p = star;

	if (star == NULL)
		return false;
	pc->idx = 0;
	if (p[1] != '\0') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++)
			pc->idx = pc->idx * 10 + (unsigned)(*p - '0');
	}
	pc->extended = *p == '*';
	if (pc->extended)
		p++;
	if (*p != '\0')
		return false;
	pc->key = arena_strndup(arena, key, (size_t)(star - key));
	return true;
}

static void escape_percent(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			buf_append_str(out, "%25");
		else
			buf_append(out, s, 1);
	}
}

/* Merges the sorted pieces [i, next) of one name into result. */
static void merge_pieces(struct arena *arena, const struct param_piece *pcs,
			 unsigned i, unsigned next, struct rfc822_param *res,
			 unsigned *n)
{
	bool ok = true, have_ext = false;
	struct buf v;

	for (unsigned j = i; j < next; j++) {
		if (pcs[j].idx != j - i)
			ok = false;
		if (pcs[j].extended)
			have_ext = true;
	}
	if (!ok) {
		/* missing indexes: not RFC 2231 after all, keep them apart */
		for (unsigned j = i; j < next; j++) {
			res[*n].name = arena_printf(
				arena, pcs[j].extended ? "%s*%u*" : "%s*%u",
				pcs[j].key, pcs[j].idx);
			res[(*n)++].value = pcs[j].value;
		}
		return;
	}
	buf_init(&v, BUF_UNLIMITED);
	if (!pcs[i].extended && have_ext)
		buf_append_str(&v, "''");
	for (unsigned j = i; j < next; j++) {
		if (!pcs[j].extended && have_ext)
			escape_percent(&v, pcs[j].value);
		else
			buf_append_str(&v, pcs[j].value);
	}
	res[*n].name =
		have_ext ? arena_printf(arena, "%s*", pcs[i].key) : pcs[i].key;
	res[(*n)++].value = buf_dup(arena, &v);
	buf_free(&v);
}

unsigned rfc822_parse_params(struct rfc822_parser *p, struct arena *arena,
			     struct rfc822_param **params_r)
{
	struct param_piece *pcs = NULL;
	struct rfc822_param *res = NULL, *out;
	unsigned n = 0, npcs = 0, cap = 0, order = 0;
	struct buf key, value;
	int ret;

	buf_init(&key, BUF_UNLIMITED);
	buf_init(&value, BUF_UNLIMITED);
	while (n + npcs < PARAMS_MAX &&
	       (ret = parse_content_param(p, &key, &value)) != 0) {
		char *k;

		if (ret < 0) {
			/* skip a byte and try again, as Dovecot does */
			if (p->data >= p->end)
				break;
			p->data++;
			continue;
		}
		if (n + npcs == cap) {
			/* scratch grows with what the header holds */
			cap = cap == 0 ? 8 : cap * 2;
			res = xrealloc(res, sizeof(*res) * cap);
			pcs = xrealloc(pcs, sizeof(*pcs) * cap);
		}
		k = buf_dup(arena, &key);
		if (split_2231(arena, k, &pcs[npcs])) {
			pcs[npcs].value = buf_dup(arena, &value);
			pcs[npcs].order = order++;
			npcs++;
			continue;
		}
		res[n].name = k;
		res[n++].value = buf_dup(arena, &value);
	}
	buf_free(&key);
	buf_free(&value);
	if (npcs > 0) {
		qsort(pcs, npcs, sizeof(*pcs), piece_cmp);
		for (unsigned i = 0, next; i < npcs; i = next) {
			for (next = i; next < npcs; next++) {
				if (strcasecmp(pcs[i].key, pcs[next].key) != 0)
					break;
			}
			/* merging never makes more entries than pieces */
			merge_pieces(arena, pcs, i, next, res, &n);
		}
	}
	out = NULL;
	if (n > 0) {
		out = arena_alloc(arena, sizeof(*out) * n);
		memcpy(out, res, sizeof(*out) * n);
	}
	free(res);
	free(pcs);
	*params_r = out;
	return n;
}

/* ---- RFC 2047 encoded-words ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 2047 4.2: "_" is a space, "=XX" a byte. */
static void decode_q(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '_') {
			ch = ' ';
		} else if (ch == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		buf_append(out, &ch, 1);
	}
}

/* Converts raw bytes in charset to UTF-8; -1 when iconv cannot. */
static int to_utf8(const char *charset, const char *in, size_t len,
		   struct buf *out)
{
	iconv_t cd;
	char tmp[1024];

	if (str_cmp_ci(charset, "utf-8") == 0 ||
	    str_cmp_ci(charset, "us-ascii") == 0)
		return buf_append(out, in, len);
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return -1;
	char *ip = (char *)in;
	size_t il = len;

	while (il > 0) {
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cd, &ip, &il, &op, &ol);

		buf_append(out, tmp, sizeof(tmp) - ol);
		if (r == (size_t)-1 && ol == sizeof(tmp)) {
			/* an invalid byte: U+FFFD and go on */
			buf_append_str(out, "\xef\xbf\xbd");
			ip++;
			il--;
		}
	}
	iconv_close(cd);
	return 0;
}

#define ENCODED_WORD_MAX 256

/* Tries an encoded-word at s; returns its length or 0. */
static size_t decode_word(const char *s, size_t n, struct buf *out)
{
	const char *q1, *q2, *end;
	char charset[64];
	struct buf raw;
	size_t clen;
	int ok;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	q1 = memchr(s + 2, '?', n - 2);
	if (q1 == NULL || q1 + 2 >= s + n || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	end = NULL;
	/* RFC 2047 2: an encoded-word is at most 75 characters; looking
	   a little further keeps a run of "=?" linear */
	if (n > ENCODED_WORD_MAX)
		n = ENCODED_WORD_MAX;
	for (const char *p = q2 + 1; p + 1 < s + n; p++) {
		if (p[0] == '?' && p[1] == '=') {
			end = p;
			break;
		}
	}
	if (end == NULL)
		return 0;
	clen = (size_t)(q1 - (s + 2));
	if (clen == 0 || clen >= sizeof(charset))
		return 0;
	memcpy(charset, s + 2, clen);
	charset[clen] = '\0';
	char *star = strchr(charset, '*'); /* RFC 2231 5: charset*lang */

	if (star != NULL)
		*star = '\0';
	buf_init(&raw, BUF_UNLIMITED);
	if (q1[1] == 'b' || q1[1] == 'B')
		ok = base64_decode(&raw, q2 + 1, (size_t)(end - q2 - 1)) == 0;
	else if (q1[1] == 'q' || q1[1] == 'Q')
		ok = (decode_q(q2 + 1, (size_t)(end - q2 - 1), &raw), 1);
	else
		ok = 0;
	if (ok)
		ok = to_utf8(charset, raw.data != NULL ? raw.data : "", raw.len,
			     out) == 0;
	buf_free(&raw);
	return ok ? (size_t)(end + 2 - s) : 0;
}

int rfc822_decode_words(const char *data, size_t len, struct buf *out)
{
	size_t i = 0, pending_ws = 0, ws_start = 0;
	bool last_was_word = false;

	while (i < len) {
		size_t k = decode_word(data + i, len - i, out);

		if (k > 0) {
			/* RFC 2047 6.2: whitespace between two encoded-words
			   is not displayed */
			i += k;
			last_was_word = true;
			pending_ws = 0;
			continue;
		}
		if (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
		    data[i] == '\n') {
			if (pending_ws == 0)
				ws_start = i;
			pending_ws++;
			i++;
			/* hold whitespace after a word until we see what
			   follows */
			if (last_was_word)
				continue;
			buf_append(out, data + ws_start, pending_ws);
			pending_ws = 0;
			continue;
		}
		if (pending_ws > 0)
			buf_append(out, data + ws_start, pending_ws);
		pending_ws = 0;
		last_was_word = false;
		if (buf_append(out, data + i, 1) < 0)
			return -1;
		i++;
	}
	if (pending_ws > 0)
		buf_append(out, data + ws_start, pending_ws);
	return 0;
}
