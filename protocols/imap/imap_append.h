/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_append: APPEND (RFC 3501 6.3.11) and MULTIAPPEND (RFC 3502).
 *
 * A message literal is never held in memory: when the parser pauses at
 * APPEND's literal header, imap_append_literal() opens the target folder,
 * checks the size and the flags, and streams the bytes into a tmp/ file
 * as they arrive (mailbox_append_write). The command itself, once its
 * line is complete, only finishes the files: all of them or, when one
 * fails, none (MULTIAPPEND is all-or-nothing). A refused literal (unknown
 * folder, too big, bad flags) is answered at once, and its bytes are never
 * read as commands.
 */
#ifndef MERPATI_IMAP_APPEND_H
#define MERPATI_IMAP_APPEND_H

#include "protocols/imap/imap_private.h"

/* The parser paused at a literal of an APPEND command (post-login,
   top level): take it (streamed) or refuse it with a tagged reply. */
void imap_append_literal(struct imap_session *s);

/* Drops what a command that will not complete has written (parse error,
   disconnect). Takes a session without pending appends. */
void imap_append_abort(struct imap_session *s);

enum imap_cmd_result imap_cmd_append(struct imap_cmd *cmd);

#endif
