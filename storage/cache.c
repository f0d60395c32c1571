/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/cache.h"

#include "storage/maildir_file.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * File layout (host byte order: the cache never leaves its machine):
 *	"MPCACHE\n" u32 version u32 uidvalidity u32 count u32 0
 *	count x { u32 uid u32 field u32 len, len bytes }
 *	u64 FNV-1a of all the bytes above
 */
#define CACHE_MAGIC "MPCACHE\n"
#define CACHE_VERSION 1u
#define CACHE_HDR_SIZE 24
#define CACHE_MAX_FILE ((size_t)1 << 30)

struct cache_entry {
	uint32_t uid;
	uint32_t field;
	uint32_t len;
	bool used; /* false: a removed slot */
	char *data;
};

struct mail_cache {
	char *path;
	uint32_t uidvalidity;
	struct cache_entry *entries; /* open addressing by (uid, field) */
	size_t size, count, tombs;
	bool dirty;
};

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

static size_t slot_of(const struct mail_cache *cache, uint32_t uid,
		      uint32_t field)
{
	uint64_t key = ((uint64_t)uid << 32) | field;

	/* splitmix64's finalizer: every bit of the key reaches the low bits
	   the mask keeps (a bare multiply leaves them to the field alone, and
	   a big folder's keys then start from a few hundred slots) */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & (cache->size - 1);
}

static struct cache_entry *find_slot(struct mail_cache *cache, uint32_t uid,
				     uint32_t field, bool for_insert)
{
	size_t pos = slot_of(cache, uid, field);
	struct cache_entry *free_slot = NULL;

	for (;;) {
		struct cache_entry *e = &cache->entries[pos];

		if (e->data == NULL && !e->used) {
			if (!for_insert)
				return NULL;
			return free_slot != NULL ? free_slot : e;
		}
		if (e->used && e->uid == uid && e->field == field)
			return e;
		if (!e->used && free_slot == NULL)
			free_slot = e;
		pos = (pos + 1) & (cache->size - 1);
	}
}

static void rehash(struct mail_cache *cache, size_t want)
{
	struct cache_entry *old = cache->entries;
	size_t old_size = cache->size, size = 64;

	while (size < want * 2)
		size *= 2;
	cache->entries = xcalloc(size, sizeof(*cache->entries));
	cache->size = size;
	cache->tombs = 0;
	for (size_t i = 0; i < old_size; i++) {
		if (old[i].used)
			*find_slot(cache, old[i].uid, old[i].field, true) =
				old[i];
	}
	free(old);
}

/* Tombstones are slots with used == false and data == (char *)1. */
static char tomb_marker;

static void insert(struct mail_cache *cache, uint32_t uid, uint32_t field,
		   const void *data, size_t len)
{
	struct cache_entry *e;

	if ((cache->count + cache->tombs + 1) * 2 > cache->size)
		rehash(cache, cache->count + 1);
	e = find_slot(cache, uid, field, true);
	if (e->used) {
		free(e->data);
	} else {
		if (e->data == &tomb_marker)
			cache->tombs--;
		cache->count++;
	}
	e->uid = uid;
	e->field = field;
	e->len = (uint32_t)len;
	e->used = true;
	e->data = xmalloc(len + 1);
	memcpy(e->data, data, len);
}

static void load(struct mail_cache *cache)
{
	struct stat st;
	char *data = NULL, *p, *end;
	uint32_t hdr[4];
	uint64_t sum;
	const char *reason;
	size_t got = 0;
	int fd;

	fd = maildir_file_open(cache->path, &st, &reason);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("event=cache_open path=%s error=\"%s\"",
				 log_q(cache->path), reason);
		return;
	}
	if (st.st_size < CACHE_HDR_SIZE + 8 ||
	    (size_t)st.st_size > CACHE_MAX_FILE)
		goto bad;
	data = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n <= 0)
			goto bad;
		got += (size_t)n;
	}
	end = data + got - 8;
	memcpy(&sum, end, 8);
	if (memcmp(data, CACHE_MAGIC, 8) != 0 ||
	    fnv1a(FNV_INIT, data, got - 8) != sum)
		goto bad;
	memcpy(hdr, data + 8, sizeof(hdr));
	if (hdr[0] != CACHE_VERSION || hdr[1] != cache->uidvalidity)
		goto bad;
	p = data + CACHE_HDR_SIZE;
	for (uint32_t i = 0; i < hdr[2]; i++) {
		uint32_t e[3];

		if ((size_t)(end - p) < sizeof(e))
			goto bad;
		memcpy(e, p, sizeof(e));
		p += sizeof(e);
		if (e[2] > MAIL_CACHE_BLOB_MAX || (size_t)(end - p) < e[2])
			goto bad;
		insert(cache, e[0], e[1], p, e[2]);
		p += e[2];
	}
	if (p != end)
		goto bad;
	free(data);
	close(fd);
	cache->dirty = false;
	return;
bad:
	/* disposable: start over, the messages are the truth */
	log_warn(
		"event=cache_rebuild path=%s reason=\"missing, stale or corrupt\"",
		log_q(cache->path));
	mail_cache_clear(cache);
	free(data);
	close(fd);
}

struct mail_cache *mail_cache_open(const char *dir, uint32_t uidvalidity)
{
	struct mail_cache *cache = xcalloc(1, sizeof(*cache));
	size_t len = strlen(dir) + sizeof(MAIL_CACHE_FILE) + 2;

	cache->path = xmalloc(len);
	snprintf(cache->path, len, "%s/%s", dir, MAIL_CACHE_FILE);
	cache->uidvalidity = uidvalidity;
	rehash(cache, 0);
	load(cache);
	return cache;
}

void mail_cache_clear(struct mail_cache *cache)
{
	for (size_t i = 0; i < cache->size; i++) {
		if (cache->entries[i].used)
			free(cache->entries[i].data);
	}
	free(cache->entries);
	cache->entries = NULL;
	cache->size = 0;
	cache->count = 0;
	rehash(cache, 0);
	cache->dirty = true;
}

void mail_cache_free(struct mail_cache **cachep)
{
	struct mail_cache *cache = *cachep;

	if (cache == NULL)
		return;
	for (size_t i = 0; i < cache->size; i++) {
		if (cache->entries[i].used)
			free(cache->entries[i].data);
	}
	free(cache->entries);
	free(cache->path);
	free(cache);
	*cachep = NULL;
}

bool mail_cache_get(struct mail_cache *cache, uint32_t uid, unsigned field,
		    const void **data_r, size_t *len_r)
{
	struct cache_entry *e = find_slot(cache, uid, field, false);

	if (e == NULL)
		return false;
	*data_r = e->data;
	*len_r = e->len;
	return true;
}

void mail_cache_put(struct mail_cache *cache, uint32_t uid, unsigned field,
		    const void *data, size_t len)
{
	const void *old;
	size_t old_len;

	if (len > MAIL_CACHE_BLOB_MAX)
		return;
	if (mail_cache_get(cache, uid, field, &old, &old_len) &&
	    old_len == len && memcmp(old, data, len) == 0)
		return;
	insert(cache, uid, (uint32_t)field, data, len);
	cache->dirty = true;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void mail_cache_retain(struct mail_cache *cache, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < cache->size; i++) {
		struct cache_entry *e = &cache->entries[i];

		if (!e->used ||
		    bsearch(&e->uid, uids, n, sizeof(*uids), uid_cmp) != NULL)
			continue;
		free(e->data);
		e->data = &tomb_marker;
		e->used = false;
		cache->count--;
		cache->tombs++;
		cache->dirty = true;
	}
}

size_t mail_cache_probes(struct mail_cache *cache, uint32_t uid, unsigned field)
{
	size_t pos = slot_of(cache, uid, field), n = 1;

	for (;; n++) {
		const struct cache_entry *e = &cache->entries[pos];

		if ((e->data == NULL && !e->used) ||
		    (e->used && e->uid == uid && e->field == field))
			return n;
		pos = (pos + 1) & (cache->size - 1);
	}
}

size_t mail_cache_count(const struct mail_cache *cache)
{
	return cache->count;
}

void mail_cache_fix_checksum(void *data, size_t len)
{
	uint64_t sum;

	if (len < sizeof(sum))
		return;
	sum = fnv1a(FNV_INIT, data, len - sizeof(sum));
	memcpy((char *)data + len - sizeof(sum), &sum, sizeof(sum));
}

int mail_cache_save(struct mail_cache *cache, bool do_fsync)
{
	uint32_t hdr[4] = {CACHE_VERSION, cache->uidvalidity,
			   (uint32_t)cache->count, 0};
	struct buf out;
	uint64_t sum;

	if (!cache->dirty)
		return 0;
	buf_init(&out, BUF_UNLIMITED);
	buf_append(&out, CACHE_MAGIC, 8);
	buf_append(&out, hdr, sizeof(hdr));
	for (size_t i = 0; i < cache->size; i++) {
		const struct cache_entry *e = &cache->entries[i];
		uint32_t eh[3] = {e->uid, e->field, e->len};

		if (!e->used)
			continue;
		buf_append(&out, eh, sizeof(eh));
		buf_append(&out, e->data, e->len);
	}
	sum = fnv1a(FNV_INIT, out.data, out.len);
	buf_append(&out, &sum, sizeof(sum));
	if (maildir_file_replace(cache->path, out.data, out.len, do_fsync) <
	    0) {
		log_error("event=cache_save path=%s error=\"%s\"",
			  log_q(cache->path), strerror(errno));
		buf_free(&out);
		return -1;
	}
	buf_free(&out);
	cache->dirty = false;
	return 0;
}
