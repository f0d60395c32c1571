/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arena.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	max_align_t data[];
};

struct arena {
	struct arena_block *head; /* current block; older ones follow */
	struct arena_block *big;  /* single oversized allocations */
	size_t block_size;
	size_t total_used;
};

static struct arena_block *block_new(size_t size)
{
	struct arena_block *b;

	/* a near-SIZE_MAX request would wrap to a tiny malloc */
	if (size > SIZE_MAX - sizeof(*b))
		abort();
	b = xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

static void free_list(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
}

struct arena *arena_new(size_t block_size)
{
	struct arena *a = xcalloc(1, sizeof(*a));

	a->block_size = block_size == 0 ? 4096 : block_size;
	a->head = block_new(a->block_size);
	return a;
}

void arena_free(struct arena **arena)
{
	struct arena *a = *arena;

	if (a == NULL)
		return;
	free_list(a->head);
	free_list(a->big);
	free(a);
	*arena = NULL;
}

void arena_reset(struct arena *a)
{
	struct arena_block *keep = a->head;

	free_list(a->big);
	a->big = NULL;
	/* keep the oldest block: it has the normal size */
	while (keep->next != NULL) {
		struct arena_block *next = keep->next;

		free(keep);
		keep = next;
	}
	keep->used = 0;
	a->head = keep;
	a->total_used = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;
	size_t rounded;
	void *p;

	if (size > SIZE_MAX - ARENA_ALIGN)
		abort();
	rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (rounded > b->size - b->used) {
		struct arena_block *nb;

		if (rounded > a->block_size / 2) {
			/* one large allocation gets a block of its own */
			nb = block_new(rounded);
			nb->next = a->big;
			a->big = nb;
			nb->used = rounded;
			a->total_used += rounded;
			return nb->data;
		}
		nb = block_new(a->block_size);
		nb->next = b;
		a->head = nb;
		b = nb;
	}
	p = (char *)b->data + b->used;
	b->used += rounded;
	a->total_used += rounded;
	return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);

	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		abort();
	p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->total_used;
}
