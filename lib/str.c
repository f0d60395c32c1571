/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "str.h"

#include <string.h>

static inline char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

struct strv strv_from_cstr(const char *s)
{
	return (struct strv){s, strlen(s)};
}

bool strv_eq(struct strv a, struct strv b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool strv_eq_ci(struct strv a, struct strv b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
			return false;
	}
	return true;
}

bool strv_eq_cstr_ci(struct strv a, const char *s)
{
	return strv_eq_ci(a, strv_from_cstr(s));
}

bool strv_has_prefix_ci(struct strv s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (s.len < n)
		return false;
	return strv_eq_ci((struct strv){s.p, n}, (struct strv){prefix, n});
}

bool strv_next_token(struct strv *s, struct strv *token_r)
{
	const char *sp;

	if (s->len == 0)
		return false;
	sp = memchr(s->p, ' ', s->len);
	if (sp == NULL) {
		*token_r = *s;
		s->p += s->len;
		s->len = 0;
		return true;
	}
	token_r->p = s->p;
	token_r->len = (size_t)(sp - s->p);
	s->len -= token_r->len + 1;
	s->p = sp + 1;
	return true;
}

int strv_to_u64(struct strv s, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;

	if (s.len == 0)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d;

		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		d = (unsigned)(s.p[i] - '0');
		/* d > max first: max - d must not wrap (e.g. "9" with max 5) */
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*value_r = v;
	return 0;
}

int strv_to_u32(struct strv s, uint32_t *value_r)
{
	uint64_t v;

	if (strv_to_u64(s, UINT32_MAX, &v) < 0)
		return -1;
	*value_r = (uint32_t)v;
	return 0;
}

int str_to_u64(const char *s, uint64_t max, uint64_t *value_r)
{
	return strv_to_u64(strv_from_cstr(s), max, value_r);
}

int str_cmp_ci(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = ascii_lower(*a), cb = ascii_lower(*b);

		if (ca != cb || ca == '\0')
			return (unsigned char)ca - (unsigned char)cb;
	}
}

bool strv_has_ctl(struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

bool str_secure_eq(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *pa = a, *pb = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= pa[i] ^ pb[i];
	return diff == 0;
}

char *str_trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	return s;
}
