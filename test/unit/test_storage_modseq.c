/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: MODSEQs and the folder index behind a mailbox (arrival, own
 * and outside flag changes, expunges, the expunge log, rebuilds that never
 * go backwards, the warm open from the index and when it is not trusted). */
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/mindex.h"
#include "storage/uidlist.h"

#include <dirent.h>
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

struct fixture {
	char root[PATH_MAX];
	struct maildir *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct maildir_settings set;
	const char *error;

	strcpy(f->root, "/tmp/merpati-modseq-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	strcat(f->root, "/mail");
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
	*strrchr(f->root, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static uint32_t append_text(struct mailbox *box, const char *text,
			    unsigned flags)
{
	struct mailbox_append *ctx;
	const char *error;
	uint32_t uid = 0;

	assert_int_equal(mailbox_append_begin(box, &ctx, &error), 0);
	assert_int_equal(mailbox_append_write(ctx, text, strlen(text), &error),
			 0);
	assert_int_equal(mailbox_append_finish(&ctx, flags, 0, 0, &uid, &error),
			 0);
	return uid;
}

static struct mailbox *open_box(struct fixture *f)
{
	struct mailbox *box = NULL;
	const char *error = NULL;

	if (mailbox_open(f->store, "INBOX", 0, &box, &error) < 0)
		fail_msg("open: %s", error);
	return box;
}

static const struct mailbox_changes *sync_box(struct mailbox *box)
{
	const struct mailbox_changes *ch = NULL;
	const char *error = NULL;

	if (mailbox_sync(box, &ch, &error) < 0)
		fail_msg("sync: %s", error);
	return ch;
}

static uint64_t modseq_of(struct mailbox *box, uint32_t uid)
{
	long idx = mailbox_find_uid(box, uid);
	struct mailbox_msg msg;

	assert_true(idx >= 0);
	mailbox_get(box, (unsigned)idx, &msg);
	return msg.modseq;
}

static void path_of(struct fixture *f, struct mailbox *box, uint32_t uid,
		    char *path, size_t size)
{
	long idx = mailbox_find_uid(box, uid);
	struct mailbox_msg msg;

	assert_true(idx >= 0);
	mailbox_get(box, (unsigned)idx, &msg);
	snprintf(path, size, "%s/cur/%s", f->root, msg.filename);
}

/* Three messages, synced: the index exists. */
static struct mailbox *three(struct fixture *f)
{
	struct mailbox *box = open_box(f);

	assert_int_equal(append_text(box, "Subject: 1\n\na\n", 0), 1);
	assert_int_equal(append_text(box, "Subject: 2\n\nb\n", 0), 2);
	assert_int_equal(append_text(box, "Subject: 3\n\nc\n", 0), 3);
	(void)sync_box(box);
	assert_int_equal(mailbox_count(box), 3);
	return box;
}

static void test_arrival_and_own_flags(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f), *other;
	uint64_t high, m1, m2;
	const char *error;
	uint32_t uid = 2;

	high = mailbox_highest_modseq(box);
	assert_true(high > 0);
	for (uint32_t u = 1; u <= 3; u++) {
		assert_true(modseq_of(box, u) > 0);
		assert_true(modseq_of(box, u) <= high);
	}
	m1 = modseq_of(box, 1);
	/* a flag change raises that message's MODSEQ above every other */
	assert_int_equal(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_SEEN, 0, &error),
			 0);
	m2 = modseq_of(box, 2);
	assert_true(m2 > high);
	assert_int_equal(mailbox_highest_modseq(box), m2);
	assert_int_equal(modseq_of(box, 1), m1);
	/* a no-op STORE changes nothing */
	assert_int_equal(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_SEEN, 0, &error),
			 0);
	assert_int_equal(modseq_of(box, 2), m2);
	/* the next sync does not report our own change again, nor renumber */
	assert_int_equal(sync_box(box)->flags_changed_count, 0);
	assert_int_equal(modseq_of(box, 2), m2);
	/* persisted: another session sees the same */
	other = open_box(f);
	assert_int_equal(modseq_of(other, 2), m2);
	assert_int_equal(modseq_of(other, 1), m1);
	assert_int_equal(mailbox_highest_modseq(other), m2);
	/* arrival: a new message gets a MODSEQ above all */
	assert_int_equal(append_text(box, "Subject: 4\n\nd\n", 0), 4);
	(void)sync_box(other);
	assert_true(modseq_of(other, 4) > m2);
	assert_int_equal(mailbox_highest_modseq(other), modseq_of(other, 4));
	mailbox_free(&other);
	mailbox_free(&box);
}

/* Another program renames a file with new flags, deletes one, adds one
 * by hand: each is noticed at the next sync with a higher MODSEQ. */
static void test_outside_changes(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f);
	const struct mailbox_changes *ch;
	char from[PATH_MAX * 2], to[PATH_MAX * 2];
	uint64_t high = mailbox_highest_modseq(box), high2;
	uint32_t *gone;
	size_t ngone;
	bool complete;
	FILE *fp;

	path_of(f, box, 1, from, sizeof(from));
	snprintf(to, sizeof(to), "%s", from);
	strcpy(strstr(to, ":2,"), ":2,FS");
	assert_int_equal(rename(from, to), 0);
	ch = sync_box(box);
	assert_int_equal(ch->flags_changed_count, 1);
	assert_int_equal(ch->flags_changed_uids[0], 1);
	assert_true(modseq_of(box, 1) > high);
	assert_int_equal(mailbox_highest_modseq(box), modseq_of(box, 1));
	high = mailbox_highest_modseq(box);

	path_of(f, box, 2, from, sizeof(from));
	assert_int_equal(unlink(from), 0);
	ch = sync_box(box);
	assert_int_equal(ch->expunged_count, 1);
	assert_int_equal(ch->expunged_uids[0], 2);
	assert_true(mailbox_highest_modseq(box) > high);
	mailbox_expunged_since(box, high, &gone, &ngone, &complete);
	assert_true(complete);
	assert_int_equal(ngone, 1);
	assert_int_equal(gone[0], 2);
	free(gone);
	mailbox_expunged_since(box, mailbox_highest_modseq(box), &gone, &ngone,
			       &complete);
	assert_true(complete);
	assert_int_equal(ngone, 0);
	assert_null(gone);
	high2 = mailbox_highest_modseq(box);

	snprintf(to, sizeof(to), "%s/new/1800000000.M1P1.byhand", f->root);
	fp = fopen(to, "w");
	assert_non_null(fp);
	fputs("Subject: by hand\n\nx\n", fp);
	fclose(fp);
	ch = sync_box(box);
	assert_int_equal(ch->new_count, 1);
	assert_int_equal(mailbox_count(box), 3);
	assert_true(modseq_of(box, 4) > high2);
	mailbox_free(&box);
}

static void test_own_expunge_logged(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f), *other;
	uint64_t high = mailbox_highest_modseq(box);
	uint32_t uids[] = {3, 1}, *gone;
	size_t ngone;
	bool complete;
	const char *error;

	assert_int_equal(mailbox_expunge(box, uids, 2, &error), 0);
	assert_int_equal(sync_box(box)->expunged_count, 2);
	assert_true(mailbox_highest_modseq(box) >= high + 2);
	mailbox_expunged_since(box, high, &gone, &ngone, &complete);
	assert_true(complete);
	assert_int_equal(ngone, 2);
	assert_int_equal(gone[0], 1);
	assert_int_equal(gone[1], 3);
	free(gone);
	/* persisted for the next session (QRESYNC after a reconnect) */
	other = open_box(f);
	mailbox_expunged_since(other, high, &gone, &ngone, &complete);
	assert_true(complete);
	assert_int_equal(ngone, 2);
	free(gone);
	mailbox_free(&other);
	mailbox_free(&box);
}

static void index_file(struct fixture *f, const char *name, char *path,
		       size_t size)
{
	snprintf(path, size, "%s/%s", f->root, name);
}

/* Every way of losing the index: the rebuild starts above what was given
 * out, and older expunges are reported as unknown, not as none. */
static void test_rebuild_never_backwards(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f), *again;
	char path[PATH_MAX + 32], mpath[PATH_MAX + 32];
	uint64_t high;
	uint32_t uid = 1, *gone;
	size_t ngone;
	bool complete;
	const char *error;
	int fd;

	assert_int_equal(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_FLAGGED, 0, &error),
			 0);
	high = mailbox_highest_modseq(box);
	mailbox_free(&box);
	index_file(f, MINDEX_FILE, path, sizeof(path));
	index_file(f, MINDEX_MODSEQ_FILE, mpath, sizeof(mpath));
	for (int how = 0; how < 4; how++) {
		switch (how) {
		case 0: /* deleted */
			assert_int_equal(unlink(path), 0);
			break;
		case 1: /* truncated */
			fd = open(path, O_WRONLY);
			assert_true(fd >= 0);
			assert_int_equal(ftruncate(fd, 150), 0);
			close(fd);
			break;
		case 2: /* a flipped byte */
			fd = open(path, O_RDWR);
			assert_true(fd >= 0);
			assert_int_equal(pwrite(fd, "\xff", 1, 130), 1);
			close(fd);
			break;
		case 3: /* the index and the ceiling both gone */
			assert_int_equal(unlink(path), 0);
			assert_int_equal(unlink(mpath), 0);
			break;
		}
		again = open_box(f);
		assert_int_equal(mailbox_count(again), 3);
		assert_true(mailbox_highest_modseq(again) > high);
		for (uint32_t u = 1; u <= 3; u++)
			assert_true(modseq_of(again, u) > high);
		mailbox_expunged_since(again, high, &gone, &ngone, &complete);
		assert_false(complete);
		free(gone);
		high = mailbox_highest_modseq(again);
		mailbox_free(&again);
	}
	/* without the ceiling, the clock gave the floor */
	assert_true(high > (uint64_t)time(NULL) * 1000 - 100000);
}

/* An index whose records the UID list never gave (a list restored from
 * a backup, another UIDVALIDITY) is rebuilt, never applied. */
static void test_index_beyond_uidlist(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f);
	char path[PATH_MAX + 32];
	uint32_t v = mailbox_uidvalidity(box);
	uint64_t high = mailbox_highest_modseq(box);
	FILE *fp;

	mailbox_free(&box);
	/* the list loses UID 3 and N goes back: as if restored */
	index_file(f, UIDLIST_FILE, path, sizeof(path));
	fp = fopen(path, "r+");
	assert_non_null(fp);
	{
		char text[4096];
		size_t n = fread(text, 1, sizeof(text) - 1, fp);
		char *last;

		text[n] = '\0';
		text[n - 1] = '\0';
		last = strrchr(text, '\n');
		*last = '\0';
		rewind(fp);
		assert_int_equal(ftruncate(fileno(fp), 0), 0);
		fprintf(fp, "3 V%u N3%s\n", v, strchr(text, '\n'));
	}
	fclose(fp);
	box = open_box(f);
	/* UID 3's file is still there: it is new now, with a fresh UID */
	assert_int_equal(mailbox_count(box), 3);
	assert_int_equal(mailbox_find_uid(box, 3), -1);
	assert_true(mailbox_find_uid(box, 4) >= 0);
	assert_true(modseq_of(box, 4) > high);
	mailbox_free(&box);
}

static void set_mtime(const char *path, time_t when)
{
	struct timespec times[2] = {{when, 0}, {when, 0}};

	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* Makes the folder look settled: directory mtimes well in the past. */
static void settle(struct fixture *f, time_t when)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/new", f->root);
	set_mtime(path, when);
	snprintf(path, sizeof(path), "%s/cur", f->root);
	set_mtime(path, when);
}

/* The warm open trusts the index while the stamp holds, and only then. */
static void test_warm_open(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f), *warm;
	char path[PATH_MAX + 64];
	time_t past = time(NULL) - 100;
	struct mailbox_msg msg;
	const char *error;
	uint32_t uid = 2;
	FILE *fp;

	assert_int_equal(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_SEEN, 0, &error),
			 0);
	settle(f, past);
	/* a sync after the change writes the index with the settled stamp */
	(void)sync_box(box);
	mailbox_free(&box);

	warm = open_box(f);
	assert_int_equal(mailbox_count(warm), 3);
	mailbox_get(warm, 1, &msg);
	assert_int_equal(msg.uid, 2);
	assert_int_equal(msg.flags, MAILDIR_FLAG_SEEN);
	assert_non_null(strstr(msg.filename, ":2,S"));
	/* a file added behind the stamp's back (the mtime put back) is not
	 * seen: proof that the open read the index, not the directory */
	snprintf(path, sizeof(path), "%s/cur/1800000000.M1P1.hidden:2,",
		 f->root);
	fp = fopen(path, "w");
	fputs("Subject: hidden\n\nx\n", fp);
	fclose(fp);
	settle(f, past);
	mailbox_free(&warm);
	warm = open_box(f);
	assert_int_equal(mailbox_count(warm), 3);
	mailbox_free(&warm);
	/* any real change moves the mtime: the open scans and sees it */
	settle(f, time(NULL));
	warm = open_box(f);
	assert_int_equal(mailbox_count(warm), 4);
	mailbox_free(&warm);
}

/* A file added behind the stamp's back with the directory's mtime put back:
 * only an open that trusted the index misses it. Returns the count seen. */
static unsigned count_with_hidden_file(struct fixture *f)
{
	char path[PATH_MAX + 64], dir[PATH_MAX + 8];
	struct mailbox *box;
	struct stat st;
	unsigned count;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/cur", f->root);
	assert_int_equal(stat(dir, &st), 0);
	snprintf(path, sizeof(path), "%s/cur/1800000001.M2P2.hidden:2,",
		 f->root);
	fp = fopen(path, "w");
	fputs("Subject: hidden\n\nx\n", fp);
	fclose(fp);
	{
		struct timespec times[2] = {st.st_mtim, st.st_mtim};

		assert_int_equal(utimensat(AT_FDCWD, dir, times, 0), 0);
	}
	box = open_box(f);
	count = mailbox_count(box);
	mailbox_free(&box);
	assert_int_equal(unlink(path), 0);
	return count;
}

/* An index written right after a change is not trusted at once (mtimes
 * are coarse); the first sync once things settled rewrites it, and from
 * then on opens are warm. */
static void test_warm_after_settling(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f);

	mailbox_free(&box);
	/* this open rewrites the index with a current stamp, too fresh */
	box = open_box(f);
	mailbox_free(&box);
	sleep(3);
	box = open_box(f); /* settled now: this sync rewrites the index */
	mailbox_free(&box);
	assert_int_equal(count_with_hidden_file(f), 3);
}

/* A session that opened warm never read the UID list: when the list is
 * lost or damaged, it is rewritten from the index, not started over. */
static void test_uidlist_from_index(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f), *warm;
	char path[PATH_MAX + 32], new_file[PATH_MAX + 64];
	time_t past = time(NULL) - 100;
	uint32_t v = mailbox_uidvalidity(box);
	struct uidlist *list = uidlist_new();
	const char *error;
	FILE *fp;

	settle(f, past);
	(void)sync_box(box);
	mailbox_free(&box);
	index_file(f, UIDLIST_FILE, path, sizeof(path));
	for (int damaged = 0; damaged < 2; damaged++) {
		warm = open_box(f);
		if (damaged) {
			fp = fopen(path, "w");
			fputs("garbage\n", fp);
			fclose(fp);
		} else {
			assert_int_equal(unlink(path), 0);
		}
		/* a new message makes the sync write the list */
		snprintf(new_file, sizeof(new_file),
			 "%s/new/1800000000.M%dP1.more", f->root, damaged);
		fp = fopen(new_file, "w");
		fputs("Subject: more\n\nx\n", fp);
		fclose(fp);
		(void)sync_box(warm);
		assert_int_equal(mailbox_uidvalidity(warm), v);
		assert_int_equal(mailbox_count(warm), 4 + damaged);
		assert_int_equal(uidlist_read(list, path, &error), 1);
		assert_int_equal(uidlist_uidvalidity(list), v);
		assert_int_equal(uidlist_count(list), 4 + damaged);
		assert_int_equal(uidlist_get(list, 2)->uid, 3);
		assert_int_equal(uidlist_get(list, 3 + damaged)->uid,
				 4 + damaged);
		mailbox_free(&warm);
		settle(f, past);
		warm = open_box(f);
		(void)sync_box(warm);
		mailbox_free(&warm);
		settle(f, past);
		warm = open_box(f);
		mailbox_free(&warm);
	}
	uidlist_free(&list);
}

/* One session's sync writes the index; another session's sync then moves
 * to it by comparing the two indexes, without scanning the folder. */
static void test_sync_from_index(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = three(f), *a, *b;
	const struct mailbox_changes *ch;
	char from[PATH_MAX * 2], to[PATH_MAX * 2], hidden[PATH_MAX + 64];
	time_t past = time(NULL) - 100;
	uint64_t high;
	FILE *fp;

	settle(f, past);
	(void)sync_box(box);
	mailbox_free(&box);
	a = open_box(f);
	b = open_box(f);
	high = mailbox_highest_modseq(b);
	/* outside: one file renamed with new flags, one deleted, one added */
	path_of(f, a, 1, from, sizeof(from));
	snprintf(to, sizeof(to), "%s", from);
	strcpy(strstr(to, ":2,"), ":2,F");
	assert_int_equal(rename(from, to), 0);
	path_of(f, a, 2, from, sizeof(from));
	assert_int_equal(unlink(from), 0);
	snprintf(to, sizeof(to), "%s/cur/1800000000.M5P5.added:2,S", f->root);
	fp = fopen(to, "w");
	fputs("Subject: added\n\nx\n", fp);
	fclose(fp);
	settle(f, past + 10);
	ch = sync_box(a); /* scans, writes the index */
	assert_int_equal(ch->expunged_count, 1);
	assert_int_equal(ch->new_count, 1);
	/* a file behind the stamp's back: b must not see it */
	snprintf(hidden, sizeof(hidden), "%s/cur/1800000001.M6P6.hidden:2,",
		 f->root);
	fp = fopen(hidden, "w");
	fputs("Subject: hidden\n\nx\n", fp);
	fclose(fp);
	settle(f, past + 10);
	ch = sync_box(b);
	assert_int_equal(mailbox_count(b), 3);
	assert_int_equal(ch->expunged_count, 1);
	assert_int_equal(ch->expunged_uids[0], 2);
	assert_int_equal(ch->expunged_idx[0], 1);
	assert_int_equal(ch->flags_changed_count, 1);
	assert_int_equal(ch->flags_changed_uids[0], 1);
	assert_int_equal(ch->new_count, 1);
	assert_int_equal(ch->first_new, 2);
	assert_true(modseq_of(b, 1) > high);
	assert_true(modseq_of(b, 4) > high);
	assert_int_equal(mailbox_highest_modseq(b), mailbox_highest_modseq(a));
	/* nothing more: the next sync is the cheap one */
	ch = sync_box(b);
	assert_int_equal(ch->expunged_count + ch->new_count +
				 ch->flags_changed_count,
			 0);
	mailbox_free(&a);
	mailbox_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arrival_and_own_flags,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_expunge_logged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_never_backwards,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_beyond_uidlist,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_warm_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_warm_after_settling, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uidlist_from_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sync_from_index, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
