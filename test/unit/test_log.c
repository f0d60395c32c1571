/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_lib
/* log_quote(): every outside value stays one key=value value. */
#include "lib/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *q(const char *s, size_t len)
{
	static char out[LOG_QUOTE_MAX];

	return log_quote(out, sizeof(out), s, len);
}

#define Q(lit) q(lit, sizeof(lit) - 1)

static void test_bare_and_quoted(void **state)
{
	(void)state;
	assert_string_equal(Q("alice"), "alice");
	assert_string_equal(Q("alice@example.org"), "alice@example.org");
	assert_string_equal(Q("a.b+tag-1_2"), "a.b+tag-1_2");
	assert_string_equal(Q(""), "\"\"");
	assert_string_equal(log_q(NULL), "-");
	/* the forged field stays inside the value */
	assert_string_equal(Q("x ip=203.0.113.9"), "\"x ip=203.0.113.9\"");
	assert_string_equal(Q("a=b"), "\"a=b\"");
	assert_string_equal(Q("say \"hi\""), "\"say \\\"hi\\\"\"");
	assert_string_equal(Q("back\\slash"), "\"back\\\\slash\"");
	assert_string_equal(log_q("x y"), "\"x y\"");
}

static void test_control_and_utf8(void **state)
{
	(void)state;
	assert_string_equal(Q("a\nb"), "\"a\\x0ab\"");
	assert_string_equal(Q("a\r\n\tb"), "\"a\\x0d\\x0a\\x09b\"");
	assert_string_equal(Q("\x1b[31mred"), "\"\\x1b[31mred\"");
	assert_string_equal(Q("a\0b"), "\"a\\x00b\"");
	assert_string_equal(Q("del\x7f"), "\"del\\x7f\"");
	/* valid UTF-8 is kept (and quoted) */
	assert_string_equal(Q("j\xc3\xb6rg"), "\"j\xc3\xb6rg\"");
	assert_string_equal(Q("\xe2\x82\xac\xf0\x9f\x98\x80"),
			    "\"\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* C1 controls (U+009B is a terminal CSI) are escaped */
	assert_string_equal(Q("\xc2\x9b"), "\"\\xc2\\x9b\"");
	assert_string_equal(Q("\xc2\xa0"), "\"\xc2\xa0\"");
	/* invalid: lone continuation, overlong, surrogate, truncated,
	   above U+10FFFF, Latin-1 */
	assert_string_equal(Q("\x80"), "\"\\x80\"");
	assert_string_equal(Q("\xc0\xaf"), "\"\\xc0\\xaf\"");
	assert_string_equal(Q("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");
	assert_string_equal(Q("\xe2\x82"), "\"\\xe2\\x82\"");
	assert_string_equal(Q("\xf4\x90\x80\x80"), "\"\\xf4\\x90\\x80\\x80\"");
	assert_string_equal(Q("caf\xe9!"), "\"caf\\xe9!\"");
}

static void test_bounded(void **state)
{
	char in[5000], out[64], big[LOG_QUOTE_MAX];
	const char *r;

	(void)state;
	memset(in, 'a', sizeof(in));
	r = log_quote(out, sizeof(out), in, sizeof(in));
	assert_true(strlen(r) < sizeof(out));
	assert_int_equal(r[0], '"');
	assert_non_null(strstr(r, "...\""));
	assert_int_equal(r[strlen(r) - 1], '"');
	/* escapes are never cut in half */
	memset(in, 0, sizeof(in));
	r = log_quote(out, sizeof(out), in, sizeof(in));
	assert_true(strlen(r) < sizeof(out));
	assert_int_equal((strlen(r) - 5) % 4, 0);
	assert_memory_equal(r + strlen(r) - 4, "...\"", 4);
	/* a 255-byte user name fits whole even when every byte is escaped */
	memset(in, 0x01, 255);
	r = log_quote(big, sizeof(big), in, 255);
	assert_int_equal(strlen(r), 2 + 255 * 4);
	/* a short value that fits exactly stays whole */
	r = log_quote(out, 16, "0123456789abcde", 15);
	assert_string_equal(r, "0123456789abcde");
	r = log_quote(out, 16, "0123456789abcdef", 16);
	assert_string_equal(r, "\"0123456789...\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_and_quoted),
		cmocka_unit_test(test_control_and_utf8),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
