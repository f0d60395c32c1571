/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_select: entering and leaving the SELECTED state, and EXPUNGE
 * (RFC 3501 6.3.1, 6.3.2, 6.4.2, 6.4.3; UNSELECT RFC 3691).
 */
#ifndef MERPATI_IMAP_SELECT_H
#define MERPATI_IMAP_SELECT_H

#include "protocols/imap/imap_private.h"

#include <stddef.h>
#include <stdint.h>

enum imap_cmd_result imap_cmd_select(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_examine(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_close(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_unselect(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_expunge(struct imap_cmd *cmd);

enum imap_expunge_kind {
	IMAP_EXPUNGE,	    /* EXPUNGE, UID EXPUNGE: NO on failure */
	IMAP_EXPUNGE_CLOSE, /* CLOSE: silent, then leave the folder */
};

/* Expunges uids (malloc'd, n entries; taken over) of the selected folder
   on a storage thread, then ends the command (imap_job.h). */
enum imap_cmd_result imap_expunge_run(struct imap_cmd *cmd, uint32_t *uids,
				      size_t n, enum imap_expunge_kind kind);

#endif
