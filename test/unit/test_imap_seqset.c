/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* Unit tests for protocols/imap/imap_seqset: parse, "*", "$", both range
   orders, normal form, membership, iteration, writing. */
#include "protocols/imap/imap_seqset.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct imap_seqset *parse_ok(const char *text, uint32_t star)
{
	struct imap_seqset *set = NULL;
	const char *error = NULL;

	assert_int_equal(
		imap_seqset_parse(strv_from_cstr(text), true, &set, &error), 0);
	assert_non_null(set);
	imap_seqset_resolve(set, star);
	return set;
}

/* The normal form written back as text. */
static void assert_set(struct imap_seqset *set, const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(imap_seqset_write(set, &b), 0);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void assert_parsed(const char *text, uint32_t star, const char *want)
{
	struct imap_seqset *set = parse_ok(text, star);

	assert_set(set, want);
	imap_seqset_free(&set);
	assert_null(set);
}

static void test_parse_forms(void **state)
{
	(void)state;
	assert_parsed("1", 10, "1");
	assert_parsed("1:3,5,7:*", 10, "1:3,5,7:10");
	assert_parsed("3:1", 10, "1:3");
	assert_parsed("*:4", 10, "4:10");
	assert_parsed("*", 10, "10");
	assert_parsed("*:*", 10, "10");
	assert_parsed("4294967295", 10, "4294967295");
	assert_parsed("007", 10, "7");
	/* RFC 3501 6.4.8: 559:* includes the last UID even when above it */
	assert_parsed("559:*", 100, "100:559");
	/* merge overlapping and adjacent ranges, sort */
	assert_parsed("5,1,2,3:4,10:8,9", 0, "1:5,8:10");
	assert_parsed("1:4294967295,7", 0, "1:4294967295");
	assert_parsed("4294967295,4294967294,1", 0, "1,4294967294:4294967295");
	/* empty mailbox: "*" names nothing */
	assert_parsed("1:*", 0, "");
	assert_parsed("2,*", 0, "2");
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",	      "0",
		"1:0",	      "0:*",
		"4294967296", "1,",
		",1",	      "1,,2",
		"1:",	      ":1",
		"1::2",	      "1 2",
		"1:2:3",      "a",
		"-1",	      "+1",
		"1.5",	      "$,1",
		"1,$",	      "$$",
		"**",	      "99999999999999999999",
		"1:3 ",	      " 1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_seqset *set = NULL;
		const char *error = NULL;

		if (imap_seqset_parse(strv_from_cstr(bad[i]), true, &set,
				      &error) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(set);
		assert_non_null(error);
	}
}

static void test_searchres(void **state)
{
	(void)state;
	struct imap_seqset *set = NULL;
	const char *error = NULL;

	assert_int_equal(imap_seqset_parse(STRV_LIT("$"), false, &set, &error),
			 -1);
	assert_string_equal(error, "Invalid sequence set: $ not allowed here");
	assert_int_equal(imap_seqset_parse(STRV_LIT("$"), true, &set, &error),
			 0);
	assert_true(imap_seqset_is_searchres(set));
	assert_false(imap_seqset_has_star(set));
	assert_int_equal(imap_seqset_range_count(set), 0);
	imap_seqset_free(&set);

	assert_int_equal(imap_seqset_parse(STRV_LIT("1:*"), true, &set, &error),
			 0);
	assert_false(imap_seqset_is_searchres(set));
	assert_true(imap_seqset_has_star(set));
	imap_seqset_resolve(set, 3);
	assert_false(imap_seqset_has_star(set));
	imap_seqset_free(&set);
	imap_seqset_free(&set); /* NULL is fine */
}

static void test_membership_and_count(void **state)
{
	(void)state;
	struct imap_seqset *set = parse_ok("1:3,5,7:*,100", 9);

	assert_set(set, "1:3,5,7:9,100");
	for (uint32_t n = 0; n < 120; n++) {
		bool want = (n >= 1 && n <= 3) || n == 5 ||
			    (n >= 7 && n <= 9) || n == 100;

		assert_int_equal(imap_seqset_contains(set, n), want);
	}
	assert_false(imap_seqset_contains(set, UINT32_MAX));
	assert_int_equal(imap_seqset_count(set), 8);
	assert_int_equal(imap_seqset_min(set), 1);
	assert_int_equal(imap_seqset_max(set), 100);
	assert_int_equal(imap_seqset_range_count(set), 4);
	uint32_t lo, hi;

	imap_seqset_range(set, 2, &lo, &hi);
	assert_int_equal(lo, 7);
	assert_int_equal(hi, 9);
	imap_seqset_free(&set);

	set = parse_ok("1:4294967295", 0);
	assert_int_equal(imap_seqset_count(set), 4294967295u);
	assert_true(imap_seqset_contains(set, UINT32_MAX));
	imap_seqset_free(&set);
}

static void test_iterate(void **state)
{
	(void)state;
	struct imap_seqset *set = parse_ok("9,3:1,5,4294967294:*", 4294967295u);
	static const uint32_t want[] = {1, 2,		3,	    5,
					9, 4294967294u, 4294967295u};
	uint32_t n = 0;
	size_t i = 0;

	while (imap_seqset_next(set, &n)) {
		assert_true(i < sizeof(want) / sizeof(want[0]));
		assert_int_equal(n, want[i]);
		i++;
	}
	assert_int_equal(i, sizeof(want) / sizeof(want[0]));
	/* resuming from a remembered position */
	n = 4;
	assert_true(imap_seqset_next(set, &n));
	assert_int_equal(n, 5);
	n = 6;
	assert_true(imap_seqset_next(set, &n));
	assert_int_equal(n, 9);
	imap_seqset_free(&set);

	set = imap_seqset_new();
	n = 0;
	assert_false(imap_seqset_next(set, &n));
	assert_int_equal(imap_seqset_min(set), 0);
	assert_int_equal(imap_seqset_max(set), 0);
	assert_int_equal(imap_seqset_count(set), 0);
	imap_seqset_free(&set);
}

static void test_add_and_clamp(void **state)
{
	(void)state;
	struct imap_seqset *set = imap_seqset_new();

	imap_seqset_add_range(set, 10, 12);
	imap_seqset_add_range(set, 3, 1);
	imap_seqset_add_range(set, 13, 13);
	imap_seqset_add_range(set, 5, 5);
	assert_set(set, "1:3,5,10:13");
	imap_seqset_clamp(set, 11);
	assert_set(set, "1:3,5,10:11");
	imap_seqset_clamp(set, 7);
	assert_set(set, "1:3,5");
	imap_seqset_clamp(set, 0);
	assert_set(set, "");
	imap_seqset_free(&set);
}

static void test_write_full_buffer(void **state)
{
	(void)state;
	struct imap_seqset *set = parse_ok("1:3,5", 0);
	struct buf b;

	buf_init(&b, 4);
	assert_int_equal(imap_seqset_write(set, &b), -1);
	buf_free(&b);
	imap_seqset_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_searchres),
		cmocka_unit_test(test_membership_and_count),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_add_and_clamp),
		cmocka_unit_test(test_write_full_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
