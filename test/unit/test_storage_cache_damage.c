/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: the disposable cache file merpati.cache, damaged on purpose
 * with its checksum fixed up (mail_cache_fix_checksum()), as the fuzz
 * target does, so that the damage reaches the parser. */
#include "storage/cache.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define UIDV 7u
#define FIELD (MAIL_CACHE_FIELD_FIRST_USER + 1)

static char dir[] = "/tmp/test_storage_cache_damage.XXXXXX";
static char path[PATH_MAX];

/* A saved cache with three blobs; returns its image (malloc'd). */
static unsigned char *sample_image(size_t *len_r)
{
	struct mail_cache *c = mail_cache_open(dir, UIDV);
	unsigned char *img;
	struct stat st;
	int fd;

	mail_cache_put(c, 1, FIELD, "one", 3);
	mail_cache_put(c, 2, FIELD, "second", 6);
	mail_cache_put(c, 3, MAIL_CACHE_FIELD_DATE, "12345678", 8);
	assert_int_equal(mail_cache_save(c, false), 0);
	mail_cache_free(&c);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	img = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, img, (size_t)st.st_size), st.st_size);
	close(fd);
	*len_r = (size_t)st.st_size;
	return img;
}

static void write_image(const void *img, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
}

static size_t count_of(const void *img, size_t len)
{
	struct mail_cache *c;
	size_t n;

	write_image(img, len);
	c = mail_cache_open(dir, UIDV);
	n = mail_cache_count(c);
	mail_cache_free(&c);
	return n;
}

/* Offset of the blob "second" in the image. */
static size_t blob_at(const unsigned char *img, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		if (memcmp(img + i, "second", 6) == 0)
			return i;
	}
	fail();
	return 0;
}

static void test_round_trip(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	struct mail_cache *c;
	const void *got;
	size_t glen;

	(void)state;
	assert_int_equal(count_of(img, len), 3);
	c = mail_cache_open(dir, UIDV);
	assert_true(mail_cache_get(c, 2, FIELD, &got, &glen));
	assert_int_equal(glen, 6);
	assert_memory_equal(got, "second", 6);
	mail_cache_free(&c);
	/* another UIDVALIDITY: not this folder's cache */
	c = mail_cache_open(dir, UIDV + 1);
	assert_int_equal(mail_cache_count(c), 0);
	mail_cache_free(&c);
	free(img);
}

/* The fix-up is what the fuzz target needs: a changed blob byte with the
 * checksum recomputed is loaded, with the change; without it, refused. */
static void test_fix_checksum_reaches_parser(void **state)
{
	size_t len, at;
	unsigned char *img = sample_image(&len);
	struct mail_cache *c;
	const void *got;
	size_t glen;

	(void)state;
	at = blob_at(img, len);
	img[at] = 'S';
	assert_int_equal(count_of(img, len), 0);
	mail_cache_fix_checksum(img, len);
	assert_int_equal(count_of(img, len), 3);
	c = mail_cache_open(dir, UIDV);
	assert_true(mail_cache_get(c, 2, FIELD, &got, &glen));
	assert_memory_equal(got, "Second", 6);
	mail_cache_free(&c);
	/* too short for a checksum: left alone */
	mail_cache_fix_checksum(img, 7);
	assert_int_equal(img[0], 'M');
	free(img);
}

/* Every byte flipped, checksum left: refused whole. */
static void test_flipped_bytes(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);

	(void)state;
	for (size_t i = 0; i < len; i++) {
		img[i] ^= 0x20;
		assert_int_equal(count_of(img, len), 0);
		img[i] ^= 0x20;
	}
	assert_int_equal(count_of(img, len), 3);
	free(img);
}

/* Cut at every offset, with the checksum fixed up for the cut length:
 * the entry table no longer fits, and nothing is loaded half-way. */
static void test_truncated_every_offset(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	unsigned char *copy = malloc(len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(copy, img, cut);
		mail_cache_fix_checksum(copy, cut);
		assert_int_equal(count_of(copy, cut), 0);
	}
	free(copy);
	free(img);
}

/* Lying lengths and counts that pass the checksum: refused whole. */
static void test_lying_lengths(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	unsigned char *copy = malloc(len);
	size_t at = blob_at(img, len);
	uint32_t v;

	(void)state;
	/* the entry count (header word 2) one more, one less */
	for (int d = -1; d <= 1; d += 2) {
		memcpy(copy, img, len);
		memcpy(&v, copy + 16, 4);
		v = (uint32_t)((int)v + d);
		memcpy(copy + 16, &v, 4);
		mail_cache_fix_checksum(copy, len);
		assert_int_equal(count_of(copy, len), 0);
	}
	/* the blob's length (just before it) past the end, and over the
	 * blob limit */
	for (int k = 0; k < 2; k++) {
		memcpy(copy, img, len);
		v = k == 0 ? (uint32_t)len : MAIL_CACHE_BLOB_MAX + 1u;
		memcpy(copy + at - 4, &v, 4);
		mail_cache_fix_checksum(copy, len);
		assert_int_equal(count_of(copy, len), 0);
	}
	free(copy);
	free(img);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, MAIL_CACHE_FILE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fix_checksum_reaches_parser),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_truncated_every_offset),
		cmocka_unit_test(test_lying_lengths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
