/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_lib
/* Unit tests for lib/str: slices, tokenizing, numbers, compares, trim. */
#include "lib/str.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static struct strv sv(const char *s)
{
	return strv_from_cstr(s);
}

static void test_from_cstr_and_lit(void **state)
{
	(void)state;
	struct strv a = strv_from_cstr("hello");
	struct strv b = STRV_LIT("hello");
	struct strv e = strv_from_cstr("");

	assert_int_equal(a.len, 5);
	assert_int_equal(b.len, 5);
	assert_int_equal(e.len, 0);
	assert_true(strv_eq(a, b));
	assert_true(strv_eq(e, STRV_LIT("")));
	assert_false(strv_eq(a, e));
}

static void test_eq_embedded_nul(void **state)
{
	(void)state;
	struct strv a = {"a\0b", 3};
	struct strv b = {"a\0c", 3};
	struct strv c = {"a\0b", 3};

	assert_false(strv_eq(a, b));
	assert_true(strv_eq(a, c));
	assert_false(strv_eq(a, STRV_LIT("a")));
	assert_false(strv_eq_ci(a, b));
	assert_true(strv_eq_ci(a, c));
}

static void test_eq_null_pointer_empty(void **state)
{
	(void)state;
	struct strv n = {NULL, 0};

	assert_true(strv_eq(n, STRV_LIT("")));
	assert_true(strv_eq_ci(n, STRV_LIT("")));
}

static void test_eq_ci(void **state)
{
	(void)state;
	assert_true(strv_eq_ci(sv("LOGIN"), sv("login")));
	assert_true(strv_eq_ci(sv("LoGiN"), sv("lOgIn")));
	assert_false(strv_eq_ci(sv("LOGIN"), sv("LOGINS")));
	assert_false(strv_eq_ci(sv("LOGIN"), sv("LOGIM")));
	/* only ASCII letters fold: '@' (0x40) and '`' (0x60) stay distinct */
	assert_false(strv_eq_ci(sv("@"), sv("`")));
	assert_false(strv_eq_ci(sv("["), sv("{")));
	/* bytes >= 0x80 compare exactly (no locale folding) */
	assert_false(strv_eq_ci(sv("\xc4"), sv("\xe4")));
	assert_true(strv_eq_ci(sv("\xc4"), sv("\xc4")));

	assert_true(strv_eq_cstr_ci(sv("Inbox"), "INBOX"));
	assert_false(strv_eq_cstr_ci(sv("Inbox"), "INBOX2"));
	assert_true(strv_eq_cstr_ci(STRV_LIT(""), ""));
}

static void test_has_prefix_ci(void **state)
{
	(void)state;
	assert_true(strv_has_prefix_ci(sv("BODY[HEADER]"), "body["));
	assert_true(strv_has_prefix_ci(sv("abc"), "ABC"));
	assert_true(strv_has_prefix_ci(sv("abc"), ""));
	assert_true(strv_has_prefix_ci(STRV_LIT(""), ""));
	assert_false(strv_has_prefix_ci(sv("ab"), "abc"));
	assert_false(strv_has_prefix_ci(sv("abd"), "abc"));
	/* the prefix is bounded by s.len, not by a NUL in s */
	struct strv cut = {"abcdef", 2};
	assert_false(strv_has_prefix_ci(cut, "abc"));
}

static void test_next_token(void **state)
{
	(void)state;
	struct strv s = sv("a1 LOGIN user pass");
	struct strv t;

	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("a1")));
	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("LOGIN")));
	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("user")));
	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("pass")));
	assert_int_equal(s.len, 0);
	assert_false(strv_next_token(&s, &t));
}

static void test_next_token_empty(void **state)
{
	(void)state;
	struct strv s = STRV_LIT("");
	struct strv t = {"untouched", 9};

	assert_false(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("untouched")));
}

static void test_next_token_skips_nothing(void **state)
{
	(void)state;
	/* "Skips nothing else": doubled, leading and trailing spaces give
	   empty tokens; only the single separator is consumed. */
	struct strv s = sv(" a  b ");
	struct strv t;

	assert_true(strv_next_token(&s, &t));
	assert_int_equal(t.len, 0);
	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("a")));
	assert_true(strv_next_token(&s, &t));
	assert_int_equal(t.len, 0);
	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("b")));
	assert_int_equal(s.len, 0);
	assert_false(strv_next_token(&s, &t));
}

static void test_next_token_only_space(void **state)
{
	(void)state;
	/* tabs are not separators */
	struct strv s = sv("a\tb c");
	struct strv t;

	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("a\tb")));
	assert_true(strv_next_token(&s, &t));
	assert_true(strv_eq(t, STRV_LIT("c")));
}

static void test_next_token_points_into_input(void **state)
{
	(void)state;
	const char *in = "xx yyy";
	struct strv s = {in, strlen(in)};
	struct strv t;

	assert_true(strv_next_token(&s, &t));
	assert_ptr_equal(t.p, in);
	assert_ptr_equal(s.p, in + 3);
	assert_int_equal(s.len, 3);
}

static void test_to_u64_ok(void **state)
{
	(void)state;
	uint64_t v = 99;

	assert_int_equal(strv_to_u64(sv("0"), UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(strv_to_u64(sv("42"), UINT64_MAX, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(strv_to_u64(sv("007"), UINT64_MAX, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(
		strv_to_u64(sv("18446744073709551615"), UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_to_u64_overflow(void **state)
{
	(void)state;
	uint64_t v = 99;

	assert_int_equal(
		strv_to_u64(sv("18446744073709551616"), UINT64_MAX, &v), -1);
	assert_int_equal(
		strv_to_u64(sv("18446744073709551620"), UINT64_MAX, &v), -1);
	assert_int_equal(
		strv_to_u64(sv("99999999999999999999"), UINT64_MAX, &v), -1);
	assert_int_equal(
		strv_to_u64(sv("1000000000000000000000000"), UINT64_MAX, &v),
		-1);
	assert_int_equal(v, 99);
}

static void test_to_u64_max(void **state)
{
	(void)state;
	uint64_t v = 99;

	assert_int_equal(strv_to_u64(sv("100"), 100, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(strv_to_u64(sv("101"), 100, &v), -1);
	assert_int_equal(strv_to_u64(sv("1000"), 100, &v), -1);
	assert_int_equal(strv_to_u64(sv("0"), 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(strv_to_u64(sv("1"), 0, &v), -1);
	/* a single digit above a small max must be refused too */
	v = 99;
	assert_int_equal(strv_to_u64(sv("9"), 0, &v), -1);
	assert_int_equal(strv_to_u64(sv("7"), 5, &v), -1);
	assert_int_equal(strv_to_u64(sv("17"), 15, &v), -1);
	assert_int_equal(v, 99);
	assert_int_equal(strv_to_u64(sv("5"), 5, &v), 0);
	assert_int_equal(v, 5);
	/* every max from 0 to 200 against every value from 0 to 300 */
	for (uint64_t max = 0; max <= 200; max++) {
		for (unsigned n = 0; n <= 300; n++) {
			char tmp[8];
			int len = snprintf(tmp, sizeof(tmp), "%u", n);
			struct strv s = {tmp, (size_t)len};
			int ret = strv_to_u64(s, max, &v);

			assert_int_equal(ret, n <= max ? 0 : -1);
			if (ret == 0)
				assert_int_equal(v, n);
		}
	}
}

static void test_to_u64_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",	" 1",  "1 ",  "+1",  "-1",  "1a", "a1",
		"0x10", "1.5", "1,5", "\t1", "1\n", "١",
	};
	uint64_t v = 99;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(strv_to_u64(sv(bad[i]), UINT64_MAX, &v), -1);
		assert_int_equal(str_to_u64(bad[i], UINT64_MAX, &v), -1);
	}
	/* embedded NUL inside the slice is not a digit */
	struct strv nul = {"1\0002", 3};
	assert_int_equal(strv_to_u64(nul, UINT64_MAX, &v), -1);
	/* only the slice is parsed, not the bytes after it */
	struct strv cut = {"12x", 2};
	assert_int_equal(strv_to_u64(cut, UINT64_MAX, &v), 0);
	assert_int_equal(v, 12);
	struct strv none = {NULL, 0};
	assert_int_equal(strv_to_u64(none, UINT64_MAX, &v), -1);
}

static void test_to_u32(void **state)
{
	(void)state;
	uint32_t v = 99;

	assert_int_equal(strv_to_u32(sv("4294967295"), &v), 0);
	assert_true(v == UINT32_MAX);
	v = 99;
	assert_int_equal(strv_to_u32(sv("4294967296"), &v), -1);
	assert_int_equal(strv_to_u32(sv("99999999999"), &v), -1);
	assert_int_equal(strv_to_u32(sv(""), &v), -1);
	assert_int_equal(strv_to_u32(sv("-1"), &v), -1);
	assert_int_equal(v, 99);
	assert_int_equal(strv_to_u32(sv("1"), &v), 0);
	assert_int_equal(v, 1);
}

static void test_str_to_u64(void **state)
{
	(void)state;
	uint64_t v = 0;

	assert_int_equal(str_to_u64("12345", UINT64_MAX, &v), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(str_to_u64("12345", 12344, &v), -1);
	assert_int_equal(str_to_u64("", UINT64_MAX, &v), -1);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_cmp_ci(void **state)
{
	(void)state;
	assert_int_equal(str_cmp_ci("INBOX", "inbox"), 0);
	assert_int_equal(str_cmp_ci("", ""), 0);
	assert_int_equal(sign(str_cmp_ci("a", "B")), -1);
	assert_int_equal(sign(str_cmp_ci("B", "a")), 1);
	assert_int_equal(sign(str_cmp_ci("abc", "ABCD")), -1);
	assert_int_equal(sign(str_cmp_ci("ABCD", "abc")), 1);
	assert_int_equal(sign(str_cmp_ci("", "a")), -1);
	/* high bytes compare as unsigned and do not fold */
	assert_int_equal(sign(str_cmp_ci("\xe4", "a")), 1);
	assert_int_equal(sign(str_cmp_ci("\xc4", "\xe4")), -1);
	assert_true(str_cmp_ci("@", "`") != 0);
	/* '_' (0x5f) sorts after letters once they are folded to lower case */
	assert_int_equal(sign(str_cmp_ci("_", "A")), -1);
}

static void test_has_ctl(void **state)
{
	(void)state;
	assert_false(strv_has_ctl(sv("plain text ~")));
	assert_false(strv_has_ctl(STRV_LIT("")));
	assert_false(strv_has_ctl(sv("\x80\xff utf-8 \xc3\xa4")));
	assert_true(strv_has_ctl(sv("a\r\nb")));
	assert_true(strv_has_ctl(sv("\t")));
	assert_true(strv_has_ctl(sv("\x1f")));
	assert_true(strv_has_ctl(sv("x\x7f")));
	struct strv nul = {"a\0b", 3};
	assert_true(strv_has_ctl(nul));
	/* only the slice counts */
	struct strv cut = {"ab\n", 2};
	assert_false(strv_has_ctl(cut));
}

static void test_secure_eq(void **state)
{
	(void)state;
	assert_true(str_secure_eq("secret", "secret", 6));
	assert_false(str_secure_eq("secret", "secreT", 6));
	assert_false(str_secure_eq("Secret", "secret", 6));
	assert_true(str_secure_eq("abc", "xyz", 0));
	assert_true(str_secure_eq("ab\0x", "ab\0x", 4));
	assert_false(str_secure_eq("ab\0x", "ab\0y", 4));
	/* only len bytes are compared */
	assert_true(str_secure_eq("abcX", "abcY", 3));

	unsigned char a[256], b[256];
	for (int i = 0; i < 256; i++)
		a[i] = b[i] = (unsigned char)i;
	assert_true(str_secure_eq(a, b, sizeof(a)));
	for (int i = 0; i < 256; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			assert_false(str_secure_eq(a, b, sizeof(a)));
			b[i] ^= (unsigned char)(1u << bit);
		}
	}
}

static void check_trim(const char *in, const char *want)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%s", in);
	char *out = str_trim(tmp);
	assert_string_equal(out, want);
	/* in place: the result points into the input */
	assert_true(out >= tmp && out <= tmp + strlen(in));
}

static void test_trim(void **state)
{
	(void)state;
	check_trim("abc", "abc");
	check_trim("  abc", "abc");
	check_trim("abc  ", "abc");
	check_trim(" \t abc \t ", "abc");
	check_trim("a b\tc", "a b\tc");
	check_trim("", "");
	check_trim("   ", "");
	check_trim("\t\t", "");
	/* only spaces and tabs are trimmed */
	check_trim("\nabc\r\n", "\nabc\r\n");
	check_trim("\vabc\f", "\vabc\f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_cstr_and_lit),
		cmocka_unit_test(test_eq_embedded_nul),
		cmocka_unit_test(test_eq_null_pointer_empty),
		cmocka_unit_test(test_eq_ci),
		cmocka_unit_test(test_has_prefix_ci),
		cmocka_unit_test(test_next_token),
		cmocka_unit_test(test_next_token_empty),
		cmocka_unit_test(test_next_token_skips_nothing),
		cmocka_unit_test(test_next_token_only_space),
		cmocka_unit_test(test_next_token_points_into_input),
		cmocka_unit_test(test_to_u64_ok),
		cmocka_unit_test(test_to_u64_overflow),
		cmocka_unit_test(test_to_u64_max),
		cmocka_unit_test(test_to_u64_malformed),
		cmocka_unit_test(test_to_u32),
		cmocka_unit_test(test_str_to_u64),
		cmocka_unit_test(test_cmp_ci),
		cmocka_unit_test(test_has_ctl),
		cmocka_unit_test(test_secure_eq),
		cmocka_unit_test(test_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
