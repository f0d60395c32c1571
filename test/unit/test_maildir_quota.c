/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: Maildir++ quota (maildir_quota.h): sizes, Dovecot quota
 * rules, the maildirsize file's reading, updating and recalculation. */
#include "storage/maildir.h"
#include "storage/maildir_quota.h"

#include <fcntl.h>
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

static void test_parse_size(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(maildir_quota_parse_size("", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(maildir_quota_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(maildir_quota_parse_size("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(maildir_quota_parse_size("2k", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(maildir_quota_parse_size("5M", &v), 0);
	assert_int_equal(v, 5ull << 20);
	assert_int_equal(maildir_quota_parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(maildir_quota_parse_size("1GB", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(maildir_quota_parse_size("3t", &v), 0);
	assert_int_equal(v, 3ull << 40);
	assert_int_equal(maildir_quota_parse_size("-1", &v), -1);
	assert_int_equal(maildir_quota_parse_size("1X", &v), -1);
	assert_int_equal(maildir_quota_parse_size("1 G", &v), -1);
	assert_int_equal(maildir_quota_parse_size("99999999999999999999", &v),
			 -1);
	assert_int_equal(maildir_quota_parse_size("99999999999T", &v), -1);
}

static void test_rule_parse(void **state)
{
	uint64_t b = 7, c = 7;
	const char *error;

	(void)state;
	assert_int_equal(
		maildir_quota_rule_parse("*:storage=1G", &b, &c, &error), 0);
	assert_int_equal(b, 1ull << 30);
	assert_int_equal(c, 7); /* left alone */
	/* Dovecot: storage= without a suffix is kilobytes, bytes= bytes */
	assert_int_equal(maildir_quota_rule_parse("*:storage=100:messages=50",
						  &b, &c, &error),
			 0);
	assert_int_equal(b, 102400);
	assert_int_equal(c, 50);
	assert_int_equal(
		maildir_quota_rule_parse("*:bytes=100", &b, &c, &error), 0);
	assert_int_equal(b, 100);
	assert_int_equal(maildir_quota_rule_parse("*:ignore", &b, &c, &error),
			 0);
	assert_int_equal(b, 0);
	assert_int_equal(c, 0);
	assert_int_equal(
		maildir_quota_rule_parse("Trash:storage=+10M", &b, &c, &error),
		-1);
	assert_int_equal(
		maildir_quota_rule_parse("*:storage=1Q", &b, &c, &error), -1);
	assert_int_equal(
		maildir_quota_rule_parse("*:messages=-1", &b, &c, &error), -1);
	assert_int_equal(
		maildir_quota_rule_parse("*:color=blue", &b, &c, &error), -1);
	assert_int_equal(maildir_quota_rule_parse("*:storage", &b, &c, &error),
			 -1);
}

static void test_settings(void **state)
{
	struct maildir_settings set;
	const char *fields[] = {"uid=5", "quota_rule=*:storage=2M", NULL};
	const char *bad[] = {"quota_rule=junk", NULL};
	const char *error;

	(void)state;
	maildir_settings_init(&set);
	assert_int_equal(set.quota_bytes, 0);
	assert_int_equal(maildir_quota_settings(&set, 1000, NULL, &error), 0);
	assert_int_equal(set.quota_bytes, 1000);
	assert_int_equal(maildir_quota_settings(&set, 1000, fields, &error), 0);
	assert_int_equal(set.quota_bytes, 2ull << 20);
	assert_int_equal(maildir_quota_settings(&set, 1000, bad, &error), -1);
}

struct fixture {
	char dir[64];
	struct maildir *store;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
	static char data[8192];
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	data[n < 0 ? 0 : n] = '\0';
	return data;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct maildir_settings set;
	const char *error;

	snprintf(f->dir, sizeof(f->dir), "/tmp/merpati-quota-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	maildir_settings_init(&set);
	set.fsync = false;
	set.quota_bytes = 10000;
	set.quota_count = 3;
	assert_int_equal(maildir_open(f->dir, &set, true, &f->store, &error),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	maildir_free(&f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_file(void **state)
{
	struct fixture *f = *state;
	uint64_t ub, uc, lb, lc;
	const char *error;

	/* missing: recalculated from the messages (",S=" or the file size) */
	write_file(f->dir, "cur/1.M1P1.h,S=4000,W=4100:2,S", "x");
	write_file(f->dir, "new/2.M2P2.h", "12345");
	assert_int_equal(maildir_create(f->store, "Sub", &error), 0);
	{
		char sub[128];

		snprintf(sub, sizeof(sub), "%s/.Sub", f->dir);
		write_file(sub, "cur/3.M3P3.h,S=1000:2,", "y");
	}
	assert_int_equal(
		maildir_quota_get(f->store, &ub, &uc, &lb, &lc, &error), 0);
	assert_int_equal(ub, 5005);
	assert_int_equal(uc, 3);
	assert_int_equal(lb, 10000);
	assert_int_equal(lc, 3);
	assert_string_equal(read_file(f->dir, "maildirsize"),
			    "10000S,3C\n5005 3\n");
	/* the count limit is reached */
	assert_int_equal(maildir_quota_check(f->store, 1, 1, &error), -1);
	assert_int_equal(maildir_last_error(f->store), MAILDIR_ERROR_NO_SPACE);
	assert_string_equal(error, MAILDIR_QUOTA_EXCEEDED);
	maildir_quota_update(f->store, -1000, -1);
	assert_string_equal(read_file(f->dir, "maildirsize"),
			    "10000S,3C\n5005 3\n-1000 -1\n");
	assert_int_equal(maildir_quota_check(f->store, 5995, 1, &error), 0);
	assert_int_equal(maildir_quota_check(f->store, 5996, 1, &error), -1);
	assert_int_equal(maildir_quota_check(f->store, UINT64_MAX, 0, &error),
			 -1);
	/* limits in either order, Courier's padded lines */
	write_file(f->dir, "maildirsize", "3C,10000S\n   4005      2\n");
	assert_int_equal(
		maildir_quota_get(f->store, &ub, &uc, &lb, &lc, &error), 0);
	assert_int_equal(ub, 4005);
	assert_string_equal(read_file(f->dir, "maildirsize"),
			    "3C,10000S\n   4005      2\n");
	/* damaged: a line without its end, a negative total */
	const char *damaged[] = {"10000S,3C\n5 1", "10000S,3C\n-5 -1\n",
				 "10000Q\n1 1\n", "10000S,3C\n1 1 1\n",
				 "10000S,3C"};

	for (size_t i = 0; i < sizeof(damaged) / sizeof(*damaged); i++) {
		write_file(f->dir, "maildirsize", damaged[i]);
		assert_int_equal(
			maildir_quota_get(f->store, &ub, &uc, &lb, &lc, &error),
			0);
		assert_int_equal(ub, 5005);
		assert_string_equal(read_file(f->dir, "maildirsize"),
				    "10000S,3C\n5005 3\n");
	}
	/* no file: an update does not make one */
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/maildirsize", f->dir);
		unlink(path);
	}
	maildir_quota_update(f->store, 10, 1);
	assert_null(read_file(f->dir, "maildirsize"));
	/* a fresh lock held by someone else: the sums are used, not written */
	write_file(f->dir, "maildirsize.lock", "1\n");
	assert_int_equal(
		maildir_quota_get(f->store, &ub, &uc, &lb, &lc, &error), 0);
	assert_int_equal(ub, 5005);
	assert_null(read_file(f->dir, "maildirsize"));
	assert_int_equal(maildir_quota_recalc(f->store, &error), 0);
	assert_null(read_file(f->dir, "maildirsize"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_rule_parse),
		cmocka_unit_test(test_settings),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
