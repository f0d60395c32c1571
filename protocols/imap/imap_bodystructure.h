/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_bodystructure: BODY and BODYSTRUCTURE of a part tree (RFC 3501
 * 7.4.2) from storage/mime's parse.
 *
 * A multipart lists its parts (a multipart without any shows one empty
 * text/plain part, as Dovecot does), then its subtype and, for
 * BODYSTRUCTURE, parameters, disposition, language and location. A leaf
 * has type, subtype, parameters (text/... always has a charset, us-ascii
 * by default), id, description, encoding (7bit by default), size, then
 * lines for text/..., envelope, body and lines for message/rfc822, and for
 * BODYSTRUCTURE md5, disposition, language and location. Sizes count
 * every line end as CRLF.
 */
#ifndef MERPATI_IMAP_BODYSTRUCTURE_H
#define MERPATI_IMAP_BODYSTRUCTURE_H

#include "lib/buf.h"

#include <stdbool.h>

struct mime_part;

/*
 * Appends the part's structure without the enclosing parentheses;
 * extended: BODYSTRUCTURE, else BODY. Returns 0 or -1 (out full).
 */
int imap_bodystructure_write(struct buf *out, const struct mime_part *part,
			     bool extended);

#endif
