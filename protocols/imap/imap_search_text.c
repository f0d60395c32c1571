/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_search_text.h"

#include "lib/str.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Simple lowercase of the scripts named in the header. */
static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		return c + 32;
	if (c < 0x100)
		return c;
	if (c <= 0x17F) {
		if (c == 0x130)
			return 'i';
		if (c == 0x178)
			return 0xFF;
		if (c == 0x17F)
			return 's';
		if ((c <= 0x137 || (c >= 0x14A && c <= 0x177)) && c % 2 == 0)
			return c + 1;
		if (((c >= 0x139 && c <= 0x148) || c >= 0x179) && c % 2 == 1)
			return c + 1;
		return c;
	}
	if (c >= 0x386 && c <= 0x3AB) {
		if (c == 0x386)
			return 0x3AC;
		if (c >= 0x388 && c <= 0x38A)
			return c + 37;
		if (c == 0x38C)
			return 0x3CC;
		if (c == 0x38E || c == 0x38F)
			return c + 63;
		if (c >= 0x391 && c != 0x3A2)
			return c + 32;
		return c;
	}
	if (c == 0x3C2)
		return 0x3C3;
	if (c >= 0x400 && c <= 0x52F) {
		if (c <= 0x40F)
			return c + 80;
		if (c <= 0x42F)
			return c + 32;
		if (c == 0x4C0)
			return 0x4CF;
		if (((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
		     c >= 0x4D0) &&
		    c % 2 == 0)
			return c + 1;
		if (c >= 0x4C1 && c <= 0x4CE && c % 2 == 1)
			return c + 1;
	}
	return c;
}

static size_t put_utf8(uint32_t c, unsigned char *o)
{
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xC0 | (c >> 6));
		o[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	o[0] = (unsigned char)(0xE0 | (c >> 12));
	o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
	o[2] = (unsigned char)(0x80 | (c & 0x3F));
	return 3;
}

/* Length of the UTF-8 sequence at p (n bytes there): 1..4, 0 when cut
   short, -1 when invalid. Only 2- and 3-byte sequences are decoded
   (*c_r); others are copied. */
static int utf8_seq(const unsigned char *p, size_t n, uint32_t *c_r)
{
	size_t need = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;

	if (p[0] < 0xC2 || p[0] > 0xF4)
		return -1;
	for (size_t i = 1; i < need; i++) {
		if (i >= n)
			return 0;
		if ((p[i] & 0xC0) != 0x80)
			return -1;
	}
	if (need == 2)
		*c_r = ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
	else if (need == 3)
		*c_r = ((uint32_t)(p[0] & 0x0F) << 12) |
		       ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
	else
		*c_r = 0x10000;
	return (int)need;
}

size_t imap_search_text_fold(const void *in, size_t len, bool final,
			     struct buf *out)
{
	const unsigned char *p = in;
	size_t avail = 0, i = 0, o = 0;
	unsigned char *w;

	if (len == 0)
		return 0;
	w = (unsigned char *)buf_reserve(out, len, &avail);
	if (w == NULL)
		return len; /* out is full: the text is dropped */
	if (avail > len)
		avail = len;
	while (i < len && o < avail) {
		uint32_t c = 0;
		int n;

		if (p[i] < 0x80) {
			w[o++] = (unsigned char)(p[i] >= 'A' && p[i] <= 'Z'
							 ? p[i] + 32
							 : p[i]);
			i++;
			continue;
		}
		n = utf8_seq(p + i, len - i, &c);
		if (n == 0 && !final)
			break;
		n = n <= 0 ? 1 : n;
		/* folding never makes a character longer */
		if (o + (size_t)n > avail)
			break;
		if (n == 1 || n == 4)
			memcpy(w + o, p + i, (size_t)n);
		o += n == 1 || n == 4 ? (size_t)n : put_utf8(fold_cp(c), w + o);
		i += (size_t)n;
	}
	buf_commit(out, o);
	return i;
}

void imap_search_decoder_init(struct imap_search_decoder *d,
			      const char *encoding)
{
	memset(d, 0, sizeof(*d));
	if (encoding == NULL)
		d->cte = IMAP_SEARCH_CTE_NONE;
	else if (strcasecmp(encoding, "base64") == 0)
		d->cte = IMAP_SEARCH_CTE_BASE64;
	else if (strcasecmp(encoding, "quoted-printable") == 0)
		d->cte = IMAP_SEARCH_CTE_QP;
	else if (strcasecmp(encoding, "7bit") == 0 ||
		 strcasecmp(encoding, "8bit") == 0 ||
		 strcasecmp(encoding, "binary") == 0)
		d->cte = IMAP_SEARCH_CTE_NONE;
	else
		d->cte = IMAP_SEARCH_CTE_UNKNOWN;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return c == '=' ? -2 : -1;
}

static void b64_feed(struct imap_search_decoder *d, const unsigned char *p,
		     size_t len, struct buf *out)
{
	size_t avail = 0;
	char *o = buf_reserve(out, len, &avail);
	size_t n = 0;

	for (size_t i = 0; i < len && o != NULL; i++) {
		int v = b64_value(p[i]);

		if (v == -2) {
			/* padding ends a quantum: leftover bits go */
			d->bits = d->nbits = 0;
			continue;
		}
		if (v < 0)
			continue;
		d->bits = (d->bits << 6) | (unsigned)v;
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			if (n < avail)
				o[n++] = (char)((d->bits >> d->nbits) & 0xFF);
			d->bits &= (1u << d->nbits) - 1;
		}
	}
	if (o != NULL)
		buf_commit(out, n);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

enum qp_state {
	QP_TEXT,
	QP_EQ,	 /* after "=" */
	QP_HEX,	 /* after "=X" */
	QP_SOFT, /* after "=" and blanks or CR: a soft line break */
};

/* RFC 2045 6.7: "=XY" is a byte, "=" at the end of a line (after
   optional blanks) joins the lines; anything else stays as it is. */
static void qp_byte(struct imap_search_decoder *d, unsigned char c,
		    struct buf *out)
{
	for (;;) {
		switch (d->qp_state) {
		case QP_TEXT:
			if (c == '=')
				d->qp_state = QP_EQ;
			else
				buf_append(out, &c, 1);
			return;
		case QP_EQ:
			if (hex_value(c) >= 0) {
				d->qp_hi = c;
				d->qp_state = QP_HEX;
				return;
			}
			if (c == '\n') {
				d->qp_state = QP_TEXT;
				return;
			}
			if (c == ' ' || c == '\t' || c == '\r') {
				d->qp_state = QP_SOFT;
				return;
			}
			buf_append(out, "=", 1);
			d->qp_state = QP_TEXT;
			continue;
		case QP_HEX:
			d->qp_state = QP_TEXT;
			if (hex_value(c) >= 0) {
				unsigned char b =
					(unsigned char)(hex_value(d->qp_hi) *
								16 +
							hex_value(c));

				buf_append(out, &b, 1);
				return;
			}
			buf_append(out, "=", 1);
			buf_append(out, &d->qp_hi, 1);
			continue;
		default: /* QP_SOFT */
			if (c == ' ' || c == '\t' || c == '\r')
				return;
			d->qp_state = QP_TEXT;
			if (c == '\n')
				return;
			continue;
		}
	}
}

void imap_search_decoder_feed(struct imap_search_decoder *d, const void *in,
			      size_t len, struct buf *out)
{
	const unsigned char *p = in;

	switch (d->cte) {
	case IMAP_SEARCH_CTE_BASE64:
		b64_feed(d, p, len, out);
		break;
	case IMAP_SEARCH_CTE_QP:
		for (size_t i = 0; i < len; i++)
			qp_byte(d, p[i], out);
		break;
	default:
		buf_append(out, in, len);
		break;
	}
}

void imap_search_decoder_finish(struct imap_search_decoder *d, struct buf *out)
{
	if (d->cte == IMAP_SEARCH_CTE_QP && d->qp_state == QP_EQ)
		buf_append(out, "=", 1);
	if (d->cte == IMAP_SEARCH_CTE_QP && d->qp_state == QP_HEX) {
		buf_append(out, "=", 1);
		buf_append(out, &d->qp_hi, 1);
	}
	d->qp_state = QP_TEXT;
	d->bits = d->nbits = 0;
}

static bool is_utf8_or_ascii(const char *cs)
{
	static const char *const same[] = {
		"utf-8",	  "utf8",      "us-ascii", "ascii",
		"ansi_x3.4-1968", "iso646-us", "us",
	};

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (strcasecmp(cs, same[i]) == 0)
			return true;
	return false;
}

int imap_search_charset_open(struct imap_search_charset *cs,
			     const char *charset)
{
	memset(cs, 0, sizeof(*cs));
	cs->cd = (iconv_t)-1;
	if (charset == NULL || *charset == '\0' || is_utf8_or_ascii(charset))
		return 0;
	cs->cd = iconv_open("UTF-8", charset);
	return cs->cd == (iconv_t)-1 ? -1 : 0;
}

void imap_search_charset_close(struct imap_search_charset *cs)
{
	if (cs->cd != (iconv_t)-1)
		iconv_close(cs->cd);
	cs->cd = (iconv_t)-1;
	cs->held = 0;
}

/* Converts until the input is used or ends in a cut character. */
static void convert(struct imap_search_charset *cs, const char **ip, size_t *il,
		    struct buf *out)
{
	while (*il > 0) {
		char tmp[4096];
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cs->cd, (char **)ip, il, &op, &ol);

		buf_append(out, tmp, (size_t)(op - tmp));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno == EINVAL)
			return;
		buf_append_str(out, "\xef\xbf\xbd");
		(*ip)++;
		(*il)--;
		iconv(cs->cd, NULL, NULL, NULL, NULL);
	}
}

void imap_search_charset_feed(struct imap_search_charset *cs, const void *in,
			      size_t len, struct buf *out)
{
	const char *p = in;

	if (cs->cd == (iconv_t)-1) {
		buf_append(out, in, len);
		return;
	}
	while (cs->held > 0 && len > 0) {
		const char *hp = (const char *)cs->hold;
		size_t hl;

		cs->hold[cs->held++] = (unsigned char)*p++;
		len--;
		hl = cs->held;
		convert(cs, &hp, &hl, out);
		if (hl > 0 && hl < cs->held)
			memmove(cs->hold, hp, hl);
		cs->held = hl;
		if (cs->held == sizeof(cs->hold)) {
			buf_append_str(out, "\xef\xbf\xbd");
			memmove(cs->hold, cs->hold + 1, --cs->held);
		}
	}
	convert(cs, &p, &len, out);
	while (len > sizeof(cs->hold)) {
		buf_append_str(out, "\xef\xbf\xbd");
		p++;
		len--;
	}
	memcpy(cs->hold, p, len);
	cs->held = len;
}

bool imap_search_charset_key_ok(const char *name, size_t len)
{
	struct strv s = {name, len};

	return strv_eq_cstr_ci(s, "UTF-8") || strv_eq_cstr_ci(s, "US-ASCII");
}

void imap_search_matcher_init(struct imap_search_matcher *m,
			      struct arena *arena, const char *key, size_t len)
{
	struct buf b;

	buf_init(&b, len + 1);
	imap_search_text_fold(key, len, true, &b);
	memset(m, 0, sizeof(*m));
	m->len = b.len;
	m->key = arena_strndup(arena, b.len > 0 ? b.data : "", b.len);
	buf_free(&b);
	if (m->len > 1) {
		m->tail = arena_alloc(arena, m->len - 1);
		m->scratch = arena_alloc(arena, 2 * (m->len - 1));
	}
	m->found = m->len == 0;
}

void imap_search_matcher_reset(struct imap_search_matcher *m)
{
	m->tail_len = 0;
}

void imap_search_matcher_restart(struct imap_search_matcher *m)
{
	m->tail_len = 0;
	m->found = m->len == 0;
}

bool imap_search_matcher_feed(struct imap_search_matcher *m, const void *text,
			      size_t len)
{
	const char *t = text;
	size_t keep = m->len - 1;

	if (m->found || len == 0)
		return m->found;
	if (m->tail_len > 0) {
		size_t n = len < keep ? len : keep;

		memcpy(m->scratch, m->tail, m->tail_len);
		memcpy(m->scratch + m->tail_len, t, n);
		if (memmem(m->scratch, m->tail_len + n, m->key, m->len) != NULL)
			return m->found = true;
	}
	if (memmem(t, len, m->key, m->len) != NULL)
		return m->found = true;
	if (keep == 0)
		return false;
	if (len >= keep) {
		memcpy(m->tail, t + len - keep, keep);
		m->tail_len = keep;
	} else {
		size_t drop =
			m->tail_len + len > keep ? m->tail_len + len - keep : 0;

		memmove(m->tail, m->tail + drop, m->tail_len - drop);
		memcpy(m->tail + m->tail_len - drop, t, len);
		m->tail_len = m->tail_len - drop + len;
	}
	return false;
}
