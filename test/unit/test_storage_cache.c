/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: the folder cache merpati.cache (storage/cache.c). */
#include "storage/cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define UIDV 1795655779u

static char dir[] = "/tmp/test_storage_cache.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char path[sizeof(dir) + sizeof(MAIL_CACHE_FILE) + 1];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, MAIL_CACHE_FILE);
	unlink(path);
	return rmdir(dir);
}

/* Blobs put are got back, replaced, retained and saved/loaded whole. */
static void test_round_trip(void **state)
{
	struct mail_cache *c = mail_cache_open(dir, UIDV);
	const uint32_t keep[] = {1, 3};
	const void *data;
	size_t len;

	(void)state;
	mail_cache_put(c, 1, MAIL_CACHE_FIELD_SIZES, "one", 3);
	mail_cache_put(c, 2, MAIL_CACHE_FIELD_SIZES, "two", 3);
	mail_cache_put(c, 3, MAIL_CACHE_FIELD_FIRST_USER, "three", 5);
	mail_cache_put(c, 1, MAIL_CACHE_FIELD_SIZES, "uno", 3);
	assert_int_equal(mail_cache_count(c), 3);
	mail_cache_retain(c, keep, 2);
	assert_int_equal(mail_cache_count(c), 2);
	assert_false(mail_cache_get(c, 2, MAIL_CACHE_FIELD_SIZES, &data, &len));
	assert_int_equal(mail_cache_save(c, false), 0);
	mail_cache_free(&c);
	assert_null(c);

	c = mail_cache_open(dir, UIDV);
	assert_int_equal(mail_cache_count(c), 2);
	assert_true(mail_cache_get(c, 1, MAIL_CACHE_FIELD_SIZES, &data, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(data, "uno", 3);
	assert_true(
		mail_cache_get(c, 3, MAIL_CACHE_FIELD_FIRST_USER, &data, &len));
	assert_memory_equal(data, "three", 5);
	mail_cache_free(&c);
	/* another UIDVALIDITY: nothing is trusted */
	c = mail_cache_open(dir, UIDV + 1);
	assert_int_equal(mail_cache_count(c), 0);
	mail_cache_free(&c);
}

/*
 * A big folder's keys spread over the table: consecutive UIDs times a few
 * fields, as a 100,000-message folder holds them. The hash once used only
 * the low bits of the UID's product, so 300,000 keys started from a few
 * hundred slots and a lookup walked hundreds of them.
 */
static void test_big_folder_spreads(void **state)
{
	struct mail_cache *c = mail_cache_open(dir, UIDV + 7); /* empty */
	const unsigned fields[] = {MAIL_CACHE_FIELD_SIZES,
				   MAIL_CACHE_FIELD_DATE,
				   MAIL_CACHE_FIELD_MIME};
	const uint32_t n = 100000;
	size_t total = 0, longest = 0;

	(void)state;
	for (uint32_t uid = 1; uid <= n; uid++)
		for (size_t f = 0; f < 3; f++)
			mail_cache_put(c, uid, fields[f], &uid, sizeof(uid));
	assert_int_equal(mail_cache_count(c), 3 * n);
	for (uint32_t uid = 1; uid <= n; uid++) {
		for (size_t f = 0; f < 3; f++) {
			size_t p = mail_cache_probes(c, uid, fields[f]);

			total += p;
			if (p > longest)
				longest = p;
		}
	}
	/* load factor at most 1/2: linear probing averages about 1.5 */
	assert_true(total < 3 * n * 3);
	assert_true(longest < 100);
	assert_true(mail_cache_probes(c, n + 1, MAIL_CACHE_FIELD_SIZES) < 100);
	mail_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_big_folder_spreads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
