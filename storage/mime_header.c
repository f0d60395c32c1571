/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The header fields of a part: Content-*, MIME-Version, the envelope. */
#include "storage/mime.h"

#include "lib/arena.h"
#include "storage/mime_private.h"
#include "storage/rfc822.h"

#include <string.h>
#include <strings.h>

static bool name_is(struct strv name, const char *s)
{
	return strv_eq_cstr_ci(name, s);
}

static char *dup_cstr(struct mime_parser *p, struct strv v)
{
	return arena_strndup(p->arena, v.p, strnlen(v.p, v.len));
}

static struct mime_param *copy_params(struct mime_parser *p,
				      const struct rfc822_param *in, unsigned n)
{
	struct mime_param *out;

	if (n == 0)
		return NULL;
	out = arena_alloc(p->arena, sizeof(*out) * n);
	for (unsigned i = 0; i < n; i++) {
		out[i].name = in[i].name;
		out[i].value = in[i].value;
	}
	return out;
}

/* The parser's view of Content-Type: the part's kind and boundary. */
static void content_type_flags(struct mime_parser *p, struct strv value)
{
	struct mime_part *part = p->part;
	struct rfc822_parser rp;
	struct rfc822_param *params;
	struct buf ct;
	unsigned n;
	int ret;

	if (p->seen_content_type)
		return;
	p->seen_content_type = true;
	buf_init(&ct, BUF_UNLIMITED);
	rfc822_parser_init(&rp, value.p, value.len, NULL);
	rfc822_skip_lwsp(&rp);
	ret = rfc822_parse_content_type(&rp, &ct);
	struct strv t = {ct.data != NULL ? ct.data : "", ct.len};

	if (strv_eq_cstr_ci(t, "message/rfc822"))
		part->flags |= MIME_PART_RFC822;
	else if (strv_has_prefix_ci(t, "text") && (t.len == 4 || t.p[4] == '/'))
		part->flags |= MIME_PART_TEXT;
	else if (strv_has_prefix_ci(t, "multipart/")) {
		part->flags |= MIME_PART_MULTIPART;
		if (strv_eq_cstr_ci((struct strv){t.p + 10, t.len - 10},
				    "digest"))
			part->flags |= MIME_PART_DIGEST;
	}
	buf_free(&ct);
	if (ret < 0 || (part->flags & MIME_PART_MULTIPART) == 0 ||
	    p->last_boundary != NULL)
		return;
	n = rfc822_parse_params(&rp, p->arena, &params);
	for (unsigned i = 0; i < n; i++) {
		if (strcasecmp(params[i].name, "boundary") == 0) {
			p->last_boundary = arena_strndup(
				p->arena, params[i].value,
				strnlen(params[i].value, MIME_BOUNDARY_MAX));
			break;
		}
	}
}

/* The Content-Type the part reports (first one wins). */
static void content_type_data(struct mime_parser *p, struct strv value)
{
	struct mime_part *part = p->part;
	struct rfc822_parser rp;
	struct rfc822_param *params;
	struct buf ct;
	char *s, *slash;
	int ret;

	buf_init(&ct, BUF_UNLIMITED);
	rfc822_parser_init(&rp, value.p, value.len, NULL);
	rfc822_skip_lwsp(&rp);
	ret = rfc822_parse_content_type(&rp, &ct);
	s = arena_strndup(p->arena, ct.data != NULL ? ct.data : "", ct.len);
	buf_free(&ct);
	slash = strchr(s, '/');
	if (slash != NULL) {
		*slash = '\0';
		part->subtype = slash + 1;
	}
	part->type = s;
	if (ret < 0)
		return; /* broken: keep what we got, no parameters */
	unsigned n = rfc822_parse_params(&rp, p->arena, &params);

	part->params = copy_params(p, params, n);
	part->param_count = n;
}

static void content_encoding(struct mime_parser *p, struct strv value)
{
	struct rfc822_parser rp;
	struct buf tok;

	buf_init(&tok, BUF_UNLIMITED);
	rfc822_parser_init(&rp, value.p, value.len, NULL);
	rfc822_skip_lwsp(&rp);
	if (rfc822_parse_mime_token(&rp, &tok) >= 0 &&
	    rfc822_skip_lwsp(&rp) == 0 && tok.len > 0)
		p->part->encoding = arena_strndup(p->arena, tok.data, tok.len);
	buf_free(&tok);
}

static void content_disposition(struct mime_parser *p, struct strv value)
{
	struct mime_part *part = p->part;
	struct rfc822_parser rp;
	struct rfc822_param *params;
	struct buf tok;
	unsigned n;

	buf_init(&tok, BUF_UNLIMITED);
	rfc822_parser_init(&rp, value.p, value.len, NULL);
	rfc822_skip_lwsp(&rp);
	if (rfc822_parse_mime_token(&rp, &tok) < 0) {
		buf_free(&tok);
		return;
	}
	part->disposition = arena_strndup(
		p->arena, tok.data != NULL ? tok.data : "", tok.len);
	buf_free(&tok);
	n = rfc822_parse_params(&rp, p->arena, &params);
	part->disp_params = copy_params(p, params, n);
	part->disp_param_count = n;
}

#define LANGUAGES_MAX 100

static void content_language(struct mime_parser *p, struct strv value)
{
	struct mime_part *part = p->part;
	const char *langs[LANGUAGES_MAX];
	struct rfc822_parser rp;
	unsigned n = 0;
	struct buf tok;

	/* RFC 3282: 1#Language-tag */
	buf_init(&tok, BUF_UNLIMITED);
	rfc822_parser_init(&rp, value.p, value.len, NULL);
	rfc822_skip_lwsp(&rp);
	while (n < LANGUAGES_MAX && rfc822_parse_atom(&rp, &tok) >= 0) {
		langs[n++] = arena_strndup(p->arena, tok.data, tok.len);
		buf_reset(&tok);
		if (rp.data >= rp.end || *rp.data != ',')
			break;
		rp.data++;
		rfc822_skip_lwsp(&rp);
	}
	buf_free(&tok);
	if (n == 0)
		return;
	part->language = arena_alloc(p->arena, sizeof(*part->language) * n);
	memcpy(part->language, langs, sizeof(*langs) * n);
	part->language_count = n;
}

static void content_field(struct mime_parser *p, struct strv name,
			  struct strv value)
{
	struct mime_part *part = p->part;
	struct strv rest = {name.p + 8, name.len - 8};

	if (name_is(rest, "Type")) {
		if (part->type == NULL)
			content_type_data(p, value);
	} else if (name_is(rest, "Transfer-Encoding")) {
		if (part->encoding == NULL)
			content_encoding(p, value);
	} else if (name_is(rest, "ID")) {
		if (part->id == NULL)
			part->id = dup_cstr(p, value);
	} else if (name_is(rest, "MD5")) {
		if (part->md5 == NULL)
			part->md5 = dup_cstr(p, value);
	} else if (name_is(rest, "Description")) {
		if (part->description == NULL)
			part->description = dup_cstr(p, value);
	} else if (name_is(rest, "Location")) {
		if (part->location == NULL)
			part->location = dup_cstr(p, value);
	} else if (name_is(rest, "Language")) {
		if (part->language == NULL)
			content_language(p, value);
	} else if (name_is(rest, "Disposition")) {
		/* Dovecot reads a later Content-Disposition again while
		   the first had no parameters; we answer the same */
		if (part->disp_params == NULL)
			content_disposition(p, value);
	}
}

static const char *const env_names[MIME_ENV_COUNT] = {
	"Date", "Subject", "From", "Sender",	  "Reply-To",
	"To",	"Cc",	   "Bcc",  "In-Reply-To", "Message-ID",
};

/* Address fields may repeat: Dovecot lists the addresses of all of
   them. Their values are kept joined by MIME_ENV_SEPARATOR, which no
   unfolded value holds (a LF there is always followed by a blank). While
   a header is read they collect in the parser (linear in the header's
   size), and go into the part at its end. */
#define ENV_FIELD_MAX (4 * MIME_FIELD_MAX)

static bool env_is_address(unsigned i)
{
	return i >= MIME_ENV_FROM && i <= MIME_ENV_BCC;
}

static void envelope_field(struct mime_parser *p, struct strv name,
			   struct strv value)
{
	for (unsigned i = 0; i < MIME_ENV_COUNT; i++) {
		struct buf *b = &p->env[i];

		if (!name_is(name, env_names[i]))
			continue;
		p->has_env = true;
		/* the last one wins, but addresses add up */
		if (!env_is_address(i) || !p->env_seen[i])
			buf_reset(b);
		else if (b->len + 2 + value.len <= ENV_FIELD_MAX)
			buf_append(b, MIME_ENV_SEPARATOR, 2);
		else
			return;
		buf_append(b, value.p, value.len);
		p->env_seen[i] = true;
		return;
	}
}

/* The envelope fields of the header that ended go into its part. */
void mime_header_envelope_commit(struct mime_parser *p)
{
	struct mime_envelope *env;

	if (!p->has_env)
		return;
	env = arena_zalloc(p->arena, sizeof(*env));
	for (unsigned i = 0; i < MIME_ENV_COUNT; i++) {
		struct buf *b = &p->env[i];
		char *copy;

		if (!p->env_seen[i])
			continue;
		copy = arena_alloc(p->arena, b->len + 1);
		if (b->len > 0)
			memcpy(copy, b->data, b->len);
		copy[b->len] = '\0';
		env->field[i] = (struct strv){copy, b->len};
		p->env_seen[i] = false;
		buf_reset(b);
	}
	p->part->envelope = env;
	p->has_env = false;
}

static bool wants_envelope(const struct mime_part *part)
{
	return part->parent == NULL ||
	       (part->parent->flags & MIME_PART_RFC822) != 0;
}

static bool is_lwsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* A complete header field is in p->field. */
void mime_header_field_done(struct mime_parser *p)
{
	const char *f = p->field.data != NULL ? p->field.data : "";
	size_t len = p->field.len, first = p->field_first, colon, pos;
	const char *c = memchr(f, ':', first);
	struct strv name, value;

	if (!p->in_field)
		return;
	p->in_field = false;
	if (c == NULL) {
		return; /* no colon: not a field Dovecot reads */
	} else {
		colon = (size_t)(c - f);
		name = (struct strv){f, colon};
		while (name.len > 0 && is_lwsp((unsigned char)f[name.len - 1]))
			name.len--;
		/* skip the blanks after ':' (all of them unless the first
		   line is nothing else: then one) */
		pos = colon + 1;
		while (pos < first && is_lwsp((unsigned char)f[pos]))
			pos++;
		if (pos == first && first > colon + 1)
			pos = colon + 2;
		value = (struct strv){f + pos, len - pos};
	}
	if (name_is(name, "MIME-Version")) {
		p->part->flags |= MIME_PART_IS_MIME;
	} else if (name_is(name, "Content-Type")) {
		p->part->flags |= MIME_PART_IS_MIME;
		content_type_flags(p, value);
	}
	if (strv_has_prefix_ci(name, "Content-"))
		content_field(p, name, value);
	if (wants_envelope(p->part))
		envelope_field(p, name, value);
}

/* One header line (content without its line end) of a field. */
void mime_header_field_line(struct mime_parser *p, const char *data, size_t len)
{
	if (p->in_field && len > 0 && is_lwsp((unsigned char)data[0])) {
		/* a continuation: unfold keeping the LF, as Dovecot */
		if (p->field.len < MIME_FIELD_MAX) {
			size_t room = MIME_FIELD_MAX - p->field.len;

			buf_append(&p->field, "\n", 1);
			buf_append(&p->field, data,
				   len < room - 1 ? len : room - 1);
		}
		return;
	}
	mime_header_field_done(p);
	buf_reset(&p->field);
	buf_append(&p->field, data, len);
	p->field_first = len;
	p->in_field = true;
}
