/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_write: IMAP data items in responses (RFC 3501 4, 9).
 *
 * Strings are written as an atom, a quoted string or a literal, chosen from
 * the content: a quoted string cannot hold CR, LF or NUL, and bytes >= 0x80
 * only once UTF8=ACCEPT is enabled (RFC 6855 3); anything else goes out as
 * a literal ("{n}" CRLF bytes). Output goes to a struct buf (lib/buf.h);
 * the functions return 0, or -1 when the buffer refused the bytes.
 */
#ifndef MERPATI_IMAP_WRITE_H
#define MERPATI_IMAP_WRITE_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* string: quoted or literal; utf8 allows 8-bit bytes in a quoted one */
int imap_write_string(struct buf *out, const char *s, size_t len, bool utf8);

/* nstring: NIL for s == NULL, else a string */
int imap_write_nstring(struct buf *out, const char *s, size_t len, bool utf8);

/* astring: an atom when every byte is an ASTRING-CHAR and the text is not
   "NIL", else a string */
int imap_write_astring(struct buf *out, const char *s, size_t len, bool utf8);

/*
 * A folder name (UTF-8 with '/') as a mailbox: modified UTF-7 (RFC 3501
 * 5.1.3) unless utf8 (RFC 6855 3: UTF8=ACCEPT / IMAP4rev2), then an
 * astring. "INBOX" in any case is written "INBOX".
 */
int imap_write_mailbox(struct buf *out, const char *name, bool utf8);

/*
 * A flag list "(\Answered \Flagged \Deleted \Seen \Draft kw1 kw2)" from
 * maildir flag bits and keyword bits; names[i] is keyword i (NULL where
 * unused, 26 entries). With recent, "\Recent" is added.
 */
int imap_write_flags(struct buf *out, unsigned flags, uint32_t keywords,
		     const char *const *names, bool recent);

#endif
