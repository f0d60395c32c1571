/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_seqset.h"

#include "lib/xalloc.h"

#include <assert.h>
#include <stdlib.h>

/* "*" while unresolved; 0 is never a member (nz-number). */
#define SEQ_STAR 0

struct seq_range {
	uint32_t lo, hi;
};

struct imap_seqset {
	struct seq_range *r;
	size_t count, cap;
	bool searchres;
	bool normal; /* sorted, merged, no "*" */
};

struct imap_seqset *imap_seqset_new(void)
{
	struct imap_seqset *set = xcalloc(1, sizeof(*set));

	set->normal = true;
	return set;
}

void imap_seqset_free(struct imap_seqset **set)
{
	if (*set == NULL)
		return;
	free((*set)->r);
	free(*set);
	*set = NULL;
}

static void seqset_push(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	if (set->count == set->cap) {
		set->cap = set->cap == 0 ? 8 : set->cap * 2;
		set->r = xrealloc(set->r, set->cap * sizeof(*set->r));
	}
	set->r[set->count++] = (struct seq_range){lo, hi};
}

/* One seq-number at *pos: nz-number or "*". */
static int seqset_number(struct strv text, size_t *pos, uint32_t *n_r)
{
	uint64_t n = 0;
	size_t i = *pos;

	if (i < text.len && text.p[i] == '*') {
		*n_r = SEQ_STAR;
		*pos = i + 1;
		return 0;
	}
	if (i >= text.len || text.p[i] < '0' || text.p[i] > '9')
		return -1;
	for (; i < text.len && text.p[i] >= '0' && text.p[i] <= '9'; i++) {
		n = n * 10 + (uint64_t)(text.p[i] - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	if (n == 0)
		return -1;
	*n_r = (uint32_t)n;
	*pos = i;
	return 0;
}

int imap_seqset_parse(struct strv text, bool allow_searchres,
		      struct imap_seqset **set_r, const char **error_r)
{
	struct imap_seqset *set;
	size_t pos = 0;

	if (text.len == 1 && text.p[0] == '$') {
		if (!allow_searchres) {
			*error_r = "Invalid sequence set: $ not allowed here";
			return -1;
		}
		set = imap_seqset_new();
		set->searchres = true;
		*set_r = set;
		return 0;
	}
	set = imap_seqset_new();
	set->normal = false;
	for (;;) {
		uint32_t lo, hi;

		if (seqset_number(text, &pos, &lo) < 0)
			goto bad;
		hi = lo;
		if (pos < text.len && text.p[pos] == ':') {
			pos++;
			if (seqset_number(text, &pos, &hi) < 0)
				goto bad;
		}
		seqset_push(set, lo, hi);
		if (pos == text.len)
			break;
		if (text.p[pos++] != ',')
			goto bad;
	}
	*set_r = set;
	return 0;
bad:
	imap_seqset_free(&set);
	*error_r = "Invalid sequence set";
	return -1;
}

bool imap_seqset_is_searchres(const struct imap_seqset *set)
{
	return set->searchres;
}

bool imap_seqset_has_star(const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->count; i++) {
		if (set->r[i].lo == SEQ_STAR || set->r[i].hi == SEQ_STAR)
			return true;
	}
	return false;
}

static int range_cmp(const void *a, const void *b)
{
	const struct seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

void imap_seqset_normalise(struct imap_seqset *set)
{
	size_t out = 0;

	assert(!imap_seqset_has_star(set));
	for (size_t i = 0; i < set->count; i++) {
		if (set->r[i].lo > set->r[i].hi) {
			uint32_t t = set->r[i].lo;

			set->r[i].lo = set->r[i].hi;
			set->r[i].hi = t;
		}
	}
	if (set->count > 1)
		qsort(set->r, set->count, sizeof(*set->r), range_cmp);
	for (size_t i = 0; i < set->count; i++) {
		struct seq_range *last = out > 0 ? &set->r[out - 1] : NULL;

		/* merge overlapping and adjacent ranges (hi + 1 without
		   overflow: hi == UINT32_MAX swallows everything after) */
		if (last != NULL &&
		    (last->hi == UINT32_MAX || set->r[i].lo <= last->hi + 1)) {
			if (set->r[i].hi > last->hi)
				last->hi = set->r[i].hi;
			continue;
		}
		set->r[out++] = set->r[i];
	}
	set->count = out;
	set->normal = true;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t star)
{
	size_t out = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct seq_range r = set->r[i];

		if (r.lo == SEQ_STAR || r.hi == SEQ_STAR) {
			/* RFC 3501 6.4.8: "n:*" always includes the last
			   message, even when n is above it */
			if (star == 0)
				continue;
			if (r.lo == SEQ_STAR)
				r.lo = star;
			if (r.hi == SEQ_STAR)
				r.hi = star;
		}
		set->r[out++] = r;
	}
	set->count = out;
	imap_seqset_normalise(set);
}

void imap_seqset_add_range(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	assert(lo != 0 && hi != 0);
	if (lo > hi) {
		uint32_t t = lo;

		lo = hi;
		hi = t;
	}
	/* ascending additions (a search result) cost O(1) each */
	if (set->normal && set->count > 0 && lo > set->r[set->count - 1].hi) {
		if (lo - 1 == set->r[set->count - 1].hi)
			set->r[set->count - 1].hi = hi;
		else
			seqset_push(set, lo, hi);
		return;
	}
	seqset_push(set, lo, hi);
	imap_seqset_normalise(set);
}

void imap_seqset_clamp(struct imap_seqset *set, uint32_t max)
{
	assert(set->normal);
	while (set->count > 0 && set->r[set->count - 1].lo > max)
		set->count--;
	if (set->count > 0 && set->r[set->count - 1].hi > max)
		set->r[set->count - 1].hi = max;
}

/* Index of the first range whose hi >= n (count when none). */
static size_t seqset_find(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->r[mid].hi < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t i;

	assert(set->normal);
	i = seqset_find(set, n);
	return i < set->count && set->r[i].lo <= n;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t total = 0;

	assert(set->normal);
	for (size_t i = 0; i < set->count; i++)
		total += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return total;
}

uint32_t imap_seqset_min(const struct imap_seqset *set)
{
	assert(set->normal);
	return set->count == 0 ? 0 : set->r[0].lo;
}

uint32_t imap_seqset_max(const struct imap_seqset *set)
{
	assert(set->normal);
	return set->count == 0 ? 0 : set->r[set->count - 1].hi;
}

size_t imap_seqset_range_count(const struct imap_seqset *set)
{
	return set->count;
}

void imap_seqset_range(const struct imap_seqset *set, size_t i, uint32_t *lo_r,
		       uint32_t *hi_r)
{
	assert(i < set->count);
	*lo_r = set->r[i].lo;
	*hi_r = set->r[i].hi;
}

bool imap_seqset_next(const struct imap_seqset *set, uint32_t *n)
{
	size_t i;

	assert(set->normal);
	if (*n == UINT32_MAX)
		return false;
	i = seqset_find(set, *n + 1);
	if (i == set->count)
		return false;
	*n = set->r[i].lo > *n + 1 ? set->r[i].lo : *n + 1;
	return true;
}

int imap_seqset_write(const struct imap_seqset *set, struct buf *out)
{
	assert(set->normal);
	for (size_t i = 0; i < set->count; i++) {
		const struct seq_range *r = &set->r[i];
		int ret;

		if (r->lo == r->hi)
			ret = buf_printf(out, "%s%u", i > 0 ? "," : "", r->lo);
		else
			ret = buf_printf(out, "%s%u:%u", i > 0 ? "," : "",
					 r->lo, r->hi);
		if (ret < 0)
			return -1;
	}
	return 0;
}
