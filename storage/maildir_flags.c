/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/maildir_flags.h"

#include <string.h>

static const char flag_letters[] = "DFPRST";

static const char *const flag_names[] = {
	"\\Draft",    "\\Flagged", "$Forwarded",
	"\\Answered", "\\Seen",	   "\\Deleted",
};

size_t maildir_filename_base_len(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon == NULL ? strlen(name) : (size_t)(colon - name);
}

/* Reads ",X=<digits>" fields of the base (Dovecot's S= and W=). */
static void parse_sizes(struct maildir_filename *r)
{
	const char *p = r->base.p, *end = r->base.p + r->base.len;

	while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
		uint64_t v = 0;
		char key;
		const char *d;

		p++;
		if (end - p < 3 || p[1] != '=')
			continue;
		key = p[0];
		for (d = p + 2; d < end && *d >= '0' && *d <= '9'; d++) {
			if (v > (UINT64_MAX - 9) / 10)
				break;
			v = v * 10 + (uint64_t)(*d - '0');
		}
		if (d == p + 2 || (d < end && *d != ','))
			continue;
		if (key == 'S') {
			r->size = v;
			r->has_size = true;
		} else if (key == 'W') {
			r->vsize = v;
			r->has_vsize = true;
		}
	}
}

int maildir_filename_parse(const char *name, struct maildir_filename *r)
{
	size_t blen = maildir_filename_base_len(name);
	const char *info;

	memset(r, 0, sizeof(*r));
	if (name[0] == '\0' || name[0] == '.' || blen == 0 ||
	    strchr(name, '/') != NULL)
		return -1;
	r->base.p = name;
	r->base.len = blen;
	parse_sizes(r);
	if (name[blen] != ':' || strncmp(name + blen + 1, "2,", 2) != 0)
		return 0;
	r->has_info = true;
	for (info = name + blen + 3; *info != '\0'; info++) {
		const char *l;

		if (*info >= 'a' && *info <= 'z')
			r->keywords |= 1u << (*info - 'a');
		else if (*info != '\0' &&
			 (l = strchr(flag_letters, *info)) != NULL)
			r->flags |= 1u << (l - flag_letters);
	}
	return 0;
}

void maildir_filename_format(struct buf *out, struct strv base, unsigned flags,
			     uint32_t keywords)
{
	buf_append(out, base.p, base.len);
	buf_append(out, ":2,", 3);
	for (unsigned i = 0; i < sizeof(flag_letters) - 1; i++) {
		if (flags & (1u << i))
			buf_append(out, &flag_letters[i], 1);
	}
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		char c = (char)('a' + i);

		if (keywords & (1u << i))
			buf_append(out, &c, 1);
	}
}

void maildir_flags_describe(struct buf *out, unsigned flags, uint32_t keywords,
			    const char *const names[MAILDIR_KEYWORDS_MAX])
{
	size_t start = out->len;

	/* IMAP order: \Answered \Flagged \Deleted \Seen \Draft */
	static const unsigned order[] = {3, 1, 5, 4, 0, 2};

	for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (!(flags & (1u << order[k])))
			continue;
		if (out->len != start)
			buf_append(out, ",", 1);
		buf_append_str(out, flag_names[order[k]]);
	}
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (!(keywords & (1u << i)))
			continue;
		if (out->len != start)
			buf_append(out, ",", 1);
		if (names != NULL && names[i] != NULL)
			buf_append_str(out, names[i]);
		else
			buf_printf(out, "kw:%c", 'a' + i);
	}
	if (out->len == start)
		buf_append(out, "-", 1);
}

/* The decimal number at *p (advanced past it); false when there is none
   or it is absurdly long. */
static bool filename_number(const char **p, uint64_t *value_r)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*value_r = v;
	return true;
}

int maildir_filename_time_cmp(const char *a, const char *b)
{
	const char *pa = a, *pb = b;
	uint64_t va, vb;

	if (!filename_number(&pa, &va) || !filename_number(&pb, &vb))
		return strcmp(a, b);
	if (va != vb)
		return va < vb ? -1 : 1;
	if (strncmp(pa, ".M", 2) == 0 && strncmp(pb, ".M", 2) == 0) {
		pa += 2;
		pb += 2;
		if (filename_number(&pa, &va) && filename_number(&pb, &vb) &&
		    va != vb)
			return va < vb ? -1 : 1;
	}
	return strcmp(a, b);
}
