/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cache: the disposable per-folder cache file `merpati.cache`.
 *
 * Holds values that are costly to recompute, as opaque blobs keyed by
 * (UID, field id): the storage layer's sizes and internal dates, and the
 * IMAP layer's ENVELOPE, BODYSTRUCTURE and chosen headers (field ids from
 * MAIL_CACHE_FIELD_FIRST_USER up, chosen by the caller). The file is
 * versioned, tied to the folder's UIDVALIDITY and checksummed (FNV-1a 64
 * over everything before the trailer); a missing, stale or corrupt file is
 * simply ignored and rebuilt, never trusted over the messages. Saving
 * replaces it atomically; it is never written under the UID list lock, and
 * when two processes save at once the last one wins (both are valid).
 *
 * The whole cache lives in memory while open (one blob per field per
 * message: a few dozen bytes for sizes, more once IMAP adds its fields).
 */
#ifndef MERPATI_CACHE_H
#define MERPATI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_CACHE_FILE "merpati.cache"
#define MAIL_CACHE_BLOB_MAX (1024 * 1024)

enum mail_cache_field {
	MAIL_CACHE_FIELD_SIZES = 1, /* u64 size, u64 vsize (host order) */
	MAIL_CACHE_FIELD_DATE = 2,  /* i64 internal date */
	MAIL_CACHE_FIELD_MIME = 3,  /* the MIME part tree (mime.h's form) */
	/* callers' ids, each named where it is used: FIRST_USER + 1 the
	   written ENVELOPE (imap_fetch.c), + 10 sort keys (imap_msgkeys.h) */
	MAIL_CACHE_FIELD_FIRST_USER = 16,
};

struct mail_cache;

/*
 * Opens dir/merpati.cache for a folder with this UIDVALIDITY: loads it when
 * it is intact and matches, else starts empty. Never fails.
 */
struct mail_cache *mail_cache_open(const char *dir, uint32_t uidvalidity);
void mail_cache_free(struct mail_cache **cache);

/* Looks up a blob; *data_r is valid until the next put/forget/free. */
bool mail_cache_get(struct mail_cache *cache, uint32_t uid, unsigned field,
		    const void **data_r, size_t *len_r);

/* Stores (or replaces) a blob; len <= MAIL_CACHE_BLOB_MAX, else ignored. */
void mail_cache_put(struct mail_cache *cache, uint32_t uid, unsigned field,
		    const void *data, size_t len);

/* Forgets every UID not in uids[0..n) (ascending): expunged messages. */
void mail_cache_retain(struct mail_cache *cache, const uint32_t *uids,
		       size_t n);

/* Forgets everything (e.g. `merpati index`). */
void mail_cache_clear(struct mail_cache *cache);

/* Slots a lookup of (uid, field) visits, found or not (for tests: keys
   must spread over the table). */
size_t mail_cache_probes(struct mail_cache *cache, uint32_t uid,
			 unsigned field);

/* Entries held (for tests and `merpati index`). */
size_t mail_cache_count(const struct mail_cache *cache);

/* Writes the file if anything changed. Returns 0 or -1 (logged). */
int mail_cache_save(struct mail_cache *cache, bool do_fsync);

/* Recomputes the checksum (the last 8 bytes) of a file image of len
 * bytes in place, so that damage reaches the parser (fuzzing, tests).
 * An image shorter than the checksum is left alone. */
void mail_cache_fix_checksum(void *data, size_t len);

#endif
