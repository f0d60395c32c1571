/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_session_cmds: commands about the session rather than mail:
 * ENABLE (RFC 5161), NAMESPACE (RFC 2342), ID (RFC 2971).
 */
#ifndef MERPATI_IMAP_SESSION_CMDS_H
#define MERPATI_IMAP_SESSION_CMDS_H

#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_enable(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_namespace(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_id(struct imap_cmd *cmd);

/* Names of the extensions ENABLE can turn on today, for CAPABILITY
   (" CONDSTORE ..."), appended to out. */
void imap_enable_capabilities(struct imap_session *s, struct buf *out);

#endif
