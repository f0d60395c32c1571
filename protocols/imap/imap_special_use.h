/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_special_use: special-use folders (RFC 6154): the folders made on a
 * user's first login, the USE list of CREATE (CREATE-SPECIAL-USE), and
 * the attributes as LIST and LSUB show them. Where the uses are stored:
 * storage/maildir_attr.h.
 */
#ifndef MERPATI_IMAP_SPECIAL_USE_H
#define MERPATI_IMAP_SPECIAL_USE_H

#include "lib/buf.h"
#include "protocols/imap/imap_private.h"

/*
 * On the first login of a user (no `merpati-special-use-done` in the mail
 * root): gives each configured use (imap.folder_sent ...) a folder: an
 * existing folder of that name gets the use, a missing one is created and
 * subscribed. Uses some folder already carries are skipped. Failures are
 * logged; the login goes on.
 */
void imap_special_use_setup(struct imap_session *s);

/*
 * CREATE's optional second argument "(USE (\Drafts ...))" as
 * enum maildir_use bits. Returns 0 (*uses_r = 0 without the argument),
 * or -1 after replying BAD (syntax) or NO [USEATTR] (an unknown use).
 */
int imap_special_use_create_arg(struct imap_cmd *cmd, unsigned *uses_r);

/* Appends " \Sent" ... for each bit of uses (a space before each). */
void imap_special_use_write(struct buf *out, unsigned uses);

#endif
