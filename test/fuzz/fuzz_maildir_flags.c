/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/maildir_flags: Maildir file names.
 *
 * Invariants: a parsed name's base is the prefix up to the first ':'
 * (maildir_filename_base_len()), flags and keywords stay within their
 * bits and are set only with ":2,"; formatting base, flags and keywords
 * and parsing the result gives the same base, flags, keywords and sizes,
 * and formatting that again gives the same text (a canonical name).
 * maildir_flags_describe() is "-" exactly when nothing is set.
 */
#include "fuzz.h"

#include "storage/maildir_flags.h"

#include <string.h>

static void check_describe(unsigned flags, uint32_t keywords)
{
	static const char *const names[MAILDIR_KEYWORDS_MAX] = {"$Junk",
								"$NotJunk"};
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	maildir_flags_describe(&b, flags, keywords, names);
	FUZZ_CHECK(b.len > 0);
	FUZZ_CHECK((strcmp(b.data, "-") == 0) == (flags == 0 && keywords == 0));
	buf_reset(&b);
	maildir_flags_describe(&b, flags, keywords, NULL);
	FUZZ_CHECK(strstr(b.data, "$Junk") == NULL);
	buf_free(&b);
}

static void check_name(const char *name)
{
	struct maildir_filename r, r2;
	struct buf out, out2;

	if (maildir_filename_parse(name, &r) < 0) {
		FUZZ_CHECK(name[0] == '\0' || name[0] == '.' ||
			   name[0] == ':' || strchr(name, '/') != NULL);
		return;
	}
	FUZZ_CHECK(r.base.p == name);
	FUZZ_CHECK(r.base.len == maildir_filename_base_len(name));
	FUZZ_CHECK(r.base.len > 0);
	FUZZ_CHECK(memchr(r.base.p, ':', r.base.len) == NULL);
	FUZZ_CHECK((r.flags & ~MAILDIR_FLAGS_ALL) == 0);
	FUZZ_CHECK((r.keywords >> MAILDIR_KEYWORDS_MAX) == 0);
	FUZZ_CHECK(r.has_info || (r.flags == 0 && r.keywords == 0));
	FUZZ_CHECK(r.has_info == (strncmp(name + r.base.len, ":2,", 3) == 0));
	check_describe(r.flags, r.keywords);

	buf_init(&out, BUF_UNLIMITED);
	maildir_filename_format(&out, r.base, r.flags, r.keywords);
	FUZZ_CHECK(maildir_filename_parse(out.data, &r2) == 0);
	FUZZ_CHECK(r2.has_info);
	FUZZ_CHECK(r2.base.len == r.base.len);
	FUZZ_CHECK(memcmp(r2.base.p, r.base.p, r.base.len) == 0);
	FUZZ_CHECK(r2.flags == r.flags);
	FUZZ_CHECK(r2.keywords == r.keywords);
	FUZZ_CHECK(r2.has_size == r.has_size && r2.size == r.size);
	FUZZ_CHECK(r2.has_vsize == r.has_vsize && r2.vsize == r.vsize);

	buf_init(&out2, BUF_UNLIMITED);
	maildir_filename_format(&out2, r2.base, r2.flags, r2.keywords);
	FUZZ_CHECK(out2.len == out.len);
	FUZZ_CHECK(memcmp(out2.data, out.data, out.len) == 0);
	buf_free(&out2);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	struct buf out;
	struct maildir_filename r;

	FUZZ_CHECK(name != NULL);
	if (size > 0)
		memcpy(name, data, size);
	name[size] = '\0';
	check_name(name);

	/* any flag and keyword bits survive format then parse */
	if (size >= 5) {
		unsigned flags = data[0] & MAILDIR_FLAGS_ALL;
		uint32_t kw =
			((uint32_t)data[1] | (uint32_t)data[2] << 8 |
			 (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24) &
			((1u << MAILDIR_KEYWORDS_MAX) - 1);

		buf_init(&out, BUF_UNLIMITED);
		maildir_filename_format(&out, STRV_LIT("1.M2P3.host,S=5"),
					flags, kw);
		FUZZ_CHECK(maildir_filename_parse(out.data, &r) == 0);
		FUZZ_CHECK(r.flags == flags && r.keywords == kw);
		FUZZ_CHECK(r.has_size && r.size == 5 && !r.has_vsize);
		buf_free(&out);
	}
	free(name);
	return 0;
}
