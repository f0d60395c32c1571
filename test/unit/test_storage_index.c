/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: the folder index file merpati.index and the MODSEQ ceiling. */
#include "storage/mindex.h"

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
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#define UIDV 1795655779u

static const char *const names[] = {
	"1795655780.M4660P7611.vm,S=30,W=34",
	"1795655781.M1P7612.vm,S=31,W=35",
	"1795655790.M99P7613.vm:2,Sa",
};

static void sample_hdr(struct mindex_hdr *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->uidvalidity = UIDV;
	hdr->uidnext = 10;
	hdr->highest_modseq = 40;
	hdr->expunge_floor = 5;
	hdr->stamp.new_mtime = (struct timespec){1795655000, 1};
	hdr->stamp.cur_mtime = (struct timespec){1795655001, 2};
	hdr->stamp.uidlist_mtime = (struct timespec){1795655002, 3};
	hdr->stamp.uidlist_ino = 77;
	hdr->stamp.uidlist_size = 1234;
}

static void sample_rec(unsigned i, struct mindex_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->uid = 2 + 3 * i;
	r->flags = i == 0 ? 0x10 : i == 1 ? 0x30 | MINDEX_REC_SIZES : 0;
	r->keywords = i == 2 ? 0x2000001u : 0;
	r->modseq = 10 + i;
	r->size = 30 + i;
	r->vsize = 34 + i;
	r->date = 1795655780 + i;
	r->save_date = 1795655790 + i;
}

/* A writer with the three sample records and two expunges. */
static struct mindex_writer *sample_writer(void)
{
	struct mindex_hdr hdr;
	struct mindex_writer *w;

	sample_hdr(&hdr);
	w = mindex_writer_new(&hdr);
	for (unsigned i = 0; i < 3; i++) {
		struct mindex_rec r;

		sample_rec(i, &r);
		assert_int_equal(
			mindex_writer_add(w, &r, strv_from_cstr(names[i])), 0);
	}
	mindex_writer_expunge(w, 3, 20);
	mindex_writer_expunge(w, 4, 30);
	return w;
}

/* A copy of the sample file image. */
static unsigned char *sample_image(size_t *len_r)
{
	struct mindex_writer *w = sample_writer();
	const void *data;
	unsigned char *copy;

	mindex_writer_image(w, &data, len_r);
	copy = malloc(*len_r);
	memcpy(copy, data, *len_r);
	mindex_writer_free(&w);
	return copy;
}

static void check_sample(const struct mindex *ix)
{
	const struct mindex_hdr *hdr = mindex_header(ix);
	struct mindex_hdr want;
	uint32_t uid;
	uint64_t modseq;

	sample_hdr(&want);
	assert_int_equal(hdr->uidvalidity, UIDV);
	assert_int_equal(hdr->uidnext, 10);
	assert_int_equal(hdr->count, 3);
	assert_int_equal(hdr->unseen, 1);
	assert_int_equal(hdr->deleted, 1);
	assert_int_equal(hdr->highest_modseq, 40);
	assert_int_equal(hdr->expunge_floor, 5);
	assert_int_equal(hdr->expunge_count, 2);
	assert_true(mindex_stamp_eq(&hdr->stamp, &want.stamp));
	for (unsigned i = 0; i < 3; i++) {
		struct mindex_rec got, exp;
		struct strv name = mindex_get_name(ix, i);

		sample_rec(i, &exp);
		mindex_get(ix, i, &got);
		assert_int_equal(got.uid, exp.uid);
		assert_int_equal(got.flags, exp.flags);
		assert_int_equal(got.keywords, exp.keywords);
		assert_int_equal(got.modseq, exp.modseq);
		assert_int_equal(got.size, exp.size);
		assert_int_equal(got.vsize, exp.vsize);
		assert_int_equal(got.date, exp.date);
		assert_int_equal(got.save_date, exp.save_date);
		assert_int_equal(name.len, strlen(names[i]));
		assert_memory_equal(name.p, names[i], name.len);
		assert_int_equal(mindex_find_uid(ix, exp.uid), (long)i);
	}
	assert_int_equal(mindex_find_uid(ix, 3), -1);
	assert_int_equal(mindex_find_uid(ix, 100), -1);
	mindex_get_expunge(ix, 0, &uid, &modseq);
	assert_int_equal(uid, 3);
	assert_int_equal(modseq, 20);
	mindex_get_expunge(ix, 1, &uid, &modseq);
	assert_int_equal(uid, 4);
	assert_int_equal(modseq, 30);
}

static char *make_dir(void)
{
	char tmpl[] = "/tmp/test_storage_index.XXXXXX";
	char *dir = mkdtemp(tmpl);
	char sub[PATH_MAX];

	assert_non_null(dir);
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	return strdup(dir);
}

static void remove_dir(char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void test_round_trip_file(void **state)
{
	char *dir = make_dir(), path[PATH_MAX], tmpdir[PATH_MAX];
	struct mindex_writer *w = sample_writer();
	struct mindex *ix = NULL;
	const char *error = NULL;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/" MINDEX_FILE, dir);
	assert_int_equal(mindex_open(path, &ix, &error), 0);
	assert_int_equal(mindex_writer_finish(&w, path, true, &error), 0);
	assert_null(w);
	assert_int_equal(mindex_open(path, &ix, &error), 1);
	check_sample(ix);
	/* a second version replaces the file; the old mapping stays intact */
	w = mindex_writer_new(mindex_header(ix));
	assert_int_equal(mindex_writer_finish(&w, path, false, &error), 0);
	check_sample(ix);
	mindex_free(&ix);
	assert_null(ix);
	assert_int_equal(mindex_open(path, &ix, &error), 1);
	assert_int_equal(mindex_header(ix)->count, 0);
	assert_int_equal(mindex_header(ix)->expunge_count, 0);
	mindex_free(&ix);
	/* nothing left in tmp/ */
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir);
	assert_int_equal(stat(tmpdir, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(rmdir(tmpdir), 0);
	remove_dir(dir);
}

static void test_round_trip_mem(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	struct mindex *ix = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(mindex_open_mem(img, len, &ix, &error), 1);
	check_sample(ix);
	mindex_free(&ix);
	free(img);
}

static void test_truncated_every_offset(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	struct mindex *ix = NULL;

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		const char *error = NULL;

		assert_int_equal(mindex_open_mem(img, cut, &ix, &error), -1);
		assert_non_null(error);
		assert_null(ix);
	}
	/* and with the checksum fixed up: the size rule still refuses */
	for (size_t cut = 128; cut < len; cut++) {
		const char *error = NULL;
		unsigned char *copy = malloc(len);

		memcpy(copy, img, len);
		mindex_fix_checksum(copy, cut);
		assert_int_equal(mindex_open_mem(copy, cut, &ix, &error), -1);
		free(copy);
	}
	free(img);
}

static void test_flipped_bytes(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	struct mindex *ix = NULL;

	(void)state;
	for (size_t at = 0; at < len; at++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			const char *error = NULL;

			img[at] ^= (unsigned char)(1u << bit);
			assert_int_equal(mindex_open_mem(img, len, &ix, &error),
					 -1);
			img[at] ^= (unsigned char)(1u << bit);
		}
	}
	assert_int_equal(mindex_open_mem(img, len, &ix, (const char *[]){0}),
			 1);
	mindex_free(&ix);
	free(img);
}

/* Damage that passes the checksum (someone rewrote it): the record rules
 * still refuse it. */
static void refuse_patched(size_t at, const void *bytes, size_t n)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	struct mindex *ix = NULL;
	const char *error = NULL;

	memcpy(img + at, bytes, n);
	mindex_fix_checksum(img, len);
	assert_int_equal(mindex_open_mem(img, len, &ix, &error), -1);
	assert_null(ix);
	free(img);
}

static void test_record_rules(void **state)
{
	static const unsigned char zero4[4] = {0}, big4[4] = {0xff, 0, 0, 0};
	static const unsigned char uid2[4] = {2, 0, 0, 0};
	static const unsigned char slash = '/', colon = ':', nl = '\n';
	static const unsigned char modseq_high[8] = {41};
	size_t rec0 = 128, rec1 = 128 + 64, exp0 = 128 + 3 * 64;
	size_t names_at = exp0 + 2 * 16;

	(void)state;
	refuse_patched(rec0, zero4, 4);		   /* UID 0 */
	refuse_patched(rec1, uid2, 4);		   /* UIDs not ascending */
	refuse_patched(rec1, big4, 4);		   /* UID beyond UIDNEXT */
	refuse_patched(rec0 + 16, modseq_high, 8); /* MODSEQ > highest */
	refuse_patched(rec0 + 16, zero4, 4);	   /* MODSEQ 0 */
	refuse_patched(rec0 + 5, big4, 1);	   /* unknown flag bits */
	refuse_patched(rec0 + 11, big4, 1);	   /* keyword beyond 'z' */
	refuse_patched(rec0 + 12, big4, 1);	   /* name out of bounds */
	refuse_patched(rec0 + 56, big4, 1);	   /* name length too long */
	refuse_patched(rec0 + 56, zero4, 4);	   /* empty name */
	refuse_patched(names_at + 3, &slash, 1);   /* '/' in a name */
	refuse_patched(names_at + 34, &colon, 1);  /* no NUL after a name */
	refuse_patched(names_at, ".", 1);	   /* a leading dot */
	refuse_patched(names_at + 3, &nl, 1);	   /* newline in a name */
	refuse_patched(exp0 + 8, zero4, 4);	   /* expunge at the floor */
	refuse_patched(exp0, big4, 4);		   /* expunged UID >= next */
	refuse_patched(32, big4, 1);		   /* unseen count wrong */
	refuse_patched(36, zero4, 4);		   /* deleted count wrong */
	refuse_patched(20, zero4, 4);		   /* UIDVALIDITY 0 */
	refuse_patched(8, big4, 1);		   /* other version */
	refuse_patched(0, "X", 1);		   /* magic */
}

static void test_agrees(void **state)
{
	size_t len;
	unsigned char *img = sample_image(&len);
	struct mindex *ix = NULL;
	struct mindex_hdr hdr;
	struct mindex_stamp moved;

	(void)state;
	sample_hdr(&hdr);
	assert_int_equal(mindex_open_mem(img, len, &ix, (const char *[]){0}),
			 1);
	assert_true(mindex_agrees(ix, UIDV, 10, &hdr.stamp));
	assert_true(mindex_agrees(ix, UIDV, 12, &hdr.stamp));
	/* wrong UIDVALIDITY: the list was recreated */
	assert_false(mindex_agrees(ix, UIDV + 1, 10, &hdr.stamp));
	/* records beyond the UID list: the list is older than the index */
	assert_false(mindex_agrees(ix, UIDV, 9, &hdr.stamp));
	moved = hdr.stamp;
	moved.cur_mtime.tv_nsec++;
	assert_false(mindex_agrees(ix, UIDV, 10, &moved));
	moved = hdr.stamp;
	moved.new_mtime.tv_sec++;
	assert_false(mindex_agrees(ix, UIDV, 10, &moved));
	moved = hdr.stamp;
	moved.uidlist_size += 40; /* Dovecot appended a line */
	assert_false(mindex_agrees(ix, UIDV, 10, &moved));
	moved = hdr.stamp;
	moved.uidlist_ino++; /* the list was rewritten */
	assert_false(mindex_agrees(ix, UIDV, 10, &moved));
	mindex_free(&ix);
	free(img);
}

static void test_writer_refuses(void **state)
{
	struct mindex_hdr hdr;
	struct mindex_writer *w;
	struct mindex_rec r;

	(void)state;
	sample_hdr(&hdr);
	w = mindex_writer_new(&hdr);
	sample_rec(1, &r);
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("a")), 0);
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("b")), -1);
	r.uid = 10; /* = UIDNEXT */
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("b")), -1);
	r.uid = 9;
	r.modseq = 41;
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("b")), -1);
	r.modseq = 40;
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("b/c")), -1);
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT(".b")), -1);
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("")), -1);
	assert_int_equal(mindex_writer_add(w, &r, STRV_LIT("b")), 0);
	mindex_writer_free(&w);
	assert_null(w);
	mindex_writer_free(&w);
}

static void test_expunge_log_bounded(void **state)
{
	struct mindex_hdr hdr;
	struct mindex_writer *w;
	struct mindex *ix = NULL;
	const void *data;
	size_t len;
	uint32_t uid;
	uint64_t modseq;

	(void)state;
	sample_hdr(&hdr);
	hdr.uidnext = 100000;
	hdr.highest_modseq = 100000;
	hdr.expunge_floor = 0;
	w = mindex_writer_new(&hdr);
	for (uint32_t i = 1; i <= MINDEX_EXPUNGE_MAX + 10; i++)
		mindex_writer_expunge(w, i, i * 2);
	mindex_writer_expunge(w, 5, 3); /* older than the last: ignored */
	mindex_writer_image(w, &data, &len);
	assert_int_equal(mindex_open_mem(data, len, &ix, (const char *[]){0}),
			 1);
	assert_int_equal(mindex_header(ix)->expunge_count, MINDEX_EXPUNGE_MAX);
	/* the ten oldest went: the floor is the last of them */
	assert_int_equal(mindex_header(ix)->expunge_floor, 20);
	mindex_get_expunge(ix, 0, &uid, &modseq);
	assert_int_equal(uid, 11);
	assert_int_equal(modseq, 22);
	mindex_free(&ix);
	mindex_writer_free(&w);
}

static void test_modseq_never_backwards(void **state)
{
	char *dir = make_dir(), path[PATH_MAX];
	struct mindex_writer *w = sample_writer();
	struct mindex *ix = NULL;
	const char *error = NULL;
	uint64_t floor;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/" MINDEX_FILE, dir);
	/* a new folder starts at 0 */
	assert_int_equal(mindex_modseq_ceiling(dir), 0);
	/* a new folder starts at 1: HIGHESTMODSEQ is positive */
	assert_int_equal(mindex_modseq_floor(dir, NULL, true, 1000), 1);
	/* handing out up to 40 reserves ahead, once */
	assert_int_equal(mindex_modseq_reserve(dir, 40, true, &error), 0);
	assert_int_equal(mindex_modseq_ceiling(dir),
			 40 + MINDEX_MODSEQ_RESERVE);
	assert_int_equal(mindex_modseq_reserve(dir, 41, true, &error), 0);
	assert_int_equal(mindex_modseq_ceiling(dir),
			 40 + MINDEX_MODSEQ_RESERVE);
	assert_int_equal(mindex_writer_finish(&w, path, false, &error), 0);
	assert_int_equal(mindex_open(path, &ix, &error), 1);
	floor = mindex_modseq_floor(dir, ix, false, 1000);
	assert_int_equal(floor, 40 + MINDEX_MODSEQ_RESERVE);
	mindex_free(&ix);

	/* the index is damaged: the rebuild starts above the ceiling */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 200), 0);
	close(fd);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	assert_true(mindex_modseq_floor(dir, NULL, false, 1000) >= 40);

	/* both lost: the clock gives a floor above anything handed out */
	snprintf(path, sizeof(path), "%s/" MINDEX_MODSEQ_FILE, dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mindex_modseq_floor(dir, NULL, false, 1795655779),
			 1795655779000ULL);
	/* a damaged ceiling file counts as lost */
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "12x\n", 4), 4);
	close(fd);
	assert_int_equal(mindex_modseq_ceiling(dir), 0);
	assert_int_equal(mindex_modseq_reserve(dir, 50, false, &error), 0);
	assert_int_equal(mindex_modseq_ceiling(dir),
			 50 + MINDEX_MODSEQ_RESERVE);
	remove_dir(dir);
}

static void test_open_refuses_odd_files(void **state)
{
	char *dir = make_dir(), path[PATH_MAX], target[PATH_MAX];
	struct mindex_writer *w = sample_writer();
	struct mindex *ix = NULL;
	const char *error = NULL;

	(void)state;
	snprintf(target, sizeof(target), "%s/real", dir);
	snprintf(path, sizeof(path), "%s/" MINDEX_FILE, dir);
	assert_int_equal(mindex_writer_finish(&w, target, false, &error), 0);
	/* a symlink planted in the folder is not followed */
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	assert_null(ix);
	remove_dir(dir);
}

/* A second open of the same file in the process shares the checked
 * mapping (a session's open is O(1)); a replaced file is a new one. */
static void test_shared_within_process(void **state)
{
	char *dir = make_dir(), path[PATH_MAX];
	struct mindex_writer *w = sample_writer();
	struct mindex *a = NULL, *b = NULL, *c = NULL;
	const char *error = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/" MINDEX_FILE, dir);
	assert_int_equal(mindex_writer_finish(&w, path, false, &error), 0);
	assert_int_equal(mindex_open(path, &a, &error), 1);
	assert_int_equal(mindex_open(path, &b, &error), 1);
	assert_ptr_equal(a, b);
	mindex_free(&a);
	check_sample(b);
	w = sample_writer();
	assert_int_equal(mindex_writer_finish(&w, path, false, &error), 0);
	assert_int_equal(mindex_open(path, &c, &error), 1);
	assert_ptr_not_equal(b, c);
	check_sample(b);
	check_sample(c);
	mindex_free(&b);
	mindex_free(&c);
	remove_dir(dir);
}

#define SEAL "user.merpati.seal"

/* The writer seals the file (an extended attribute: this boot, its size,
 * mtime and checksum): a sealed file's open checks the header and the
 * expunge log, not every record, so that a warm open costs O(1); its names
 * are checked as they are read. No seal, a seal from another boot or of
 * another file, or a change in place (the mtime moves): checked whole. */
static void test_sealed_open(void **state)
{
	char *dir = make_dir(), path[PATH_MAX];
	struct mindex_writer *w = sample_writer();
	unsigned char seal[48], bad[48], file[4096];
	struct mindex *ix = NULL;
	const char *error = NULL;
	struct timespec times[2];
	struct strv name;
	struct stat st;
	unsigned char *at;
	ssize_t len;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/" MINDEX_FILE, dir);
	assert_int_equal(mindex_writer_finish(&w, path, false, &error), 0);
	assert_int_equal(getxattr(path, SEAL, seal, sizeof(seal)), 48);
	assert_memory_equal(seal, "MPSEAL1", 8);
	/* record 0's name gets a '/' in place, and the mtime is put back */
	assert_int_equal(stat(path, &st), 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	len = pread(fd, file, sizeof(file), 0);
	assert_true(len > 0);
	at = memmem(file, (size_t)len, names[0], strlen(names[0]));
	assert_non_null(at);
	assert_int_equal(pwrite(fd, "/", 1, at + 4 - file), 1);
	close(fd);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);

	/* sealed: opened, but the bad name is never handed out */
	assert_int_equal(mindex_open(path, &ix, &error), 1);
	name = mindex_get_name(ix, 0);
	assert_null(memchr(name.p, '/', name.len));
	assert_string_equal(name.p, ".bad-index-name");
	name = mindex_get_name(ix, 1);
	assert_string_equal(name.p, names[1]);
	mindex_free(&ix);

	/* a seal from another boot: checked whole, refused */
	memcpy(bad, seal, sizeof(bad));
	bad[9] ^= 0x10; /* 4096 s earlier or later */
	assert_int_equal(setxattr(path, SEAL, bad, sizeof(bad), 0), 0);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	/* a seal of another checksum */
	memcpy(bad, seal, sizeof(bad));
	bad[40] ^= 1;
	assert_int_equal(setxattr(path, SEAL, bad, sizeof(bad), 0), 0);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	/* no seal */
	assert_int_equal(removexattr(path, SEAL), 0);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	/* the right seal, but the file changed in place since */
	assert_int_equal(setxattr(path, SEAL, seal, sizeof(seal), 0), 0);
	times[1].tv_sec++;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_int_equal(mindex_open(path, &ix, &error), -1);
	assert_null(ix);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_file),
		cmocka_unit_test(test_round_trip_mem),
		cmocka_unit_test(test_truncated_every_offset),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_record_rules),
		cmocka_unit_test(test_agrees),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_expunge_log_bounded),
		cmocka_unit_test(test_modseq_never_backwards),
		cmocka_unit_test(test_open_refuses_odd_files),
		cmocka_unit_test(test_shared_within_process),
		cmocka_unit_test(test_sealed_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
