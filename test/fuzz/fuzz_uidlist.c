/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/uidlist: dovecot-uidlist text.
 *
 * Invariants: a failed parse leaves the list as it was; a parsed list has
 * UIDVALIDITY and N non-zero, records in strictly increasing UID order,
 * every UID below N, base names without '/' or ':', and every record found
 * again by name and by UID; serialising and parsing again gives the same
 * UIDVALIDITY, N and records, and the serialisation is a fixed point.
 */
#include "fuzz.h"

#include "storage/uidlist.h"

#include <string.h>

static bool str_eq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void check_list(const struct uidlist *list)
{
	size_t n = uidlist_count(list);
	uint32_t last = 0;

	FUZZ_CHECK(uidlist_uidvalidity(list) != 0);
	FUZZ_CHECK(uidlist_next_uid(list) != 0);
	for (size_t i = 0; i < n; i++) {
		const struct uidlist_rec *r = uidlist_get(list, i);
		size_t len = strlen(r->base);

		FUZZ_CHECK(r->uid > last);
		FUZZ_CHECK(r->uid < uidlist_next_uid(list));
		FUZZ_CHECK(len > 0);
		FUZZ_CHECK(strchr(r->base, '/') == NULL);
		FUZZ_CHECK(strchr(r->base, ':') == NULL);
		FUZZ_CHECK(strchr(r->base, '\n') == NULL);
		FUZZ_CHECK(r->ext == NULL || strchr(r->ext, '\n') == NULL);
		FUZZ_CHECK(uidlist_find(list, r->base, len) == (long)i);
		FUZZ_CHECK(uidlist_find_uid(list, r->uid) == (long)i);
		last = r->uid;
	}
}

static void check_same(const struct uidlist *a, const struct uidlist *b)
{
	FUZZ_CHECK(uidlist_uidvalidity(a) == uidlist_uidvalidity(b));
	FUZZ_CHECK(uidlist_next_uid(a) == uidlist_next_uid(b));
	FUZZ_CHECK(uidlist_count(a) == uidlist_count(b));
	for (size_t i = 0; i < uidlist_count(a); i++) {
		const struct uidlist_rec *ra = uidlist_get(a, i);
		const struct uidlist_rec *rb = uidlist_get(b, i);

		FUZZ_CHECK(ra->uid == rb->uid);
		FUZZ_CHECK(strcmp(ra->base, rb->base) == 0);
		FUZZ_CHECK(str_eq_null(ra->ext, rb->ext));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uidlist *list = uidlist_new(), *again;
	const char *error = NULL;
	struct buf text, text2;

	/* a failed parse must not touch the list */
	uidlist_append(list, "keep", 4, NULL);
	if (uidlist_parse(list, (const char *)data, size, &error) < 0) {
		FUZZ_CHECK(error != NULL);
		FUZZ_CHECK(uidlist_count(list) == 1);
		FUZZ_CHECK(uidlist_next_uid(list) == 2);
		FUZZ_CHECK(uidlist_find(list, "keep", 4) == 0);
		uidlist_free(&list);
		return 0;
	}
	check_list(list);

	buf_init(&text, BUF_UNLIMITED);
	uidlist_serialize(list, &text);
	again = uidlist_new();
	error = NULL;
	if (uidlist_parse(again, text.data, text.len, &error) < 0) {
		fprintf(stderr, "re-parse failed: %s\n", error);
		FUZZ_CHECK(!"serialised list parses again");
	}
	check_list(again);
	check_same(list, again);

	buf_init(&text2, BUF_UNLIMITED);
	uidlist_serialize(again, &text2);
	FUZZ_CHECK(text.len == text2.len);
	FUZZ_CHECK(memcmp(text.data, text2.data, text.len) == 0);

	/* appending keeps the invariants and the new name is found */
	uint32_t next = uidlist_next_uid(list);
	uint32_t uid = uidlist_append(list, "fuzz-new-name", 13, "W1");

	if (uid != 0) {
		FUZZ_CHECK(uid == next);
		FUZZ_CHECK(uidlist_next_uid(list) == next + 1);
		check_list(list);
	}
	buf_free(&text2);
	buf_free(&text);
	uidlist_free(&again);
	uidlist_free(&list);
	return 0;
}
