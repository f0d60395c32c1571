/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the storage files share; not part of the public API. */
#ifndef MERPATI_MAILDIR_PRIVATE_H
#define MERPATI_MAILDIR_PRIVATE_H

#include "storage/maildir.h"

#include "lib/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct maildir {
	char *root;
	struct maildir_settings set;
	enum maildir_error error;
};

/* Records the kind of the failure and returns -1 with reason. */
int maildir_fail(struct maildir *store, enum maildir_error kind,
		 const char *reason, const char **error_r);
/* The kind for a failed syscall's errno (ENOSPC: no space, else temp). */
enum maildir_error maildir_errno_kind(int err);

/* Appends the folder's directory path (the root for INBOX). */
int maildir_folder_path(struct maildir *store, const char *name,
			struct buf *out, const char **error_r);

/* Makes dir (unless it exists) with cur/ new/ tmp/ inside; folder adds the
 * `maildirfolder` marker. 0 or -1 with errno set (logged). */
int maildir_make_dirs(const char *dir, bool folder, bool do_fsync);

/* fsyncs a directory. 0 or -1 (logged). */
int maildir_fsync_dir(const char *path);

/*
 * Appends a new unique base name "<sec>.M<usec>P<pid>.<host>": never
 * twice the same and never going backwards within a process.
 */
void maildir_unique_base(struct buf *out);

/*
 * A new UIDVALIDITY for a folder whose old one was above_this (0: none):
 * the time, or one more than the last one handed out in this root
 * (Dovecot's `dovecot-uidvalidity`, hex; a counter at 0xffffffff is
 * ignored), or above_this + 1, whichever is greatest, so that a recreated
 * UID list never repeats or goes below an old value. Only when above_this
 * is 4294967295 itself does it fall back to the time (never equal to it).
 * Records the value in `dovecot-uidvalidity`.
 */
uint32_t maildir_next_uidvalidity(struct maildir *store, uint32_t above_this);

/* Removes dir and everything below it. 0 or -1 (logged). */
int maildir_remove_tree(const char *dir);

#endif
