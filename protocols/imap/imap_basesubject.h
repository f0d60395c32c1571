/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_basesubject: the "base subject" of RFC 5256 2.1, which SORT
 * SUBJECT orders by and THREAD groups by.
 *
 * Exactly the RFC's steps: (1) decode RFC 2047 encoded words to UTF-8,
 * tabs and line ends to spaces, runs of spaces to one; (2) drop trailing
 * "(fwd)" and blanks, repeatedly; (3) drop leading blanks and
 * subj-leaders ("re", "fw", "fwd", optional blanks and [blob], ":",
 * after any [blob]s); (4) drop a leading [blob] when text remains; (5)
 * repeat 3 and 4; (6) unwrap "[fwd: ... ]" and go back to 2. The ABNF
 * literals match without regard to ASCII case; a blob is "[" then
 * BLOBCHARs (%x01-5a / %x5c / %x5e-7f: 7-bit, no brackets) then "]".
 *
 * Base subjects are compared with i;ascii-casemap (RFC 5256 and 4790
 * 9.2: ASCII letters without regard to case, other octets as they are):
 * imap_basesubject_cmp().
 */
#ifndef MERPATI_IMAP_BASESUBJECT_H
#define MERPATI_IMAP_BASESUBJECT_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Appends the base subject of the Subject field value (unfolded or not,
 * encoded words still in) to out. *is_reply_or_fwd_r tells whether a
 * subj-refwd, a "(fwd)" trailer or a "[fwd: ]" wrapper was removed (RFC
 * 5256 5 (REFERENCES step 5.C)). Returns 0, or -1 when out is full.
 */
int imap_basesubject(const char *subject, size_t len, struct buf *out,
		     bool *is_reply_or_fwd_r);

/* i;ascii-casemap order of two strings (memcmp-like result). */
int imap_basesubject_cmp(const char *a, const char *b);

#endif
