/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidlist: the persistent UID list of a folder (`dovecot-uidlist`, v3).
 *
 * The file maps Maildir base names to UIDs and keeps UIDVALIDITY and the
 * next UID, in Dovecot's version 3 format so that a folder Dovecot served
 * yesterday keeps its UIDs:
 *
 *	3 V<uidvalidity> N<nextuid> G<guid> <other fields...>
 *	<uid> [<ext fields>] :<base name>
 *
 * Header fields other than V and N and the per-record ext fields ("W1234"
 * and the like) are kept as they were read and written back unchanged.
 * Records are in increasing UID order, every UID is below N. A file that
 * breaks these rules is damaged: uidlist_parse() refuses it, and the caller
 * never applies it (see mailbox.h for the recovery).
 *
 * The file is only changed under the dot-lock `dovecot-uidlist.lock`,
 * created exclusively and holding "<pid>:<host>"; it is replaced atomically
 * (write an exclusive temporary file, fsync, rename). A lock not refreshed for
 * stale_secs (default 120) or whose holder on this host is dead is stale
 * and is broken by the next process that wants it.
 */
#ifndef MERPATI_UIDLIST_H
#define MERPATI_UIDLIST_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UIDLIST_FILE "dovecot-uidlist"
#define UIDLIST_LOCK_FILE "dovecot-uidlist.lock"
#define UIDLIST_STALE_SECS_DEFAULT 120

struct uidlist_rec {
	uint32_t uid;
	char *ext;  /* ext fields between UID and ':', or NULL; owned */
	char *base; /* the base file name (no ":2," info); owned */
};

struct uidlist;

/* An empty list: version 3, UIDVALIDITY 0 (unset), next UID 1. */
struct uidlist *uidlist_new(void);
void uidlist_free(struct uidlist **list);

/*
 * Replaces the list's contents with the file text data[0..len). Returns 0,
 * or -1 with a reason when the text is damaged (bad header, version other
 * than 3, a bad line, UIDs not increasing, a UID >= N, a duplicate name);
 * the list is then unchanged.
 */
int uidlist_parse(struct uidlist *list, const char *data, size_t len,
		  const char **error_r);

/*
 * Reads path. Returns 1 when read, 0 when the file does not exist (list
 * unchanged), -1 with a reason on an I/O error or damage.
 */
int uidlist_read(struct uidlist *list, const char *path, const char **error_r);

/*
 * Reads only the first and the last line of the file at path: its
 * UIDVALIDITY and the next UID by the rule every reader applies (the
 * larger of N and the last record's UID + 1, since Dovecot and Merpati
 * append records without rewriting the header). O(1) in the list's size.
 * Returns 1, 0 when the file does not exist, -1 when it cannot be read
 * this way (damaged or version 1 header, a torn last line, a line over
 * 8 KiB): read it whole then.
 */
int uidlist_peek(const char *path, uint32_t *uidvalidity_r,
		 uint32_t *next_uid_r);

/*
 * Call it holding the lock. Appends the record "<uid> :<base>\n" for a
 * file whose base name is new (made unique by the caller) with the next
 * UID, as Dovecot does: the header's N is left as it is, so the cost does
 * not depend on the list's size. fsyncs when do_fsync. Returns 1 with
 * *uid_r, 0 when the file cannot be appended to (missing, damaged, not
 * version 3, UID space exhausted: the caller rewrites it whole), or -1 on
 * an I/O error (the file is left as it was).
 */
int uidlist_append_file(const char *path, const char *base, size_t len,
			bool do_fsync, uint32_t *uid_r, const char **error_r);

/* Appends the file text to out. */
void uidlist_serialize(const struct uidlist *list, struct buf *out);

/*
 * Writes the list to path atomically with maildir_file_replace() (an
 * exclusive temporary file in the folder's tmp/, fsync when do_fsync,
 * rename). Call it holding the lock. Returns 0 or -1 (logged).
 */
int uidlist_write(const struct uidlist *list, const char *path, bool do_fsync,
		  const char **error_r);

uint32_t uidlist_uidvalidity(const struct uidlist *list);
void uidlist_set_uidvalidity(struct uidlist *list, uint32_t uidvalidity);
uint32_t uidlist_next_uid(const struct uidlist *list);
/* Raises N (never lowers it). */
void uidlist_raise_next_uid(struct uidlist *list, uint32_t next_uid);

size_t uidlist_count(const struct uidlist *list);
/* The idx'th record in UID order; valid until the list changes. */
const struct uidlist_rec *uidlist_get(const struct uidlist *list, size_t idx);

/* Index of the record for base (len bytes), or -1. O(1). */
long uidlist_find(const struct uidlist *list, const char *base, size_t len);
/* Index of the record with uid, or -1. O(log n). */
long uidlist_find_uid(const struct uidlist *list, uint32_t uid);

/*
 * Adds base with the next UID (which it returns) and raises N. ext may be
 * NULL. Returns 0 when the UID space is exhausted or base is present.
 */
uint32_t uidlist_append(struct uidlist *list, const char *base, size_t len,
			const char *ext);

/* True when no UID is left to hand out (N is 4294967294 or more). */
bool uidlist_is_full(const struct uidlist *list);

/*
 * Numbers the records again 1, 2, ... in their order, sets N to count + 1
 * and UIDVALIDITY to uidvalidity (which must differ from the old one:
 * clients drop what they knew). Other header and ext fields stay. For a
 * list whose UID space is used up.
 */
void uidlist_renumber(struct uidlist *list, uint32_t uidvalidity);

/* Removes the records whose flag in drop[idx] is true (count entries). */
void uidlist_remove_marked(struct uidlist *list, const bool *drop);

/* The dot-lock. */
struct uidlist_lock;

/*
 * Takes dir/dovecot-uidlist.lock, waiting up to timeout_secs. Breaks a
 * stale lock (see above). On a loop thread (storage_pool.h) it never
 * sleeps: a lock held by someone else fails at once. Returns 0, or -1
 * with a reason (timeout or busy: the caller reports a temporary
 * failure).
 */
int uidlist_lock_take(const char *dir, unsigned stale_secs,
		      unsigned timeout_secs, struct uidlist_lock **lock_r,
		      const char **error_r);

/* Refreshes the lock's mtime if it was last refreshed over 10 s ago; call
 * it every few hundred items of a long job. */
void uidlist_lock_touch(struct uidlist_lock *lock);

/* Removes the lock file and frees; takes NULL, leaves NULL. */
void uidlist_lock_release(struct uidlist_lock **lock);

#endif
