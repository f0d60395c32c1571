/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_driver: runs a fuzz target without libFuzzer, for ctest.
 *
 * Usage: fuzz_<name> [file-or-directory...]. Feeds a few built-in inputs,
 * then every regular file named or found (not recursively) in a named
 * directory, to LLVMFuzzerTestOneInput(). Each input gets its own exact-size
 * allocation so that a sanitizer build catches reads past the end. A crash
 * or FUZZ_CHECK() failure aborts; an unreadable path exits 1.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static size_t inputs_run;

static void run_input(const void *data, size_t size)
{
	/* malloc(0) may return NULL; keep a valid, unreadable-past-end pointer */
	uint8_t *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL) {
		fprintf(stderr, "fuzz_driver: out of memory (%zu bytes)\n",
			size);
		exit(1);
	}
	if (size > 0)
		memcpy(copy, data, size);
	FUZZ_CHECK(LLVMFuzzerTestOneInput(copy, size) == 0);
	free(copy);
	inputs_run++;
}

/* Inputs every target sees even without a corpus: edges, not samples. */
static void run_builtin(void)
{
	static const char *const samples[] = {
		"\r\n",	       " ",
		"=",	       "====",
		"a1 NOOP\r\n", "{5}\r\n",
		"\"",	       "(((((((((((((((((((((((((((((((((",
	};
	uint8_t byte;
	uint8_t big[4096];

	run_input("", 0);
	for (int c = 0; c < 256; c++) {
		byte = (uint8_t)c;
		run_input(&byte, 1);
	}
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		run_input(samples[i], strlen(samples[i]));
	memset(big, 'A', sizeof(big));
	run_input(big, sizeof(big));
	memset(big, 0xff, sizeof(big));
	run_input(big, sizeof(big));
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "fuzz_driver: fopen(%s): %s\n", path,
			strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 4096) {
			cap = cap == 0 ? 4096 : cap * 2;
			data = realloc(data, cap);
			if (data == NULL) {
				fprintf(stderr, "fuzz_driver: out of memory\n");
				exit(1);
			}
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "fuzz_driver: fread(%s): %s\n", path,
			strerror(errno));
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	run_input(data, len);
	free(data);
	return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, name_cmp);
	int ret = 0;

	if (n < 0) {
		fprintf(stderr, "fuzz_driver: scandir(%s): %s\n", dir,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		int len = snprintf(path, sizeof(path), "%s/%s", dir,
				   names[i]->d_name);

		if (len < 0 || (size_t)len >= sizeof(path) ||
		    stat(path, &st) < 0) {
			fprintf(stderr, "fuzz_driver: bad entry %s/%s\n", dir,
				names[i]->d_name);
			ret = -1;
		} else if (S_ISREG(st.st_mode) && run_file(path) < 0) {
			ret = -1;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	int ret = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	run_builtin();
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz_driver: stat(%s): %s\n", argv[i],
				strerror(errno));
			ret = 1;
		} else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) < 0
					       : run_file(argv[i]) < 0) {
			ret = 1;
		}
	}
	printf("fuzz_driver: %zu inputs run%s\n", inputs_run,
	       ret == 0 ? "" : ", some paths failed");
	return ret;
}
