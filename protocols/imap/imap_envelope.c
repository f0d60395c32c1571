/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_envelope.h"

#include "lib/arena.h"
#include "storage/mime.h"
#include "storage/rfc822.h"

#include <string.h>

/*
 * A quoted string costs 3 bytes per quoted-special ("\""), a literal
 * about 5 plus the length's digits: past four specials Dovecot switches to
 * a literal, and so do we (answers compare byte for byte).
 */
#define QUOTED_MAX_ESCAPES 4

static int append_literal(struct buf *out, const char *s, size_t len)
{
	if (buf_printf(out, "{%zu}\r\n", len) < 0)
		return -1;
	return buf_append(out, s, len);
}

/* Runs between quoted-specials go out whole: a FETCH ENVELOPE of a big
   folder writes millions of these bytes. */
static int append_quoted(struct buf *out, const char *s)
{
	int r = buf_append(out, "\"", 1);

	for (;;) {
		size_t run = strcspn(s, "\"\\");

		r |= buf_append(out, s, run);
		s += run;
		if (*s == '\0')
			break;
		r |= buf_append(out, "\\", 1);
		r |= buf_append(out, s++, 1);
	}
	r |= buf_append(out, "\"", 1);
	return r != 0 ? -1 : 0;
}

int imap_envelope_append_nstring(struct buf *out, const char *s)
{
	unsigned escapes = 0;

	if (s == NULL)
		return buf_append_str(out, "NIL");
	/* RFC 3501 9: QUOTED-CHAR is any TEXT-CHAR (no CR, LF) but the
	   specials, which are escaped; 8-bit needs a literal */
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\r' || c == '\n' || c >= 0x80 ||
		    ((c == '"' || c == '\\') &&
		     escapes++ >= QUOTED_MAX_ESCAPES))
			return append_literal(out, s, strlen(s));
	}
	return append_quoted(out, s);
}

int imap_envelope_append_nstring_nolf(struct buf *out, const char *s)
{
	struct buf tmp;
	int r;

	if (s == NULL || strpbrk(s, "\r\n") == NULL)
		return imap_envelope_append_nstring(out, s);
	buf_init(&tmp, BUF_UNLIMITED);
	for (size_t i = 0; s[i] != '\0'; i++) {
		char n = s[i + 1];

		if (s[i] != '\r' && s[i] != '\n')
			buf_append(&tmp, s + i, 1);
		else if (n != ' ' && n != '\t' && n != '\r' && n != '\n' &&
			 n != '\0')
			buf_append(&tmp, " ", 1); /* keep words apart */
	}
	r = imap_envelope_append_nstring(out, tmp.data != NULL ? tmp.data : "");
	buf_free(&tmp);
	return r;
}

int imap_envelope_append_humans(struct buf *out, const char *s, size_t len)
{
	const unsigned char *src = (const unsigned char *)s;
	bool ws_prefix = true, last_lwsp = true, modify = false;
	size_t remove = 0, grow = 0, start;
	int r = 0;

	for (size_t i = 0; i < len; i++) {
		switch (src[i]) {
		case 0:
			last_lwsp = false;
			modify = true;
			grow += 2; /* U+FFFD */
			break;
		case '\r':
		case '\n':
		case '\t':
			modify = true;
			/* fall through */
		case ' ':
			if (last_lwsp) {
				modify = true;
				remove++;
			}
			last_lwsp = true;
			break;
		case '"':
		case '\\':
			modify = true;
			last_lwsp = false;
			break;
		default:
			if (src[i] >= 0x80)
				modify = true;
			last_lwsp = false;
			break;
		}
		if (!last_lwsp)
			ws_prefix = false;
	}
	if (last_lwsp && len > 0 && !ws_prefix) {
		modify = true;
		remove++;
	}
	if (!modify) {
		r |= buf_append(out, "\"", 1);
		r |= buf_append(out, s, len);
		r |= buf_append(out, "\"", 1);
		return r != 0 ? -1 : 0;
	}
	if (len == remove)
		return buf_append_str(out, "\"\"");
	if (buf_printf(out, "{%zu}\r\n", len - remove + grow) < 0)
		return -1;
	start = out->len;
	last_lwsp = true;
	ws_prefix = true;
	for (size_t i = 0; i < len; i++) {
		switch (src[i]) {
		case 0:
			r |= buf_append_str(out, "\xef\xbf\xbd");
			last_lwsp = false;
			break;
		case '\r':
		case '\n':
		case '\t':
		case ' ':
			if (!last_lwsp)
				r |= buf_append(out, " ", 1);
			last_lwsp = true;
			break;
		default:
			last_lwsp = false;
			r |= buf_append(out, s + i, 1);
			break;
		}
		if (!last_lwsp)
			ws_prefix = false;
	}
	if (r == 0 && last_lwsp && len > 0 && !ws_prefix && out->len > start)
		buf_truncate(out, out->len - 1);
	return r != 0 ? -1 : 0;
}

/* A header value as a C string, each NUL as U+FFFD (as Dovecot). */
static const char *cstr(struct arena *a, struct strv v)
{
	struct buf b;
	char *s;

	if (v.p == NULL)
		return NULL;
	if (memchr(v.p, '\0', v.len) == NULL)
		return arena_strndup(a, v.p, v.len);
	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == '\0')
			buf_append_str(&b, "\xef\xbf\xbd");
		else
			buf_append(&b, v.p + i, 1);
	}
	s = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static int write_addresses(struct buf *out, const struct rfc822_address *a)
{
	int r = 0;

	if (a == NULL)
		return buf_append_str(out, "NIL");
	r |= buf_append(out, "(", 1);
	for (; a != NULL; a = a->next) {
		r |= buf_append(out, "(", 1);
		if (a->name == NULL)
			r |= buf_append_str(out, "NIL");
		else
			r |= imap_envelope_append_humans(out, a->name,
							 strlen(a->name));
		r |= buf_append(out, " ", 1);
		r |= imap_envelope_append_nstring(out, a->route);
		r |= buf_append(out, " ", 1);
		r |= imap_envelope_append_nstring(out, a->mailbox);
		r |= buf_append(out, " ", 1);
		r |= imap_envelope_append_nstring(out, a->domain);
		r |= buf_append(out, ")", 1);
	}
	r |= buf_append(out, ")", 1);
	return r != 0 ? -1 : 0;
}

/* The addresses of every occurrence of the field, in order. */
static const struct rfc822_address *addresses(struct arena *a,
					      const struct mime_envelope *env,
					      enum mime_env_field f)
{
	struct rfc822_address *first = NULL, **tail = &first;
	struct strv v = env->field[f];

	while (v.p != NULL) {
		const char *sep = memmem(v.p, v.len, MIME_ENV_SEPARATOR, 2);
		size_t n = sep != NULL ? (size_t)(sep - v.p) : v.len;

		*tail = rfc822_address_parse(a, v.p, n);
		while (*tail != NULL)
			tail = &(*tail)->next;
		if (sep == NULL)
			break;
		v = (struct strv){sep + 2, v.len - n - 2};
	}
	return first;
}

int imap_envelope_write(struct buf *out, const struct mime_envelope *env)
{
	const struct rfc822_address *from, *sender, *reply_to;
	struct arena *a;
	const char *subject;
	int r = 0;

	if (env == NULL)
		return buf_append_str(
			out, "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL");
	a = arena_new(0);
	/* Dovecot drops the line breaks of folded values */
	r |= imap_envelope_append_nstring_nolf(
		out, cstr(a, env->field[MIME_ENV_DATE]));
	r |= buf_append(out, " ", 1);
	subject = cstr(a, env->field[MIME_ENV_SUBJECT]);
	if (subject == NULL)
		r |= buf_append_str(out, "NIL");
	else
		r |= imap_envelope_append_humans(out, subject, strlen(subject));
	from = addresses(a, env, MIME_ENV_FROM);
	sender = addresses(a, env, MIME_ENV_SENDER);
	reply_to = addresses(a, env, MIME_ENV_REPLY_TO);
	r |= buf_append(out, " ", 1);
	r |= write_addresses(out, from);
	r |= buf_append(out, " ", 1);
	r |= write_addresses(out, sender != NULL ? sender : from);
	r |= buf_append(out, " ", 1);
	r |= write_addresses(out, reply_to != NULL ? reply_to : from);
	for (unsigned f = MIME_ENV_TO; f <= MIME_ENV_BCC; f++) {
		r |= buf_append(out, " ", 1);
		r |= write_addresses(out, addresses(a, env, f));
	}
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring_nolf(
		out, cstr(a, env->field[MIME_ENV_IN_REPLY_TO]));
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring_nolf(
		out, cstr(a, env->field[MIME_ENV_MESSAGE_ID]));
	arena_free(&a);
	return r != 0 ? -1 : 0;
}
