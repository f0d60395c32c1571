/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_quota: the QUOTA extension (RFC 9208) over the storage layer's
 * Maildir++ quota (maildir_quota.h): GETQUOTA, GETQUOTAROOT and SETQUOTA.
 *
 * A user has at most one quota root, named "" (the whole user: every
 * folder counts towards it), and only when a limit applies (mail.quota or
 * the userdb's quota_rule); its resources are STORAGE (units of 1024
 * octets) when a byte limit is set and MESSAGE when a message limit is.
 * A user without limits has no quota root: GETQUOTAROOT lists none and
 * GETQUOTA "" answers NO [NONEXISTENT]. SETQUOTA is always refused (NO
 * [NOPERM]): limits are the administrator's, and QUOTASET is not
 * advertised. Refusals over the limit ([OVERQUOTA] on APPEND, COPY) come
 * from the storage layer (imap_storage_code()).
 */
#ifndef MERPATI_IMAP_QUOTA_H
#define MERPATI_IMAP_QUOTA_H

#include "lib/buf.h"
#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_getquota(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_getquotaroot(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_setquota(struct imap_cmd *cmd);

/* Appends " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE" (after login). */
void imap_quota_capabilities(struct imap_session *s, struct buf *out);

#endif
