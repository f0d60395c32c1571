/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for server/config: config_load() on arbitrary file text.
 *
 * The input is written to a temporary file (removed at exit). Invariants: a failure names
 * the file first and then a line (":<n>: ") or a reason (": "); a success
 * prints (config_print()) a text that loads again, from the same path, to
 * the same printed text.
 */
#include "fuzz.h"

#include "lib/log.h"
#include "server/config.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

static char path[PATH_MAX];

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	fuzz_tmp_name(path, sizeof(path), "fuzz_config");
	fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	close(fd);
	atexit(remove_file);
	return 0;
}

static void write_file(const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
}

/* config_print() output, as a malloc'd string. */
static char *print(const struct config *c, size_t *len_r)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len_r);

	FUZZ_CHECK(f != NULL);
	config_print(c, f);
	FUZZ_CHECK(fclose(f) == 0);
	return text;
}

static void check_error(const char *error)
{
	size_t plen = strlen(path);
	const char *rest;

	FUZZ_CHECK(error != NULL);
	FUZZ_CHECK(strncmp(error, path, plen) == 0);
	rest = error + plen;
	if (rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9') {
		rest++;
		while (*rest >= '0' && *rest <= '9')
			rest++;
		FUZZ_CHECK(rest[0] == ':' && rest[1] == ' ');
		rest += 2;
	} else {
		FUZZ_CHECK(rest[0] == ':' && rest[1] == ' ');
		rest += 2;
	}
	FUZZ_CHECK(rest[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c, *again;
	char *error = NULL, *text, *text2;
	size_t len, len2;

	write_file(data, size);
	c = config_load(path, &error);
	if (c == NULL) {
		check_error(error);
		free(error);
		return 0;
	}
	FUZZ_CHECK(c->path != NULL && strcmp(c->path, path) == 0);
	text = print(c, &len);
	write_file(text, len);
	again = config_load(path, &error);
	if (again == NULL) {
		fprintf(stderr, "printed config does not load: %s\n%s", error,
			text);
		FUZZ_CHECK(!"printed config loads");
	}
	text2 = print(again, &len2);
	FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0);
	free(text2);
	free(text);
	config_free(&again);
	config_free(&c);
	FUZZ_CHECK(c == NULL);
	return 0;
}
