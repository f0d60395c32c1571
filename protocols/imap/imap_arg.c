/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_arg.h"

#include "protocols/imap/imap_arg_private.h"
#include "protocols/imap/imap_date.h"

#include <string.h>

enum imap_arg_type imap_arg_type(const struct imap_arg *a)
{
	return a == NULL ? IMAP_ARG_EOL : a->type;
}

size_t imap_arg_count(const struct imap_arg *list)
{
	return list != NULL && list->type == IMAP_ARG_LIST ? list->count : 0;
}

const struct imap_arg *imap_arg_at(const struct imap_arg *list, size_t i)
{
	return i < imap_arg_count(list) ? list->items[i] : NULL;
}

struct strv imap_arg_text(const struct imap_arg *a)
{
	if (a == NULL || a->type == IMAP_ARG_LIST)
		return (struct strv){"", 0};
	return a->text.p != NULL ? a->text : (struct strv){"", 0};
}

bool imap_arg_is_literal8(const struct imap_arg *a)
{
	return a != NULL && a->literal8;
}

bool imap_arg_is_streamed(const struct imap_arg *a)
{
	return a != NULL && a->streamed;
}

uint64_t imap_arg_literal_size(const struct imap_arg *a)
{
	return a != NULL && a->type == IMAP_ARG_LITERAL ? a->literal_size : 0;
}

const struct imap_arg *imap_arg_section(const struct imap_arg *a)
{
	return a != NULL ? a->section : NULL;
}

/* --- typed getters --- */

/* RFC 3501 9: ATOM-CHAR = <any CHAR except atom-specials> */
static bool is_atom_char(char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* Every byte passes ok(), extra allowed on top; non-empty. */
static bool chars_ok(struct strv s, const char *extra)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (!is_atom_char(s.p[i]) && strchr(extra, s.p[i]) == NULL)
			return false;
	}
	return true;
}

/* An atom as the tokenizer gives it, without a BODY[] section. */
static bool plain_atom(const struct imap_arg *a)
{
	return a != NULL &&
	       (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	       a->section == NULL;
}

bool imap_arg_is_nil(const struct imap_arg *a)
{
	return a != NULL && a->type == IMAP_ARG_NIL;
}

bool imap_arg_get_atom(const struct imap_arg *a, struct strv *atom_r)
{
	if (!plain_atom(a) || !chars_ok(a->text, ""))
		return false;
	*atom_r = a->text;
	return true;
}

bool imap_arg_get_string(const struct imap_arg *a, struct strv *str_r)
{
	if (a == NULL || a->literal8 || a->streamed ||
	    (a->type != IMAP_ARG_QUOTED && a->type != IMAP_ARG_LITERAL))
		return false;
	*str_r = a->text;
	return true;
}

bool imap_arg_get_astring(const struct imap_arg *a, struct strv *str_r)
{
	/* ASTRING-CHAR = ATOM-CHAR / resp-specials */
	if (plain_atom(a) && chars_ok(a->text, "]")) {
		*str_r = a->text;
		return true;
	}
	return imap_arg_get_string(a, str_r);
}

bool imap_arg_get_nstring(const struct imap_arg *a, struct strv *str_r,
			  bool *is_nil_r)
{
	if (imap_arg_is_nil(a)) {
		*str_r = (struct strv){"", 0};
		*is_nil_r = true;
		return true;
	}
	*is_nil_r = false;
	return imap_arg_get_string(a, str_r);
}

bool imap_arg_get_mailbox(const struct imap_arg *a, struct strv *name_r)
{
	struct strv s;

	if (!imap_arg_get_astring(a, &s) || memchr(s.p, 0, s.len) != NULL)
		return false;
	/* RFC 3501 5.1: INBOX is case-insensitive */
	if (strv_eq_cstr_ci(s, "INBOX"))
		s = STRV_LIT("INBOX");
	*name_r = s;
	return true;
}

bool imap_arg_get_list_mailbox(const struct imap_arg *a, struct strv *pat_r)
{
	/* list-char = ATOM-CHAR / list-wildcards / resp-specials */
	if (plain_atom(a) && chars_ok(a->text, "%*]")) {
		*pat_r = a->text;
		return true;
	}
	if (!imap_arg_get_string(a, pat_r))
		return false;
	return memchr(pat_r->p, 0, pat_r->len) == NULL;
}

bool imap_arg_get_flag(const struct imap_arg *a, struct strv *flag_r)
{
	struct strv s;

	if (!plain_atom(a))
		return false;
	s = a->text;
	/* flag-extension = "\" atom; flag-keyword = atom */
	if (s.len > 0 && s.p[0] == '\\')
		s = (struct strv){s.p + 1, s.len - 1};
	if (!chars_ok(s, ""))
		return false;
	*flag_r = a->text;
	return true;
}

bool imap_arg_get_flags(const struct imap_arg *a, struct arena *arena,
			struct strv **flags_r, size_t *count_r)
{
	size_t n = a != NULL && a->type == IMAP_ARG_LIST ? a->count : 1;
	struct strv *flags;

	if (a == NULL)
		return false;
	flags = arena_alloc(arena, (n > 0 ? n : 1) * sizeof(*flags));
	if (a->type != IMAP_ARG_LIST) {
		if (!imap_arg_get_flag(a, &flags[0]))
			return false;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (!imap_arg_get_flag(a->items[i], &flags[i]))
				return false;
		}
	}
	*flags_r = flags;
	*count_r = n;
	return true;
}

static bool get_u64(const struct imap_arg *a, uint64_t max, uint64_t *n_r)
{
	if (!plain_atom(a) || a->text.len > 20)
		return false;
	return strv_to_u64(a->text, max, n_r) == 0;
}

bool imap_arg_get_number(const struct imap_arg *a, uint32_t *n_r)
{
	uint64_t n;

	if (!get_u64(a, UINT32_MAX, &n))
		return false;
	*n_r = (uint32_t)n;
	return true;
}

bool imap_arg_get_nz_number(const struct imap_arg *a, uint32_t *n_r)
{
	uint32_t n;

	if (!imap_arg_get_number(a, &n) || n == 0)
		return false;
	*n_r = n;
	return true;
}

bool imap_arg_get_number64(const struct imap_arg *a, uint64_t *n_r)
{
	/* RFC 9051 9: number64 = 1*DIGIT, 0 <= n <= 9,223,372,036,854,775,807 */
	return get_u64(a, INT64_MAX, n_r);
}

int imap_arg_get_seqset(const struct imap_arg *a, bool allow_searchres,
			struct imap_seqset **set_r, const char **error_r)
{
	if (!plain_atom(a)) {
		*error_r = "Invalid sequence set";
		return -1;
	}
	return imap_seqset_parse(a->text, allow_searchres, set_r, error_r);
}

bool imap_arg_get_date(const struct imap_arg *a, time_t *t_r)
{
	/* date = date-text / DQUOTE date-text DQUOTE */
	if (a == NULL || (!plain_atom(a) && a->type != IMAP_ARG_QUOTED))
		return false;
	return imap_date_parse(a->text, t_r) == 0;
}

bool imap_arg_get_date_time(const struct imap_arg *a, time_t *t_r,
			    int *zone_min_r)
{
	if (a == NULL || a->type != IMAP_ARG_QUOTED)
		return false;
	return imap_date_time_parse(a->text, t_r, zone_min_r) == 0;
}
