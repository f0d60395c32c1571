/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_folder: folder names on the wire and the commands on folders:
 * CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS
 * (RFC 3501 6.3.3 - 6.3.10).
 *
 * Names: clients send modified UTF-7 (RFC 3501 5.1.3), or UTF-8 once
 * UTF8=ACCEPT / IMAP4rev2 is enabled; the storage API takes UTF-8 with '/'
 * as the hierarchy separator. "INBOX" is case-insensitive.
 */
#ifndef MERPATI_IMAP_FOLDER_H
#define MERPATI_IMAP_FOLDER_H

#include "protocols/imap/imap_private.h"

/* The hierarchy separator shown to clients. */
#define IMAP_SEPARATOR '/'

/*
 * Argument i of cmd as a folder name (UTF-8, validated; "INBOX" for any
 * case of it), malloc'd into *name_r. On error replies BAD or NO itself
 * and returns -1.
 */
int imap_folder_arg(struct imap_cmd *cmd, size_t i, char **name_r);

/* The same for a name already read: 0, or -1 with a reason for NO. */
int imap_folder_name(struct imap_session *s, struct strv raw, char **name_r,
		     const char **error_r);

/*
 * LIST pattern matching (RFC 3501 6.3.8): "*" matches anything, "%"
 * anything but the separator. INBOX matches case-insensitively.
 */
bool imap_folder_match(const char *pattern, const char *name);

enum imap_cmd_result imap_cmd_create(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_delete(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_rename(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_subscribe(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_unsubscribe(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_list(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_lsub(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_status(struct imap_cmd *cmd);

#endif
