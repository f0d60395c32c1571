/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mail_user: the one way to open a user's store from what the auth helper
 * answered, for POP3, IMAP, deliver and LMTP alike, so that a per-user
 * setting the helper sends (mail root today; userdb and quota fields as
 * they come) is applied the same way everywhere.
 *
 *   struct mail_user u = {r->user, r->mail_root, r->overrides};
 *   maildir_settings_init(&set);  set.fsync = ...;  set.lock_timeout_secs = 5;
 *   switch (mail_user_open(&u, &set, &store, &error)) {
 *   case MAIL_USER_OK:      // store is the user's, theirs to maildir_free()
 *   case MAIL_USER_NO_ROOT: // permanent: the user has no mail location
 *   case MAIL_USER_FAILED:  // maildir_open() failed: error says why
 *   }
 *
 * The struct holds the auth reply's fields, borrowed for the call only;
 * a field the storage does not know yet is ignored. Known: quota_rule=
 * (maildir_quota.h), which replaces set->quota_bytes (mail.quota); a rule
 * that cannot be parsed is MAIL_USER_FAILED.
 */
#ifndef MERPATI_MAIL_USER_H
#define MERPATI_MAIL_USER_H

#include "storage/maildir.h"

struct mail_user {
	const char *name;	      /* canonical user name (for errors) */
	const char *mail_root;	      /* the Maildir root; NULL or "": none */
	const char *const *overrides; /* "key=value" per-user settings,
					 NULL-terminated, or NULL */
};

enum mail_user_result {
	MAIL_USER_OK = 0,
	MAIL_USER_FAILED = -1,	/* maildir_open() failed (temporary) */
	MAIL_USER_NO_ROOT = -2, /* no mail location (permanent) */
};

/* Opens (creating INBOX when missing) user's store with set (copied).
   On failure *store_r is NULL and *error_r a client-safe reason. */
enum mail_user_result mail_user_open(const struct mail_user *user,
				     const struct maildir_settings *set,
				     struct maildir **store_r,
				     const char **error_r);

#endif
