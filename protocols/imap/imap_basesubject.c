/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RFC 5256 2.1 base subject extraction; see imap_basesubject.h. */
#include "protocols/imap/imap_basesubject.h"

#include "storage/rfc822.h"

#include <string.h>
#include <strings.h>

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

int imap_basesubject_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p != '\0' && upper(*p) == upper(*q)) {
		p++;
		q++;
	}
	return upper(*p) - upper(*q);
}

/* A window [p, p + len) of the subject being cut down. */
struct subj {
	const char *p;
	size_t len;
};

static bool has_prefix_ci(const struct subj *s, size_t at, const char *lit)
{
	size_t n = strlen(lit);

	return s->len - at >= n && strncasecmp(s->p + at, lit, n) == 0;
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at s->p + at: its length, or 0. */
static size_t blob_len(const struct subj *s, size_t at)
{
	size_t i = at;

	if (i >= s->len || s->p[i] != '[')
		return 0;
	for (i++; i < s->len && s->p[i] != ']'; i++) {
		unsigned char c = (unsigned char)s->p[i];

		/* BLOBCHAR = %x01-5a / %x5c / %x5e-7f */
		if (c == 0 || c == '[' || c >= 0x80)
			return 0;
	}
	if (i >= s->len)
		return 0;
	for (i++; i < s->len && s->p[i] == ' '; i++)
		;
	return i - at;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static size_t refwd_len(const struct subj *s, size_t at)
{
	size_t i = at;

	if (has_prefix_ci(s, i, "re"))
		i += 2;
	else if (has_prefix_ci(s, i, "fwd"))
		i += 3;
	else if (has_prefix_ci(s, i, "fw"))
		i += 2;
	else
		return 0;
	while (i < s->len && s->p[i] == ' ')
		i++;
	i += blob_len(s, i);
	if (i >= s->len || s->p[i] != ':')
		return 0;
	return i + 1 - at;
}

/* Step 2: trailing "(fwd)" / WSP, repeatedly. */
static bool strip_trailers(struct subj *s)
{
	bool fwd = false;

	for (;;) {
		if (s->len > 0 && s->p[s->len - 1] == ' ') {
			s->len--;
		} else if (s->len >= 5 &&
			   strncasecmp(s->p + s->len - 5, "(fwd)", 5) == 0) {
			s->len -= 5;
			fwd = true;
		} else {
			return fwd;
		}
	}
}

/* Step 3: subj-leader = (*subj-blob subj-refwd) / WSP, repeatedly. */
static bool strip_leaders(struct subj *s)
{
	bool refwd = false;

	for (;;) {
		size_t i = 0, n;

		if (s->len > 0 && s->p[0] == ' ') {
			s->p++;
			s->len--;
			continue;
		}
		while ((n = blob_len(s, i)) > 0)
			i += n;
		if ((n = refwd_len(s, i)) == 0)
			return refwd;
		s->p += i + n;
		s->len -= i + n;
		refwd = true;
	}
}

/* Step 4: a leading subj-blob, when a non-empty subj-base is left. */
static bool strip_blob(struct subj *s)
{
	size_t n = blob_len(s, 0);

	if (n == 0 || n >= s->len)
		return false;
	s->p += n;
	s->len -= n;
	return true;
}

/* Step 1: encoded words decoded, blanks and line ends as single spaces. */
static int normalise(const char *subject, size_t len, struct buf *tmp)
{
	struct buf dec;
	bool space = false;
	int ret = 0;

	buf_init(&dec, tmp->max);
	if (rfc822_decode_words(subject, len, &dec) < 0)
		ret = -1;
	for (size_t i = 0; i < dec.len; i++) {
		char c = dec.data[i];
		bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';

		if (blank && space)
			continue;
		space = blank;
		if (buf_append(tmp, blank ? " " : &c, 1) < 0)
			ret = -1;
	}
	buf_free(&dec);
	return ret;
}

int imap_basesubject(const char *subject, size_t len, struct buf *out,
		     bool *is_reply_or_fwd_r)
{
	struct buf tmp;
	struct subj s;
	bool fwd = false;
	int ret;

	buf_init(&tmp, out->max);
	ret = normalise(subject, len, &tmp);
	s.p = tmp.data != NULL ? tmp.data : "";
	s.len = tmp.len;
	for (;;) {
		bool changed = true;

		fwd |= strip_trailers(&s); /* (2) */
		while (changed) {	   /* (3) (4) (5) */
			changed = false;
			if (strip_leaders(&s))
				fwd = changed = true;
			if (strip_blob(&s))
				changed = true;
		}
		/* (6) "[fwd:" ... "]" */
		if (s.len >= 6 && has_prefix_ci(&s, 0, "[fwd:") &&
		    s.p[s.len - 1] == ']') {
			s.p += 5;
			s.len -= 6;
			fwd = true;
			continue;
		}
		break;
	}
	if (buf_append(out, s.p, s.len) < 0)
		ret = -1;
	buf_free(&tmp);
	*is_reply_or_fwd_r = fwd;
	return ret;
}
