/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_idle: IDLE (RFC 2177). The client is told "+ idling"; changes of
 * the selected folder are pushed as they happen (EXISTS, EXPUNGE, FETCH
 * FLAGS), woken by the storage layer's watch, with no polling of our own;
 * the line "DONE" ends the command.
 */
#ifndef MERPATI_IMAP_IDLE_H
#define MERPATI_IMAP_IDLE_H

#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_idle(struct imap_cmd *cmd);

#endif
