/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_condstore: what CONDSTORE and QRESYNC (RFC 7162) add across the
 * commands: the session's enabled state, mod-sequence arguments, flag
 * updates with UID and MODSEQ, VANISHED responses and the resync of
 * SELECT/EXAMINE (QRESYNC ...).
 *
 * MODSEQs come from the storage index (mailbox_highest_modseq(), struct
 * mailbox_msg.modseq); expunged UIDs from its bounded expunge log
 * (mailbox_expunged_since()). Nothing here blocks: everything reads the
 * session's view of the selected folder.
 *
 * Outlook and other RFC 3501 clients break on a MODSEQ they did not ask
 * for, so no response carries one before CONDSTORE is enabled (RFC 7162
 * 3.1: ENABLE, or the first "CONDSTORE enabling command").
 */
#ifndef MERPATI_IMAP_CONDSTORE_H
#define MERPATI_IMAP_CONDSTORE_H

#include "lib/buf.h"
#include "protocols/imap/imap_private.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_seqset;
struct mailbox;

/* True once CONDSTORE is enabled (QRESYNC implies it). */
bool imap_condstore_on(const struct imap_session *s);
/* True once ENABLE QRESYNC was accepted. */
bool imap_condstore_qresync_on(const struct imap_session *s);

/*
 * A CONDSTORE enabling command ran (RFC 7162 3.1): from now on flag
 * updates carry UID and MODSEQ. When it is enabled for the first time
 * while a mailbox is selected, "* OK [HIGHESTMODSEQ n]" tells the client
 * where it stands.
 */
void imap_condstore_enable(struct imap_session *s);

/*
 * A mod-sequence argument: mod-sequence-value (1..2^63-1) or, with
 * zero_ok, mod-sequence-valzer (0..2^63-1). False when a is not one.
 */
bool imap_condstore_arg_modseq(const struct imap_arg *a, bool zero_ok,
			       uint64_t *modseq_r);

/*
 * Appends "* seq FETCH (...)\r\n" for message idx of the selected folder
 * after a flag change: FLAGS (when with_flags), UID (when with_uid or
 * CONDSTORE is on) and MODSEQ (when CONDSTORE is on), in that order.
 */
void imap_condstore_write_flag_fetch(struct imap_session *s, unsigned idx,
				     bool with_flags, bool with_uid,
				     struct buf *out);

/* A UID range lo..hi (lo <= hi); lists of them are ascending and
   disjoint. */
struct imap_condstore_range {
	uint32_t lo, hi;
};

/* The ranges of uids (ascending), malloc'd; NULL when n == 0. */
struct imap_condstore_range *
imap_condstore_uid_ranges(const uint32_t *uids, size_t n, size_t *count_r);

/* Appends the ranges as an IMAP set ("1:3,5"). */
void imap_condstore_write_ranges(struct buf *out,
				 const struct imap_condstore_range *r,
				 size_t count);

/*
 * Writes "* VANISHED [(EARLIER) ]uid-set" for the ranges (nothing when
 * count == 0), split over several responses when long.
 */
void imap_condstore_write_vanished(struct imap_session *s, bool earlier,
				   const struct imap_condstore_range *r,
				   size_t count);

/*
 * The UIDs of within (normal form, or NULL: every UID below UIDNEXT)
 * expunged after modseq, as ranges, malloc'd (the caller frees them; NULL
 * when none). When the storage's expunge log no longer reaches back to
 * modseq, every UID of within below UIDNEXT that the view lacks is
 * reported (RFC 7162 3.2.5.2 allows more than what vanished), except those
 * at or below known_floor (a UID up to which the client's view is proven
 * complete, 0 for none). Costs O(messages + ranges of within).
 */
struct imap_condstore_range *
imap_condstore_vanished(struct mailbox *box, uint64_t modseq,
			const struct imap_seqset *within, uint32_t known_floor,
			size_t *count_r);

/* SELECT/EXAMINE (QRESYNC (uidvalidity modseq [known-uids
   [(known-seqs known-uids)]])) (RFC 7162 3.2.5) */
struct imap_condstore_qresync {
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset *known_uids;		     /* NULL: all */
	struct imap_seqset *match_seqs, *match_uids; /* NULL: none */
};

/*
 * Reads the QRESYNC parameter's list. Returns 0, or -1 with a reason for
 * BAD in *error_r. q's sets are the caller's (imap_condstore_qresync_free).
 */
int imap_condstore_qresync_parse(const struct imap_arg *list,
				 struct imap_condstore_qresync *q,
				 const char **error_r);
void imap_condstore_qresync_free(struct imap_condstore_qresync *q);

/*
 * After a successful SELECT with QRESYNC: when the UIDVALIDITY matches,
 * writes "* VANISHED (EARLIER) ..." for the known UIDs expunged since
 * q->modseq, then "* n FETCH (UID FLAGS MODSEQ)" for the known messages
 * changed since. Nothing when the UIDVALIDITY differs (a full resync).
 */
void imap_condstore_qresync_select(struct imap_session *s,
				   const struct imap_condstore_qresync *q);

#endif
