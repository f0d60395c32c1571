/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * arena: a region allocator for memory that dies all at once.
 *
 * Three lifetimes use arenas: the process, a connection (freed at close) and
 * a command (reset when the command ends). Allocations are 16-byte aligned
 * and never freed one by one.
 */
#ifndef MERPATI_ARENA_H
#define MERPATI_ARENA_H

#include <stddef.h>

struct arena;

/* A new, empty arena; block_size is the usual chunk (0: 4 KiB). */
struct arena *arena_new(size_t block_size);

/* Frees every block and the arena; takes a pointer to NULL, leaves NULL. */
void arena_free(struct arena **arena);

/* Forgets every allocation, keeping the first block for reuse. */
void arena_reset(struct arena *arena);

/* size bytes, uninitialised / zeroed; never NULL (xmalloc semantics). */
void *arena_alloc(struct arena *arena, size_t size);
void *arena_zalloc(struct arena *arena, size_t size);

/* NUL-terminated copies in the arena. */
char *arena_strdup(struct arena *arena, const char *s);
char *arena_strndup(struct arena *arena, const char *s, size_t len);

/* printf into the arena. */
char *arena_printf(struct arena *arena, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Bytes handed out since creation or the last reset (for limits and tests). */
size_t arena_used(const struct arena *arena);

#endif
