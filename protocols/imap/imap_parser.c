/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_parser.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_parser_private.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void imap_parser_settings_default(struct imap_parser_settings *set,
				  bool authenticated)
{
	*set = (struct imap_parser_settings){
		.line_max = IMAP_PARSER_LINE_MAX,
		.literal_max = IMAP_PARSER_LITERAL_MAX_PREAUTH,
		.buffer_max = IMAP_PARSER_LITERAL_MAX_PREAUTH,
		.depth_max = IMAP_PARSER_DEPTH_MAX,
		.args_max = IMAP_PARSER_ARGS_MAX,
		.literal_minus = true,
	};
	if (authenticated) {
		set->literal_max = IMAP_PARSER_LITERAL_MAX;
		set->buffer_max = IMAP_PARSER_BUFFER_MAX;
		set->literal_plus = true;
		set->binary = true;
	}
}

struct imap_parser *imap_parser_new(const struct imap_parser_settings *set)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	p->set = p->next_set = *set;
	p->arena = arena_new(0);
	buf_init(&p->line, set->line_max);
	p->state = IMAP_PARSER_ST_START;
	return p;
}

void imap_parser_free(struct imap_parser **p)
{
	if (*p == NULL)
		return;
	arena_free(&(*p)->arena);
	buf_free(&(*p)->line);
	free(*p);
	*p = NULL;
}

void imap_parser_set_settings(struct imap_parser *p,
			      const struct imap_parser_settings *set)
{
	p->next_set = *set;
}

void imap_parser_reset(struct imap_parser *p)
{
	p->state = IMAP_PARSER_ST_START;
	p->cr = false;
}

/* Forgets the previous command; settings changed since apply now. */
static void parser_start(struct imap_parser *p)
{
	p->set = p->next_set;
	arena_reset(p->arena);
	buf_reset(&p->line);
	p->line.max = p->set.line_max;
	p->state = IMAP_PARSER_ST_TAG;
	p->cr = false;
	p->need_sep = false;
	p->tag = STRV_LIT("*");
	p->name = STRV_LIT("");
	p->nargs = 0;
	p->buffered = 0;
	p->section_arg = NULL;
	p->args = NULL;
	p->scan = IMAP_PARSER_SCAN_NONE;
	p->frames = arena_zalloc(p->arena, ((size_t)p->set.depth_max + 1) *
						   sizeof(*p->frames));
	p->frames[0].list = arena_zalloc(p->arena, sizeof(struct imap_arg));
	p->frames[0].list->type = IMAP_ARG_LIST;
	p->nframes = 1;
}

/* --- errors --- */

int imap_parser_fail(struct imap_parser *p, enum imap_parser_error_class c,
		     const char *status, const char *code, const char *reason)
{
	p->err = (struct imap_parser_error){
		.class = c,
		.status = status,
		.code = code,
		.reason = reason,
		.tag = p->tag,
	};
	p->state = c == IMAP_PARSER_ERR_FATAL ? IMAP_PARSER_ST_FATAL
					      : IMAP_PARSER_ST_SKIP_LINE;
	return IMAP_PARSER_ERROR;
}

int imap_parser_bad(struct imap_parser *p, const char *reason)
{
	return imap_parser_fail(p, IMAP_PARSER_ERR_COMMAND, "BAD", NULL,
				reason);
}

int imap_parser_fatal(struct imap_parser *p, const char *reason)
{
	return imap_parser_fail(p, IMAP_PARSER_ERR_FATAL, "BYE", NULL, reason);
}

const struct imap_parser_error *imap_parser_error(const struct imap_parser *p)
{
	return &p->err;
}

int imap_parser_error_reply(const struct imap_parser *p, struct buf *out)
{
	const struct imap_parser_error *e = &p->err;
	size_t old = out->len;
	int ret;

	if (e->class == IMAP_PARSER_ERR_FATAL)
		return buf_printf(out, "* BYE %s\r\n", e->reason);
	ret = buf_append(out, e->tag.p, e->tag.len);
	if (ret == 0 && e->code != NULL)
		ret = buf_printf(out, " %s [%s] %s\r\n", e->status, e->code,
				 e->reason);
	else if (ret == 0)
		ret = buf_printf(out, " %s %s\r\n", e->status, e->reason);
	if (ret < 0)
		buf_truncate(out, old);
	return ret;
}

/* After an error detected at a line's LF: resolve that line end now. */
static int fail_at_lf(struct imap_parser *p, int ret)
{
	int r;

	if (p->state != IMAP_PARSER_ST_SKIP_LINE)
		return ret;
	r = imap_parser_skip_line_end(p);
	return r == IMAP_PARSER_ERROR ? r : ret;
}

/* --- building the tree --- */

static struct imap_parser_frame *top(struct imap_parser *p)
{
	return &p->frames[p->nframes - 1];
}

static bool in_section(struct imap_parser *p)
{
	return top(p)->section;
}

struct imap_arg *imap_parser_new_arg(struct imap_parser *p,
				     enum imap_arg_type t)
{
	struct imap_arg *a;

	if (p->nargs >= p->set.args_max)
		return NULL;
	p->nargs++;
	a = arena_zalloc(p->arena, sizeof(*a));
	a->type = t;
	return a;
}

static void append_arg(struct imap_parser_frame *f, struct imap_arg *a)
{
	if (f->last != NULL)
		f->last->next = a;
	else
		f->first = a;
	f->last = a;
	f->list->count++;
}

void imap_parser_append_arg(struct imap_parser *p, struct imap_arg *a)
{
	append_arg(top(p), a);
}

/* Turns a frame's chain into the list's item array. */
static void close_frame(struct imap_parser *p, struct imap_parser_frame *f)
{
	struct imap_arg *a = f->first;
	struct imap_arg **items;

	items = arena_alloc(p->arena, (f->list->count + 1) * sizeof(*items));
	for (size_t i = 0; i < f->list->count; i++, a = a->next)
		items[i] = a;
	items[f->list->count] = NULL;
	f->list->items = items;
}

static int too_many(struct imap_parser *p)
{
	return imap_parser_fail(p, IMAP_PARSER_ERR_COMMAND, "BAD", "LIMIT",
				"Too many arguments");
}

static int open_frame(struct imap_parser *p, bool section)
{
	struct imap_parser_frame *f;
	struct imap_arg *list;

	if (p->nframes > p->set.depth_max)
		return imap_parser_fail(p, IMAP_PARSER_ERR_COMMAND, "BAD",
					"LIMIT", "Too deeply nested");
	list = imap_parser_new_arg(p, IMAP_ARG_LIST);
	if (list == NULL)
		return too_many(p);
	if (!section)
		append_arg(top(p), list);
	f = &p->frames[p->nframes++];
	*f = (struct imap_parser_frame){
		.list = list,
		.section = section,
		.atom_start = p->tok_start,
	};
	p->need_sep = false;
	return IMAP_PARSER_MORE;
}

/* A copy of line[start, line.len) in the arena. */
static struct strv line_copy(struct imap_parser *p, size_t start)
{
	size_t len = p->line.len - start;

	return (struct strv){arena_strndup(p->arena, p->line.data + start, len),
			     len};
}

static int end_atom(struct imap_parser *p)
{
	struct strv text = line_copy(p, p->tok_start);
	struct imap_arg *a;
	bool nil = p->section_arg == NULL && strv_eq_cstr_ci(text, "NIL");

	a = imap_parser_new_arg(p, nil ? IMAP_ARG_NIL : IMAP_ARG_ATOM);
	if (a == NULL)
		return too_many(p);
	a->text = text;
	a->section = p->section_arg;
	p->section_arg = NULL;
	append_arg(top(p), a);
	p->state = IMAP_PARSER_ST_ARGS;
	p->need_sep = true;
	return IMAP_PARSER_MORE;
}

static bool utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, above U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

static int end_quoted(struct imap_parser *p)
{
	const char *s = p->line.data + p->tok_start + 1;
	size_t len = p->line.len - p->tok_start - 1, out = 0;
	struct imap_arg *a = imap_parser_new_arg(p, IMAP_ARG_QUOTED);
	char *text;

	if (a == NULL)
		return too_many(p);
	text = arena_alloc(p->arena, len + 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			i++; /* only \\ and \" got this far */
		text[out++] = s[i];
	}
	text[out] = '\0';
	if (p->set.utf8 && !utf8_valid((const unsigned char *)text, out))
		return imap_parser_bad(p, "Invalid UTF-8 in quoted string");
	a->text = (struct strv){text, out};
	append_arg(top(p), a);
	p->state = IMAP_PARSER_ST_ARGS;
	p->need_sep = true;
	return IMAP_PARSER_MORE;
}

/* --- per-byte states --- */

static bool is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){\"\\", c) == NULL;
}

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+"> */
static bool is_tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* RFC 3501 9: ATOM-CHAR, strictly */
static bool is_strict_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static int bad_char(struct imap_parser *p, unsigned char c)
{
	if (c == 0)
		return imap_parser_bad(p, "NUL byte in command");
	if (c >= 0x80)
		return imap_parser_bad(p, "8-bit byte outside a string");
	return imap_parser_bad(p, "Invalid character in command");
}

static int command_done(struct imap_parser *p)
{
	close_frame(p, &p->frames[0]);
	p->args = p->frames[0].list;
	p->state = IMAP_PARSER_ST_DONE;
	return IMAP_PARSER_COMMAND;
}

static int tag_byte(struct imap_parser *p, unsigned char c)
{
	if (c == '\n' && p->line.len == 0)
		return IMAP_PARSER_MORE; /* empty line: ignored */
	if (c == ' ' && p->line.len > 0) {
		p->tag = line_copy(p, 0);
		p->tok_start = p->line.len + 1;
		p->state = IMAP_PARSER_ST_NAME;
		return IMAP_PARSER_MORE;
	}
	if (c == '\n') {
		p->tag = line_copy(p, 0);
		return imap_parser_bad(p, "Missing command");
	}
	if (!is_tag_char(c))
		return imap_parser_bad(p, "Invalid tag");
	if (p->line.len >= IMAP_PARSER_TAG_MAX)
		return imap_parser_bad(p, "Tag too long");
	return IMAP_PARSER_MORE;
}

static int name_byte(struct imap_parser *p, unsigned char c)
{
	if (c == ' ' || c == '\n') {
		if (p->line.len == p->tok_start)
			return imap_parser_bad(p, "Missing command");
		p->name = line_copy(p, p->tok_start);
		if (c == '\n')
			return command_done(p);
		p->state = IMAP_PARSER_ST_ARGS;
		return IMAP_PARSER_MORE;
	}
	if (!is_strict_atom_char(c))
		return imap_parser_bad(p, "Invalid command name");
	return IMAP_PARSER_MORE;
}

static int close_list(struct imap_parser *p, bool section)
{
	struct imap_parser_frame *f = top(p);

	if (p->nframes == 1 || f->section != section)
		return imap_parser_bad(p, section ? "Unexpected ]"
						  : "Unexpected )");
	close_frame(p, f);
	p->nframes--;
	if (!section) {
		p->need_sep = true;
		return IMAP_PARSER_MORE;
	}
	/* the atom goes on after "]" (BODY[...]<0.100>) */
	p->section_arg = f->list;
	p->tok_start = f->atom_start;
	p->state = IMAP_PARSER_ST_ATOM;
	return IMAP_PARSER_MORE;
}

/* An argument starts with c. */
static int arg_start(struct imap_parser *p, unsigned char c)
{
	p->tok_start = p->line.len;
	switch (c) {
	case '(':
		return open_frame(p, false);
	case '"':
		p->state = IMAP_PARSER_ST_QUOTED;
		return IMAP_PARSER_MORE;
	case '{':
		if (in_section(p))
			return imap_parser_bad(p, "Literal inside a section");
		p->lit8 = false;
		p->lit_size = 0;
		p->lit_plus = false;
		p->state = IMAP_PARSER_ST_LIT_SIZE;
		return IMAP_PARSER_MORE;
	case '~':
		if (p->set.binary && !in_section(p)) {
			p->state = IMAP_PARSER_ST_LIT_TILDE;
			return IMAP_PARSER_MORE;
		}
		break;
	}
	if (!is_atom_char(c) && c != '\\')
		return bad_char(p, c);
	p->section_arg = NULL;
	p->state = IMAP_PARSER_ST_ATOM;
	return IMAP_PARSER_MORE;
}

static int args_byte(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ' ':
		p->need_sep = false;
		return IMAP_PARSER_MORE;
	case '\n':
		if (in_section(p))
			return imap_parser_bad(p, "Missing ]");
		if (p->nframes > 1)
			return imap_parser_bad(p, "Missing )");
		return command_done(p);
	case ')':
		return close_list(p, false);
	case ']':
		if (in_section(p))
			return close_list(p, true);
		break;
	}
	if (p->need_sep)
		return imap_parser_bad(p, "Missing space between arguments");
	return arg_start(p, c);
}

/* RFC 3501 6.4.5: the FETCH items whose "[" opens a section */
static bool section_prefix(struct strv s)
{
	static const char *const names[] = {"BODY", "BODY.PEEK", "BINARY",
					    "BINARY.PEEK", "BINARY.SIZE"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strv_eq_cstr_ci(s, names[i]))
			return true;
	}
	return false;
}

static int atom_byte(struct imap_parser *p, unsigned char c)
{
	int r;

	if (c == ' ' || c == '\n' || c == ')' || (c == ']' && in_section(p))) {
		r = end_atom(p);
		return r == IMAP_PARSER_MORE ? args_byte(p, c) : r;
	}
	if (c == '[' && !in_section(p) && p->section_arg == NULL) {
		struct strv prefix = {p->line.data + p->tok_start,
				      p->line.len - p->tok_start};

		if (section_prefix(prefix)) {
			p->state =
				IMAP_PARSER_ST_ARGS; /* the section's items */
			return open_frame(p, true);
		}
	}
	if (!is_atom_char(c))
		return bad_char(p, c);
	return IMAP_PARSER_MORE;
}

static int quoted_byte(struct imap_parser *p, unsigned char c)
{
	if (p->state == IMAP_PARSER_ST_QUOTED_ESC) {
		if (c != '\\' && c != '"')
			return imap_parser_bad(
				p, "Invalid escape in quoted string");
		p->state = IMAP_PARSER_ST_QUOTED;
		return IMAP_PARSER_MORE;
	}
	switch (c) {
	case '"':
		return end_quoted(p);
	case '\\':
		p->state = IMAP_PARSER_ST_QUOTED_ESC;
		return IMAP_PARSER_MORE;
	case '\n':
		return imap_parser_bad(p, "Unterminated quoted string");
	case 0:
		return imap_parser_bad(p, "NUL byte in quoted string");
	}
	if (c >= 0x80 && !p->set.utf8)
		return imap_parser_bad(p, "8-bit byte in quoted string");
	return IMAP_PARSER_MORE;
}

static int literal_header_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case IMAP_PARSER_ST_LIT_TILDE:
		if (c == '{') {
			p->lit8 = true;
			p->lit_size = 0;
			p->lit_plus = false;
			p->state = IMAP_PARSER_ST_LIT_SIZE;
			return IMAP_PARSER_MORE;
		}
		p->state = IMAP_PARSER_ST_ATOM; /* "~" began an atom */
		p->section_arg = NULL;
		return atom_byte(p, c);
	case IMAP_PARSER_ST_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			p->lit_size =
				imap_parser_add_digit(p->lit_size, (char)c);
			return IMAP_PARSER_MORE;
		}
		if (p->line.len - p->tok_start > (p->lit8 ? 2u : 1u)) {
			if (c == '+') {
				p->lit_plus = true;
				p->state = IMAP_PARSER_ST_LIT_PLUS;
				return IMAP_PARSER_MORE;
			}
			if (c == '}') {
				p->state = IMAP_PARSER_ST_LIT_END;
				return IMAP_PARSER_MORE;
			}
		}
		return imap_parser_bad(p, "Invalid literal size");
	case IMAP_PARSER_ST_LIT_PLUS:
		if (c != '}')
			return imap_parser_bad(p, "Invalid literal size");
		p->state = IMAP_PARSER_ST_LIT_END;
		return IMAP_PARSER_MORE;
	default:
		if (c != '\n')
			return imap_parser_bad(
				p, "Missing CRLF after literal size");
		return imap_parser_literal_header(p);
	}
}

static int line_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case IMAP_PARSER_ST_TAG:
		return tag_byte(p, c);
	case IMAP_PARSER_ST_NAME:
		return name_byte(p, c);
	case IMAP_PARSER_ST_ARGS:
		return args_byte(p, c);
	case IMAP_PARSER_ST_ATOM:
		return atom_byte(p, c);
	case IMAP_PARSER_ST_QUOTED:
	case IMAP_PARSER_ST_QUOTED_ESC:
		return quoted_byte(p, c);
	default:
		return literal_header_byte(p, c);
	}
}

/* One byte outside literal data. */
static int parser_byte(struct imap_parser *p, unsigned char c)
{
	int r;

	if (p->cr) {
		p->cr = false;
		if (c != '\n' && IMAP_PARSER_IN_LINE(p->state)) {
			imap_parser_scan_byte(p, c);
			return imap_parser_bad(p, "CR not followed by LF");
		}
	}
	if (c == '\r') {
		p->cr = true;
		return IMAP_PARSER_MORE;
	}
	if (c != '\n')
		imap_parser_scan_byte(p, c);
	if (p->state == IMAP_PARSER_ST_SKIP_LINE)
		return c == '\n' ? imap_parser_skip_line_end(p)
				 : IMAP_PARSER_MORE;
	r = line_byte(p, c);
	if (c == '\n') {
		if (r == IMAP_PARSER_ERROR)
			r = fail_at_lf(p, r);
		p->scan = IMAP_PARSER_SCAN_NONE;
		return r;
	}
	if (IMAP_PARSER_IN_LINE(p->state) && buf_append(&p->line, &c, 1) < 0)
		return imap_parser_fail(p, IMAP_PARSER_ERR_COMMAND, "BAD",
					"TOOBIG", "Command line too long");
	return r;
}

int imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
		     size_t *consumed_r)
{
	const unsigned char *in = data;
	size_t pos = 0;
	int r = IMAP_PARSER_MORE;

	if (p->state == IMAP_PARSER_ST_START || p->state == IMAP_PARSER_ST_DONE)
		parser_start(p);
	while (r == IMAP_PARSER_MORE) {
		switch (p->state) {
		case IMAP_PARSER_ST_FATAL:
			r = IMAP_PARSER_ERROR;
			continue;
		case IMAP_PARSER_ST_LIT_PAUSE:
			r = IMAP_PARSER_LITERAL;
			continue;
		case IMAP_PARSER_ST_LIT_CONT:
			p->state = IMAP_PARSER_ST_LIT_DATA;
			r = IMAP_PARSER_CONTINUE;
			continue;
		case IMAP_PARSER_ST_START:
			/* a refused literal or a skipped command ended */
			if (pos == len)
				goto out;
			parser_start(p);
			continue;
		case IMAP_PARSER_ST_LIT_DATA:
			if (p->lit_left == 0) {
				/* no pointer arithmetic: data may be NULL */
				imap_parser_literal_data(p, NULL, 0, &r);
				continue;
			}
			if (pos == len)
				goto out;
			pos += imap_parser_literal_data(p, in + pos, len - pos,
							&r);
			continue;
		case IMAP_PARSER_ST_SKIP_LIT:
			if (p->lit_left == 0) {
				p->state = IMAP_PARSER_ST_SKIP_LINE;
				continue;
			}
			if (pos == len)
				goto out;
			{
				size_t n = len - pos < p->lit_left
						   ? len - pos
						   : (size_t)p->lit_left;

				p->lit_left -= n;
				pos += n;
			}
			continue;
		default:
			if (pos == len)
				goto out;
			r = parser_byte(p, in[pos++]);
		}
	}
out:
	*consumed_r = pos;
	return r;
}

/* --- the result --- */

struct strv imap_parser_tag(const struct imap_parser *p)
{
	return p->tag;
}

struct strv imap_parser_name(const struct imap_parser *p)
{
	return p->name;
}

const struct imap_arg *imap_parser_args(const struct imap_parser *p)
{
	return p->args;
}

struct arena *imap_parser_arena(struct imap_parser *p)
{
	return p->arena;
}
