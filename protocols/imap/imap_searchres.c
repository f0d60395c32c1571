/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SEARCHRES: the saved result (RFC 5182); see imap_searchres.h. */
#include "protocols/imap/imap_searchres.h"

#include "protocols/imap/imap_seqset.h"

void imap_searchres_save(struct imap_selected *sel, const uint32_t *uids,
			 size_t n)
{
	imap_searchres_free(sel);
	sel->searchres = imap_seqset_new();
	for (size_t i = 0; i < n; i++)
		imap_seqset_add_range(sel->searchres, uids[i], uids[i]);
}

void imap_searchres_clear(struct imap_selected *sel)
{
	imap_searchres_save(sel, NULL, 0);
}

struct imap_seqset *imap_searchres_copy(const struct imap_selected *sel)
{
	struct imap_seqset *copy = imap_seqset_new();
	size_t n = sel->searchres != NULL
			   ? imap_seqset_range_count(sel->searchres)
			   : 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t lo, hi;

		imap_seqset_range(sel->searchres, i, &lo, &hi);
		imap_seqset_add_range(copy, lo, hi);
	}
	return copy;
}

void imap_searchres_free(struct imap_selected *sel)
{
	imap_seqset_free(&sel->searchres);
}
