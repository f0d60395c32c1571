/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz: what every test/fuzz/fuzz_<name>.c shares.
 *
 * A target defines LLVMFuzzerTestOneInput() and checks its invariants with
 * FUZZ_CHECK(), which aborts so that libFuzzer (MERPATI_FUZZ=ON) records a
 * crash and the ctest regression driver (fuzz_driver.c) fails. A target may
 * also define LLVMFuzzerInitialize(); both builds call it once first.
 */
#ifndef MERPATI_FUZZ_H
#define MERPATI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input; must return 0. data is valid for size bytes only. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Optional, called once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/*
 * A template for mkstemp()/mkdtemp(): "$TMPDIR/<name>.XXXXXX" (/tmp without
 * TMPDIR). A target that makes a temporary file or directory removes it
 * again from an atexit() handler: nothing stays behind after a run.
 */
static inline void fuzz_tmp_name(char *buf, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(buf, size, "%s/%s.XXXXXX", tmp, name) >= size)
		abort();
}

#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", \
				__FILE__, __LINE__, #cond);               \
			abort();                                          \
		}                                                         \
	} while (0)

#endif
