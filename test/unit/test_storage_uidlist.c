/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: the dovecot-uidlist parser, writer and dot-lock. */
#include "storage/uidlist.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char dovecot_text[] =
	"3 V1795655779 N4 Gd9fc65396388076bb91d000083ecc375\n"
	"2 :1795655780.M4660P7611.vm,S=30,W=34\n"
	"3 W34 S30 :1795655780.M40745P7613.vm,S=30,W=34\n";

static void assert_parse_ok(struct uidlist *list, const char *text)
{
	const char *error = NULL;
	int ret = uidlist_parse(list, text, strlen(text), &error);

	if (ret != 0)
		fail_msg("parse failed: %s", error);
}

static void test_parse_dovecot(void **state)
{
	struct uidlist *list = uidlist_new();
	struct buf out;

	(void)state;
	assert_parse_ok(list, dovecot_text);
	assert_int_equal(uidlist_uidvalidity(list), 1795655779u);
	assert_int_equal(uidlist_next_uid(list), 4);
	assert_int_equal(uidlist_count(list), 2);
	assert_int_equal(uidlist_get(list, 0)->uid, 2);
	assert_null(uidlist_get(list, 0)->ext);
	assert_string_equal(uidlist_get(list, 1)->ext, "W34 S30");
	assert_string_equal(uidlist_get(list, 1)->base,
			    "1795655780.M40745P7613.vm,S=30,W=34");
	assert_int_equal(
		uidlist_find(list, "1795655780.M4660P7611.vm,S=30,W=34", 34),
		0);
	assert_int_equal(uidlist_find(list, "nope", 4), -1);
	assert_int_equal(uidlist_find_uid(list, 3), 1);
	assert_int_equal(uidlist_find_uid(list, 1), -1);
	/* written back byte for byte, unknown header fields kept */
	buf_init(&out, BUF_UNLIMITED);
	uidlist_serialize(list, &out);
	assert_string_equal(out.data, dovecot_text);
	buf_free(&out);
	uidlist_free(&list);
	assert_null(list);
}

static void test_parse_variants(void **state)
{
	struct uidlist *list = uidlist_new();

	(void)state;
	/* records appended by Dovecot without a header rewrite */
	assert_parse_ok(list, "3 V5 N2\n1 :a\n7 :b\n");
	assert_int_equal(uidlist_next_uid(list), 8);
	/* info suffix in a record name is not part of the key */
	assert_parse_ok(list, "3 V5 N9\n1 :a:2,S\n");
	assert_string_equal(uidlist_get(list, 0)->base, "a");
	/* version 1 (Courier) */
	assert_parse_ok(list, "1 77 10\n3 x.y.z\n5 q:2,S\n");
	assert_int_equal(uidlist_uidvalidity(list), 77);
	assert_int_equal(uidlist_next_uid(list), 10);
	assert_int_equal(uidlist_count(list), 2);
	assert_string_equal(uidlist_get(list, 1)->base, "q");
	/* empty lines are allowed, header field order is free */
	assert_parse_ok(list, "3 N3 V9\n\n1 :a\n");
	assert_int_equal(uidlist_uidvalidity(list), 9);
	uidlist_free(&list);
}

static void test_parse_damaged(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"3 V1 N2",	       /* torn: no final LF */
		"3 V1 N5\n1 :a\n2 :b", /* torn record */
		"2 V1 N2\n",	       /* unknown version */
		"3 N2\n",	       /* no UIDVALIDITY */
		"3 V0 N2\n",
		"3 V1 N0\n",
		"3 Vx N2\n",
		"3 V1 N99999999999\n",
		"3 V1 N5\n2 :a\n1 :b\n", /* UIDs going down */
		"3 V1 N5\n2 :a\n2 :b\n", /* duplicate UID */
		"3 V1 N5\n1 :a\n2 :a\n", /* duplicate name */
		"3 V1 N5\n0 :a\n",
		"3 V1 N5\nx :a\n",
		"3 V1 N5\n1 a\n", /* no ':' */
		"3 V1 N5\n1 :\n",
		"3 V1 N5\n1 :../etc/passwd\n",
		"3 V1 N5\n1 :a\0b\n",
		"1 5\n",
	};
	struct uidlist *list = uidlist_new();
	const char *error;

	(void)state;
	assert_parse_ok(list, "3 V42 N3\n1 :keep\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);

		if (i == 18) /* the NUL is inside the text */
			len = sizeof("3 V1 N5\n1 :a\0b\n") - 1;
		error = NULL;
		if (uidlist_parse(list, bad[i], len, &error) != -1)
			fail_msg("damaged text %zu accepted", i);
		assert_non_null(error);
		/* a refused file leaves the list as it was */
		assert_int_equal(uidlist_uidvalidity(list), 42);
		assert_int_equal(uidlist_count(list), 1);
	}
	uidlist_free(&list);
}

static void test_append_remove(void **state)
{
	struct uidlist *list = uidlist_new();
	char name[32];
	bool *drop;

	(void)state;
	uidlist_set_uidvalidity(list, 1);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "msg%u", i);
		assert_int_equal(uidlist_append(list, name, strlen(name), NULL),
				 i + 1);
	}
	assert_int_equal(uidlist_append(list, "msg5", 4, NULL), 0);
	drop = calloc(1000, sizeof(*drop));
	for (unsigned i = 0; i < 1000; i += 2)
		drop[i] = true;
	uidlist_remove_marked(list, drop);
	free(drop);
	assert_int_equal(uidlist_count(list), 500);
	assert_int_equal(uidlist_find(list, "msg0", 4), -1);
	assert_int_equal(uidlist_find(list, "msg1", 4), 0);
	/* UIDs never come back after expunges */
	assert_int_equal(uidlist_append(list, "msg0", 4, NULL), 1001);
	uidlist_raise_next_uid(list, 5);
	assert_int_equal(uidlist_next_uid(list), 1002);
	uidlist_raise_next_uid(list, 2000);
	assert_int_equal(uidlist_next_uid(list), 2000);
	uidlist_free(&list);
}

static char *make_tmpdir(void)
{
	char *dir = strdup("/tmp/merpati-uidlist-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void test_write_read(void **state)
{
	struct uidlist *list = uidlist_new(), *back = uidlist_new();
	char *dir = make_tmpdir(), path[256];
	const char *error;
	struct buf a, b;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, UIDLIST_FILE);
	assert_int_equal(uidlist_read(back, path, &error), 0);
	assert_parse_ok(list, dovecot_text);
	uidlist_append(list, "new.file", 8, "W10");
	assert_int_equal(uidlist_write(list, path, true, &error), 0);
	assert_int_equal(uidlist_read(back, path, &error), 1);
	buf_init(&a, BUF_UNLIMITED);
	buf_init(&b, BUF_UNLIMITED);
	uidlist_serialize(list, &a);
	uidlist_serialize(back, &b);
	assert_string_equal(a.data, b.data);
	assert_non_null(strstr(a.data, "\n4 W10 :new.file\n"));
	buf_free(&a);
	buf_free(&b);
	unlink(path);
	rmdir(dir);
	free(dir);
	uidlist_free(&list);
	uidlist_free(&back);
}

/* Dovecot appends records without rewriting the header: a last record
 * whose UID equals N (or passes it) means the next UID is one above it. */
static void test_next_uid_rule(void **state)
{
	struct uidlist *list = uidlist_new();

	(void)state;
	assert_parse_ok(list, "3 V7 N3\n1 :a\n3 :b\n");
	assert_int_equal(uidlist_next_uid(list), 4);
	assert_int_equal(uidlist_append(list, "c", 1, NULL), 4);
	assert_parse_ok(list, "3 V7 N3\n1 :a\n2 :b\n");
	assert_int_equal(uidlist_next_uid(list), 3);
	assert_parse_ok(list, "3 V7 N3\n1 :a\n2 :b\n9 :c\n");
	assert_int_equal(uidlist_next_uid(list), 10);
	/* N above the last record stays: expunged UIDs are not reused */
	assert_parse_ok(list, "3 V7 N20\n1 :a\n3 :b\n");
	assert_int_equal(uidlist_next_uid(list), 20);
	uidlist_free(&list);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* The header and the last line only: the same next UID as a full read. */
static void test_peek(void **state)
{
	char *dir = make_tmpdir(), path[256];
	struct uidlist *list = uidlist_new();
	const char *error;
	uint32_t v = 0, n = 0;
	static const char *const texts[] = {
		"3 V7 N3\n1 :a\n3 :b\n",
		"3 V7 N3 Gabc\n1 :a\n2 W12 :b\n",
		"3 V7 N20\n1 :a\n3 :b\n",
		"3 V7 N5\n",
	};

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, UIDLIST_FILE);
	assert_int_equal(uidlist_peek(path, &v, &n), 0);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_text(path, texts[i]);
		assert_int_equal(uidlist_peek(path, &v, &n), 1);
		assert_int_equal(uidlist_read(list, path, &error), 1);
		assert_int_equal(v, 7);
		assert_int_equal(n, uidlist_next_uid(list));
	}
	/* a torn last line, version 1, garbage: read it whole instead */
	write_text(path, "3 V7 N3\n1 :a\n3 :b");
	assert_int_equal(uidlist_peek(path, &v, &n), -1);
	write_text(path, "1 7 3\n1 a\n");
	assert_int_equal(uidlist_peek(path, &v, &n), -1);
	write_text(path, "3 V7 N3\n1 :a\nxx :b\n");
	assert_int_equal(uidlist_peek(path, &v, &n), -1);
	unlink(path);
	rmdir(dir);
	free(dir);
	uidlist_free(&list);
}

static void test_append_file(void **state)
{
	char *dir = make_tmpdir(), path[256];
	struct uidlist *list = uidlist_new();
	const char *error = NULL;
	uint32_t uid = 0;
	struct stat st;
	off_t before;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, UIDLIST_FILE);
	/* missing: the caller writes the list whole */
	assert_int_equal(uidlist_append_file(path, "x", 1, false, &uid, &error),
			 0);
	/* the header lags (Dovecot appended UID 3 = N): a fresh UID */
	write_text(path, "3 V7 N3 Gabc\n1 :a\n3 :b\n");
	assert_int_equal(
		uidlist_append_file(path, "c.1", 3, true, &uid, &error), 1);
	assert_int_equal(uid, 4);
	assert_int_equal(
		uidlist_append_file(path, "d.2", 3, false, &uid, &error), 1);
	assert_int_equal(uid, 5);
	assert_int_equal(uidlist_read(list, path, &error), 1);
	assert_int_equal(uidlist_count(list), 4);
	assert_int_equal(uidlist_get(list, 2)->uid, 4);
	assert_string_equal(uidlist_get(list, 3)->base, "d.2");
	assert_int_equal(uidlist_next_uid(list), 6);
	/* the header is left as Dovecot left it: the cost is one line */
	{
		FILE *fp = fopen(path, "r");
		char line[64];

		assert_non_null(fgets(line, sizeof(line), fp));
		fclose(fp);
		assert_string_equal(line, "3 V7 N3 Gabc\n");
	}
	/* a torn last line is never appended to */
	write_text(path, "3 V7 N3\n1 :a\n3 :b");
	assert_int_equal(stat(path, &st), 0);
	before = st.st_size;
	assert_int_equal(uidlist_append_file(path, "e", 1, false, &uid, &error),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, before);
	/* names that would break the format are refused */
	write_text(path, "3 V7 N3\n");
	assert_int_equal(
		uidlist_append_file(path, "a:b", 3, false, &uid, &error), 0);
	assert_int_equal(
		uidlist_append_file(path, "a\nb", 3, false, &uid, &error), 0);
	assert_int_equal(
		uidlist_append_file(path, "a/b", 3, false, &uid, &error), 0);
	/* the UID space is exhausted: the caller decides */
	write_text(path, "3 V7 N4294967294\n");
	assert_int_equal(uidlist_append_file(path, "f", 1, false, &uid, &error),
			 0);
	unlink(path);
	rmdir(dir);
	free(dir);
	uidlist_free(&list);
}

static void test_lock(void **state)
{
	struct uidlist_lock *lock = NULL, *lock2 = NULL;
	char *dir = make_tmpdir(), path[256];
	const char *error;
	struct timespec old[2] = {{0, 0}, {0, 0}};
	pid_t pid;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, UIDLIST_LOCK_FILE);
	assert_int_equal(uidlist_lock_take(dir, 120, 5, &lock, &error), 0);
	assert_int_equal(access(path, F_OK), 0);
	/* held and fresh: a second taker times out */
	assert_int_equal(uidlist_lock_take(dir, 120, 1, &lock2, &error), -1);
	uidlist_lock_release(&lock);
	assert_null(lock);
	assert_int_equal(access(path, F_OK), -1);

	/* stale by age: not refreshed for longer than stale_secs */
	f = fopen(path, "w");
	fprintf(f, "1:some-other-host\n");
	fclose(f);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 200;
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(uidlist_lock_take(dir, 120, 5, &lock, &error), 0);
	uidlist_lock_release(&lock);

	/* stale because its holder on this host died (kill -9) */
	pid = fork();
	if (pid == 0) {
		struct uidlist_lock *child_lock;

		if (uidlist_lock_take(dir, 120, 5, &child_lock, &error) < 0)
			_exit(1);
		_exit(0); /* dies holding the lock */
	}
	waitpid(pid, NULL, 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(uidlist_lock_take(dir, 120, 5, &lock, &error), 0);
	uidlist_lock_release(&lock);

	/* an empty lock (holder killed between create and write) */
	f = fopen(path, "w");
	fclose(f);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 10;
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(uidlist_lock_take(dir, 120, 5, &lock, &error), 0);
	uidlist_lock_touch(lock);
	uidlist_lock_release(&lock);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_dovecot),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_damaged),
		cmocka_unit_test(test_append_remove),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_next_uid_rule),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_append_file),
		cmocka_unit_test(test_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
