/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* Unit tests for protocols/imap/imap_basesubject: RFC 5256 2.1 step by
   step, the reply/forward flag, encoded words, and the comparator. */
#include "protocols/imap/imap_basesubject.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void check(const char *subject, const char *want, bool want_fwd)
{
	struct buf out;
	bool fwd = !want_fwd;

	buf_init(&out, 65536);
	assert_int_equal(imap_basesubject(subject, strlen(subject), &out, &fwd),
			 0);
	buf_append(&out, "", 1);
	if (strcmp(out.data, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", subject, out.data,
			 want);
	if (fwd != want_fwd)
		fail_msg("\"%s\": reply/forward %d, want %d", subject, fwd,
			 want_fwd);
	buf_free(&out);
}

static void test_plain(void **state)
{
	(void)state;
	check("", "", false);
	check("   ", "", false);
	check("Hello", "Hello", false);
	check("  leading and  trailing  ", "leading and trailing", false);
	check("tabs\tand\t\tspaces   many", "tabs and spaces many", false);
	check("folded\r\n continuation", "folded continuation", false);
	/* "re" not followed by ":" is text */
	check("Rewards: soon", "Rewards: soon", false);
	check("Re", "Re", false);
	check("Ref: x", "Ref: x", false);
	check("Fwdx: y", "Fwdx: y", false);
}

static void test_leaders(void **state)
{
	(void)state;
	check("Re: lunch", "lunch", true);
	check("RE: Re: re:lunch", "lunch", true);
	check("Fw: lunch", "lunch", true);
	check("FWD: lunch", "lunch", true);
	check("Re : lunch", "lunch", true);
	check("Re[2]: lunch", "lunch", true);
	check("Re [2]: lunch", "lunch", true);
	check("Re: Fwd: Re: lunch", "lunch", true);
	/* blobs before a refwd go with it (step 3) */
	check("[list] Re: lunch", "lunch", true);
	check("[a][b] Re: [c] lunch", "lunch", true);
	/* a blob alone is dropped when text remains (step 4) */
	check("[PATCH] fix it", "fix it", false);
	check("[PATCH 1/2] [v2] fix it", "fix it", false);
	check("[PATCH]", "[PATCH]", false);
	check("[PATCH]   ", "[PATCH]", false);
	check("Re: [PATCH]", "[PATCH]", true);
	/* BLOBCHAR is 7-bit without brackets */
	check("[caf\xc3\xa9] x", "[caf\xc3\xa9] x", false);
	check("[a[b] x", "[a[b] x", false);
	check("[unterminated x", "[unterminated x", false);
}

static void test_trailers_and_fwd(void **state)
{
	(void)state;
	check("lunch (fwd)", "lunch", true);
	check("lunch (FWD)  (fwd) ", "lunch", true);
	check("[Fwd: lunch]", "lunch", true);
	check("[fwd: Re: [list] lunch (fwd)]", "lunch", true);
	check("Re: [Fwd: Re: lunch]", "lunch", true);
	check("[fwd: x", "[fwd: x", false);
	/* step 4 drops "[Fwd: a] " as a blob (":" is a BLOBCHAR) since
	   text remains; that is no forward */
	check("[Fwd: a] b", "b", false);
}

static void test_encoded_words(void **state)
{
	(void)state;
	check("=?UTF-8?Q?Re=3A_lunch?=", "lunch", true);
	check("Re: =?utf-8?b?w6l0w6k=?= =?utf-8?b?w6l0w6k=?=",
	      "\xc3\xa9t\xc3\xa9\xc3\xa9t\xc3\xa9", true);
	check("=?ISO-8859-1?Q?caf=E9?=\t(fwd)", "caf\xc3\xa9", true);
}

static void test_cmp(void **state)
{
	(void)state;
	assert_int_equal(imap_basesubject_cmp("lunch", "LUNCH"), 0);
	assert_true(imap_basesubject_cmp("a", "B") < 0);
	assert_true(imap_basesubject_cmp("", "a") < 0);
	assert_true(imap_basesubject_cmp("ab", "a") > 0);
	/* '_' is after the letters once they are upper case */
	assert_true(imap_basesubject_cmp("_", "z") > 0);
	assert_true(imap_basesubject_cmp("\xc3\xa9", "z") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_leaders),
		cmocka_unit_test(test_trailers_and_fwd),
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
