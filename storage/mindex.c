/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The folder index file (see mindex.h; byte layout in doc/storage.md). */
#include "storage/mindex.h"

#include "storage/maildir_file.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAGIC "MPINDEX\n"
#define VERSION 1
#define HDR_SIZE 128
#define REC_SIZE 64
#define EXP_SIZE 16
#define CHECKSUM_AT 120
#define COUNT_MAX (1u << 26) /* records; keeps every size in 32 bits */

/* The writer's seal (see mindex_open()): an extended attribute of the
   file, "MPSEAL1\0", then (little-endian) the boot's wall-clock start
   (seconds, 8), the file's size (8), mtime seconds (8) and nanoseconds
   (4), whether a record is in new/ (4), and the header's checksum (8). */
#define SEAL_XATTR "user.merpati.seal"
#define SEAL_MAGIC "MPSEAL1"
#define SEAL_SIZE 48
/* the boot's start as computed now may drift by clock slewing */
#define SEAL_BOOT_SLACK 2

/* header offsets */
enum {
	H_VERSION = 8,
	H_HDR_SIZE = 12,
	H_REC_SIZE = 16,
	H_UIDVALIDITY = 20,
	H_UIDNEXT = 24,
	H_COUNT = 28,
	H_UNSEEN = 32,
	H_DELETED = 36,
	H_HIGHEST = 40,
	H_EXP_FLOOR = 48,
	H_EXP_COUNT = 56,
	H_NAMES_SIZE = 60,
	H_NEW_SEC = 64,
	H_NEW_NSEC = 72,
	H_CUR_NSEC = 76,
	H_CUR_SEC = 80,
	H_UL_INO = 88,
	H_UL_SIZE = 96,
	H_UL_SEC = 104,
	H_UL_NSEC = 112,
	H_BUILT_AT = 116,
};

/* record offsets */
enum {
	R_UID = 0,
	R_FLAGS = 4,
	R_KEYWORDS = 8,
	R_NAME_OFF = 12,
	R_MODSEQ = 16,
	R_SIZE = 24,
	R_VSIZE = 32,
	R_DATE = 40,
	R_SAVE_DATE = 48,
	R_NAME_LEN = 56,
};

struct mindex {
	const unsigned char *data;
	size_t len;
	bool mapped;
	bool any_in_new;
	/* opened by its seal: records were not checked, names are checked
	   when read (mindex_get_name()) */
	bool sealed;
	/* mapped files are shared within the process (see mindex_open()) */
	unsigned refs;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct mindex *next;
	struct mindex_hdr hdr;
	const unsigned char *recs, *exps, *names;
	uint32_t names_size;
};

struct mindex_writer {
	struct mindex_hdr hdr;
	struct buf names;
	bool finished; /* the image is complete: no more records */
	uint32_t *exp_uid;
	uint64_t *exp_modseq;
	size_t exp_count, exp_cap;
	uint32_t last_uid;
	bool any_in_new;
	struct buf image;
};

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * A fast non-cryptographic checksum (four independent lanes of 64-bit
 * multiply-rotate, so that checking a 100,000-message index at open costs
 * well under a millisecond). It catches torn writes and flipped bytes; it is
 * no defence against someone who can write the file (they could write
 * messages too). The checksum field itself counts as zero.
 */
static uint64_t checksum_word(uint64_t h, uint64_t w)
{
	/* one multiply per word, off the lane's dependency chain */
	return rotl(h, 23) + w * 0x9e3779b185ebca87ULL;
}

static uint64_t checksum(const unsigned char *data, size_t len)
{
	const uint64_t p1 = 0x9e3779b185ebca87ULL, p2 = 0xc2b2ae3d27d4eb4fULL;
	uint64_t h[4] = {p1, p2, p1 ^ 0x5555, p2 ^ 0xaaaa}, w[4];
	unsigned char block[32];
	size_t i = 0;

	/* the header's last block, with the checksum field as zero */
	for (; i + 32 <= len; i += 32) {
		const unsigned char *b = data + i;

		if (i == CHECKSUM_AT - 24) {
			memcpy(block, b, 32);
			memset(block + 24, 0, 8);
			b = block;
		}
		memcpy(w, b, 32);
		for (int l = 0; l < 4; l++)
			h[l] = checksum_word(h[l], w[l]);
	}
	memset(block, 0, sizeof(block));
	memcpy(block, data + i, len - i);
	memcpy(w, block, 32);
	for (int l = 0; l < 4; l++)
		h[l] = checksum_word(h[l], w[l]);
	uint64_t r = (uint64_t)len * p1;

	for (int l = 0; l < 4; l++)
		r = rotl(r ^ (h[l] * p2), 27) * p1 + p2;
	return r ^ (r >> 29);
}

void mindex_fix_checksum(void *data, size_t len)
{
	if (len < HDR_SIZE)
		return;
	put64((unsigned char *)data + CHECKSUM_AT, checksum(data, len));
}

static void stamp_get(const unsigned char *h, struct mindex_stamp *s)
{
	s->new_mtime.tv_sec = (time_t)(int64_t)get64(h + H_NEW_SEC);
	s->new_mtime.tv_nsec = (long)get32(h + H_NEW_NSEC);
	s->cur_mtime.tv_sec = (time_t)(int64_t)get64(h + H_CUR_SEC);
	s->cur_mtime.tv_nsec = (long)get32(h + H_CUR_NSEC);
	s->uidlist_ino = get64(h + H_UL_INO);
	s->uidlist_size = get64(h + H_UL_SIZE);
	s->uidlist_mtime.tv_sec = (time_t)(int64_t)get64(h + H_UL_SEC);
	s->uidlist_mtime.tv_nsec = (long)get32(h + H_UL_NSEC);
}

static void stamp_put(unsigned char *h, const struct mindex_stamp *s)
{
	put64(h + H_NEW_SEC, (uint64_t)(int64_t)s->new_mtime.tv_sec);
	put32(h + H_NEW_NSEC, (uint32_t)s->new_mtime.tv_nsec);
	put64(h + H_CUR_SEC, (uint64_t)(int64_t)s->cur_mtime.tv_sec);
	put32(h + H_CUR_NSEC, (uint32_t)s->cur_mtime.tv_nsec);
	put64(h + H_UL_INO, s->uidlist_ino);
	put64(h + H_UL_SIZE, s->uidlist_size);
	put64(h + H_UL_SEC, (uint64_t)(int64_t)s->uidlist_mtime.tv_sec);
	put32(h + H_UL_NSEC, (uint32_t)s->uidlist_mtime.tv_nsec);
}

bool mindex_stamp_eq(const struct mindex_stamp *a, const struct mindex_stamp *b)
{
	return a->new_mtime.tv_sec == b->new_mtime.tv_sec &&
	       a->new_mtime.tv_nsec == b->new_mtime.tv_nsec &&
	       a->cur_mtime.tv_sec == b->cur_mtime.tv_sec &&
	       a->cur_mtime.tv_nsec == b->cur_mtime.tv_nsec &&
	       a->uidlist_mtime.tv_sec == b->uidlist_mtime.tv_sec &&
	       a->uidlist_mtime.tv_nsec == b->uidlist_mtime.tv_nsec &&
	       a->uidlist_ino == b->uidlist_ino &&
	       a->uidlist_size == b->uidlist_size;
}

bool mindex_agrees(const struct mindex *index, uint32_t uidvalidity,
		   uint32_t uidlist_next_uid, const struct mindex_stamp *now)
{
	return index->hdr.uidvalidity == uidvalidity &&
	       index->hdr.uidnext <= uidlist_next_uid &&
	       mindex_stamp_eq(&index->hdr.stamp, now);
}

/* A file name as Maildir and the UID list allow it: not empty, no leading
 * dot, no '/', no control character (the UID list is line based). */
static bool name_ok(const unsigned char *p, size_t len)
{
	if (len == 0 || len > MINDEX_NAME_MAX || p[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '/' || p[i] < 0x20 || p[i] == 0x7f)
			return false;
	}
	return true;
}

/* The header's own rules; fills ix->hdr. */
static int check_header(struct mindex *ix, bool sum, const char **error_r)
{
	const unsigned char *h = ix->data;
	struct mindex_hdr *hdr = &ix->hdr;
	uint64_t want;

	if (ix->len < HDR_SIZE || memcmp(h, MAGIC, 8) != 0) {
		*error_r = "not an index file";
		return -1;
	}
	if (get32(h + H_VERSION) != VERSION ||
	    get32(h + H_HDR_SIZE) != HDR_SIZE ||
	    get32(h + H_REC_SIZE) != REC_SIZE) {
		*error_r = "unsupported index version";
		return -1;
	}
	hdr->uidvalidity = get32(h + H_UIDVALIDITY);
	hdr->uidnext = get32(h + H_UIDNEXT);
	hdr->count = get32(h + H_COUNT);
	hdr->unseen = get32(h + H_UNSEEN);
	hdr->deleted = get32(h + H_DELETED);
	hdr->highest_modseq = get64(h + H_HIGHEST);
	hdr->expunge_floor = get64(h + H_EXP_FLOOR);
	hdr->expunge_count = get32(h + H_EXP_COUNT);
	ix->names_size = get32(h + H_NAMES_SIZE);
	stamp_get(h, &hdr->stamp);
	hdr->built_at = get32(h + H_BUILT_AT);
	if (hdr->count > COUNT_MAX || hdr->expunge_count > MINDEX_EXPUNGE_MAX) {
		*error_r = "bad counts";
		return -1;
	}
	want = HDR_SIZE + (uint64_t)hdr->count * REC_SIZE +
	       (uint64_t)hdr->expunge_count * EXP_SIZE + ix->names_size;
	if (want != ix->len) {
		*error_r = "index size does not match its header";
		return -1;
	}
	if (sum && get64(h + CHECKSUM_AT) != checksum(h, ix->len)) {
		*error_r = "index checksum mismatch";
		return -1;
	}
	if (hdr->uidvalidity == 0 || hdr->uidnext == 0 ||
	    hdr->count >= hdr->uidnext || hdr->unseen > hdr->count ||
	    hdr->deleted > hdr->count ||
	    hdr->expunge_floor > hdr->highest_modseq) {
		*error_r = "bad header values";
		return -1;
	}
	ix->recs = h + HDR_SIZE;
	ix->exps = ix->recs + (size_t)hdr->count * REC_SIZE;
	ix->names = ix->exps + (size_t)hdr->expunge_count * EXP_SIZE;
	return 0;
}

#define ONES 0x0101010101010101ULL

/* The high bit of every zero byte of v (exact, no false positives). */
static uint64_t zero_bytes(uint64_t v)
{
	const uint64_t low7 = 0x7f * ONES;

	return ~(((v & low7) + low7) | v) & (0x80 * ONES);
}

/*
 * The name area holds file names, each ending in a NUL: no '/', no other
 * control character, exactly one NUL per record. Eight bytes at a time
 * (about 40 bytes per message), so that the check stays cheap.
 */
static bool names_area_ok(const struct mindex *ix)
{
	const unsigned char *p = ix->names;
	size_t n = ix->names_size, i = 0;
	uint64_t bad = 0, nuls = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v, z;

		memcpy(&v, p + i, 8);
		z = zero_bytes(v);
		bad |= (zero_bytes(v & (0xe0 * ONES)) & ~z) |
		       zero_bytes(v ^ (0x2f * ONES)) |
		       zero_bytes(v ^ (0x7f * ONES));
		nuls += ((z >> 7) * ONES) >>
			56; /* bytes are 0 or 1: sum them */
	}
	for (; i < n; i++) {
		unsigned c = p[i];

		bad |= (c - 1u < 0x1fu) | (c == '/') | (c == 0x7f);
		nuls += c == 0;
	}
	return bad == 0 && nuls == ix->hdr.count;
}

static int check_records(struct mindex *ix, const char **error_r)
{
	const struct mindex_hdr *hdr = &ix->hdr;
	uint32_t last = 0, unseen = 0, deleted = 0;

	uint32_t next_off = 0;

	if (!names_area_ok(ix))
		goto bad;
	for (uint32_t i = 0; i < hdr->count; i++) {
		const unsigned char *r = ix->recs + (size_t)i * REC_SIZE;
		uint32_t uid = get32(r + R_UID), flags = get32(r + R_FLAGS);
		uint32_t off = get32(r + R_NAME_OFF);
		uint32_t len = get32(r + R_NAME_LEN);
		uint64_t modseq = get64(r + R_MODSEQ);

		if (uid <= last || uid >= hdr->uidnext ||
		    (flags & ~MINDEX_REC_FLAGS_ALL) != 0 ||
		    get32(r + R_KEYWORDS) >= 1u << 26 || modseq == 0 ||
		    modseq > hdr->highest_modseq || len > MINDEX_NAME_MAX ||
		    len == 0 || get32(r + R_NAME_LEN + 4) != 0 ||
		    off != next_off || len >= ix->names_size - off ||
		    ix->names[off + len] != 0 || ix->names[off] == '.')
			goto bad;
		/* names follow each other, each ending in the NUL the area
		 * check counted: none has a NUL inside */
		next_off = off + len + 1;
		unseen += !(flags & 0x10);
		deleted += !!(flags & 0x20);
		ix->any_in_new |= (flags & MINDEX_REC_IN_NEW) != 0;
		last = uid;
	}
	if (next_off != ix->names_size)
		goto bad;
	if (unseen != hdr->unseen || deleted != hdr->deleted) {
		*error_r = "index counts do not match its records";
		return -1;
	}
	return 0;
bad:
	*error_r = "bad index record";
	return -1;
}

static int check_expunges(const struct mindex *ix, const char **error_r)
{
	const struct mindex_hdr *hdr = &ix->hdr;
	uint64_t last_modseq = hdr->expunge_floor;

	for (uint32_t i = 0; i < hdr->expunge_count; i++) {
		const unsigned char *e = ix->exps + (size_t)i * EXP_SIZE;
		uint64_t modseq = get64(e + 8);

		if (get32(e) == 0 || get32(e) >= hdr->uidnext ||
		    get32(e + 4) != 0 || modseq <= last_modseq ||
		    modseq > hdr->highest_modseq) {
			*error_r = "bad expunge log entry";
			return -1;
		}
		last_modseq = modseq;
	}
	return 0;
}

int mindex_open_mem(const void *data, size_t len, struct mindex **index_r,
		    const char **error_r)
{
	struct mindex *ix = xcalloc(1, sizeof(*ix));

	ix->data = data;
	ix->len = len;
	ix->refs = 1;
	if (check_header(ix, true, error_r) < 0 ||
	    check_records(ix, error_r) < 0 || check_expunges(ix, error_r) < 0) {
		free(ix);
		return -1;
	}
	*index_r = ix;
	return 1;
}

/* The wall-clock time this boot began: another value after a reboot. */
static int64_t boot_start(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return (int64_t)rt.tv_sec - (int64_t)bt.tv_sec;
}

/* Seals the file a writer just renamed to path (see mindex_open()): only
   when it is the one written (size and checksum); a file system without
   user extended attributes leaves it unsealed (checked whole). */
static void seal_put(const char *path, const unsigned char *data, size_t len,
		     bool any_in_new)
{
	unsigned char seal[SEAL_SIZE] = SEAL_MAGIC;
	const char *reason;
	struct stat st;
	int fd = maildir_file_open(path, &st, &reason);

	if (fd < 0)
		return;
	if ((uint64_t)st.st_size == len) {
		put64(seal + 8, (uint64_t)boot_start());
		put64(seal + 16, (uint64_t)st.st_size);
		put64(seal + 24, (uint64_t)(int64_t)st.st_mtim.tv_sec);
		put32(seal + 32, (uint32_t)st.st_mtim.tv_nsec);
		put32(seal + 36, any_in_new);
		put64(seal + 40, get64(data + CHECKSUM_AT));
		(void)fsetxattr(fd, SEAL_XATTR, seal, sizeof(seal), 0);
	}
	close(fd);
}

/* True when fd (mapped at data) carries a writer's seal from this boot
   that matches it: size, mtime (a change in place moves it) and checksum. */
static bool seal_ok(int fd, const struct stat *st, const unsigned char *data,
		    bool *any_in_new_r)
{
	unsigned char seal[SEAL_SIZE];
	int64_t boot;

	if (fgetxattr(fd, SEAL_XATTR, seal, sizeof(seal)) != SEAL_SIZE ||
	    memcmp(seal, SEAL_MAGIC, 8) != 0)
		return false;
	boot = (int64_t)get64(seal + 8);
	if (boot < boot_start() - SEAL_BOOT_SLACK ||
	    boot > boot_start() + SEAL_BOOT_SLACK ||
	    get64(seal + 16) != (uint64_t)st->st_size ||
	    (int64_t)get64(seal + 24) != (int64_t)st->st_mtim.tv_sec ||
	    get32(seal + 32) != (uint32_t)st->st_mtim.tv_nsec ||
	    get32(seal + 36) > 1 ||
	    get64(seal + 40) != get64(data + CHECKSUM_AT))
		return false;
	*any_in_new_r = get32(seal + 36) != 0;
	return true;
}

/*
 * Mapped files already checked, shared by every session of the process:
 * opening a folder's index a second time costs a stat, not a check. Files
 * are only ever replaced by rename; one changed in place (by hand) has
 * another mtime or size and is checked again. Storage threads open and free
 * indexes too: open_list and the reference counts of mapped indexes are
 * guarded by open_lock.
 */
static struct mindex *open_list;
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static struct mindex *shared_find(const struct stat *st)
{
	for (struct mindex *ix = open_list; ix != NULL; ix = ix->next) {
		if (ix->dev == st->st_dev && ix->ino == st->st_ino &&
		    ix->len == (size_t)st->st_size &&
		    ix->mtime.tv_sec == st->st_mtim.tv_sec &&
		    ix->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			ix->refs++;
			return ix;
		}
	}
	return NULL;
}

int mindex_open(const char *path, struct mindex **index_r, const char **error_r)
{
	struct mindex *ix;
	struct stat st;
	const char *reason;
	void *map;
	bool in_new = false;
	int fd = maildir_file_open(path, &st, &reason);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = "cannot open the index";
		return -1;
	}
	if (st.st_size < HDR_SIZE || (uint64_t)st.st_size > (uint64_t)1 << 34) {
		close(fd);
		*error_r = "index is not a plausible file";
		return -1;
	}
	pthread_mutex_lock(&open_lock);
	ix = shared_find(&st);
	pthread_mutex_unlock(&open_lock);
	if (ix != NULL) {
		close(fd);
		*index_r = ix;
		return 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		close(fd);
		*error_r = "cannot map the index";
		return -1;
	}
	if (seal_ok(fd, &st, map, &in_new)) {
		/* written whole by a writer since this boot: the header and
		   the expunge log are checked, the rest as it is read */
		ix = xcalloc(1, sizeof(*ix));
		ix->data = map;
		ix->len = (size_t)st.st_size;
		ix->refs = 1;
		ix->sealed = true;
		ix->any_in_new = in_new;
		if (check_header(ix, false, error_r) < 0 ||
		    check_expunges(ix, error_r) < 0)
			mindex_free(&ix);
	} else if (mindex_open_mem(map, (size_t)st.st_size, &ix, error_r) < 0) {
		ix = NULL;
	}
	close(fd);
	if (ix == NULL) {
		munmap(map, (size_t)st.st_size);
		return -1;
	}
	ix->mapped = true;
	ix->dev = st.st_dev;
	ix->ino = st.st_ino;
	ix->mtime = st.st_mtim;
	pthread_mutex_lock(&open_lock);
	ix->next = open_list;
	open_list = ix;
	pthread_mutex_unlock(&open_lock);
	*index_r = ix;
	return 1;
}

void mindex_free(struct mindex **indexp)
{
	struct mindex *ix = *indexp;

	if (ix == NULL)
		return;
	*indexp = NULL;
	pthread_mutex_lock(&open_lock);
	if (--ix->refs > 0) {
		pthread_mutex_unlock(&open_lock);
		return;
	}
	if (ix->mapped) {
		for (struct mindex **p = &open_list; *p != NULL;
		     p = &(*p)->next) {
			if (*p == ix) {
				*p = ix->next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&open_lock);
	if (ix->mapped)
		munmap((void *)ix->data, ix->len);
	free(ix);
}

bool mindex_any_in_new(const struct mindex *index)
{
	return index->any_in_new;
}

const struct mindex_hdr *mindex_header(const struct mindex *index)
{
	return &index->hdr;
}

void mindex_get(const struct mindex *index, uint32_t i, struct mindex_rec *r)
{
	const unsigned char *p = index->recs + (size_t)i * REC_SIZE;

	r->uid = get32(p + R_UID);
	r->flags = get32(p + R_FLAGS);
	r->keywords = get32(p + R_KEYWORDS);
	r->modseq = get64(p + R_MODSEQ);
	r->size = get64(p + R_SIZE);
	r->vsize = get64(p + R_VSIZE);
	r->date = (int64_t)get64(p + R_DATE);
	r->save_date = (int64_t)get64(p + R_SAVE_DATE);
}

struct strv mindex_get_name(const struct mindex *index, uint32_t i)
{
	const unsigned char *p = index->recs + (size_t)i * REC_SIZE;
	uint32_t off = get32(p + R_NAME_OFF), len = get32(p + R_NAME_LEN);

	/* a sealed file's names were not checked at open: a bad one (only
	   someone who can write the folder could make it) names no file */
	if (index->sealed &&
	    (off >= index->names_size || len >= index->names_size - off ||
	     index->names[off + len] != 0 || !name_ok(index->names + off, len)))
		return (struct strv){".bad-index-name", 15};
	return (struct strv){(const char *)index->names + off, len};
}

long mindex_find_uid(const struct mindex *index, uint32_t uid)
{
	uint32_t lo = 0, hi = index->hdr.count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t u = get32(index->recs + (size_t)mid * REC_SIZE);

		if (u == uid)
			return (long)mid;
		if (u < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void mindex_get_expunge(const struct mindex *index, uint32_t i, uint32_t *uid_r,
			uint64_t *modseq_r)
{
	const unsigned char *e = index->exps + (size_t)i * EXP_SIZE;

	*uid_r = get32(e);
	*modseq_r = get64(e + 8);
}

/* --- writing --- */

struct mindex_writer *mindex_writer_new(const struct mindex_hdr *hdr)
{
	struct mindex_writer *w = xcalloc(1, sizeof(*w));

	w->hdr = *hdr;
	w->hdr.count = w->hdr.unseen = w->hdr.deleted = 0;
	/* records go straight into the image, after the header */
	buf_init(&w->names, BUF_UNLIMITED);
	buf_init(&w->image, BUF_UNLIMITED);
	buf_append(&w->image, (const unsigned char[HDR_SIZE]){0}, HDR_SIZE);
	return w;
}

void mindex_writer_free(struct mindex_writer **wp)
{
	struct mindex_writer *w = *wp;

	if (w == NULL)
		return;
	buf_free(&w->names);
	buf_free(&w->image);
	free(w->exp_uid);
	free(w->exp_modseq);
	free(w);
	*wp = NULL;
}

int mindex_writer_add(struct mindex_writer *w, const struct mindex_rec *r,
		      struct strv name)
{
	unsigned char rec[REC_SIZE];

	if (w->finished || r->uid <= w->last_uid || r->uid >= w->hdr.uidnext ||
	    (r->flags & ~MINDEX_REC_FLAGS_ALL) != 0 ||
	    r->keywords >= 1u << 26 || r->modseq == 0 ||
	    r->modseq > w->hdr.highest_modseq || w->hdr.count >= COUNT_MAX ||
	    !name_ok((const unsigned char *)name.p, name.len) ||
	    w->names.len >= UINT32_MAX - name.len)
		return -1;
	memset(rec, 0, sizeof(rec));
	put32(rec + R_UID, r->uid);
	put32(rec + R_FLAGS, r->flags);
	put32(rec + R_KEYWORDS, r->keywords);
	put32(rec + R_NAME_OFF, (uint32_t)w->names.len);
	put64(rec + R_MODSEQ, r->modseq);
	put64(rec + R_SIZE, r->size);
	put64(rec + R_VSIZE, r->vsize);
	put64(rec + R_DATE, (uint64_t)r->date);
	put64(rec + R_SAVE_DATE, (uint64_t)r->save_date);
	put32(rec + R_NAME_LEN, (uint32_t)name.len);
	buf_append(&w->image, rec, sizeof(rec));
	buf_append(&w->names, name.p, name.len);
	buf_append(&w->names, "", 1);
	w->hdr.count++;
	w->hdr.unseen += !(r->flags & 0x10);
	w->hdr.deleted += !!(r->flags & 0x20);
	w->any_in_new |= (r->flags & MINDEX_REC_IN_NEW) != 0;
	w->last_uid = r->uid;
	return 0;
}

void mindex_writer_expunge(struct mindex_writer *w, uint32_t uid,
			   uint64_t modseq)
{
	uint64_t last = w->exp_count > 0 ? w->exp_modseq[w->exp_count - 1]
					 : w->hdr.expunge_floor;

	if (w->finished || uid == 0 || uid >= w->hdr.uidnext ||
	    modseq <= last || modseq > w->hdr.highest_modseq)
		return;
	if (w->exp_count == MINDEX_EXPUNGE_MAX) {
		/* the oldest goes: "vanished since" below it is unknown */
		w->hdr.expunge_floor = w->exp_modseq[0];
		memmove(w->exp_uid, w->exp_uid + 1,
			(w->exp_count - 1) * sizeof(*w->exp_uid));
		memmove(w->exp_modseq, w->exp_modseq + 1,
			(w->exp_count - 1) * sizeof(*w->exp_modseq));
		w->exp_count--;
	}
	if (w->exp_count == w->exp_cap) {
		w->exp_cap = w->exp_cap == 0 ? 64 : w->exp_cap * 2;
		w->exp_uid =
			xrealloc(w->exp_uid, w->exp_cap * sizeof(*w->exp_uid));
		w->exp_modseq = xrealloc(w->exp_modseq,
					 w->exp_cap * sizeof(*w->exp_modseq));
	}
	w->exp_uid[w->exp_count] = uid;
	w->exp_modseq[w->exp_count++] = modseq;
}

void mindex_writer_image(struct mindex_writer *w, const void **data_r,
			 size_t *len_r)
{
	unsigned char h[HDR_SIZE];

	memset(h, 0, sizeof(h));
	memcpy(h, MAGIC, 8);
	put32(h + H_VERSION, VERSION);
	put32(h + H_HDR_SIZE, HDR_SIZE);
	put32(h + H_REC_SIZE, REC_SIZE);
	put32(h + H_UIDVALIDITY, w->hdr.uidvalidity);
	put32(h + H_UIDNEXT, w->hdr.uidnext);
	put32(h + H_COUNT, w->hdr.count);
	put32(h + H_UNSEEN, w->hdr.unseen);
	put32(h + H_DELETED, w->hdr.deleted);
	put64(h + H_HIGHEST, w->hdr.highest_modseq);
	put64(h + H_EXP_FLOOR, w->hdr.expunge_floor);
	put32(h + H_EXP_COUNT, (uint32_t)w->exp_count);
	put32(h + H_NAMES_SIZE, (uint32_t)w->names.len);
	stamp_put(h, &w->hdr.stamp);
	put32(h + H_BUILT_AT, w->hdr.built_at);
	if (!w->finished) {
		for (size_t i = 0; i < w->exp_count; i++) {
			unsigned char e[EXP_SIZE];

			memset(e, 0, sizeof(e));
			put32(e, w->exp_uid[i]);
			put64(e + 8, w->exp_modseq[i]);
			buf_append(&w->image, e, sizeof(e));
		}
		buf_append(&w->image, w->names.data, w->names.len);
		w->finished = true;
	}
	memcpy(w->image.data, h, sizeof(h));
	mindex_fix_checksum(w->image.data, w->image.len);
	*data_r = w->image.data;
	*len_r = w->image.len;
}

int mindex_writer_finish(struct mindex_writer **wp, const char *path,
			 bool do_fsync, const char **error_r)
{
	const void *data;
	size_t len;
	int ret;

	mindex_writer_image(*wp, &data, &len);
	/* an exclusive temporary file in the folder's tmp/, renamed */
	ret = maildir_file_replace(path, data, len, do_fsync);
	if (ret == 0)
		seal_put(path, data, len, (*wp)->any_in_new);
	mindex_writer_free(wp);
	if (ret < 0) {
		log_error("event=index_write path=%s error=\"%s\"", log_q(path),
			  strerror(errno));
		*error_r = "cannot write the index";
	}
	return ret;
}

/* --- the MODSEQ ceiling --- */

uint64_t mindex_modseq_ceiling(const char *dir)
{
	char path[PATH_MAX], text[32];
	const char *reason;
	uint64_t value = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/" MINDEX_MODSEQ_FILE, dir);
	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 1 || text[n - 1] != '\n')
		return 0;
	text[n - 1] = '\0';
	if (str_to_u64(text, UINT64_MAX / 2, &value) < 0)
		return 0;
	return value;
}

int mindex_modseq_reserve(const char *dir, uint64_t need, bool do_fsync,
			  const char **error_r)
{
	char path[PATH_MAX], text[32];
	uint64_t ceiling = mindex_modseq_ceiling(dir);
	int len;

	if (need <= ceiling)
		return 0;
	if (need > UINT64_MAX / 2 - MINDEX_MODSEQ_RESERVE) {
		*error_r = "MODSEQ space exhausted";
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" MINDEX_MODSEQ_FILE, dir);
	len = snprintf(text, sizeof(text), "%llu\n",
		       (unsigned long long)(need + MINDEX_MODSEQ_RESERVE));
	if (maildir_file_replace(path, text, (size_t)len, do_fsync) < 0) {
		log_error("event=modseq_write path=%s error=\"%s\"",
			  log_q(path), strerror(errno));
		*error_r = "cannot write the MODSEQ ceiling";
		return -1;
	}
	return 0;
}

uint64_t mindex_modseq_floor(const char *dir, const struct mindex *old,
			     bool new_folder, time_t now)
{
	uint64_t ceiling = mindex_modseq_ceiling(dir), floor = ceiling;

	if (old != NULL && old->hdr.highest_modseq > floor)
		floor = old->hdr.highest_modseq;
	if (ceiling == 0 && !new_folder && now > 0 &&
	    (uint64_t)now * 1000 > floor)
		floor = (uint64_t)now * 1000;
	/* RFC 7162 3.1.2.1: HIGHESTMODSEQ is positive, also while a new
	 * folder is empty (0 would read as [NOMODSEQ]) */
	return floor > 0 ? floor : 1;
}
