/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_lib
/* Unit tests for lib/arena: alignment, blocks, large allocations, reset. */
#include "lib/arena.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void assert_aligned(const void *p)
{
	assert_int_equal((uintptr_t)p % 16, 0);
}

static void test_new_free(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);

	assert_non_null(a);
	assert_int_equal(arena_used(a), 0);
	arena_free(&a);
	assert_null(a);
	/* takes a pointer to NULL */
	arena_free(&a);
	assert_null(a);
}

static void test_alignment(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);

	for (size_t size = 0; size < 200; size++) {
		unsigned char *p = arena_alloc(a, size);

		assert_non_null(p);
		assert_aligned(p);
		memset(p, 0xa5, size);
	}
	/* odd sizes do not break the alignment of the next allocation */
	for (int i = 0; i < 100; i++) {
		assert_aligned(arena_alloc(a, 1));
		assert_aligned(arena_alloc(a, 3));
		assert_aligned(arena_alloc(a, 17));
		assert_aligned(arena_strdup(a, "x"));
		assert_aligned(arena_printf(a, "%d", i));
		assert_aligned(arena_zalloc(a, 5));
	}
	arena_free(&a);
}

static void test_allocations_distinct(void **state)
{
	(void)state;
	struct arena *a = arena_new(256);
	unsigned char *ptrs[500];

	/* spans many blocks; each allocation keeps its own bytes */
	for (int i = 0; i < 500; i++) {
		ptrs[i] = arena_alloc(a, 40);
		assert_aligned(ptrs[i]);
		memset(ptrs[i], i & 0xff, 40);
	}
	for (int i = 0; i < 500; i++) {
		for (int j = 0; j < 40; j++)
			assert_int_equal(ptrs[i][j], i & 0xff);
	}
	assert_true(arena_used(a) >= 500 * 40);
	arena_free(&a);
}

static void test_used(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	size_t before;

	assert_int_equal(arena_used(a), 0);
	arena_alloc(a, 10);
	assert_true(arena_used(a) >= 10);
	before = arena_used(a);
	arena_alloc(a, 100);
	assert_true(arena_used(a) >= before + 100);
	before = arena_used(a);
	arena_alloc(a, 100000);
	assert_true(arena_used(a) >= before + 100000);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	arena_free(&a);
}

static void test_large_allocations(void **state)
{
	(void)state;
	struct arena *a = arena_new(1024);
	unsigned char *small1 = arena_alloc(a, 16);
	unsigned char *big;
	unsigned char *small2;

	memset(small1, 1, 16);
	/* larger than a whole block */
	big = arena_alloc(a, 1u << 20);
	assert_aligned(big);
	memset(big, 2, 1u << 20);
	/* exactly a block, and just over half a block */
	unsigned char *blk = arena_alloc(a, 1024);
	assert_aligned(blk);
	memset(blk, 3, 1024);
	unsigned char *half = arena_alloc(a, 513);
	assert_aligned(half);
	memset(half, 4, 513);
	/* small allocations keep working after big ones */
	small2 = arena_alloc(a, 16);
	assert_aligned(small2);
	memset(small2, 5, 16);

	for (int i = 0; i < 16; i++) {
		assert_int_equal(small1[i], 1);
		assert_int_equal(small2[i], 5);
	}
	assert_int_equal(big[0], 2);
	assert_int_equal(big[(1u << 20) - 1], 2);
	assert_int_equal(blk[1023], 3);
	assert_int_equal(half[512], 4);
	assert_true(arena_used(a) >= 16 + (1u << 20) + 1024 + 513 + 16);
	arena_free(&a);
}

static void test_tiny_block_size(void **state)
{
	(void)state;
	struct arena *a = arena_new(1);

	for (int i = 1; i < 100; i++) {
		char *p = arena_alloc(a, (size_t)i);

		assert_aligned(p);
		memset(p, 'x', (size_t)i);
	}
	assert_string_equal(arena_strdup(a, "fits anyway"), "fits anyway");
	arena_reset(a);
	assert_string_equal(arena_strdup(a, "after reset"), "after reset");
	arena_free(&a);
}

static void test_zalloc(void **state)
{
	(void)state;
	struct arena *a = arena_new(512);

	/* dirty the memory, reset, then zalloc must still give zeros */
	memset(arena_alloc(a, 400), 0xff, 400);
	arena_reset(a);
	unsigned char *z = arena_zalloc(a, 400);
	for (int i = 0; i < 400; i++)
		assert_int_equal(z[i], 0);
	unsigned char *zb = arena_zalloc(a, 5000);
	assert_aligned(zb);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(zb[i], 0);
	arena_free(&a);
}

static void test_reset_reuses(void **state)
{
	(void)state;
	struct arena *a = arena_new(4096);
	void *first = arena_alloc(a, 32);

	/* several normal blocks and some big ones */
	for (int i = 0; i < 100; i++)
		arena_alloc(a, 1000);
	arena_alloc(a, 1u << 16);
	arena_alloc(a, 1u << 17);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	/* the first block is kept: allocation starts over at its beginning */
	assert_ptr_equal(arena_alloc(a, 32), first);
	/* and the arena works as before */
	for (int i = 0; i < 100; i++)
		memset(arena_alloc(a, 1000), i, 1000);
	memset(arena_alloc(a, 1u << 16), 0, 1u << 16);
	arena_reset(a);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	arena_free(&a);
}

static void test_strdup(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	char src[] = "INBOX.Sent";
	char *p = arena_strdup(a, src);

	assert_string_equal(p, "INBOX.Sent");
	assert_ptr_not_equal(p, src);
	src[0] = 'X';
	assert_string_equal(p, "INBOX.Sent");
	assert_string_equal(arena_strdup(a, ""), "");

	char *n = arena_strndup(a, "abcdef", 3);
	assert_string_equal(n, "abc");
	assert_string_equal(arena_strndup(a, "abc", 0), "");
	/* strndup copies len bytes, NULs included, and terminates */
	char *e = arena_strndup(a, "a\0b", 3);
	assert_memory_equal(e, "a\0b", 4);
	/* a long string lands in its own block */
	char big[10000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *bp = arena_strdup(a, big);
	assert_string_equal(bp, big);
	arena_free(&a);
}

static void test_printf(void **state)
{
	(void)state;
	struct arena *a = arena_new(64);

	assert_string_equal(arena_printf(a, "%s=%d", "uid", 42), "uid=42");
	assert_string_equal(arena_printf(a, "%s", ""), "");
	assert_string_equal(arena_printf(a, "%05.1f|%x", 3.14159, 255u),
			    "003.1|ff");
	/* longer than the block size */
	char *s = arena_printf(a, "%0200d", 7);
	assert_int_equal(strlen(s), 200);
	assert_int_equal(s[0], '0');
	assert_int_equal(s[199], '7');
	arena_free(&a);
}

/* Runs fn in a child and reports whether it was killed by SIGABRT. */
static bool dies_with_abort(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};

		setrlimit(RLIMIT_CORE, &no_core);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void alloc_size_max(void)
{
	struct arena *a = arena_new(0);

	arena_alloc(a, SIZE_MAX);
}

static void alloc_near_size_max(void)
{
	struct arena *a = arena_new(0);

	/* passes the rounding check but header + size overflows */
	arena_alloc(a, SIZE_MAX - 20);
}

static void strndup_size_max(void)
{
	struct arena *a = arena_new(0);

	arena_strndup(a, "", SIZE_MAX);
}

static void test_size_overflow_aborts(void **state)
{
	(void)state;
	assert_true(dies_with_abort(alloc_size_max));
	assert_true(dies_with_abort(alloc_near_size_max));
	assert_true(dies_with_abort(strndup_size_max));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_allocations_distinct),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_large_allocations),
		cmocka_unit_test(test_tiny_block_size),
		cmocka_unit_test(test_zalloc),
		cmocka_unit_test(test_reset_reuses),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_size_overflow_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
