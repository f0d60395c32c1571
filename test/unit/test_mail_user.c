/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: mail_user_open(), the one entry point from an auth reply to
 * a user's store. */
#include "storage/mail_user.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static void test_no_root(void **state)
{
	struct maildir_settings set;
	struct mail_user u = {"alice", NULL, NULL};
	struct maildir *store = (struct maildir *)&u;
	const char *error = NULL;

	(void)state;
	maildir_settings_init(&set);
	assert_int_equal(mail_user_open(&u, &set, &store, &error),
			 MAIL_USER_NO_ROOT);
	assert_null(store);
	assert_string_equal(error, "No mail location for this user");
	u.mail_root = "";
	assert_int_equal(mail_user_open(&u, &set, &store, &error),
			 MAIL_USER_NO_ROOT);
}

static void test_open_creates_inbox(void **state)
{
	static const char *const overrides[] = {"quota=1G", NULL};
	char dir[] = "/tmp/test_mail_user.XXXXXX", root[64], path[96];
	struct maildir_settings set;
	struct mail_user u = {"alice", root, overrides};
	struct maildir *store = NULL;
	const char *error = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/alice", dir);
	maildir_settings_init(&set);
	set.fsync = false;
	assert_int_equal(mail_user_open(&u, &set, &store, &error),
			 MAIL_USER_OK);
	assert_non_null(store);
	snprintf(path, sizeof(path), "%s/new", root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	maildir_free(&store);
	/* a root below a regular file cannot be made: temporary failure */
	snprintf(path, sizeof(path), "%s/file", dir);
	fclose(fopen(path, "w"));
	snprintf(root, sizeof(root), "%s/file/alice", dir);
	assert_int_equal(mail_user_open(&u, &set, &store, &error),
			 MAIL_USER_FAILED);
	assert_null(store);
	assert_non_null(error);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_root),
		cmocka_unit_test(test_open_creates_inbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
