/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for protocols/imap/imap_seqset.c: the sequence-set parser
 * ("1:3,5,7:*", "$") and the set operations.
 *
 * Input: byte 0 picks whether "$" is allowed (bit 0) and the value of "*"
 * (the rest, times 977: 0 = an empty mailbox); the rest is the text.
 * Checked for every set that parses: "$" only when allowed and then alone;
 * after resolving "*" the set is normal (ranges ascending, apart, lo <=
 * hi, no 0); count, min, max, contains() and next() agree with the
 * ranges; writing it and
 * parsing that again gives the same ranges; clamp() drops exactly what is
 * above its limit. Text that fails gets a reason.
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "lib/str.h"
#include "protocols/imap/imap_seqset.h"

#include <string.h>

static void check_normal(const struct imap_seqset *set)
{
	size_t n = imap_seqset_range_count(set);
	uint64_t count = 0;
	uint32_t prev_hi = 0, next = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t lo, hi;

		imap_seqset_range(set, i, &lo, &hi);
		FUZZ_CHECK(lo >= 1 && lo <= hi);
		/* apart: merged ranges leave a gap of at least one */
		FUZZ_CHECK(i == 0 || (uint64_t)lo > (uint64_t)prev_hi + 1);
		count += (uint64_t)hi - lo + 1;
		FUZZ_CHECK(imap_seqset_contains(set, lo));
		FUZZ_CHECK(imap_seqset_contains(set, hi));
		FUZZ_CHECK(lo == 1 || !imap_seqset_contains(set, lo - 1));
		FUZZ_CHECK(hi == UINT32_MAX ||
			   !imap_seqset_contains(set, hi + 1));
		/* next() walks from below the range into it */
		next = lo - 1;
		FUZZ_CHECK(imap_seqset_next(set, &next) && next == lo);
		prev_hi = hi;
	}
	FUZZ_CHECK(imap_seqset_count(set) == count);
	if (n == 0) {
		FUZZ_CHECK(imap_seqset_min(set) == 0 &&
			   imap_seqset_max(set) == 0);
		next = 0;
		FUZZ_CHECK(!imap_seqset_next(set, &next));
	} else {
		uint32_t lo, hi;

		imap_seqset_range(set, 0, &lo, &hi);
		FUZZ_CHECK(imap_seqset_min(set) == lo);
		imap_seqset_range(set, n - 1, &lo, &hi);
		FUZZ_CHECK(imap_seqset_max(set) == hi);
		next = hi;
		FUZZ_CHECK(!imap_seqset_next(set, &next));
	}
	FUZZ_CHECK(!imap_seqset_contains(set, 0));
}

static bool same_ranges(const struct imap_seqset *a,
			const struct imap_seqset *b)
{
	if (imap_seqset_range_count(a) != imap_seqset_range_count(b))
		return false;
	for (size_t i = 0; i < imap_seqset_range_count(a); i++) {
		uint32_t alo, ahi, blo, bhi;

		imap_seqset_range(a, i, &alo, &ahi);
		imap_seqset_range(b, i, &blo, &bhi);
		if (alo != blo || ahi != bhi)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv text;
	struct imap_seqset *set = NULL, *again = NULL;
	const char *error = NULL;
	bool allow;
	uint32_t star;
	struct buf out;

	if (size < 1)
		return 0;
	allow = (data[0] & 1) != 0;
	star = (uint32_t)(data[0] >> 1) * 977u;
	text.p = (const char *)data + 1;
	text.len = size - 1;
	if (imap_seqset_parse(text, allow, &set, &error) < 0) {
		FUZZ_CHECK(set == NULL);
		FUZZ_CHECK(error != NULL && error[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(set != NULL);
	if (imap_seqset_is_searchres(set)) {
		FUZZ_CHECK(allow && text.len == 1 && text.p[0] == '$');
		imap_seqset_free(&set);
		FUZZ_CHECK(set == NULL);
		return 0;
	}
	/* no "$" in a parsed set, no space, no NUL */
	FUZZ_CHECK(memchr(text.p, '$', text.len) == NULL);
	FUZZ_CHECK(memchr(text.p, ' ', text.len) == NULL);
	FUZZ_CHECK(imap_seqset_has_star(set) ==
		   (memchr(text.p, '*', text.len) != NULL));
	imap_seqset_resolve(set, star);
	check_normal(set);

	/* write, parse again: the same set */
	buf_init(&out, BUF_UNLIMITED);
	FUZZ_CHECK(imap_seqset_write(set, &out) == 0);
	if (out.len > 0) {
		struct strv w = {out.data, out.len};

		FUZZ_CHECK(imap_seqset_parse(w, false, &again, &error) == 0);
		FUZZ_CHECK(!imap_seqset_has_star(again));
		imap_seqset_normalise(again);
		FUZZ_CHECK(same_ranges(set, again));
		imap_seqset_free(&again);
	} else {
		FUZZ_CHECK(imap_seqset_range_count(set) == 0);
	}
	buf_free(&out);

	/* clamp keeps exactly the members up to its limit */
	{
		uint32_t max = star / 2 + 1;
		uint64_t below = 0;

		for (size_t i = 0; i < imap_seqset_range_count(set); i++) {
			uint32_t lo, hi;

			imap_seqset_range(set, i, &lo, &hi);
			if (lo <= max)
				below += (uint64_t)(hi < max ? hi : max) - lo +
					 1;
		}
		imap_seqset_clamp(set, max);
		check_normal(set);
		FUZZ_CHECK(imap_seqset_count(set) == below);
		FUZZ_CHECK(imap_seqset_max(set) <= max);
	}
	imap_seqset_free(&set);
	FUZZ_CHECK(set == NULL);
	return 0;
}
