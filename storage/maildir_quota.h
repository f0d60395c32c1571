/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_quota: Maildir++ quota, the `maildirsize` file in the mail root,
 * as Courier and Dovecot's "maildir" quota backend keep it.
 *
 * Format: the first line holds the limits ("<bytes>S,<count>C", either
 * part left out when unlimited), every further line a change
 * "<bytes> <count>" (negative for removals). The use is the sum of the
 * change lines. A writer appends one line with one write() (O_APPEND), so
 * concurrent writers never mix lines. The file is recalculated from the
 * messages (every folder's cur/ and new/, sizes from ",S=" or stat) and
 * replaced by rename when it is missing, unreadable, names other limits
 * than ours, has grown past 5120 bytes, or says we are over the limit and
 * was last written more than 15 minutes ago (the Maildir++ rules). A
 * recalculation runs under `maildirsize.lock` (O_EXCL, stale after 60 s);
 * whoever does not get the lock uses the file as it is.
 *
 * The limits are the store's settings (maildir_settings.quota_bytes and
 * quota_count, 0 = none): from `mail.quota` or the userdb's `quota_rule`.
 * With no limit at all the file is neither read nor written.
 */
#ifndef MERPATI_MAILDIR_QUOTA_H
#define MERPATI_MAILDIR_QUOTA_H

#include "storage/maildir.h"

#include <stdbool.h>
#include <stdint.h>

/* The reason a store refused over quota (Dovecot's default text). */
#define MAILDIR_QUOTA_EXCEEDED "Quota exceeded (mailbox for user is full)"

/* The file's name in the mail root. */
#define MAILDIR_QUOTA_FILE "maildirsize"

/*
 * Parses a size: digits with an optional suffix b, k, M, G or T (powers of
 * 1024, case-insensitive); "" and "0" are 0 (no limit). Returns 0 or -1.
 */
int maildir_quota_parse_size(const char *text, uint64_t *bytes_r);

/*
 * Parses a Dovecot userdb quota rule, "*:storage=1G" or
 * "*:storage=500M:messages=10000" ("bytes=N" is bytes, "storage=N" without
 * a suffix is kilobytes, as in Dovecot; "*:ignore" and "none" mean no
 * limit). Only the "*" (whole user) rule is understood. Sets the limits it
 * names and leaves the others alone. Returns 0, or -1 with a reason
 * (static).
 */
int maildir_quota_rule_parse(const char *rule, uint64_t *bytes_r,
			     uint64_t *count_r, const char **error_r);

/*
 * Sets set->quota_bytes / quota_count for a user: default_bytes (from
 * mail.quota) unless the userdb's fields ("key=value", the "userdb_"
 * prefix removed, may be NULL) hold a quota_rule. Returns 0, or -1 with a
 * reason (the limits are then the default's).
 */
int maildir_quota_settings(struct maildir_settings *set, uint64_t default_bytes,
			   const char *const *userdb_fields,
			   const char **error_r);

/*
 * The user's use and limits (0 = none), refreshing the file by the rules
 * above. With no limits, the use is 0 and nothing is read. Returns 0 or
 * -1 with a reason.
 */
int maildir_quota_get(struct maildir *store, uint64_t *used_bytes_r,
		      uint64_t *used_count_r, uint64_t *limit_bytes_r,
		      uint64_t *limit_count_r, const char **error_r);

/*
 * Whether adding `count` messages of `bytes` in total stays within the
 * limits. Over: -1 with MAILDIR_ERROR_NO_SPACE set on the store and
 * MAILDIR_QUOTA_EXCEEDED in *error_r. A file that
 * cannot be read or written does not refuse mail (logged).
 */
int maildir_quota_check(struct maildir *store, uint64_t bytes, uint64_t count,
			const char **error_r);

/* Records a change (after a store, a copy, an expunge) by appending a
 * line. Nothing happens without limits or without the file. */
void maildir_quota_update(struct maildir *store, int64_t bytes, int64_t count);

/* Recalculates the file now (merpati index). Returns 0 or -1. */
int maildir_quota_recalc(struct maildir *store, const char **error_r);

#endif
