/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_lib
/* Unit tests for lib/buf: bounded growth, printf, reserve/commit, consume. */
#include "lib/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The header promises data[len] == '\0' whenever data is set. */
static void assert_guard(const struct buf *b)
{
	if (b->data != NULL)
		assert_int_equal(b->data[b->len], '\0');
	assert_true(b->len <= b->cap || (b->len == 0 && b->cap == 0));
	assert_true(b->len <= b->max);
}

static void assert_content(const struct buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	if (b->len > 0)
		assert_memory_equal(b->data, want, b->len);
	assert_guard(b);
}

static void test_init_empty(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 100);
	assert_true(buf_is_empty(&b));
	assert_int_equal(buf_room(&b), 100);
	assert_int_equal(buf_find_byte(&b, 0, 'x'), -1);
	buf_free(&b);
	assert_null(b.data);
}

static void test_init_clamps_max(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, SIZE_MAX);
	assert_int_equal(b.max, BUF_UNLIMITED);
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(b.max, BUF_UNLIMITED);
}

static void test_append(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_content(&b, "abc");
	assert_false(buf_is_empty(&b));
	assert_int_equal(buf_append_str(&b, "def"), 0);
	assert_content(&b, "abcdef");
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_content(&b, "abcdef");
	assert_string_equal(b.data, "abcdef");
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* reusable after free */
	assert_int_equal(buf_append_str(&b, "again"), 0);
	assert_content(&b, "again");
	buf_free(&b);
}

static void test_append_zero_to_fresh(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 0);
	assert_guard(&b);
	buf_free(&b);
}

static void test_append_binary(void **state)
{
	(void)state;
	struct buf b;
	const char bin[] = {'a', '\0', 'b', '\xff', '\0'};

	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, bin, sizeof(bin)), 0);
	assert_int_equal(b.len, sizeof(bin));
	assert_memory_equal(b.data, bin, sizeof(bin));
	assert_guard(&b);
	buf_free(&b);
}

static void test_grows_large(void **state)
{
	(void)state;
	struct buf b;
	char chunk[1000];

	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < 500; i++) {
		memset(chunk, 'a' + (int)(i % 26), sizeof(chunk));
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
		assert_guard(&b);
	}
	assert_int_equal(b.len, 500 * sizeof(chunk));
	for (size_t i = 0; i < 500; i++)
		assert_int_equal(b.data[i * sizeof(chunk) + 999],
				 'a' + (int)(i % 26));
	buf_free(&b);
}

static void test_max_refusal_unchanged(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "0123456", 7), 0);
	char *data = b.data;
	size_t cap = b.cap;

	assert_int_equal(buf_append(&b, "abcd", 4), -1);
	assert_content(&b, "0123456");
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_int_equal(buf_append_str(&b, "abcd"), -1);
	assert_content(&b, "0123456");
	assert_int_equal(buf_printf(&b, "%s", "abcd"), -1);
	assert_content(&b, "0123456");
	assert_int_equal(buf_printf(&b, "%d", 1234), -1);
	assert_content(&b, "0123456");

	/* exactly up to max is fine, one more byte is not */
	assert_int_equal(buf_append(&b, "789", 3), 0);
	assert_content(&b, "0123456789");
	assert_int_equal(buf_room(&b), 0);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	assert_int_equal(buf_printf(&b, "x"), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_content(&b, "0123456789");
	assert_true(b.cap <= b.max);
	buf_free(&b);
}

static void test_max_refusal_huge_len(void **state)
{
	(void)state;
	struct buf b;

	/* a length that would overflow len + n must be refused, not wrap */
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -1);
	assert_int_equal(buf_append(&b, "x", BUF_UNLIMITED), -1);
	assert_content(&b, "abc");
	buf_free(&b);
}

static void test_max_zero(void **state)
{
	(void)state;
	struct buf b;
	size_t avail = 12345;

	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "a", 1), -1);
	assert_int_equal(buf_printf(&b, "a"), -1);
	assert_null(buf_reserve(&b, 1, &avail));
	assert_int_equal(avail, 12345);
	assert_int_equal(b.len, 0);
	assert_true(buf_is_empty(&b));
	buf_free(&b);
}

static void test_small_max_caps_allocation(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 5);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_true(b.cap <= 5);
	assert_int_equal(buf_append(&b, "cde", 3), 0);
	assert_content(&b, "abcde");
	assert_int_equal(buf_append(&b, "f", 1), -1);
	assert_content(&b, "abcde");
	buf_free(&b);
}

static void test_printf(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_printf(&b, "%s %d", "OK", 42), 0);
	assert_content(&b, "OK 42");
	assert_int_equal(buf_printf(&b, "|%05u|%x", 7u, 255u), 0);
	assert_content(&b, "OK 42|00007|ff");
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_content(&b, "OK 42|00007|ff");
	buf_free(&b);
}

/* buf_append_u64: decimal digits, no sign or padding, refused whole at max */
static void test_append_u64(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_u64(&b, 0), 0);
	assert_content(&b, "0");
	assert_int_equal(buf_append_str(&b, " "), 0);
	assert_int_equal(buf_append_u64(&b, 4294967295u), 0);
	assert_content(&b, "0 4294967295");
	assert_int_equal(buf_append_u64(&b, 18446744073709551615ull), 0);
	assert_content(&b, "0 429496729518446744073709551615");
	buf_free(&b);
	buf_init(&b, 4);
	assert_int_equal(buf_append_u64(&b, 123), 0);
	assert_int_equal(buf_append_u64(&b, 45), -1);
	assert_content(&b, "123");
	assert_int_equal(buf_append_u64(&b, 6), 0);
	assert_content(&b, "1236");
	buf_free(&b);
}

static void test_printf_growth(void **state)
{
	(void)state;
	struct buf b;
	char big[5000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "head:"), 0);
	/* longer than any initial allocation: must grow, not truncate */
	assert_int_equal(buf_printf(&b, "%s:%s", big, "tail"), 0);
	assert_int_equal(b.len, 5 + 4999 + 5);
	assert_memory_equal(b.data, "head:", 5);
	assert_int_equal(b.data[5], 'z');
	assert_int_equal(b.data[5 + 4998], 'z');
	assert_memory_equal(b.data + 5 + 4999, ":tail", 5);
	assert_guard(&b);

	/* many small printfs across several growth steps */
	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%d,", i % 10), 0);
	assert_int_equal(b.len, 2000);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(b.data[2 * i], '0' + i % 10);
		assert_int_equal(b.data[2 * i + 1], ',');
	}
	assert_guard(&b);
	buf_free(&b);
}

static void test_printf_exact_max(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%s", "12345678"), 0);
	assert_content(&b, "12345678");
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s", "123456789"), -1);
	assert_content(&b, "");
	buf_free(&b);
}

static int vprintf_helper(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int vprintf_helper(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ret;
}

static void test_vprintf(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 16);
	assert_int_equal(vprintf_helper(&b, "%s=%d", "n", 5), 0);
	assert_content(&b, "n=5");
	assert_int_equal(vprintf_helper(&b, "%s", "this is too long"), -1);
	assert_content(&b, "n=5");
	buf_free(&b);
}

static void test_reserve_commit(void **state)
{
	(void)state;
	struct buf b;
	size_t avail = 0;
	char *p;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	p = buf_reserve(&b, 100, &avail);
	assert_non_null(p);
	assert_ptr_equal(p, b.data + 2);
	assert_true(avail >= 100);
	memcpy(p, "cdef", 4);
	buf_commit(&b, 4);
	assert_content(&b, "abcdef");

	/* committing less than reserved, and zero */
	p = buf_reserve(&b, 10, &avail);
	assert_non_null(p);
	buf_commit(&b, 0);
	assert_content(&b, "abcdef");

	/* want == 0 still hands out room */
	p = buf_reserve(&b, 0, &avail);
	assert_non_null(p);
	assert_true(avail >= 1);

	/* fill the whole reserved space */
	p = buf_reserve(&b, 5000, &avail);
	assert_non_null(p);
	assert_true(avail >= 5000);
	memset(p, 'x', avail);
	buf_commit(&b, avail);
	assert_int_equal(b.len, 6 + avail);
	assert_guard(&b);
	buf_free(&b);
}

static void test_reserve_respects_max(void **state)
{
	(void)state;
	struct buf b;
	size_t avail = 0;
	char *p;

	buf_init(&b, 10);
	assert_int_equal(buf_append_str(&b, "1234567"), 0);
	p = buf_reserve(&b, 100, &avail);
	assert_non_null(p);
	/* never more room than max allows */
	assert_int_equal(avail, 3);
	memcpy(p, "890", 3);
	buf_commit(&b, 3);
	assert_content(&b, "1234567890");

	avail = 777;
	assert_null(buf_reserve(&b, 1, &avail));
	assert_null(buf_reserve(&b, 0, &avail));
	assert_int_equal(avail, 777);
	assert_content(&b, "1234567890");
	buf_free(&b);
}

static void test_reserve_fresh_small_max(void **state)
{
	(void)state;
	struct buf b;
	size_t avail = 0;
	char *p;

	buf_init(&b, 3);
	p = buf_reserve(&b, 1, &avail);
	assert_non_null(p);
	assert_true(avail >= 1 && avail <= 3);
	p[0] = 'q';
	buf_commit(&b, 1);
	assert_content(&b, "q");
	buf_free(&b);
}

static void test_consume(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "line1\r\nline2\r\n"), 0);
	buf_consume(&b, 7);
	assert_content(&b, "line2\r\n");
	buf_consume(&b, 0);
	assert_content(&b, "line2\r\n");
	buf_consume(&b, 7);
	assert_content(&b, "");
	assert_true(buf_is_empty(&b));
	assert_non_null(b.data);
	assert_int_equal(b.data[0], '\0');

	/* storage is kept and reused */
	assert_int_equal(buf_append_str(&b, "next"), 0);
	assert_content(&b, "next");
	buf_consume(&b, 1);
	assert_content(&b, "ext");
	buf_free(&b);
}

static void test_consume_fresh(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 10);
	buf_consume(&b, 0);
	assert_true(buf_is_empty(&b));
	assert_null(b.data);
	buf_reset(&b);
	assert_null(b.data);
	buf_truncate(&b, 0);
	assert_true(buf_is_empty(&b));
}

static void test_consume_frees_room(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 6);
	assert_int_equal(buf_append_str(&b, "abcdef"), 0);
	assert_int_equal(buf_append_str(&b, "g"), -1);
	buf_consume(&b, 2);
	assert_int_equal(buf_room(&b), 2);
	assert_int_equal(buf_append_str(&b, "gh"), 0);
	assert_content(&b, "cdefgh");
	buf_free(&b);
}

static void test_truncate_reset(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append_str(&b, "abcdef"), 0);
	buf_truncate(&b, 3);
	assert_content(&b, "abc");
	assert_string_equal(b.data, "abc");
	buf_truncate(&b, 3);
	assert_content(&b, "abc");
	buf_truncate(&b, 0);
	assert_content(&b, "");
	assert_int_equal(buf_append_str(&b, "xyz"), 0);
	size_t cap = b.cap;
	char *data = b.data;

	buf_reset(&b);
	assert_content(&b, "");
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, data);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void test_find_byte(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	/* "a1 OK\r\n" is 0..6, then 'b' 7, NUL 8, '\n' 9 */
	assert_int_equal(buf_append(&b, "a1 OK\r\nb\0\n", 10), 0);
	assert_int_equal(buf_find_byte(&b, 0, '\n'), 6);
	assert_int_equal(buf_find_byte(&b, 6, '\n'), 6);
	assert_int_equal(buf_find_byte(&b, 7, '\n'), 9);
	assert_int_equal(buf_find_byte(&b, 0, 'a'), 0);
	assert_int_equal(buf_find_byte(&b, 1, 'a'), -1);
	assert_int_equal(buf_find_byte(&b, 0, '\0'), 8);
	assert_int_equal(buf_find_byte(&b, 0, 'z'), -1);
	/* from at or past the end */
	assert_int_equal(buf_find_byte(&b, 10, '\n'), -1);
	assert_int_equal(buf_find_byte(&b, 1000, '\n'), -1);
	/* the NUL guard is not part of the data */
	buf_truncate(&b, 8);
	assert_int_equal(buf_find_byte(&b, 0, '\0'), -1);
	/* bytes above 0x7f (char may be signed) */
	buf_reset(&b);
	assert_int_equal(buf_append(&b, "xy\xff", 3), 0);
	assert_int_equal(buf_find_byte(&b, 0, '\xff'), 2);
	buf_free(&b);
}

static void test_nul_guard(void **state)
{
	(void)state;
	struct buf b;
	size_t avail;
	char *p;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_guard(&b);
	p = buf_reserve(&b, 16, &avail);
	memset(p, 'X', avail);
	buf_commit(&b, 2);
	assert_content(&b, "abcXX");
	assert_string_equal(b.data, "abcXX");
	buf_consume(&b, 1);
	assert_string_equal(b.data, "bcXX");
	buf_truncate(&b, 1);
	assert_string_equal(b.data, "b");
	assert_int_equal(buf_printf(&b, "%c", 'Z'), 0);
	assert_string_equal(b.data, "bZ");

	/* filling to exactly cap keeps the guard after the last byte */
	p = buf_reserve(&b, 1, &avail);
	memset(p, 'Y', avail);
	buf_commit(&b, avail);
	assert_int_equal(b.len, b.cap);
	assert_guard(&b);
	assert_int_equal(strlen(b.data), b.len);
	buf_free(&b);
}

static void test_free_secret(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 100);
	assert_int_equal(buf_append_str(&b, "hunter2"), 0);
	buf_free_secret(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 100);
	/* on a never-used buffer too */
	buf_free_secret(&b);
	assert_null(b.data);
	assert_int_equal(buf_append_str(&b, "ok"), 0);
	assert_content(&b, "ok");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_init_clamps_max),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_zero_to_fresh),
		cmocka_unit_test(test_append_binary),
		cmocka_unit_test(test_grows_large),
		cmocka_unit_test(test_max_refusal_unchanged),
		cmocka_unit_test(test_max_refusal_huge_len),
		cmocka_unit_test(test_max_zero),
		cmocka_unit_test(test_small_max_caps_allocation),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_append_u64),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_printf_exact_max),
		cmocka_unit_test(test_vprintf),
		cmocka_unit_test(test_reserve_commit),
		cmocka_unit_test(test_reserve_respects_max),
		cmocka_unit_test(test_reserve_fresh_small_max),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_consume_fresh),
		cmocka_unit_test(test_consume_frees_room),
		cmocka_unit_test(test_truncate_reset),
		cmocka_unit_test(test_find_byte),
		cmocka_unit_test(test_nul_guard),
		cmocka_unit_test(test_free_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
