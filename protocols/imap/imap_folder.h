/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_folder: folder names on the wire and the commands on folders:
 * CREATE (with RFC 6154's USE), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * STATUS (RFC 3501 6.3.3 - 6.3.10). LIST and LSUB: imap_list.h.
 *
 * Names: clients send modified UTF-7 (RFC 3501 5.1.3), or UTF-8 once
 * UTF8=ACCEPT / IMAP4rev2 is enabled; the storage API takes UTF-8 with '/'
 * as the hierarchy separator. "INBOX" is case-insensitive.
 */
#ifndef MERPATI_IMAP_FOLDER_H
#define MERPATI_IMAP_FOLDER_H

#include "protocols/imap/imap_private.h"

#include <stdint.h>

struct maildir;

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

/* The STATUS items (RFC 3501 6.3.10, RFC 9051 DELETED, RFC 8438 SIZE):
   indices of the values imap_status_compute() fills. */
enum imap_status_item {
	IMAP_STATUS_MESSAGES,
	IMAP_STATUS_RECENT,
	IMAP_STATUS_UIDNEXT,
	IMAP_STATUS_UIDVALIDITY,
	IMAP_STATUS_UNSEEN,
	IMAP_STATUS_DELETED,
	IMAP_STATUS_SIZE,
	IMAP_STATUS_HIGHESTMODSEQ,   /* RFC 7162 3.1.6 */
	IMAP_STATUS_DELETED_STORAGE, /* RFC 9208 4.4, in KiB */
	IMAP_STATUS_COUNT
};

#define IMAP_STATUS_MAX_ITEMS 16

/* The items a client asked for, in its order (for STATUS and LIST's
   RETURN (STATUS ...), RFC 5819). */
struct imap_status_request {
	unsigned order[IMAP_STATUS_MAX_ITEMS]; /* indices into the table */
	size_t n;
	bool per_message;     /* some item needs a pass over the messages */
	bool sizes;	      /* SIZE: message sizes too */
	bool modseq;	      /* HIGHESTMODSEQ: a CONDSTORE enabling command */
	bool deleted_storage; /* DELETED-STORAGE: \Deleted messages' sizes */
};

/* Parses "(MESSAGES UNSEEN ...)". Returns 0, or -1 with a reason for BAD. */
int imap_status_parse(const struct imap_arg *list,
		      struct imap_status_request *req, const char **error_r);

/* Opens the folder and fills values[] (a storage thread's work: it scans
   the folder). Returns 0, or -1 with a reason (maildir_last_error()). */
int imap_status_compute(struct maildir *store, const char *name,
			const struct imap_status_request *req,
			uint64_t values[IMAP_STATUS_COUNT],
			const char **error_r);

/* Appends "* STATUS name (ITEM n ...)\r\n". */
void imap_status_write(struct imap_session *s, struct buf *out,
		       const char *name, const struct imap_status_request *req,
		       const uint64_t values[IMAP_STATUS_COUNT]);

/* UTF-8 text of a name or pattern as sent (mUTF-7 decoded unless UTF-8
   is enabled): malloc'd, or NULL with *error_r. */
char *imap_folder_decode(struct imap_session *s, struct strv raw,
			 const char **error_r);

/* True when names go out in UTF-8 (UTF8=ACCEPT or IMAP4rev2 enabled). */
bool imap_folder_utf8(const struct imap_session *s);

enum imap_cmd_result imap_cmd_create(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_delete(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_rename(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_subscribe(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_unsubscribe(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_status(struct imap_cmd *cmd);

#endif
