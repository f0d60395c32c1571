/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_lib
/* Unit tests for lib/base64: RFC 4648 vectors and strict decoding. */
#include "lib/base64.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* RFC 4648 section 10 */
static const struct {
	const char *plain;
	const char *encoded;
} rfc4648_vectors[] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

#define N_VECTORS (sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]))

static void assert_buf(const struct buf *b, const void *want, size_t len)
{
	assert_int_equal(b->len, len);
	if (len > 0)
		assert_memory_equal(b->data, want, len);
	if (b->data != NULL)
		assert_int_equal(b->data[b->len], '\0');
}

static void test_encode_rfc4648(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < N_VECTORS; i++) {
		const char *plain = rfc4648_vectors[i].plain;
		const char *enc = rfc4648_vectors[i].encoded;

		buf_reset(&b);
		assert_int_equal(base64_encode(&b, plain, strlen(plain)), 0);
		assert_buf(&b, enc, strlen(enc));
		assert_int_equal(base64_encoded_len(strlen(plain)),
				 strlen(enc));
	}
	buf_free(&b);
}

static void test_decode_rfc4648(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < N_VECTORS; i++) {
		const char *plain = rfc4648_vectors[i].plain;
		const char *enc = rfc4648_vectors[i].encoded;

		buf_reset(&b);
		assert_int_equal(base64_decode(&b, enc, strlen(enc)), 0);
		assert_buf(&b, plain, strlen(plain));
	}
	buf_free(&b);
}

static void test_appends(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "+ "), 0);
	assert_int_equal(base64_encode(&b, "foo", 3), 0);
	assert_buf(&b, "+ Zm9v", 6);
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "x:"), 0);
	assert_int_equal(base64_decode(&b, "Zm9vYg==", 8), 0);
	assert_buf(&b, "x:foob", 6);
	buf_free(&b);
}

static void test_alphabet_and_binary(void **state)
{
	(void)state;
	struct buf b;
	unsigned char all[256];

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	buf_init(&b, BUF_UNLIMITED);
	/* 0xfb 0xff 0xbf uses '+' and '/' */
	assert_int_equal(base64_encode(&b, "\xfb\xff\xbf", 3), 0);
	assert_buf(&b, "+/+/", 4);
	buf_reset(&b);
	assert_int_equal(base64_encode(&b, "\0\0\0", 3), 0);
	assert_buf(&b, "AAAA", 4);
	buf_reset(&b);
	assert_int_equal(base64_decode(&b, "AAAA", 4), 0);
	assert_buf(&b, "\0\0\0", 3);
	/* SASL PLAIN: "\0user\0pass" */
	buf_reset(&b);
	assert_int_equal(base64_decode(&b, "AHVzZXIAcGFzcw==", 16), 0);
	assert_buf(&b, "\0user\0pass", 10);

	/* round trip every length of a 256-byte table */
	for (size_t len = 0; len <= sizeof(all); len++) {
		struct buf dec;

		buf_reset(&b);
		buf_init(&dec, BUF_UNLIMITED);
		assert_int_equal(base64_encode(&b, all, len), 0);
		assert_int_equal(b.len, base64_encoded_len(len));
		assert_int_equal(base64_decode(&dec, b.data, b.len), 0);
		assert_buf(&dec, all, len);
		buf_free(&dec);
	}
	buf_free(&b);
}

static void test_encoded_len(void **state)
{
	(void)state;
	assert_int_equal(base64_encoded_len(0), 0);
	assert_int_equal(base64_encoded_len(1), 4);
	assert_int_equal(base64_encoded_len(2), 4);
	assert_int_equal(base64_encoded_len(3), 4);
	assert_int_equal(base64_encoded_len(4), 8);
	assert_int_equal(base64_encoded_len(300), 400);
}

/* Decoding must fail and leave the prefix already in the buffer alone. */
static void assert_rejected(const char *in, size_t len)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "keep"), 0);
	assert_int_equal(base64_decode(&b, in, len), -1);
	assert_buf(&b, "keep", 4);
	buf_free(&b);
}

static void reject(const char *in)
{
	assert_rejected(in, strlen(in));
}

static void test_reject_bad_length(void **state)
{
	(void)state;
	reject("Z");
	reject("Zg");
	reject("Zg=");
	reject("Zm9");
	reject("Zm9vY");
	reject("Zm9vYg");
	reject("Zm9vYg=");
	reject("Zm9vYmFy=");
	reject("Zm9vYmFyZ");
}

static void test_reject_bad_chars(void **state)
{
	(void)state;
	reject("Zm9v Zm9v");
	reject("Zm9v\nZm9v");
	reject("Zm9v\r\n");
	reject(" Zm9");
	reject("Zm9-");
	reject("Zm9_");
	reject("Zm9.");
	reject("Zm\x80v");
	reject("Zm\xffv");
	reject("*m9v");
	reject("Zm9vYmF!");
	assert_rejected("Zm\0v", 4);
	/* a bad character in an early group, good ones after it */
	reject("Zm9@Zm9vZm9v");
}

static void test_reject_misplaced_padding(void **state)
{
	(void)state;
	reject("====");
	reject("=Zm9");
	reject("Z===");
	reject("Zg=a");
	reject("Z=g=");
	reject("Zm=v");
	/* padding is only allowed in the last group */
	reject("Zg==Zm9v");
	reject("Zm8=Zm9v");
	reject("Zg==Zg==");
	reject("Zm9vZg==Zm9v");
}

static void test_reject_noncanonical(void **state)
{
	(void)state;
	/* RFC 4648 3.5: the unused bits before padding must be zero */
	reject("Zh==");
	reject("Zv==");
	reject("Zm9=");
	reject("Zm+=");
	reject("Zm9vYh==");
	reject("//==");
	reject("AB==");
	reject("AAB=");

	/* the canonical neighbours are accepted */
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(base64_decode(&b, "Zg==", 4), 0);
	assert_int_equal(base64_decode(&b, "Zm8=", 4), 0);
	assert_int_equal(base64_decode(&b, "/w==", 4), 0);
	assert_int_equal(base64_decode(&b, "//8=", 4), 0);
	assert_int_equal(base64_decode(&b, "AA==", 4), 0);
	assert_buf(&b, "ffo\xff\xff\xff\0", 7);
	buf_free(&b);
}

static void test_decode_full_buffer_restores(void **state)
{
	(void)state;
	struct buf b;

	/* the first groups fit, a later one does not */
	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(base64_decode(&b, "Zm9vYmFyZm9v", 12), -1);
	assert_buf(&b, "ab", 2);
	/* exactly enough room */
	assert_int_equal(base64_decode(&b, "Zm9vYmFy", 8), 0);
	assert_buf(&b, "abfoobar", 8);
	assert_int_equal(base64_decode(&b, "Zg==", 4), -1);
	assert_buf(&b, "abfoobar", 8);
	/* decoding nothing into a full buffer is fine */
	assert_int_equal(base64_decode(&b, "", 0), 0);
	assert_buf(&b, "abfoobar", 8);
	buf_free(&b);
}

static void test_decode_failure_after_output(void **state)
{
	(void)state;
	struct buf b;

	/* good groups are decoded before the bad one is reached */
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "pre"), 0);
	assert_int_equal(base64_decode(&b, "Zm9vYmFyZh==", 12), -1);
	assert_buf(&b, "pre", 3);
	assert_int_equal(base64_decode(&b, "Zm9vYmFy!!!!", 12), -1);
	assert_buf(&b, "pre", 3);
	buf_free(&b);
}

static void test_encode_full_buffer(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	/* 9 bytes encode to 12 characters: too many */
	assert_int_equal(base64_encode(&b, "foobarfoo", 9), -1);
	assert_buf(&b, "ab", 2);
	assert_int_equal(base64_encode(&b, "foobar", 6), 0);
	assert_buf(&b, "abZm9vYmFy", 10);
	assert_int_equal(base64_encode(&b, "", 0), 0);
	assert_int_equal(base64_encode(&b, "f", 1), -1);
	assert_buf(&b, "abZm9vYmFy", 10);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_rfc4648),
		cmocka_unit_test(test_decode_rfc4648),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_alphabet_and_binary),
		cmocka_unit_test(test_encoded_len),
		cmocka_unit_test(test_reject_bad_length),
		cmocka_unit_test(test_reject_bad_chars),
		cmocka_unit_test(test_reject_misplaced_padding),
		cmocka_unit_test(test_reject_noncanonical),
		cmocka_unit_test(test_decode_full_buffer_restores),
		cmocka_unit_test(test_decode_failure_after_output),
		cmocka_unit_test(test_encode_full_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
