/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "buf.h"

#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *buf, size_t max)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->max = max > BUF_UNLIMITED ? BUF_UNLIMITED : max;
}

void buf_free(struct buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void buf_free_secret(struct buf *buf)
{
	if (buf->data != NULL)
		explicit_bzero(buf->data, buf->cap);
	buf_free(buf);
}

void buf_reset(struct buf *buf)
{
	buf->len = 0;
	if (buf->data != NULL)
		buf->data[0] = '\0';
}

/* Grows the allocation so that `need` bytes plus the NUL guard fit. */
static int buf_grow(struct buf *buf, size_t need)
{
	size_t cap;

	if (need > buf->max)
		return -1;
	if (need <= buf->cap && buf->data != NULL)
		return 0;
	cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need)
		cap = cap > BUF_UNLIMITED / 2 ? BUF_UNLIMITED : cap * 2;
	if (cap > buf->max && need <= buf->max)
		cap = buf->max;
	buf->data = xrealloc(buf->data, cap + 1);
	buf->cap = cap;
	buf->data[buf->len] = '\0';
	return 0;
}

int buf_append(struct buf *buf, const void *data, size_t len)
{
	if (len > buf->max - buf->len)
		return -1;
	if (buf_grow(buf, buf->len + len) < 0)
		return -1;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int buf_append_str(struct buf *buf, const char *s)
{
	return buf_append(buf, s, strlen(s));
}

int buf_append_u64(struct buf *buf, uint64_t v)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return buf_append(buf, digits + n, sizeof(digits) - n);
}

int buf_vprintf(struct buf *buf, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (size_t)n > buf->max - buf->len)
		return -1;
	if (buf_grow(buf, buf->len + (size_t)n) < 0)
		return -1;
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *buf, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return ret;
}

char *buf_reserve(struct buf *buf, size_t want, size_t *avail_r)
{
	size_t room = buf->max - buf->len;

	if (room == 0)
		return NULL;
	if (want > room)
		want = room;
	if (want == 0)
		want = 1;
	if (buf_grow(buf, buf->len + want) < 0)
		return NULL;
	*avail_r = buf->cap - buf->len;
	return buf->data + buf->len;
}

void buf_commit(struct buf *buf, size_t n)
{
	buf->len += n;
	buf->data[buf->len] = '\0';
}

void buf_consume(struct buf *buf, size_t n)
{
	if (n >= buf->len) {
		buf_reset(buf);
		return;
	}
	memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
	buf->data[buf->len] = '\0';
}

void buf_truncate(struct buf *buf, size_t len)
{
	if (len >= buf->len)
		return;
	buf->len = len;
	buf->data[len] = '\0';
}

size_t buf_room(const struct buf *buf)
{
	return buf->max - buf->len;
}

bool buf_is_empty(const struct buf *buf)
{
	return buf->len == 0;
}

long buf_find_byte(const struct buf *buf, size_t from, char c)
{
	const char *p;

	if (from >= buf->len)
		return -1;
	p = memchr(buf->data + from, c, buf->len - from);
	return p == NULL ? -1 : (long)(p - buf->data);
}
