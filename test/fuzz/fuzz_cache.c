/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/cache.c's loader: an arbitrary merpati.cache
 * (damaged, truncated, hostile) must be ignored or loaded, never crash or
 * be trusted half-way. The input's checksum is fixed up before it is
 * written (mail_cache_fix_checksum()), so that mutations reach the header
 * and entry rules instead of stopping at the checksum. Properties: a loaded cache survives put + save +
 * reopen with every entry count accounted for and the new blob intact; a
 * cache opened for another UIDVALIDITY starts empty.
 */
#include "fuzz.h"

#include "storage/cache.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_UIDVALIDITY 7
#define FUZZ_FIELD (MAIL_CACHE_FIELD_FIRST_USER + 3)

static char dir[PATH_MAX];
static char path[PATH_MAX + 32];

/* Nothing stays behind in the temporary directory after a run. */
static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_name(dir, sizeof(dir), "fuzz_cache");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, MAIL_CACHE_FILE);
	atexit(remove_dir);
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	uint8_t *img = malloc(size + 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	FUZZ_CHECK(img != NULL && fd >= 0);
	memcpy(img, data, size);
	mail_cache_fix_checksum(img, size);
	FUZZ_CHECK(write(fd, img, size) == (ssize_t)size);
	close(fd);
	free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char blob[] = "fuzz blob";
	struct mail_cache *c;
	const void *got;
	size_t len, before;
	bool had;

	write_file(data, size);
	c = mail_cache_open(dir, FUZZ_UIDVALIDITY);
	before = mail_cache_count(c);
	had = mail_cache_get(c, 1, FUZZ_FIELD, &got, &len);
	mail_cache_put(c, 1, FUZZ_FIELD, blob, sizeof(blob));
	FUZZ_CHECK(mail_cache_count(c) == before + (had ? 0 : 1));
	FUZZ_CHECK(mail_cache_save(c, false) == 0);
	mail_cache_free(&c);
	FUZZ_CHECK(c == NULL);

	c = mail_cache_open(dir, FUZZ_UIDVALIDITY);
	FUZZ_CHECK(mail_cache_count(c) == before + (had ? 0 : 1));
	FUZZ_CHECK(mail_cache_get(c, 1, FUZZ_FIELD, &got, &len));
	FUZZ_CHECK(len == sizeof(blob) && memcmp(got, blob, len) == 0);
	mail_cache_free(&c);

	/* another UIDVALIDITY: the file belongs to a folder that is gone */
	c = mail_cache_open(dir, FUZZ_UIDVALIDITY + 1);
	FUZZ_CHECK(mail_cache_count(c) == 0);
	mail_cache_free(&c);
	unlink(path);
	return 0;
}
