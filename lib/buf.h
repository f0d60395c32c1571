/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * buf: a growable byte buffer with a hard upper bound.
 *
 * Network bytes live here. A buffer grows on demand up to `max` bytes and then
 * refuses further data (the append returns -1 and leaves the buffer as it
 * was), so a peer can never make us allocate without bound. The data is
 * always followed by a NUL byte that is not counted in `len`, so a complete
 * buffer can be handed to C string functions when it holds no NUL itself.
 *
 * The struct is public so that it can be embedded by value; touch the fields
 * only through these functions, except for reading `data` and `len`.
 */
#ifndef MERPATI_BUF_H
#define MERPATI_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data; /* NULL until the first append */
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated, excluding the NUL guard */
	size_t max; /* hard limit for len; SIZE_MAX/2 means "no limit" */
};

#define BUF_UNLIMITED (((size_t)-1) / 2)

/* Sets up an empty buffer that may hold up to max bytes. Allocates nothing. */
void buf_init(struct buf *buf, size_t max);

/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *buf);

/* Like buf_free() but wipes the bytes first (passwords, SASL data). */
void buf_free_secret(struct buf *buf);

/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *buf);

/* Appends len bytes. Returns 0, or -1 if the result would exceed max. */
int buf_append(struct buf *buf, const void *data, size_t len);

/* Appends a C string. Returns 0 or -1 as buf_append(). */
int buf_append_str(struct buf *buf, const char *s);

/* Appends v in decimal (the hot path of big responses: no printf).
   Returns 0 or -1 as buf_append(). */
int buf_append_u64(struct buf *buf, uint64_t v);

/* Appends formatted text. Returns 0 or -1 as buf_append(). */
int buf_printf(struct buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Makes room for at least `want` more bytes and returns where they go; the
 * caller writes up to *avail_r bytes there and then calls buf_commit(). Returns
 * NULL when the buffer is at max (nothing more fits).
 */
char *buf_reserve(struct buf *buf, size_t want, size_t *avail_r);

/* Counts n bytes written into the space that buf_reserve() handed out. */
void buf_commit(struct buf *buf, size_t n);

/* Drops the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *buf, size_t n);

/* Shrinks the buffer to its first len bytes (len <= buf->len). */
void buf_truncate(struct buf *buf, size_t len);

/* Bytes that can still be appended before max is reached. */
size_t buf_room(const struct buf *buf);

/* True when the buffer holds no bytes. */
bool buf_is_empty(const struct buf *buf);

/* Offset of the first occurrence of byte c at or after `from`, or -1. */
long buf_find_byte(const struct buf *buf, size_t from, char c);

#endif
