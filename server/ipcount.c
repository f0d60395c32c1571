/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/ipcount.h"

#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A slot is one 64-bit word: the address's 40-bit key (never 0 once
   used) and its 24-bit count, changed together by one CAS. */
#define SLOT_COUNT_BITS 24
#define SLOT_COUNT_MAX ((1u << SLOT_COUNT_BITS) - 1)
#define SLOT_KEY(v) ((v) >> SLOT_COUNT_BITS)
#define SLOT_COUNT(v) ((unsigned)((v)&SLOT_COUNT_MAX))
#define SLOT_MAKE(key, count) (((key) << SLOT_COUNT_BITS) | (uint64_t)(count))
/* bounded retries when other workers keep changing the window */
#define IPCOUNT_RETRIES 16

struct ipcount {
	uint64_t seed;
	size_t n_slots; /* a power of two */
	size_t map_size;
	void *map;
	/* in the shared mapping: */
	uint64_t *slots;   /* [n_slots] */
	uint32_t *held;	   /* [IPCOUNT_COLUMNS]: what each column holds */
	uint32_t *columns; /* [IPCOUNT_COLUMNS][n_slots] */
	/* the master's own: which columns belong to a live worker */
	bool used[IPCOUNT_COLUMNS];
};

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static bool cas(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

struct ipcount *ipcount_new(size_t slots)
{
	struct ipcount *t = xcalloc(1, sizeof(*t));
	size_t n = IPCOUNT_SLOTS_MIN;
	char *p;

	while (n < slots && n < IPCOUNT_SLOTS_MAX)
		n *= 2;
	t->n_slots = n;
	t->map_size = n * sizeof(uint64_t) +
		      IPCOUNT_COLUMNS * sizeof(uint32_t) +
		      (size_t)IPCOUNT_COLUMNS * n * sizeof(uint32_t);
	/* pages are only backed once touched: the columns of workers that
	   never ran cost nothing */
	t->map = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->map == MAP_FAILED) {
		free(t);
		return NULL;
	}
	p = t->map;
	t->slots = (uint64_t *)p;
	t->held = (uint32_t *)(p + n * sizeof(uint64_t));
	t->columns = t->held + IPCOUNT_COLUMNS;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return t;
}

void ipcount_free(struct ipcount **tp)
{
	struct ipcount *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	munmap(t->map, t->map_size);
	free(t);
}

/* FNV-1a step over n bytes. */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* FNV-1a over the seed and the address, then a 64-bit finaliser
   (MurmurHash3's fmix64) to spread the bits. An IPv6 address counts by
   its /64 (one customer's allocation, where a host can pick any of 2^64
   addresses; the auth penalty groups the same way): its first 8 bytes are
   hashed, behind a tag no IPv4 text starts with. An IPv4-mapped address
   keeps all its bits (the /64 would be every IPv4 client at once). */
static uint64_t ipcount_hash(const struct ipcount *t, const char *ip)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
	struct in6_addr a6;

	if (strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, &a6) == 1) {
		static const unsigned char tag[] = "v6/";
		size_t n = IN6_IS_ADDR_V4MAPPED(&a6) ? 16 : 8;

		h = fnv1a(h, tag, sizeof(tag) - 1);
		h = fnv1a(h, a6.s6_addr, n);
	} else {
		h = fnv1a(h, (const unsigned char *)ip, strlen(ip));
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t ipcount_key(uint64_t h)
{
	return (h & ((UINT64_C(1) << (64 - SLOT_COUNT_BITS)) - 1)) | 1;
}

static uint32_t *column_cell(struct ipcount *t, int column, size_t idx)
{
	return &t->columns[(size_t)column * t->n_slots + idx];
}

static void column_add(struct ipcount *t, int column, size_t idx, int d)
{
	if (column < 0)
		return;
	__atomic_add_fetch(column_cell(t, column, idx), (uint32_t)d,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->held[column], (uint32_t)d, __ATOMIC_RELAXED);
}

int ipcount_column_take(struct ipcount *t)
{
	for (int c = 0; c < IPCOUNT_COLUMNS; c++) {
		if (!t->used[c]) {
			t->used[c] = true;
			return c;
		}
	}
	return -1;
}

/* Takes up to n counts off slot idx. */
static void slot_sub(struct ipcount *t, size_t idx, unsigned n)
{
	uint64_t v = load(&t->slots[idx]);

	for (;;) {
		unsigned have = SLOT_COUNT(v);
		unsigned take = n < have ? n : have;

		if (take == 0 || cas(&t->slots[idx], &v, v - take))
			return;
	}
}

void ipcount_column_release(struct ipcount *t, int column)
{
	if (column < 0 || column >= IPCOUNT_COLUMNS)
		return;
	if (__atomic_load_n(&t->held[column], __ATOMIC_ACQUIRE) != 0) {
		for (size_t i = 0; i < t->n_slots; i++) {
			uint32_t *cell = column_cell(t, column, i);
			uint32_t n = __atomic_load_n(cell, __ATOMIC_ACQUIRE);

			if (n == 0)
				continue;
			slot_sub(t, i, n);
			__atomic_store_n(cell, 0, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&t->held[column], 0, __ATOMIC_RELEASE);
	}
	t->used[column] = false;
}

/* Adds one to the slot at idx, which held key when we looked. Returns 1
   (done), -1 (at max), 0 (the slot changed hands: look again). */
static int slot_increment(struct ipcount *t, size_t idx, uint64_t v,
			  uint64_t key, unsigned max)
{
	for (;;) {
		if (SLOT_KEY(v) != key)
			return 0;
		if (SLOT_COUNT(v) >= max)
			return -1;
		if (cas(&t->slots[idx], &v, v + 1))
			return 1;
	}
}

int ipcount_acquire(struct ipcount *t, int column, const char *ip, unsigned max)
{
	uint64_t h = ipcount_hash(t, ip), key = ipcount_key(h);
	size_t mask = t->n_slots - 1, start = (size_t)(h >> 40) & mask;

	if (max > SLOT_COUNT_MAX)
		max = SLOT_COUNT_MAX;
	for (int attempt = 0; attempt < IPCOUNT_RETRIES; attempt++) {
		size_t free_idx = 0;
		uint64_t free_v = 0;
		bool have_free = false, changed = false;

		/* the address's own slot first, wherever it is in the window:
		   one slot per address keeps the cap exact */
		for (size_t i = 0; i < IPCOUNT_PROBE; i++) {
			size_t idx = (start + i) & mask;
			uint64_t v = load(&t->slots[idx]);
			int r;

			if (SLOT_KEY(v) == key) {
				r = slot_increment(t, idx, v, key, max);
				if (r < 0)
					return -1;
				if (r > 0) {
					column_add(t, column, idx, 1);
					return 0;
				}
				changed = true;
				break;
			}
			if (!have_free && SLOT_COUNT(v) == 0) {
				have_free = true;
				free_idx = idx;
				free_v = v;
			}
		}
		if (changed)
			continue;
		if (!have_free)
			return -2;
		if (max == 0)
			return -1;
		if (cas(&t->slots[free_idx], &free_v, SLOT_MAKE(key, 1))) {
			column_add(t, column, free_idx, 1);
			return 0;
		}
	}
	return -2;
}

void ipcount_release(struct ipcount *t, int column, const char *ip)
{
	uint64_t h = ipcount_hash(t, ip), key = ipcount_key(h);
	size_t mask = t->n_slots - 1, start = (size_t)(h >> 40) & mask;
	size_t any = SIZE_MAX;

	for (size_t i = 0; i < IPCOUNT_PROBE; i++) {
		size_t idx = (start + i) & mask;
		uint64_t v = load(&t->slots[idx]);

		if (SLOT_KEY(v) != key || SLOT_COUNT(v) == 0)
			continue;
		/* the slot this worker counted in, if it is still known */
		if (column < 0 || __atomic_load_n(column_cell(t, column, idx),
						  __ATOMIC_RELAXED) > 0) {
			column_add(t, column, idx, -1);
			slot_sub(t, idx, 1);
			return;
		}
		if (any == SIZE_MAX)
			any = idx;
	}
	if (any != SIZE_MAX)
		slot_sub(t, any, 1);
}

unsigned ipcount_get(const struct ipcount *t, const char *ip)
{
	uint64_t h = ipcount_hash(t, ip), key = ipcount_key(h);
	size_t mask = t->n_slots - 1, start = (size_t)(h >> 40) & mask;
	unsigned n = 0;

	for (size_t i = 0; i < IPCOUNT_PROBE; i++) {
		uint64_t v = load(&t->slots[(start + i) & mask]);

		if (SLOT_KEY(v) == key)
			n += SLOT_COUNT(v);
	}
	return n;
}
