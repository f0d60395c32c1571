/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/mail_user.h"

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
	if (maildir_open(user->mail_root, set, true, store_r, error_r) < 0)
		return MAIL_USER_FAILED;
	return MAIL_USER_OK;
}
