/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compact form of a part tree, and section lookup. */
#include "storage/mime.h"

#include "lib/arena.h"
#include "storage/mime_private.h"

#include <string.h>

/*
 * Layout: "MIME1" then the message part, each part as
 *	flags, physical_pos, virtual_pos, header (3 numbers), body (3),
 *	type, subtype, id, description, encoding, md5, location,
 *	disposition (strings), params, disposition params (count + name,
 *	value strings), languages (count + strings), envelope (0, or 1 and
 *	MIME_ENV_COUNT strings), child count, children.
 * Numbers are LEB128 varints; a string is varint(len + 1) and its bytes,
 * 0 for NULL. Host independent, so a copied cache stays readable.
 */
#define MAGIC "MIME1"
#define MAGIC_LEN 5

static int put_num(struct buf *out, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = v & 0x7f;
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	return buf_append(out, b, n);
}

static int put_bytes(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		return put_num(out, 0);
	if (put_num(out, (uint64_t)len + 1) < 0)
		return -1;
	return buf_append(out, s, len);
}

static int put_str(struct buf *out, const char *s)
{
	return put_bytes(out, s, s != NULL ? strlen(s) : 0);
}

static int put_params(struct buf *out, const struct mime_param *params,
		      unsigned n)
{
	int r = put_num(out, n);

	for (unsigned i = 0; i < n; i++) {
		r |= put_str(out, params[i].name);
		r |= put_str(out, params[i].value);
	}
	return r;
}

static int put_part(struct buf *out, const struct mime_part *part)
{
	const char *strs[] = {part->type,	 part->subtype,	   part->id,
			      part->description, part->encoding,   part->md5,
			      part->location,	 part->disposition};
	unsigned children = 0;
	int r = 0;

	r |= put_num(out, part->flags);
	r |= put_num(out, part->physical_pos);
	r |= put_num(out, part->virtual_pos);
	r |= put_num(out, part->header.physical);
	r |= put_num(out, part->header.virtual);
	r |= put_num(out, part->header.lines);
	r |= put_num(out, part->body.physical);
	r |= put_num(out, part->body.virtual);
	r |= put_num(out, part->body.lines);
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		r |= put_str(out, strs[i]);
	r |= put_params(out, part->params, part->param_count);
	r |= put_params(out, part->disp_params, part->disp_param_count);
	r |= put_num(out, part->language_count);
	for (unsigned i = 0; i < part->language_count; i++)
		r |= put_str(out, part->language[i]);
	r |= put_num(out, part->envelope != NULL);
	if (part->envelope != NULL) {
		for (unsigned i = 0; i < MIME_ENV_COUNT; i++)
			r |= put_bytes(out, part->envelope->field[i].p,
				       part->envelope->field[i].len);
	}
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		children++;
	r |= put_num(out, children);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		r |= put_part(out, c);
	return r != 0 ? -1 : 0;
}

int mime_message_serialize(const struct mime_message *msg, struct buf *out)
{
	if (buf_append(out, MAGIC, MAGIC_LEN) < 0)
		return -1;
	return put_part(out, msg->root);
}

struct reader {
	const unsigned char *p, *end;
	struct arena *arena;
	unsigned parts;
	bool bad;
};

static uint64_t get_num(struct reader *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		unsigned char b = *r->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	r->bad = true;
	return 0;
}

static const char *get_bytes(struct reader *r, size_t *len_r)
{
	uint64_t n = get_num(r);
	char *s;

	*len_r = 0;
	if (r->bad || n == 0)
		return NULL;
	n--;
	if (n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	s = arena_alloc(r->arena, (size_t)n + 1);
	memcpy(s, r->p, (size_t)n);
	s[n] = '\0';
	r->p += n;
	*len_r = (size_t)n;
	return s;
}

static const char *get_str(struct reader *r)
{
	size_t len;
	const char *s = get_bytes(r, &len);

	if (s != NULL && strlen(s) != len)
		r->bad = true; /* C strings hold no NUL */
	return s;
}

/* A count of items that each take at least one byte. */
static unsigned get_count(struct reader *r, uint64_t max)
{
	uint64_t n = get_num(r);

	if (n > max || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return 0;
	}
	return (unsigned)n;
}

static struct mime_param *get_params(struct reader *r, unsigned *n_r)
{
	unsigned n = get_count(r, 100000);
	struct mime_param *params;

	*n_r = 0;
	if (r->bad || n == 0)
		return NULL;
	params = arena_alloc(r->arena, sizeof(*params) * n);
	for (unsigned i = 0; i < n; i++) {
		params[i].name = get_str(r);
		params[i].value = get_str(r);
		if (params[i].name == NULL || params[i].value == NULL)
			r->bad = true;
	}
	*n_r = n;
	return params;
}

static struct mime_part *get_part(struct reader *r, struct mime_part *parent,
				  unsigned depth)
{
	struct mime_part *part = arena_zalloc(r->arena, sizeof(*part));
	const char **strs[] = {&part->type,	&part->subtype,
			       &part->id,	&part->description,
			       &part->encoding, &part->md5,
			       &part->location, &part->disposition};
	struct mime_part **tail = &part->children;
	unsigned n;

	if (depth > MIME_MAX_DEPTH || ++r->parts > MIME_MAX_PARTS + 1) {
		r->bad = true;
		return part;
	}
	part->parent = parent;
	part->flags = (unsigned)get_num(r);
	part->physical_pos = get_num(r);
	part->virtual_pos = get_num(r);
	part->header.physical = get_num(r);
	part->header.virtual = get_num(r);
	part->header.lines = get_num(r);
	part->body.physical = get_num(r);
	part->body.virtual = get_num(r);
	part->body.lines = get_num(r);
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		*strs[i] = get_str(r);
	part->params = get_params(r, &part->param_count);
	part->disp_params = get_params(r, &part->disp_param_count);
	n = get_count(r, 100000);
	if (n > 0 && !r->bad) {
		part->language = arena_alloc(r->arena, sizeof(char *) * n);
		for (unsigned i = 0; i < n; i++) {
			part->language[i] = get_str(r);
			if (part->language[i] == NULL)
				r->bad = true;
		}
		part->language_count = n;
	}
	if (get_num(r) != 0 && !r->bad) {
		part->envelope =
			arena_zalloc(r->arena, sizeof(*part->envelope));
		for (unsigned i = 0; i < MIME_ENV_COUNT; i++) {
			size_t len;
			const char *s = get_bytes(r, &len);

			part->envelope->field[i] = (struct strv){s, len};
		}
	}
	n = get_count(r, MIME_MAX_PARTS);
	for (unsigned i = 0; i < n && !r->bad; i++) {
		*tail = get_part(r, part, depth + 1);
		tail = &(*tail)->next;
	}
	return part;
}

struct mime_message *mime_message_deserialize(const void *data, size_t len)
{
	struct mime_message *msg;
	struct reader r;

	if (len < MAGIC_LEN || memcmp(data, MAGIC, MAGIC_LEN) != 0)
		return NULL;
	msg = mime_message_new();
	r.p = (const unsigned char *)data + MAGIC_LEN;
	r.end = (const unsigned char *)data + len;
	r.arena = msg->arena;
	r.parts = 0;
	r.bad = false;
	msg->root = get_part(&r, NULL, 0);
	if (r.bad || r.p != r.end)
		mime_message_free(&msg);
	return msg;
}

const struct mime_part *mime_message_section(const struct mime_message *msg,
					     const unsigned *section, size_t n)
{
	const struct mime_part *part = msg->root;

	for (size_t i = 0; i < n; i++) {
		const struct mime_part *c;
		unsigned k = section[i];

		/* RFC 3501 6.4.5: a message/rfc822 part's numbers are
		   those of the message it holds */
		if ((part->flags & MIME_PART_RFC822) != 0 &&
		    part->children != NULL)
			part = part->children;
		if ((part->flags & MIME_PART_MULTIPART) == 0) {
			/* a non-multipart has one part: 1 */
			if (k != 1)
				return NULL;
			continue;
		}
		c = part->children;
		for (unsigned j = 1; c != NULL && j < k; j++)
			c = c->next;
		if (k == 0 || c == NULL)
			return NULL;
		part = c;
	}
	return part;
}
