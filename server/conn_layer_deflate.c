/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The deflate layer (RFC 4978 COMPRESS=DEFLATE), as Dovecot's zlib
   ostream stacks on its SSL ostream. */
#include "server/conn_layer.h"

#include "lib/xalloc.h"
#include "server/conn_layer_private.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

/* RFC 4978 4: the sender picks its window; a 4 KiB window and memLevel 5
   keep our deflate state at about 38 KiB (zlib's default would be 256 KiB)
   and still compress IMAP text well. The client's window is its choice,
   so we inflate with the full 32 KiB. */
#define DEFLATE_LEVEL 6
#define DEFLATE_WINDOW_BITS 12
#define DEFLATE_MEM_LEVEL 5
#define DEFLATE_BUF_SIZE 4096

struct conn_layer_deflate {
	struct conn_layer layer;
	z_stream in, out;
	bool in_more;	/* inflate filled the caller's buffer: may hold more */
	bool in_failed; /* a data error: every later read fails */
	bool in_end;	/* the client ended its deflate stream */
	bool need_sync; /* bytes went into deflate since the last flush */
	size_t ipos, ilen; /* compressed input not inflated yet */
	size_t opos, olen; /* compressed output not taken by below yet */
	unsigned char ibuf[DEFLATE_BUF_SIZE];
	unsigned char obuf[DEFLATE_BUF_SIZE];
};

static ssize_t deflate_fail(struct conn_layer_deflate *d, const char *error)
{
	d->layer.error = error;
	return CONN_LAYER_ERROR;
}

/* Refills ibuf from below. Returns > 0, 0 at EOF, AGAIN or ERROR. */
static ssize_t deflate_fill(struct conn_layer_deflate *d)
{
	ssize_t n = conn_layer_read(d->layer.below, d->ibuf, sizeof(d->ibuf));

	if (n == CONN_LAYER_ERROR)
		return deflate_fail(d, conn_layer_error(d->layer.below));
	if (n > 0) {
		d->ipos = 0;
		d->ilen = (size_t)n;
	}
	return n;
}

static ssize_t deflate_read(struct conn_layer *l, void *buf, size_t len)
{
	struct conn_layer_deflate *d = (struct conn_layer_deflate *)l;
	size_t got = 0;

	if (d->in_failed)
		return CONN_LAYER_ERROR;
	while (got < len && !d->in_end) {
		int ret;

		if (d->ipos == d->ilen && !d->in_more) {
			ssize_t n = deflate_fill(d);

			if (n <= 0)
				return got > 0 ? (ssize_t)got : n;
		}
		d->in.next_in = d->ibuf + d->ipos;
		d->in.avail_in = (uInt)(d->ilen - d->ipos);
		d->in.next_out = (unsigned char *)buf + got;
		d->in.avail_out = (uInt)(len - got);
		ret = inflate(&d->in, Z_SYNC_FLUSH);
		d->ipos = d->ilen - d->in.avail_in;
		got = len - d->in.avail_out;
		d->in_more = d->in.avail_out == 0;
		if (ret == Z_STREAM_END) {
			d->in_end = true; /* nothing may follow: EOF */
		} else if (ret != Z_OK && ret != Z_BUF_ERROR) {
			d->in_failed = true;
			l->error = d->in.msg != NULL ? d->in.msg
						     : "inflate failed";
			return got > 0 ? (ssize_t)got : CONN_LAYER_ERROR;
		}
	}
	return (ssize_t)got;
}

static bool deflate_read_pending(struct conn_layer *l)
{
	struct conn_layer_deflate *d = (struct conn_layer_deflate *)l;

	return !d->in_failed && !d->in_end && (d->in_more || d->ipos < d->ilen);
}

/* Hands obuf to below. Returns 1 when empty, AGAIN or ERROR. */
static int deflate_drain(struct conn_layer_deflate *d)
{
	while (d->opos < d->olen) {
		ssize_t n = conn_layer_write(d->layer.below, d->obuf + d->opos,
					     d->olen - d->opos);

		if (n == CONN_LAYER_AGAIN)
			return CONN_LAYER_AGAIN;
		if (n < 0)
			return (int)deflate_fail(
				d, conn_layer_error(d->layer.below));
		d->opos += (size_t)n;
	}
	d->opos = d->olen = 0;
	return 1;
}

/* Runs deflate into the empty obuf. */
static void deflate_run(struct conn_layer_deflate *d, int flush)
{
	d->out.next_out = d->obuf;
	d->out.avail_out = sizeof(d->obuf);
	/* Z_OK, or Z_BUF_ERROR when there was nothing to do: never fatal
	   with a valid stream and output space */
	(void)deflate(&d->out, flush);
	d->opos = 0;
	d->olen = sizeof(d->obuf) - d->out.avail_out;
}

static ssize_t deflate_write(struct conn_layer *l, const void *buf, size_t len)
{
	struct conn_layer_deflate *d = (struct conn_layer_deflate *)l;
	size_t taken;
	int ret = deflate_drain(d);

	if (ret < 0)
		return ret; /* AGAIN: nothing taken, the caller retries */
	if (len > UINT_MAX)
		len = UINT_MAX;
	d->out.next_in = (unsigned char *)buf;
	d->out.avail_in = (uInt)len;
	deflate_run(d, Z_NO_FLUSH);
	taken = len - d->out.avail_in;
	d->out.next_in = NULL;
	d->out.avail_in = 0;
	if (taken == 0)
		return CONN_LAYER_AGAIN;
	d->need_sync = true;
	if (deflate_drain(d) == CONN_LAYER_ERROR)
		return CONN_LAYER_ERROR;
	return (ssize_t)taken;
}

static int deflate_flush(struct conn_layer *l)
{
	struct conn_layer_deflate *d = (struct conn_layer_deflate *)l;

	for (;;) {
		int ret = deflate_drain(d);

		if (ret == CONN_LAYER_AGAIN)
			return 0;
		if (ret < 0)
			return -1;
		if (!d->need_sync)
			return 1;
		/* the client must be able to decode every response in full:
		   end the block on a byte boundary (RFC 4978 4) */
		deflate_run(d, Z_SYNC_FLUSH);
		if (d->out.avail_out > 0)
			d->need_sync = false;
	}
}

static void deflate_free(struct conn_layer *l)
{
	struct conn_layer_deflate *d = (struct conn_layer_deflate *)l;

	inflateEnd(&d->in);
	deflateEnd(&d->out);
	free(d);
}

static const struct conn_layer_ops deflate_ops = {
	.name = "deflate",
	.read = deflate_read,
	.read_pending = deflate_read_pending,
	.write = deflate_write,
	.flush = deflate_flush,
	.free = deflate_free,
};

struct conn_layer *conn_layer_deflate_new(struct conn_layer *below)
{
	struct conn_layer_deflate *d = xcalloc(1, sizeof(*d));

	d->layer.ops = &deflate_ops;
	d->layer.below = below;
	/* raw deflate (negative window bits): RFC 4978 has no zlib header */
	if (inflateInit2(&d->in, -15) != Z_OK ||
	    deflateInit2(&d->out, DEFLATE_LEVEL, Z_DEFLATED,
			 -DEFLATE_WINDOW_BITS, DEFLATE_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		abort(); /* only out of memory or a bad constant */
	return &d->layer;
}
