/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_fetch: FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8).
 *
 * Items: FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY,
 * BODYSTRUCTURE, RFC822, RFC822.HEADER, RFC822.TEXT, BODY[section]<o.n>
 * and BODY.PEEK[...] for every section form, and the macros ALL, FAST and
 * FULL. A BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen (not
 * in an EXAMINEd folder) and the new FLAGS are reported in the same
 * response. UID FETCH always reports UID.
 *
 * Literals are produced in slices: the command stops when the connection's
 * output is above its high-water mark and resumes on the next process()
 * call (cmd->resume), so a FETCH of any size holds one slice of a message
 * and one message's part tree. ENVELOPE, BODY and BODYSTRUCTURE come from
 * the part tree in the folder cache (mailbox_mime_get()).
 *
 * A message whose file was expunged by another process is left out; the
 * command then ends with NO [EXPUNGEISSUED] (RFC 5530) after the
 * responses for the others, as Dovecot does.
 */
#ifndef MERPATI_IMAP_FETCH_H
#define MERPATI_IMAP_FETCH_H

#include "protocols/imap/imap_private.h"

/* FETCH set items [modifiers] (IMAP_CMDF_SEQ | IMAP_CMDF_UID) */
enum imap_cmd_result imap_cmd_fetch(struct imap_cmd *cmd);

#endif
