/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/mindex.c's loader. The input is a merpati.index
 * image whose checksum is fixed up before loading, so that mutations reach
 * the header and record rules instead of stopping at the checksum. An
 * image is refused or loaded; a loaded one obeys every rule the header
 * promises (UIDs ascending below UIDNEXT, MODSEQs in range, names valid,
 * expunge log ascending) and writes back to the same bytes.
 */
#include "fuzz.h"

#include "storage/mindex.h"

#include <string.h>

static void check_loaded(const struct mindex *ix, const uint8_t *img,
			 size_t size)
{
	const struct mindex_hdr *hdr = mindex_header(ix);
	struct mindex_writer *w = mindex_writer_new(hdr);
	uint32_t last = 0, unseen = 0;
	uint64_t last_modseq = hdr->expunge_floor;
	const void *data;
	size_t len;

	for (uint32_t i = 0; i < hdr->count; i++) {
		struct mindex_rec r;
		struct strv name = mindex_get_name(ix, i);

		mindex_get(ix, i, &r);
		FUZZ_CHECK(r.uid > last && r.uid < hdr->uidnext);
		FUZZ_CHECK(r.modseq > 0 && r.modseq <= hdr->highest_modseq);
		FUZZ_CHECK(name.len > 0 && memchr(name.p, '/', name.len) == 0);
		FUZZ_CHECK(name.p[name.len] == '\0' && name.p[0] != '.');
		FUZZ_CHECK(mindex_find_uid(ix, r.uid) == (long)i);
		FUZZ_CHECK(mindex_writer_add(w, &r, name) == 0);
		unseen += !(r.flags & 0x10);
		last = r.uid;
	}
	FUZZ_CHECK(unseen == hdr->unseen);
	for (uint32_t i = 0; i < hdr->expunge_count; i++) {
		uint32_t uid;
		uint64_t modseq;

		mindex_get_expunge(ix, i, &uid, &modseq);
		FUZZ_CHECK(uid > 0 && uid < hdr->uidnext);
		FUZZ_CHECK(modseq > last_modseq);
		FUZZ_CHECK(modseq <= hdr->highest_modseq);
		last_modseq = modseq;
		mindex_writer_expunge(w, uid, modseq);
	}
	mindex_writer_image(w, &data, &len);
	FUZZ_CHECK(len == size && memcmp(data, img, size) == 0);
	mindex_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img = malloc(size + 1);
	struct mindex *ix = NULL;
	const char *error = NULL;
	int ret;

	FUZZ_CHECK(img != NULL);
	memcpy(img, data, size);
	mindex_fix_checksum(img, size);
	ret = mindex_open_mem(img, size, &ix, &error);
	if (ret > 0) {
		check_loaded(ix, img, size);
		mindex_free(&ix);
	} else {
		FUZZ_CHECK(ret == -1 && error != NULL && ix == NULL);
	}
	free(img);
	return 0;
}
