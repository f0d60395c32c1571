/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_search: SEARCH and UID SEARCH (RFC 3501 6.4.4).
 *
 * The search keys are parsed into a tree in the command's arena
 * (imap_search_parse), then evaluated message by message over the
 * selected folder's view (imap_search_step). Cheap keys are answered from
 * the view first (flags, keywords, sequence numbers, UIDs), then sizes and
 * INTERNALDATE, then the message header (HEADER, FROM ... SUBJECT, SENT*),
 * and only when the answer still depends on them the decoded text (BODY,
 * TEXT), streamed part by part through imap_search_text.h with bounded
 * memory. A message is read only as far as the answer needs.
 *
 * Evaluation runs in slices (IMAP_SEARCH_SLICE_USEC of work, checked
 * after every message and every chunk read), keeping its position in the
 * search (message index, MIME part, offset, decoder state), so a search
 * over a large folder lets the worker serve other sessions in between;
 * see doc/imap.md (SEARCH). SORT, THREAD and ESEARCH are meant to reuse the
 * parser and the evaluation: the result is the list of matching view
 * indices, ascending.
 */
#ifndef MERPATI_IMAP_SEARCH_H
#define MERPATI_IMAP_SEARCH_H

#include "protocols/imap/imap_private.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Work done in one slice before other sessions get the worker. */
#define IMAP_SEARCH_SLICE_USEC 10000

struct imap_search;

/*
 * Parses "[CHARSET name] key..." from argument argi of cmd to the end.
 * Returns 0 with a search in *search_r (freed by imap_search_free, or by
 * the command's cleanup when attached with imap_search_attach), or -1
 * after replying BAD (syntax) or NO [BADCHARSET (UTF-8 US-ASCII)].
 */
int imap_search_parse(struct imap_cmd *cmd, size_t argi,
		      struct imap_search **search_r);

enum imap_search_status {
	IMAP_SEARCH_MORE, /* the slice is used up: call again later */
	IMAP_SEARCH_DONE, /* imap_search_result() is complete */
};

/* Evaluates the next slice of messages. */
enum imap_search_status imap_search_step(struct imap_search *search);

/* The matching messages as ascending view indices (valid until free). */
const unsigned *imap_search_result(const struct imap_search *search,
				   size_t *count_r);

/* RFC 7162 3.1.5: when a MODSEQ key was used, the highest MODSEQ of
   the matching messages (for "(MODSEQ n)" or ESEARCH's MODSEQ); else, or
   without matches, 0. */
uint64_t imap_search_result_modseq(const struct imap_search *search);

/* True when the search has a MODSEQ key (a CONDSTORE enabling command). */
bool imap_search_has_modseq(const struct imap_search *search);

/* Frees what the search holds outside the arena (files, sets, iconv);
   takes NULL, leaves NULL. */
void imap_search_free(struct imap_search **search);

/*
 * SEARCH / UID SEARCH (IMAP_CMDF_SEQ | IMAP_CMDF_UID), with ESEARCH's
 * RETURN (MIN MAX ALL COUNT) (RFC 4731) and SEARCHRES's SAVE (RFC 5182,
 * imap_searchres.h).
 */
enum imap_cmd_result imap_cmd_search(struct imap_cmd *cmd);

/* Appends " ESEARCH SEARCHRES WITHIN ..." (what this module serves). */
void imap_search_capabilities(struct imap_session *s, struct buf *out);

#endif
