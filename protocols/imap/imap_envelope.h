/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_envelope: the ENVELOPE of a message (RFC 3501 7.4.2) and the IMAP
 * string writers that ENVELOPE and BODYSTRUCTURE share.
 *
 * Strings are written as a quoted string when they can be one, else as a
 * literal ({n} CRLF bytes): a literal for CR, LF, 8-bit bytes or more than
 * four characters to escape, exactly as Dovecot chooses, so that answers
 * compare byte for byte with the reference server. NIL stands for absent
 * values; an empty value is "".
 *
 * Writers append to a struct buf and return 0, or -1 when it is full (what
 * was appended is then incomplete: drop it).
 */
#ifndef MERPATI_IMAP_ENVELOPE_H
#define MERPATI_IMAP_ENVELOPE_H

#include "lib/buf.h"

#include <stddef.h>

struct mime_envelope;

/* s as a string; NULL: NIL. */
int imap_envelope_append_nstring(struct buf *out, const char *s);

/* The same with CR and LF removed (a space where a line break did not
   leave one): unstructured header values in BODYSTRUCTURE. */
int imap_envelope_append_nstring_nolf(struct buf *out, const char *s);

/* For people: line breaks, tabs and runs of blanks as one space,
   blanks at both ends dropped, NUL as 0x80 (Subject, address names). */
int imap_envelope_append_humans(struct buf *out, const char *s, size_t len);

/*
 * The ten ENVELOPE fields, without the enclosing parentheses: date,
 * subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id.
 * Sender and Reply-To default to From (RFC 3501 7.4.2). env NULL: all NIL.
 */
int imap_envelope_write(struct buf *out, const struct mime_envelope *env);

#endif
