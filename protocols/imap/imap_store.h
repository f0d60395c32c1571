/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_store: commands that change messages of the selected folder:
 * STORE (RFC 3501 6.4.6), COPY (6.4.7), MOVE (RFC 6851), UID EXPUNGE
 * (RFC 4315 2.1), each also as UID command; COPY and MOVE answer with
 * UIDPLUS's COPYUID.
 */
#ifndef MERPATI_IMAP_STORE_H
#define MERPATI_IMAP_STORE_H

#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_store(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_copy(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_move(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_uid_expunge(struct imap_cmd *cmd);

/*
 * Parses a flag list into maildir flag and keyword bits (keywords are
 * created in box when create). Returns 0, or -1 after replying BAD/NO.
 */
int imap_store_parse_flags(struct imap_cmd *cmd, const struct imap_arg *arg,
			   struct mailbox *box, bool create, unsigned *flags_r,
			   uint32_t *keywords_r);

#endif
