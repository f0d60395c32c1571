/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: hostile Maildir contents. Temporary files are created
 * exclusively and never through a link planted at a predictable name;
 * maildir_file_open() refuses FIFOs, symlinks and directories without
 * blocking; a full UID space and a UIDVALIDITY counter at its top start
 * over cleanly. */
#include "storage/cache.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/maildir_file.h"
#include "storage/maildir_private.h"
#include "storage/uidlist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define VICTIM_TEXT "the victim's own content\n"

struct fixture {
	char dir[PATH_MAX / 2]; /* the temporary directory */
	char root[PATH_MAX];	/* dir/mail */
	char victim[PATH_MAX];
	struct maildir *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct maildir_settings set;
	const char *error;
	FILE *fp;

	strcpy(f->dir, "/tmp/merpati-hostile-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/mail", f->dir);
	snprintf(f->victim, sizeof(f->victim), "%s/victim", f->dir);
	fp = fopen(f->victim, "w");
	if (fp == NULL)
		return -1;
	fputs(VICTIM_TEXT, fp);
	fclose(fp);
	maildir_settings_init(&set);
	set.fsync = false;
	if (maildir_open(f->root, &set, true, &f->store, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 32];

	maildir_free(&f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void plant(struct fixture *f, const char *fmt, ...)
{
	char name[PATH_MAX / 2], path[PATH_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", f->root, name);
	assert_int_equal(symlink(f->victim, path), 0);
}

static void assert_regular(struct fixture *f, const char *name)
{
	char path[PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->root, name);
	assert_int_equal(lstat(path, &st), 0);
	if (!S_ISREG(st.st_mode))
		fail_msg("%s is not a regular file", name);
}

static void assert_victim_intact(struct fixture *f)
{
	char text[256];
	ssize_t n;
	int fd = open(f->victim, O_RDONLY);

	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n >= 0);
	text[n] = '\0';
	assert_string_equal(text, VICTIM_TEXT);
}

/* Item 5: links planted at every temporary name the storage used to pick
 * (<file>.<pid>.tmp, tmp/dovecot-uidlist.<pid>.tmp, the lock's
 * tmp/dovecot-uidlist.lock.<pid>.<host>) are never written through and
 * never renamed over the real files. */
static void test_planted_tmp_links(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = NULL;
	struct mailbox_append *ctx;
	char host[256] = "localhost";
	long pid = (long)getpid();
	const char *error;
	uint64_t size, vsize;
	uint32_t uid;

	gethostname(host, sizeof(host) - 1);
	plant(f, "tmp/dovecot-uidlist.%ld.tmp", pid);
	plant(f, "dovecot-uidlist.%ld.tmp", pid);
	plant(f, "tmp/dovecot-uidlist.lock.%ld.%s", pid, host);
	plant(f, "dovecot-keywords.%ld.tmp", pid);
	plant(f, "merpati.cache.%ld.tmp", pid);
	plant(f, "subscriptions.%ld.tmp", pid);
	plant(f, "dovecot-uidvalidity.%ld.tmp", pid);

	assert_int_equal(mailbox_open(f->store, "INBOX", 0, &box, &error), 0);
	assert_int_equal(mailbox_append_begin(box, &ctx, &error), 0);
	assert_int_equal(
		mailbox_append_write(ctx, "Subject: x\n\nx\n", 14, &error), 0);
	assert_int_equal(mailbox_append_finish(&ctx, 0, 0, 0, &uid, &error), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(mailbox_keyword_index(box, "$Junk", true, &error), 0);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(mailbox_msg_sizes(box, 0, &size, &vsize, &error), 0);
	mail_cache_put(mailbox_cache(box), 1, MAIL_CACHE_FIELD_SIZES, "x", 1);
	assert_int_equal(mailbox_cache_save(box), 0);
	assert_int_equal(maildir_subscribe(f->store, "INBOX", true, &error), 0);
	mailbox_free(&box);

	assert_victim_intact(f);
	assert_regular(f, "dovecot-uidlist");
	assert_regular(f, "dovecot-keywords");
	assert_regular(f, "merpati.cache");
	assert_regular(f, "subscriptions");
	assert_regular(f, "dovecot-uidvalidity");
}

/* Item 5: a link planted as a folder's `maildirfolder` marker or as the
 * UID list itself is replaced, never followed. */
static void test_planted_final_links(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = NULL;
	const char *error;

	plant(f, "dovecot-uidlist");
	assert_int_equal(mailbox_open(f->store, "INBOX", 0, &box, &error), 0);
	mailbox_free(&box);
	assert_victim_intact(f);
	assert_regular(f, "dovecot-uidlist");
}

/* Items 3 and 4: only regular files open, and a FIFO does not block. */
static void test_file_open(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX * 2];
	const char *reason;
	struct stat st;
	int fd;

	alarm(10); /* a blocking open() would hang here */
	snprintf(path, sizeof(path), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(maildir_file_open(path, &st, &reason), -1);
	assert_string_equal(reason, "not a regular file");
	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(symlink(f->victim, path), 0);
	assert_int_equal(maildir_file_open(path, &st, &reason), -1);
	assert_string_equal(reason, "not a regular file");
	assert_int_equal(maildir_file_open(f->root, &st, &reason), -1);
	assert_string_equal(reason, "not a regular file");
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(maildir_file_open(path, &st, &reason), -1);
	assert_int_equal(errno, ENOENT);
	fd = maildir_file_open(f->victim, &st, &reason);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, strlen(VICTIM_TEXT));
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	alarm(0);
}

/* Item 5: exclusive creation, retried under another name. */
static void test_create_tmp(void **state)
{
	struct fixture *f = *state;
	struct buf a, b;
	int fa, fb;

	buf_init(&a, BUF_UNLIMITED);
	buf_init(&b, BUF_UNLIMITED);
	fa = maildir_file_create_tmp(f->dir, "x", &a);
	fb = maildir_file_create_tmp(f->dir, "x", &b);
	assert_true(fa >= 0 && fb >= 0);
	assert_string_not_equal(a.data, b.data);
	assert_non_null(strstr(a.data, "/x."));
	assert_non_null(strstr(a.data, ".tmp"));
	close(fa);
	close(fb);
	buf_reset(&a);
	fa = maildir_file_create_tmp(f->dir, NULL, &a);
	assert_true(fa >= 0);
	close(fa);
	buf_free(&a);
	buf_free(&b);
}

/* Item 8: a UIDVALIDITY counter at ffffffff does not wrap; the new value
 * is above the folder's old one, and differs from it even at the top. */
static void test_uidvalidity_counter(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX * 2], text[16] = "";
	uint32_t now = (uint32_t)time(NULL), v;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("ffffffff", fp);
	fclose(fp);
	v = maildir_next_uidvalidity(f->store, 0);
	assert_true(v >= now && v < UINT32_MAX);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	assert_int_equal(strtoul(text, NULL, 16), v);
	/* then it counts on from there */
	assert_int_equal(maildir_next_uidvalidity(f->store, 0), v + 1);
	/* above the folder's own old value */
	assert_int_equal(maildir_next_uidvalidity(f->store, 4000000000u),
			 4000000001u);
	v = maildir_next_uidvalidity(f->store, UINT32_MAX);
	assert_true(v != UINT32_MAX && v != 0);
}

/* Item 8: N4294967295 is a full list; renumbering starts over. */
static void test_uid_space_full(void **state)
{
	struct uidlist *list = uidlist_new();
	const char *text = "3 V1000 N4294967295 Gabc\n"
			   "7 W5 :a\n"
			   "4294967294 :b\n";
	const char *error;
	struct buf out;

	(void)state;
	assert_int_equal(uidlist_parse(list, text, strlen(text), &error), 0);
	assert_true(uidlist_is_full(list));
	assert_int_equal(uidlist_append(list, "c", 1, NULL), 0);
	uidlist_renumber(list, 2000);
	assert_false(uidlist_is_full(list));
	assert_int_equal(uidlist_append(list, "c", 1, NULL), 3);
	buf_init(&out, BUF_UNLIMITED);
	uidlist_serialize(list, &out);
	assert_string_equal(out.data, "3 V2000 N4 Gabc\n"
				      "1 W5 :a\n"
				      "2 :b\n"
				      "3 :c\n");
	buf_free(&out);
	uidlist_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_planted_tmp_links, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_planted_final_links, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_tmp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity_counter, setup,
						teardown),
		cmocka_unit_test(test_uid_space_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
