/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_searchres: the saved search result of SEARCHRES (RFC 5182).
 *
 * SEARCH RETURN (SAVE) keeps its result in the selected folder's state;
 * "$" in a later command's sequence set (FETCH, STORE, COPY, MOVE,
 * SEARCH, their UID forms, UID EXPUNGE) names those messages. The result
 * is kept as UIDs, so a message expunged since the SEARCH simply drops out
 * of it (RFC 5182 2.1) and "$" means the same messages with or without the
 * UID prefix. It starts empty at every SELECT/EXAMINE (struct
 * imap_selected is new then) and becomes empty when a SEARCH with SAVE
 * fails (RFC 5182 2.1: "the search result variable ... MUST be reset to
 * the empty sequence").
 */
#ifndef MERPATI_IMAP_SEARCHRES_H
#define MERPATI_IMAP_SEARCHRES_H

#include "protocols/imap/imap_private.h"

#include <stddef.h>
#include <stdint.h>

struct imap_seqset;

/* Replaces the saved result with uids[0..n) (ascending). */
void imap_searchres_save(struct imap_selected *sel, const uint32_t *uids,
			 size_t n);

/* Empties the saved result (a SEARCH with SAVE failed). */
void imap_searchres_clear(struct imap_selected *sel);

/* A copy of the saved UIDs in normal form (the caller frees it); empty
   when nothing was saved. */
struct imap_seqset *imap_searchres_copy(const struct imap_selected *sel);

/* Frees the saved result (leaving the folder); takes an empty one. */
void imap_searchres_free(struct imap_selected *sel);

#endif
