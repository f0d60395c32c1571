/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: mailbox names (validation, modified UTF-7, Maildir++ dirs)
 * and Maildir file-name flags. */
#include "storage/mailbox_name.h"
#include "storage/maildir_flags.h"
#include "storage/maildir_keywords.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void assert_to_mutf7(const char *utf8, const char *want)
{
	struct buf out, back;
	const char *error;

	buf_init(&out, 1024);
	buf_init(&back, 1024);
	assert_int_equal(
		mailbox_name_utf8_to_mutf7(utf8, strlen(utf8), &out, &error),
		0);
	assert_string_equal(out.data == NULL ? "" : out.data, want);
	assert_int_equal(
		mailbox_name_mutf7_to_utf8(out.data == NULL ? "" : out.data,
					   out.len, &back, &error),
		0);
	assert_string_equal(back.data == NULL ? "" : back.data, utf8);
	buf_free(&out);
	buf_free(&back);
}

static void test_mutf7_round_trip(void **state)
{
	(void)state;
	assert_to_mutf7("INBOX", "INBOX");
	assert_to_mutf7("", "");
	assert_to_mutf7("&", "&-");
	assert_to_mutf7("A&B", "A&-B");
	/* RFC 3501 5.1.3 example */
	assert_to_mutf7(
		"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		"~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	assert_to_mutf7("B\xc3\xa4r", "B&AOQ-r");
	assert_to_mutf7("\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-");
	/* outside the BMP: a surrogate pair */
	assert_to_mutf7("\xf0\x9f\x98\x80", "&2D3eAA-");
	assert_to_mutf7("a\xf0\x9f\x98\x80z\xc3\xa4&", "a&2D3eAA-z&AOQ-&-");
}

static void assert_bad_mutf7(const char *in)
{
	struct buf out;
	const char *error = NULL;

	buf_init(&out, 1024);
	assert_int_equal(
		mailbox_name_mutf7_to_utf8(in, strlen(in), &out, &error), -1);
	assert_non_null(error);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_mutf7_invalid(void **state)
{
	(void)state;
	assert_bad_mutf7("&");		/* unterminated */
	assert_bad_mutf7("&AOQ");	/* unterminated */
	assert_bad_mutf7("&AGE-");	/* 'a' needlessly encoded */
	assert_bad_mutf7("&AOQ-&AOQ-"); /* adjacent runs */
	assert_bad_mutf7("&AOR-");	/* non-zero padding bits */
	assert_bad_mutf7("&A-");	/* not a whole character */
	assert_bad_mutf7("&2D0-");	/* lone high surrogate */
	assert_bad_mutf7("&3gA-");	/* lone low surrogate */
	assert_bad_mutf7("&AO/-");	/* '/' is not modified base64 */
	assert_bad_mutf7("a&AAA-");	/* U+0000: names are C strings */
	assert_bad_mutf7("a\tb");	/* control byte */
	assert_bad_mutf7("\xc3\xa4");	/* 8-bit byte */
}

static void test_utf8_invalid(void **state)
{
	struct buf out;
	const char *error;
	static const char *const bad[] = {
		"\xc3",		    /* truncated */
		"\xc0\xaf",	    /* overlong '/' */
		"\xed\xa0\x80",	    /* surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xff",
	};

	(void)state;
	buf_init(&out, 1024);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mailbox_name_utf8_to_mutf7(
					 bad[i], strlen(bad[i]), &out, &error),
				 -1);
		assert_int_equal(out.len, 0);
	}
	buf_free(&out);
}

static void test_name_validate(void **state)
{
	const char *error;
	static const char *const good[] = {
		"INBOX",
		"Sent",
		"A/B/C",
		"Foo Bar",
		"B\xc3\xa4r",
		"x&y",
		"[Gmail]/Alle Nachrichten",
		"~archive",
	};
	static const char *const bad[] = {
		"",	 "/",	   "A/",      "/A",  "A//B", "..",
		"../x",	 "A/../B", ".hidden", "a.b", "a\tb", "a\nb",
		"a\x7f", "a\\b",   "a*",      "a%",  "\xc3", "\xc2\x85",
	};
	char longname[MAILBOX_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(mailbox_name_validate(good[i], '/', &error),
				 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		assert_int_equal(mailbox_name_validate(bad[i], '/', &error),
				 -1);
		assert_non_null(error);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mailbox_name_validate(longname, '/', &error), -1);
	longname[MAILBOX_NAME_MAX] = '\0';
	assert_int_equal(mailbox_name_validate(longname, '/', &error), 0);
	/* with '.' as separator, '/' is the forbidden one */
	assert_int_equal(mailbox_name_validate("A.B", '.', &error), 0);
	assert_int_equal(mailbox_name_validate("A/B", '.', &error), -1);
	assert_int_equal(mailbox_name_validate("A..B", '.', &error), -1);
}

static void assert_dir(const char *name, const char *dir)
{
	struct buf out;
	const char *error;

	buf_init(&out, 1024);
	assert_int_equal(mailbox_name_to_dir(name, '/', &out, &error), 0);
	assert_string_equal(out.data == NULL ? "" : out.data, dir);
	if (*dir != '\0') {
		buf_reset(&out);
		assert_int_equal(mailbox_name_from_dir(dir, '/', &out, &error),
				 0);
		assert_string_equal(out.data, name);
	}
	buf_free(&out);
}

static void test_name_dirs(void **state)
{
	struct buf out;
	const char *error;
	static const char *const bad_dirs[] = {
		".",   "..",  "...",	"..x",	".a..b",
		".a.", "cur", ".&AGE-", ".a/b", ".a&AAA-",
	};

	(void)state;
	assert_dir("INBOX", "");
	assert_dir("inbox", "");
	assert_dir("Sent", ".Sent");
	assert_dir("Foo/B\xc3\xa4r", ".Foo.B&AOQ-r");
	assert_dir("INBOX/sub", ".INBOX.sub");
	assert_dir("a&b/c", ".a&-b.c");
	buf_init(&out, 1024);
	for (size_t i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		assert_int_equal(
			mailbox_name_from_dir(bad_dirs[i], '/', &out, &error),
			-1);
		assert_int_equal(out.len, 0);
	}
	assert_int_equal(mailbox_name_to_dir("../../etc", '/', &out, &error),
			 -1);
	assert_int_equal(out.len, 0);
	assert_true(mailbox_name_is_inbox("InBoX"));
	assert_false(mailbox_name_is_inbox("INBOX/x"));
	buf_free(&out);
}

static void test_filename_parse(void **state)
{
	struct maildir_filename f;

	(void)state;
	assert_int_equal(
		maildir_filename_parse(
			"1795655780.M4660P7611.vm,S=30,W=34:2,Sab", &f),
		0);
	assert_int_equal(f.base.len,
			 strlen("1795655780.M4660P7611.vm,S=30,W=34"));
	assert_true(f.has_info);
	assert_int_equal(f.flags, MAILDIR_FLAG_SEEN);
	assert_int_equal(f.keywords, 0x3);
	assert_true(f.has_size && f.has_vsize);
	assert_int_equal(f.size, 30);
	assert_int_equal(f.vsize, 34);

	assert_int_equal(maildir_filename_parse("123.abc.host", &f), 0);
	assert_false(f.has_info || f.has_size || f.has_vsize);
	assert_int_equal(f.base.len, 12);

	assert_int_equal(maildir_filename_parse("x:2,TSRPFDz", &f), 0);
	assert_int_equal(f.flags, MAILDIR_FLAGS_ALL);
	assert_int_equal(f.keywords, 1u << 25);

	/* unknown letters and other info versions are ignored */
	assert_int_equal(maildir_filename_parse("x:2,SXZ", &f), 0);
	assert_int_equal(f.flags, MAILDIR_FLAG_SEEN);
	assert_int_equal(maildir_filename_parse("x:1,S", &f), 0);
	assert_false(f.has_info);
	assert_int_equal(f.flags, 0);

	/* broken sizes are not sizes */
	assert_int_equal(maildir_filename_parse("x,S=,W=12a,S=5", &f), 0);
	assert_true(f.has_size);
	assert_int_equal(f.size, 5);
	assert_false(f.has_vsize);

	assert_int_equal(maildir_filename_parse("", &f), -1);
	assert_int_equal(maildir_filename_parse(".x", &f), -1);
	assert_int_equal(maildir_filename_parse(":2,S", &f), -1);
	assert_int_equal(maildir_filename_parse("a/b", &f), -1);
}

static void test_filename_format(void **state)
{
	struct buf out;
	const char *names[MAILDIR_KEYWORDS_MAX] = {"$Junk", "foo"};

	(void)state;
	buf_init(&out, 1024);
	maildir_filename_format(&out, STRV_LIT("123.M1P2.h,S=5"),
				MAILDIR_FLAG_SEEN | MAILDIR_FLAG_DELETED |
					MAILDIR_FLAG_DRAFT,
				(1u << 0) | (1u << 25));
	assert_string_equal(out.data, "123.M1P2.h,S=5:2,DSTaz");
	buf_reset(&out);
	maildir_filename_format(&out, STRV_LIT("b"), 0, 0);
	assert_string_equal(out.data, "b:2,");
	buf_reset(&out);
	maildir_flags_describe(&out, 0, 0, NULL);
	assert_string_equal(out.data, "-");
	buf_reset(&out);
	maildir_flags_describe(&out, MAILDIR_FLAG_SEEN | MAILDIR_FLAG_REPLIED,
			       0x7, names);
	assert_string_equal(out.data, "\\Answered,\\Seen,$Junk,foo,kw:c");
	buf_free(&out);
}

/* New files get UIDs in delivery-time order, compared as Dovecot does:
   seconds, then microseconds, as numbers (they are not zero-padded). */
static void test_filename_time_order(void **state)
{
	(void)state;
	assert_true(maildir_filename_time_cmp("1700000000.M99999P1.h",
					      "1700000000.M100000P1.h") < 0);
	assert_true(maildir_filename_time_cmp("999999999.M1P1.h",
					      "1000000000.M0P1.h") < 0);
	assert_true(maildir_filename_time_cmp("1700000000.M5P2.h",
					      "1700000000.M5P1.h") > 0);
	assert_int_equal(maildir_filename_time_cmp("1.M2P3.h", "1.M2P3.h"), 0);
	/* names of another shape fall back to byte order */
	assert_true(maildir_filename_time_cmp("abc", "abd") < 0);
	assert_true(maildir_filename_time_cmp("1700000000.P1.h",
					      "1700000000.M1P1.h") > 0);
}

static void test_keywords(void **state)
{
	struct maildir_keywords *kw = maildir_keywords_new();
	static const char text[] = "0 $Junk\n1 foo\nbad line\n3 bar\n30 x\n";
	char name[8];

	(void)state;
	maildir_keywords_parse(kw, text, sizeof(text) - 1);
	assert_int_equal(maildir_keywords_lookup(kw, "$junk"), 0);
	assert_int_equal(maildir_keywords_lookup(kw, "foo"), 1);
	assert_int_equal(maildir_keywords_lookup(kw, "bar"), 3);
	assert_null(maildir_keywords_name(kw, 2));
	assert_int_equal(maildir_keywords_add(kw, "new"), 2);
	assert_int_equal(maildir_keywords_add(kw, "NEW"), 2);
	assert_int_equal(maildir_keywords_add(kw, "bad name"), -1);
	assert_int_equal(maildir_keywords_add(kw, "\\Seen"), -1);
	for (int i = 4; i < MAILDIR_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		assert_int_equal(maildir_keywords_add(kw, name), i);
	}
	assert_int_equal(maildir_keywords_add(kw, "one-too-many"), -1);
	/* a name listed twice keeps its first letter: the second letter
	   would show a keyword that lookup and STORE never reach */
	static const char dup[] = "0 a\n2 a\n3 A\n4 b\n";
	maildir_keywords_parse(kw, dup, sizeof(dup) - 1);
	assert_string_equal(maildir_keywords_name(kw, 0), "a");
	assert_null(maildir_keywords_name(kw, 2));
	assert_null(maildir_keywords_name(kw, 3));
	assert_int_equal(maildir_keywords_lookup(kw, "b"), 4);
	maildir_keywords_free(&kw);
	assert_null(kw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutf7_round_trip),
		cmocka_unit_test(test_mutf7_invalid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_name_validate),
		cmocka_unit_test(test_name_dirs),
		cmocka_unit_test(test_filename_parse),
		cmocka_unit_test(test_filename_time_order),
		cmocka_unit_test(test_filename_format),
		cmocka_unit_test(test_keywords),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
