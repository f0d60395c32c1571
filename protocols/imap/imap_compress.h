/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_compress: COMPRESS=DEFLATE (RFC 4978). After login the client may
 * switch the connection to raw deflate both ways; the tagged OK is the
 * last uncompressed line. The transform is the connection's
 * (conn_start_compress()); this is the command and its capability.
 */
#ifndef MERPATI_IMAP_COMPRESS_H
#define MERPATI_IMAP_COMPRESS_H

#include "lib/buf.h"
#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_compress(struct imap_cmd *cmd);

/* Appends " COMPRESS=DEFLATE" when it is offered (after login, enabled
   in the settings, not yet active). */
void imap_compress_capabilities(struct imap_session *s, struct buf *out);

#endif
