/* SPDX-License-Identifier: GPL-2.0-or-later */
/* imap_search_text: case folding, transfer decoders, charset conversion
   and the streaming matcher, each fed whole and split at every offset. */
#include "protocols/imap/imap_search_text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static char *fold_all(const char *in, size_t len, struct buf *out)
{
	buf_reset(out);
	imap_search_text_fold(in, len, true, out);
	buf_append(out, "", 1);
	return out->data;
}

static void test_fold(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_string_equal(fold_all("Hello WORLD 123", 15, &b),
			    "hello world 123");
	assert_string_equal(
		fold_all("ÄÖÜ ÀÉÎ Ø ß ×", strlen("ÄÖÜ ÀÉÎ Ø ß ×"), &b),
		"äöü àéî ø ß ×");
	assert_string_equal(
		fold_all("ĀĄČĐĘĞĲĹŁŃŒŠŸŹŽ", strlen("ĀĄČĐĘĞĲĹŁŃŒŠŸŹŽ"), &b),
		"āąčđęğĳĺłńœšÿźž");
	assert_string_equal(fold_all("İstanbul", strlen("İstanbul"), &b),
			    "istanbul");
	assert_string_equal(
		fold_all("ΚΑΛΗΜΈΡΑ ΆΣΟΣ ς", strlen("ΚΑΛΗΜΈΡΑ ΆΣΟΣ ς"), &b),
		"καλημέρα άσοσ σ");
	assert_string_equal(fold_all("ПРИВЕТ Ёж ЂЏ Ѣ Ґ Ӂ Ӑ",
				     strlen("ПРИВЕТ Ёж ЂЏ Ѣ Ґ Ӂ Ӑ"), &b),
			    "привет ёж ђџ ѣ ґ ӂ ӑ");
	/* invalid UTF-8 and 4-byte sequences are kept as they are */
	assert_string_equal(fold_all("A\xff\xc3(B\xf0\x9f\x98\x80", 10, &b),
			    "a\xff\xc3(b\xf0\x9f\x98\x80");
	buf_free(&b);
}

static void test_fold_split(void **state)
{
	const char *in = "xÄΣЖ€y";
	size_t len = strlen(in);
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	for (size_t cut = 0; cut <= len; cut++) {
		size_t used;

		buf_reset(&b);
		used = imap_search_text_fold(in, cut, false, &b);
		assert_true(used <= cut && cut - used <= 3);
		imap_search_text_fold(in + used, len - used, true, &b);
		buf_append(&b, "", 1);
		assert_string_equal(b.data, "xäσж€y");
	}
	buf_free(&b);
}

/* Decodes in with encoding, split at every offset, expecting want. */
static void check_decode(const char *encoding, const char *in, const char *want)
{
	size_t len = strlen(in);
	struct buf b;

	buf_init(&b, 4096);
	for (size_t cut = 0; cut <= len; cut++) {
		struct imap_search_decoder d;

		buf_reset(&b);
		imap_search_decoder_init(&d, encoding);
		imap_search_decoder_feed(&d, in, cut, &b);
		imap_search_decoder_feed(&d, in + cut, len - cut, &b);
		imap_search_decoder_finish(&d, &b);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data != NULL ? b.data : "", want, b.len);
	}
	buf_free(&b);
}

static void test_base64(void **state)
{
	(void)state;
	check_decode("BASE64", "SGVsbG8s\r\nIFfDtnJs\nZCE=\n", "Hello, Wörld!");
	check_decode("base64", "SGk=", "Hi");
	check_decode("base64", "SA==", "H");
	/* characters outside the alphabet are skipped */
	check_decode("base64", "S*G-V\tsb G8", "Hello");
	check_decode("base64", "", "");
}

static void test_qp(void **state)
{
	(void)state;
	check_decode("quoted-printable", "Caf=E9 =3D ok", "Caf\xe9 = ok");
	check_decode("Quoted-Printable", "soft=\nbreak=\r\nhere",
		     "softbreakhere");
	check_decode("quoted-printable", "pad= \t\r\nded", "padded");
	check_decode("quoted-printable", "bad=ZZ and =4", "bad=ZZ and =4");
	check_decode("quoted-printable", "lower=e9=c3=a9", "lower\xe9\xc3\xa9");
	check_decode("quoted-printable", "a==41", "a=A");
	check_decode(NULL, "=41 stays", "=41 stays");
	check_decode("7bit", "=41 stays", "=41 stays");
}

static void check_charset(const char *charset, const char *in, size_t len,
			  const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	for (size_t cut = 0; cut <= len; cut++) {
		struct imap_search_charset cs;

		buf_reset(&b);
		assert_int_equal(imap_search_charset_open(&cs, charset), 0);
		imap_search_charset_feed(&cs, in, cut, &b);
		imap_search_charset_feed(&cs, in + cut, len - cut, &b);
		imap_search_charset_close(&cs);
		buf_append(&b, "", 1);
		assert_string_equal(b.data, want);
	}
	buf_free(&b);
}

static void test_charset(void **state)
{
	struct imap_search_charset cs;

	(void)state;
	check_charset("iso-8859-1", "caf\xe9", 4, "café");
	check_charset("KOI8-R", "\xf0\xf2\xe9\xf7\xe5\xf4", 6, "ПРИВЕТ");
	check_charset("UTF-16LE", "h\0\xe9\0\x3a\x04", 6, "hé\xd0\xba");
	check_charset("Shift_JIS", "\x93\xfa\x96\x7b", 4, "日本");
	check_charset("utf-8", "as \xff is", 7, "as \xff is");
	check_charset(NULL, "x", 1, "x");
	/* an invalid sequence becomes U+FFFD, the rest goes on */
	check_charset("Shift_JIS",
		      "a\x81\x20"
		      "b",
		      4, "a\xef\xbf\xbd b");
	assert_int_equal(imap_search_charset_open(&cs, "x-no-such-charset"),
			 -1);
	imap_search_charset_close(&cs);
	assert_true(imap_search_charset_key_ok("utf-8", 5));
	assert_true(imap_search_charset_key_ok("US-ASCII", 8));
	assert_false(imap_search_charset_key_ok("ISO-8859-1", 10));
}

/* Feeds text in two pieces cut at every offset (and bytewise). */
static bool find(const char *key, const char *text)
{
	struct arena *a = arena_new(4096);
	struct imap_search_matcher m;
	size_t len = strlen(text);
	bool whole, all = true;

	imap_search_matcher_init(&m, a, key, strlen(key));
	struct buf f;

	buf_init(&f, 4096);
	imap_search_text_fold(text, len, true, &f);
	whole = imap_search_matcher_feed(&m, f.data, f.len);
	for (size_t cut = 0; cut <= f.len; cut++) {
		imap_search_matcher_restart(&m);
		imap_search_matcher_feed(&m, f.data, cut);
		imap_search_matcher_feed(&m, f.data + cut, f.len - cut);
		all &= m.found == whole;
	}
	imap_search_matcher_restart(&m);
	for (size_t i = 0; i < f.len; i++)
		imap_search_matcher_feed(&m, f.data + i, 1);
	all &= m.found == whole;
	assert_true(all);
	buf_free(&f);
	arena_free(&a);
	return whole;
}

static void test_matcher(void **state)
{
	(void)state;
	assert_true(find("needle", "haystack with a NeEdLe inside"));
	assert_true(find("n", "N"));
	assert_true(find("", "anything"));
	assert_true(find("", ""));
	assert_false(find("needle", "needl"));
	assert_false(find("needle", "neeDLx needlx"));
	assert_true(find("aab", "aaaaaaaab"));
	assert_true(find("Größe", "die GRÖSSE? nein: GRÖßE"));
	assert_false(find("cafe", "café"));
	assert_true(find("ΣΟΦΊΑ", "σοφία"));
}

static void test_matcher_reset(void **state)
{
	struct arena *a = arena_new(4096);
	struct imap_search_matcher m;

	(void)state;
	imap_search_matcher_init(&m, a, "abc", 3);
	imap_search_matcher_feed(&m, "xab", 3);
	imap_search_matcher_reset(&m); /* a new part: no match across */
	assert_false(imap_search_matcher_feed(&m, "c", 1));
	assert_true(imap_search_matcher_feed(&m, "zzabc", 5));
	imap_search_matcher_reset(&m);
	assert_true(m.found); /* stays found for the message */
	imap_search_matcher_restart(&m);
	assert_false(m.found);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_fold_split),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_matcher),
		cmocka_unit_test(test_matcher_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
