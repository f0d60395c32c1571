/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_seqset: IMAP sequence sets (RFC 3501 9 "sequence-set", RFC 5182 "$").
 *
 * A set is a list of ranges of 32-bit numbers (message sequence numbers or
 * UIDs; 0 is never a member). Parsed text may hold "*", "the largest number
 * in use", which is only known against a mailbox: imap_seqset_resolve()
 * replaces it with a given maximum. Ranges may be written in either order
 * ("7:3" is "3:7", RFC 3501 9 seq-range). "$" (SEARCHRES) stands for the
 * saved search result; the set then holds no ranges and the command layer
 * substitutes its saved set.
 *
 * Normal form: ranges sorted, neither overlapping nor adjacent, lo <= hi,
 * no "*". resolve() and normalise() produce it; membership, counting and
 * iteration need it (they assert it in debug builds).
 *
 * Memory: a set is heap-allocated, owned by whoever created it, freed with
 * imap_seqset_free(). Size is bounded by the text it was parsed from (one
 * range per ", "-separated item) or by the ranges added.
 */
#ifndef MERPATI_IMAP_SEQSET_H
#define MERPATI_IMAP_SEQSET_H

#include "lib/buf.h"
#include "lib/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_seqset;

/* An empty set (normal form). */
struct imap_seqset *imap_seqset_new(void);

/* Frees the set; takes a pointer to NULL, leaves NULL. */
void imap_seqset_free(struct imap_seqset **set);

/*
 * Parses sequence-set text such as "1:3,5,7:*" or, when allow_searchres,
 * "$". Numbers are 1..4294967295 (leading zeros accepted, as Dovecot does);
 * no spaces. Returns 0 with a new set in *set_r (not normalised: "*" is
 * still there), or -1 with a short reason for a BAD reply in *error_r.
 */
int imap_seqset_parse(struct strv text, bool allow_searchres,
		      struct imap_seqset **set_r, const char **error_r);

/* True when the set was parsed from "$" (RFC 5182). */
bool imap_seqset_is_searchres(const struct imap_seqset *set);

/* True when the set (not yet resolved) mentions "*". */
bool imap_seqset_has_star(const struct imap_seqset *set);

/*
 * Replaces "*" by star (the highest sequence number or UID in use) and
 * normalises. With star == 0 (empty mailbox) every range touching "*"
 * is dropped: "*" names no message then.
 */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t star);

/* Brings a set without "*" to normal form (sort, order, merge). */
void imap_seqset_normalise(struct imap_seqset *set);

/* Adds lo:hi (either order; both >= 1) and keeps the set normal. */
void imap_seqset_add_range(struct imap_seqset *set, uint32_t lo, uint32_t hi);

/* Removes every member above max (normal form in, normal form out). */
void imap_seqset_clamp(struct imap_seqset *set, uint32_t max);

/* Membership (normal form): O(log ranges). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);

/* Number of members (normal form); up to 2^32 - 1. */
uint64_t imap_seqset_count(const struct imap_seqset *set);

/* Smallest / largest member (normal form); 0 when empty. */
uint32_t imap_seqset_min(const struct imap_seqset *set);
uint32_t imap_seqset_max(const struct imap_seqset *set);

/* Number of ranges, and range i (i < count) as lo <= hi (normal form). */
size_t imap_seqset_range_count(const struct imap_seqset *set);
void imap_seqset_range(const struct imap_seqset *set, size_t i, uint32_t *lo_r,
		       uint32_t *hi_r);

/*
 * Iteration without state of its own, so a resumable command can keep
 * just the last number it handled: sets *n to the smallest member greater
 * than *n and returns true, or returns false when there is none. Start
 * with *n = 0.  `uint32_t n = 0; while (imap_seqset_next(set, &n)) ...`
 */
bool imap_seqset_next(const struct imap_seqset *set, uint32_t *n);

/* Appends the set in IMAP form ("1:3,5"; normal form) to out. Returns 0,
   or -1 when out is full. An empty set writes nothing. */
int imap_seqset_write(const struct imap_seqset *set, struct buf *out);

#endif
