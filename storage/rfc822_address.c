/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Address lists (RFC 5322 3.4), read as Dovecot's message-address.c does. */
#include "storage/rfc822.h"

#include "lib/arena.h"

#include <string.h>

/* A C string of a buffer, cut at its first NUL as a C API would. */
static char *buf_dup(struct arena *arena, const struct buf *b)
{
	if (b->len == 0)
		return arena_strdup(arena, "");
	return arena_strndup(arena, b->data, strnlen(b->data, b->len));
}

struct addr_ctx {
	struct arena *arena;
	struct rfc822_parser p;
	struct rfc822_address *first, *last, cur;
	struct buf str, comment;
	unsigned count;
};

static bool at_end(const struct addr_ctx *c)
{
	return c->p.data >= c->p.end;
}

static char cur_char(const struct addr_ctx *c)
{
	return at_end(c) ? '\0' : (char)*c->p.data;
}

static void add_address(struct addr_ctx *c)
{
	struct rfc822_address *a = arena_alloc(c->arena, sizeof(*a));

	*a = c->cur;
	a->next = NULL;
	memset(&c->cur, 0, sizeof(c->cur));
	if (c->first == NULL)
		c->first = a;
	else
		c->last->next = a;
	c->last = a;
	c->count++;
}

/* A local part with dots anywhere ("a..b", ".a", "a."), as mail from
   some senders has them and Dovecot reads them. */
static int parse_nonstrict_dot_atom(struct rfc822_parser *p, struct buf *out)
{
	int ret = -1;

	do {
		while (*p->data == '.') {
			buf_append(out, ".", 1);
			p->data++;
			if (p->data >= p->end)
				return 0; /* no @domain, but a local part */
			ret = 1;
		}
		if (*p->data == '@')
			break;
		ret = rfc822_parse_atom(p, out);
	} while (ret > 0 && *p->data == '.');
	return ret;
}

static int parse_local_part(struct addr_ctx *c)
{
	int ret;

	buf_reset(&c->str);
	if (*c->p.data == '"')
		ret = rfc822_parse_quoted_string(&c->p, &c->str);
	else
		ret = parse_nonstrict_dot_atom(&c->p, &c->str);
	if (ret < 0)
		return -1;
	c->cur.mailbox = buf_dup(c->arena, &c->str);
	return ret;
}

static int parse_domain(struct addr_ctx *c)
{
	int ret;

	buf_reset(&c->str);
	if ((ret = rfc822_parse_domain(&c->p, &c->str)) < 0)
		return -1;
	c->cur.domain = buf_dup(c->arena, &c->str);
	return ret;
}

static int parse_domain_list(struct addr_ctx *c)
{
	int ret;

	/* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
	buf_reset(&c->str);
	for (;;) {
		if (at_end(c))
			return 0;
		if (*c->p.data != '@')
			break;
		if (c->str.len > 0)
			buf_append(&c->str, ",", 1);
		buf_append(&c->str, "@", 1);
		if ((ret = rfc822_parse_domain(&c->p, &c->str)) <= 0)
			return ret;
		while (rfc822_skip_lwsp(&c->p) > 0 && *c->p.data == ',')
			c->p.data++;
	}
	c->cur.route = buf_dup(c->arena, &c->str);
	return 1;
}

static int parse_angle_addr(struct addr_ctx *c)
{
	c->p.data++; /* '<' */
	if (rfc822_skip_lwsp(&c->p) <= 0)
		return -1;
	if (*c->p.data == '@') {
		if (parse_domain_list(c) > 0 && cur_char(c) == ':') {
			c->p.data++;
		} else {
			c->cur.route = "INVALID_ROUTE";
			if (at_end(c))
				return -1;
			/* try to continue anyway */
		}
		if (rfc822_skip_lwsp(&c->p) <= 0)
			return -1;
	}
	if (*c->p.data != '>') {
		if (parse_local_part(c) <= 0)
			return -1;
		if (*c->p.data == '@' && parse_domain(c) <= 0)
			return -1;
	}
	if (*c->p.data != '>')
		return -1;
	c->p.data++;
	return rfc822_skip_lwsp(&c->p);
}

static int parse_name_addr(struct addr_ctx *c)
{
	buf_reset(&c->str);
	if (rfc822_parse_phrase(&c->p, &c->str) <= 0 || *c->p.data != '<')
		return -1;
	c->cur.name = buf_dup(c->arena, &c->str);
	if (*c->cur.name == '\0')
		c->cur.name = NULL; /* "<addr>" without a display name */
	if (parse_angle_addr(c) < 0) {
		c->cur.domain = "SYNTAX_ERROR";
		c->cur.invalid_syntax = true;
	}
	return at_end(c) ? 0 : 1;
}

static int parse_addr_spec(struct addr_ctx *c)
{
	bool quoted = *c->p.data == '"';
	int ret, ret2 = -2;

	buf_reset(&c->comment);
	ret = parse_local_part(c);
	if (ret <= 0)
		c->cur.invalid_syntax = true;
	if (ret != 0 && cur_char(c) == '@') {
		ret2 = parse_domain(c);
		if (ret2 <= 0)
			ret = ret2;
	}
	if (c->comment.len > 0) {
		c->cur.name = buf_dup(c->arena, &c->comment);
	} else if (ret2 == -2) {
		/* "user" alone is a mailbox; followed by more words it was
		   a display name */
		size_t before;

		buf_append(&c->str, " ", 1);
		before = c->str.len;
		(void)rfc822_parse_phrase(&c->p, &c->str);
		if (c->str.len != before) {
			c->cur.mailbox = NULL;
			c->cur.name = buf_dup(c->arena, &c->str);
		} else if (!quoted) {
			c->cur.domain = "";
		}
		c->cur.invalid_syntax = true;
		ret = -1;
	}
	return ret;
}

static void add_fixed_address(struct addr_ctx *c)
{
	if (c->cur.mailbox == NULL) {
		c->cur.mailbox = "MISSING_MAILBOX";
		c->cur.invalid_syntax = true;
	}
	if (c->cur.domain == NULL || c->cur.domain[0] == '\0') {
		c->cur.domain = "MISSING_DOMAIN";
		c->cur.invalid_syntax = true;
	}
	add_address(c);
}

static int parse_mailbox(struct addr_ctx *c)
{
	const unsigned char *start = c->p.data;
	int ret;

	if ((ret = parse_name_addr(c)) < 0) {
		c->p.data = start;
		memset(&c->cur, 0, sizeof(c->cur));
		ret = parse_addr_spec(c);
		if (c->cur.invalid_syntax && c->cur.name == NULL &&
		    c->cur.mailbox != NULL && c->cur.domain == NULL) {
			c->cur.name = c->cur.mailbox;
			c->cur.mailbox = NULL;
		}
	}
	if (ret < 0)
		c->cur.invalid_syntax = true;
	add_fixed_address(c);
	return ret;
}

static int parse_group(struct addr_ctx *c)
{
	int ret;

	buf_reset(&c->str);
	if (rfc822_parse_phrase(&c->p, &c->str) <= 0 || *c->p.data != ':')
		return -1;
	/* from here on it is a group, whatever follows */
	c->p.data++;
	if ((ret = rfc822_skip_lwsp(&c->p)) <= 0)
		c->cur.invalid_syntax = true;
	c->cur.mailbox = buf_dup(c->arena, &c->str);
	add_address(c);
	if (ret > 0 && *c->p.data != ';') {
		while (c->count < RFC822_ADDRESS_MAX) {
			(void)parse_mailbox(c); /* broken: go on anyway */
			if (at_end(c) || *c->p.data != ',')
				break;
			c->p.data++;
			if (rfc822_skip_lwsp(&c->p) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (at_end(c) || *c->p.data != ';') {
			ret = -1;
		} else {
			c->p.data++;
			ret = rfc822_skip_lwsp(&c->p);
		}
	}
	if (ret < 0)
		c->cur.invalid_syntax = true;
	add_address(c);
	return ret == 0 ? 0 : 1;
}

static int parse_address(struct addr_ctx *c)
{
	const unsigned char *start = c->p.data;
	int ret;

	if ((ret = parse_group(c)) < 0) {
		c->p.data = start;
		memset(&c->cur, 0, sizeof(c->cur));
		ret = parse_mailbox(c);
	}
	return ret;
}

struct rfc822_address *rfc822_address_parse(struct arena *arena,
					    const void *data, size_t len)
{
	struct addr_ctx c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.arena = arena;
	buf_init(&c.str, BUF_UNLIMITED);
	buf_init(&c.comment, BUF_UNLIMITED);
	rfc822_parser_init(&c.p, data, len, &c.comment);
	if (rfc822_skip_lwsp(&c.p) > 0) {
		while (c.count < RFC822_ADDRESS_MAX) {
			if (parse_address(&c) == 0)
				break;
			if (at_end(&c) || *c.p.data != ',')
				break;
			c.p.data++;
			if ((ret = rfc822_skip_lwsp(&c.p)) <= 0) {
				if (ret < 0)
					add_fixed_address(&c); /* garbage */
				break;
			}
		}
	}
	buf_free(&c.str);
	buf_free(&c.comment);
	return c.first;
}
