/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/maildir_keywords.c's parser of dovecot-keywords.
 * Properties: at most 26 names, each an IMAP atom found again by lookup at
 * its own index; writing the table and reading it back gives the same
 * names at the same indices.
 */
#include "fuzz.h"

#include "storage/maildir_keywords.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	fuzz_tmp_name(dir, sizeof(dir), "fuzz_keywords");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, MAILDIR_KEYWORDS_FILE);
	atexit(remove_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_keywords *kw = maildir_keywords_new(), *back;
	const char *const *names;

	maildir_keywords_parse(kw, (const char *)data, size);
	names = maildir_keywords_names(kw);
	for (unsigned i = 0; i < 26; i++) {
		if (names[i] == NULL)
			continue;
		FUZZ_CHECK(names[i][0] != '\0');
		/* RFC 3501 atom: no atom-specials ( ) { SP CTL % * " \ ] */
		for (const char *c = names[i]; *c != '\0'; c++) {
			FUZZ_CHECK((unsigned char)*c > 0x20 &&
				   (unsigned char)*c < 0x7f);
			FUZZ_CHECK(strchr("(){%*\"\\]", *c) == NULL);
		}
		FUZZ_CHECK(maildir_keywords_lookup(kw, names[i]) == (int)i);
		FUZZ_CHECK(maildir_keywords_name(kw, i) == names[i]);
	}
	FUZZ_CHECK(maildir_keywords_name(kw, 26) == NULL);
	FUZZ_CHECK(maildir_keywords_write(kw, path, false) == 0);
	back = maildir_keywords_new();
	FUZZ_CHECK(maildir_keywords_read(back, path) == 0);
	for (unsigned i = 0; i < 26; i++) {
		const char *a = maildir_keywords_name(kw, i);
		const char *b = maildir_keywords_name(back, i);

		FUZZ_CHECK((a == NULL) == (b == NULL));
		FUZZ_CHECK(a == NULL || strcmp(a, b) == 0);
	}
	maildir_keywords_free(&back);
	maildir_keywords_free(&kw);
	unlink(path);
	return 0;
}
