/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* Unit tests for protocols/imap/imap_msgkeys: message IDs as Dovecot's
   lib-mail reads them, and RFC 5322 dates with their zones as UTC. */
#include "protocols/imap/imap_msgkeys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The IDs of text, joined with " | ". */
static void check_ids(const char *text, const char *want)
{
	struct arena *a = arena_new(4096);
	const char *p = text, *id;
	char got[1024] = "";

	while ((id = imap_msgkeys_next_msgid(&p, text + strlen(text), a)) !=
	       NULL) {
		if (got[0] != '\0')
			strncat(got, " | ", sizeof(got) - strlen(got) - 1);
		strncat(got, id, sizeof(got) - strlen(got) - 1);
	}
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", text, got, want);
	arena_free(&a);
}

static void test_msgids(void **state)
{
	(void)state;
	check_ids("<a@b.c>", "a@b.c");
	check_ids("  <a@b.c> (comment) <d.e@f>", "a@b.c | d.e@f");
	check_ids("<\"quoted\"@example.com>", "quoted@example.com");
	check_ids("< a @ b.c >", "a@b.c");
	/* not RFC 5322, but an '@' before '>': blanks removed */
	check_ids("<a b@c d>", "ab@cd");
	check_ids("<no-at-sign> <x@y>", "x@y");
	check_ids("<no-at-sign>", "");
	check_ids("", "");
	check_ids("x@y", "");
	check_ids("<unterminated@x", "");
	check_ids("<a@b.c><d@e>", "a@b.c | d@e");
}

static void check_date(const char *text, int64_t want)
{
	int64_t got = 0;

	if (want < 0) {
		assert_int_equal(
			imap_msgkeys_parse_date(text, strlen(text), &got), -1);
		return;
	}
	assert_int_equal(imap_msgkeys_parse_date(text, strlen(text), &got), 0);
	if (got != want)
		fail_msg("\"%s\": got %lld, want %lld", text, (long long)got,
			 (long long)want);
}

static void test_dates(void **state)
{
	/* 2024-03-10 12:00:00 UTC */
	const int64_t t = 1710072000;

	(void)state;
	check_date("Sun, 10 Mar 2024 12:00:00 +0000", t);
	check_date("10 Mar 2024 12:00:00 GMT", t);
	check_date("Sun, 10 Mar 2024 14:30:00 +0230", t);
	check_date("Sun, 10 Mar 2024 07:00:00 EST", t);
	check_date("Sun, 10 Mar 2024 05:00:00 PDT", t);
	check_date("Sun, 10 Mar 2024 12:00 UT", t);
	check_date("Sun, 10 Mar 2024 12:00:00", t);
	/* military and unknown zones are -0000 (RFC 5322 4.3) */
	check_date("Sun, 10 Mar 2024 12:00:00 Z", t);
	check_date("Sun, 10 Mar 2024 12:00:00 XYZ", t);
	check_date("Sun, 10 Mar 24 12:00:00 +0000", t);
	check_date("Sun,\n 10 (day) Mar 2024 12:00:00 (noon) -0100", t + 3600);
	check_date("garbage", -1);
	check_date("", -1);
	check_date("Sun, 32 Mar 2024 12:00:00 +0000", -1);
	check_date("Sun, 10 Foo 2024 12:00:00 +0000", -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgids),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
