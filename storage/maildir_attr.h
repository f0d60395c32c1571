/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_attr: what a folder carries besides its messages: its special
 * use (RFC 6154: the folder for sent mail, drafts, ...) and the UID seen
 * at its last selection (for IMAP's \Marked / \Unmarked).
 *
 * Both live in small files inside the folder's own directory (the root
 * for INBOX), so that they follow the folder through a rename, go away
 * with it on delete, and are shared by every session and server that
 * opens the same Maildir (doc/storage.md):
 *
 *   merpati-special-use   one attribute per line: "\Sent", "\Trash" ...
 *   merpati-last-select   "<uidvalidity> <uidnext>\n" at the last
 *                         SELECT/EXAMINE
 *
 * Both are replaced whole (maildir_file_replace()); a missing, unreadable
 * or damaged file reads as "no use" / "never selected". Unknown attribute
 * lines are ignored, so a later version may add some.
 */
#ifndef MERPATI_MAILDIR_ATTR_H
#define MERPATI_MAILDIR_ATTR_H

#include "storage/maildir.h"

#include <stdint.h>

/* RFC 6154 special uses, as bits. */
enum maildir_use {
	MAILDIR_USE_ALL = 1u << 0,
	MAILDIR_USE_ARCHIVE = 1u << 1,
	MAILDIR_USE_DRAFTS = 1u << 2,
	MAILDIR_USE_FLAGGED = 1u << 3,
	MAILDIR_USE_JUNK = 1u << 4,
	MAILDIR_USE_SENT = 1u << 5,
	MAILDIR_USE_TRASH = 1u << 6,
};

#define MAILDIR_USE_COUNT 7

/* The attribute of bit i (0 <= i < MAILDIR_USE_COUNT), e.g. "\Sent". */
const char *maildir_use_name(unsigned i);

/* The bit for an attribute name (any case, "\Sent"), or 0. */
unsigned maildir_use_from_name(const char *name, size_t len);

/* The folder's special uses (enum maildir_use bits); 0 when it has none
 * or does not exist. */
unsigned maildir_attr_uses(struct maildir *store, const char *name);

/* Sets the folder's uses (0 removes the file). The folder must exist.
 * Returns 0 or -1 with a client-safe reason (logged). */
int maildir_attr_set_uses(struct maildir *store, const char *name,
			  unsigned uses, const char **error_r);

/* Records a selection of the folder that saw UIDs below uidnext (written
 * only when it changed). Failures are logged and otherwise ignored. */
void maildir_attr_note_select(struct maildir *store, const char *name,
			      uint32_t uidvalidity, uint32_t uidnext);

/*
 * True when mail probably arrived since the folder was last selected:
 * new/ holds a file no session has seen yet, or the UID list hands out
 * UIDs past the last selection's UIDNEXT (or has another UIDVALIDITY). A
 * folder never selected is marked when it has ever held a message.
 */
bool maildir_attr_marked(struct maildir *store, const char *name);

#endif
