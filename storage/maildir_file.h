/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_file: reading and writing files in a Maildir that others can
 * write to.
 *
 * A Maildir is also written by the MTA, by other servers and, on many
 * hosts, by its user. Whatever is planted there (a FIFO, a symlink to
 * another user's mail, a device, a directory named like a message) must
 * neither stall a process nor make it read or write a file elsewhere. So
 * every file the storage layer reads is opened with maildir_file_open()
 * and every file it creates comes from maildir_file_create_tmp(); files
 * replaced whole (UID list, keywords, cache, subscriptions, UIDVALIDITY
 * counter) go through maildir_file_replace().
 */
#ifndef MERPATI_MAILDIR_FILE_H
#define MERPATI_MAILDIR_FILE_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Opens an existing file read-only: never through a symlink, never
 * blocking (a FIFO opens at once and is refused), only a regular file.
 * st_r (may be NULL) gets its fstat(). Returns the descriptor (blocking,
 * close-on-exec), or -1 with errno (ENOENT: no such file; EINVAL or
 * ELOOP: not a regular file) and a short reason for the log in *reason_r
 * ("not a regular file" or "open: <strerror>", valid until the next
 * failure in this thread).
 */
int maildir_file_open(const char *path, struct stat *st_r,
		      const char **reason_r);

/*
 * Creates a new file in dir, mode 0600, exclusively (O_EXCL|O_NOFOLLOW:
 * never an existing file, never through a link), for writing. With a
 * prefix the name is "<prefix>.<pid>.<random>.tmp"; with prefix NULL it
 * is a new Maildir base name (maildir_unique_base()). An existing name
 * (EEXIST) is retried with a new one a few times. Appends the file's
 * path to path_r. Returns the descriptor, or -1 with errno.
 */
int maildir_file_create_tmp(const char *dir, const char *prefix,
			    struct buf *path_r);

/*
 * Replaces path with data[0..len) atomically: a temporary file from
 * maildir_file_create_tmp() in the tmp/ next to path when that is a real
 * directory (crash leftovers are then cleaned with the other tmp/ files),
 * else in path's directory; written, fsynced (do_fsync), renamed over
 * path. A symlink at path is replaced, never followed. Returns 0, or -1
 * with errno (the temporary file is gone; the caller logs).
 */
int maildir_file_replace(const char *path, const void *data, size_t len,
			 bool do_fsync);

/* True when name has a control character (bytes 0x01-0x1f, 0x7f): such
 * a name is never a message (it would break line-based files). */
bool maildir_file_name_has_ctl(const char *name);

#endif
