/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/mail_user.h"

#include "lib/log.h"
#include "storage/maildir_quota.h"

#include <stddef.h>

enum mail_user_result mail_user_open(const struct mail_user *user,
				     const struct maildir_settings *set,
				     struct maildir **store_r,
				     const char **error_r)
{
	*store_r = NULL;
	if (user->mail_root == NULL || user->mail_root[0] == '\0') {
		*error_r = "No mail location for this user";
		return MAIL_USER_NO_ROOT;
	}
	struct maildir_settings uset = *set;

	/* the userdb's quota_rule replaces mail.quota (set->quota_bytes) */
	if (maildir_quota_settings(&uset, set->quota_bytes, user->overrides,
				   error_r) < 0) {
		log_warn("event=user_settings user=%s error=%s",
			 log_q(user->name != NULL ? user->name : "-"),
			 log_q(*error_r));
		*error_r = "The user's quota_rule cannot be read";
		return MAIL_USER_FAILED;
	}
	if (maildir_open(user->mail_root, &uset, true, store_r, error_r) < 0)
		return MAIL_USER_FAILED;
	return MAIL_USER_OK;
}
