/*
 * imap_select: entering and leaving the SELECTED state, and EXPUNGE
 * (RFC 3501 6.3.1, 6.3.2, 6.4.2, 6.4.3; UNSELECT RFC 3691).
 */
#ifndef MERPATI_IMAP_SELECT_H
#define MERPATI_IMAP_SELECT_H

#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_select(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_examine(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_close(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_unselect(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_expunge(struct imap_cmd *cmd);

#endif
