/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: folder attributes (storage/maildir_attr.h): special uses
 * that follow a rename, and \Marked from new/, the UID list and the last
 * selection. */
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/maildir_attr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char root[64];

static struct maildir *open_store(void)
{
	struct maildir_settings set;
	struct maildir *store = NULL;
	const char *error;

	snprintf(root, sizeof(root), "/tmp/test_maildir_attr.XXXXXX");
	assert_non_null(mkdtemp(root));
	maildir_settings_init(&set);
	set.fsync = false;
	assert_int_equal(maildir_open(root, &set, true, &store, &error), 0);
	return store;
}

static void close_store(struct maildir **store)
{
	char cmd[128];

	maildir_free(store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void put_file(const char *folder_dir, const char *sub, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s/%s", root, folder_dir, sub,
		 name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Subject: x\n\nbody\n", f);
	fclose(f);
}

static void test_uses_follow_rename(void **state)
{
	struct maildir *store = open_store();
	const char *error;

	(void)state;
	assert_int_equal(maildir_use_from_name("\\sent", 5), MAILDIR_USE_SENT);
	assert_int_equal(maildir_use_from_name("\\Sentx", 6), 0);
	assert_int_equal(maildir_create(store, "A/B", &error), 0);
	assert_int_equal(maildir_attr_uses(store, "A/B"), 0);
	assert_int_equal(maildir_attr_set_uses(
				 store, "A/B",
				 MAILDIR_USE_SENT | MAILDIR_USE_JUNK, &error),
			 0);
	assert_int_equal(maildir_attr_uses(store, "A/B"),
			 MAILDIR_USE_SENT | MAILDIR_USE_JUNK);
	assert_int_equal(maildir_rename(store, "A", "C", &error), 0);
	assert_int_equal(maildir_attr_uses(store, "C/B"),
			 MAILDIR_USE_SENT | MAILDIR_USE_JUNK);
	assert_int_equal(maildir_attr_uses(store, "A/B"), 0);
	assert_int_equal(maildir_attr_set_uses(store, "C/B", 0, &error), 0);
	assert_int_equal(maildir_attr_uses(store, "C/B"), 0);
	assert_int_equal(
		maildir_attr_set_uses(store, "Nope", MAILDIR_USE_SENT, &error),
		-1);
	assert_int_equal(maildir_last_error(store), MAILDIR_ERROR_NOT_FOUND);
	close_store(&store);
}

static void test_marked(void **state)
{
	struct maildir *store = open_store();
	struct mailbox *box = NULL;
	const char *error;

	(void)state;
	assert_int_equal(maildir_create(store, "F", &error), 0);
	/* empty, never selected */
	assert_false(maildir_attr_marked(store, "F"));
	/* a file in cur/ nobody indexed yet */
	put_file(".F", "cur", "1.M1P1.h:2,S");
	assert_true(maildir_attr_marked(store, "F"));
	/* selected: the UID list and the last selection agree */
	assert_int_equal(mailbox_open(store, "F", 0, &box, &error), 0);
	maildir_attr_note_select(store, "F", mailbox_uidvalidity(box),
				 mailbox_uidnext(box));
	mailbox_free(&box);
	assert_false(maildir_attr_marked(store, "F"));
	/* a delivery into new/ */
	put_file(".F", "new", "2.M2P1.h");
	assert_true(maildir_attr_marked(store, "F"));
	/* another session's sync moves it to cur/ and gives it a UID */
	assert_int_equal(mailbox_open(store, "F", 0, &box, &error), 0);
	mailbox_free(&box);
	assert_true(maildir_attr_marked(store, "F"));
	assert_int_equal(mailbox_open(store, "F", 0, &box, &error), 0);
	maildir_attr_note_select(store, "F", mailbox_uidvalidity(box),
				 mailbox_uidnext(box));
	mailbox_free(&box);
	assert_false(maildir_attr_marked(store, "F"));
	close_store(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uses_follow_rename),
		cmocka_unit_test(test_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
