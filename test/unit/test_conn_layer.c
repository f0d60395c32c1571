/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* conn_layer: the transport layers on one end of a socketpair, the test
   playing the peer (with zlib for the deflate layer: raw, windowBits -15,
   as RFC 4978 clients). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/conn_layer.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

static int sv[2]; /* sv[0]: the layer's socket, sv[1]: the peer's */

static int setup(void **state)
{
	(void)state;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

static void test_plain_round_trip(void **state)
{
	struct conn_layer *l = conn_layer_plain_new(sv[0]);
	char buf[64];

	(void)state;
	assert_string_equal(conn_layer_name(l), "plain");
	assert_int_equal(conn_layer_read(l, buf, sizeof(buf)),
			 CONN_LAYER_AGAIN);
	assert_int_equal(conn_layer_write(l, "hello\r\n", 7), 7);
	assert_int_equal(conn_layer_flush(l), 1);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "hello\r\n", 7);
	assert_int_equal(write(sv[1], "a1 NOOP\r\n", 9), 9);
	assert_int_equal(conn_layer_read(l, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "a1 NOOP\r\n", 9);
	assert_false(conn_layer_read_pending(l));
	/* the peer's half-close is the end of the stream */
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(conn_layer_read(l, buf, sizeof(buf)), 0);
	conn_layer_free(&l);
	assert_null(l);
	conn_layer_free(&l);
}

/* A peer that does not read: writes stop with AGAIN, and go on once it
   reads; an error after it has gone names the cause. */
static void test_plain_backpressure(void **state)
{
	struct conn_layer *l = conn_layer_plain_new(sv[0]);
	static char chunk[65536], sink[65536];
	size_t sent = 0, got = 0;
	ssize_t n;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	while ((n = conn_layer_write(l, chunk, sizeof(chunk))) > 0)
		sent += (size_t)n;
	assert_int_equal(n, CONN_LAYER_AGAIN);
	assert_true(sent > 0);
	while (got < sent) {
		n = read(sv[1], sink, sizeof(sink));
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_true(conn_layer_write(l, chunk, 10) == 10);
	close(sv[1]);
	sv[1] = -1;
	do {
		n = conn_layer_write(l, chunk, sizeof(chunk));
	} while (n > 0);
	assert_int_equal(n, CONN_LAYER_ERROR);
	assert_string_equal(conn_layer_error(l), "Broken pipe");
	conn_layer_free(&l);
}

/* --- deflate --- */

/* The peer's raw deflate and inflate streams. */
static z_stream pz_out, pz_in;

static void peer_zinit(void)
{
	memset(&pz_out, 0, sizeof(pz_out));
	memset(&pz_in, 0, sizeof(pz_in));
	assert_int_equal(deflateInit2(&pz_out, 6, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	assert_int_equal(inflateInit2(&pz_in, -15), Z_OK);
}

static void peer_zend(void)
{
	deflateEnd(&pz_out);
	inflateEnd(&pz_in);
}

/* Compresses data with a sync flush into out; returns the length. */
static size_t peer_compress(const void *data, size_t len, unsigned char *out,
			    size_t max)
{
	pz_out.next_in = (unsigned char *)data;
	pz_out.avail_in = (uInt)len;
	pz_out.next_out = out;
	pz_out.avail_out = (uInt)max;
	assert_int_equal(deflate(&pz_out, Z_SYNC_FLUSH), Z_OK);
	assert_int_equal(pz_out.avail_in, 0);
	assert_true(pz_out.avail_out > 0);
	return max - pz_out.avail_out;
}

/* Reads what the layer sent and inflates it into out; returns bytes. */
static size_t peer_read_inflate(unsigned char *out, size_t max)
{
	static unsigned char raw[65536];
	size_t got = 0;
	ssize_t n;

	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	while ((n = read(sv[1], raw, sizeof(raw))) > 0) {
		pz_in.next_in = raw;
		pz_in.avail_in = (uInt)n;
		while (pz_in.avail_in > 0) {
			pz_in.next_out = out + got;
			pz_in.avail_out = (uInt)(max - got);
			assert_int_equal(inflate(&pz_in, Z_SYNC_FLUSH), Z_OK);
			got = max - pz_in.avail_out;
			assert_true(got < max);
		}
	}
	return got;
}

/* Reads from the layer until it would block. */
static size_t layer_read_all(struct conn_layer *l, char *out, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while ((n = conn_layer_read(l, out + got, max - got)) > 0)
		got += (size_t)n;
	assert_int_equal(n, CONN_LAYER_AGAIN);
	assert_false(conn_layer_read_pending(l));
	return got;
}

static void test_deflate_round_trip(void **state)
{
	struct conn_layer *l =
		conn_layer_deflate_new(conn_layer_plain_new(sv[0]));
	unsigned char z[256], out[256];
	char in[64];
	size_t n;

	(void)state;
	peer_zinit();
	assert_string_equal(conn_layer_name(l), "deflate");
	assert_int_equal(conn_layer_write(l, "* OK hello\r\n", 12), 12);
	/* nothing decodable before the flush; all of it after */
	assert_int_equal(conn_layer_flush(l), 1);
	assert_int_equal(peer_read_inflate(out, sizeof(out)), 12);
	assert_memory_equal(out, "* OK hello\r\n", 12);
	/* a flush with nothing new sends nothing */
	assert_int_equal(conn_layer_flush(l), 1);
	assert_int_equal(peer_read_inflate(out, sizeof(out)), 0);
	n = peer_compress("a1 NOOP\r\n", 9, z, sizeof(z));
	assert_int_equal(write(sv[1], z, n), (ssize_t)n);
	assert_int_equal(layer_read_all(l, in, sizeof(in)), 9);
	assert_memory_equal(in, "a1 NOOP\r\n", 9);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(conn_layer_read(l, in, sizeof(in)), 0);
	conn_layer_free(&l);
	peer_zend();
}

/* The client's compressed bytes split at every offset decode the same. */
static void test_deflate_split_everywhere(void **state)
{
	static char msg[3000], got[4000];
	unsigned char z[4096];
	size_t zlen;

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)("abc \r\nxyz0123"[i % 13] + (i / 97) % 3);
	peer_zinit();
	zlen = peer_compress(msg, sizeof(msg), z, sizeof(z));
	peer_zend();
	for (size_t k = 0; k <= zlen; k++) {
		struct conn_layer *l;
		size_t n = 0;

		teardown(NULL);
		assert_int_equal(setup(NULL), 0);
		l = conn_layer_deflate_new(conn_layer_plain_new(sv[0]));
		if (k > 0) {
			assert_int_equal(write(sv[1], z, k), (ssize_t)k);
			n = layer_read_all(l, got, sizeof(got));
		}
		if (k < zlen) {
			assert_int_equal(write(sv[1], z + k, zlen - k),
					 (ssize_t)(zlen - k));
			n += layer_read_all(l, got + n, sizeof(got) - n);
		}
		assert_int_equal(n, sizeof(msg));
		assert_memory_equal(got, msg, sizeof(msg));
		conn_layer_free(&l);
	}
}

/* A read into a small buffer leaves decoded bytes inside: pending says
   so, though the socket has nothing more to announce. */
static void test_deflate_pending(void **state)
{
	struct conn_layer *l =
		conn_layer_deflate_new(conn_layer_plain_new(sv[0]));
	static char msg[2000], got[2000];
	unsigned char z[4096];
	size_t zlen, n = 0;

	(void)state;
	memset(msg, 'p', sizeof(msg));
	peer_zinit();
	zlen = peer_compress(msg, sizeof(msg), z, sizeof(z));
	assert_true(zlen < 100);
	assert_int_equal(write(sv[1], z, zlen), (ssize_t)zlen);
	assert_int_equal(conn_layer_read(l, got, 10), 10);
	assert_true(conn_layer_read_pending(l));
	n = 10;
	/* pending may be true once more than needed (zlib cannot tell
	   whether a full buffer was the end): that read then blocks */
	while (conn_layer_read_pending(l)) {
		ssize_t r = conn_layer_read(l, got + n, 10);

		if (r == CONN_LAYER_AGAIN)
			break;
		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_int_equal(n, sizeof(msg));
	assert_memory_equal(got, msg, sizeof(msg));
	assert_int_equal(conn_layer_read(l, got, 10), CONN_LAYER_AGAIN);
	conn_layer_free(&l);
	peer_zend();
}

/* A peer that does not read: writes stop with AGAIN, flush reports 0,
   and once the peer reads everything arrives intact and decodable. */
static void test_deflate_backpressure(void **state)
{
	struct conn_layer *l =
		conn_layer_deflate_new(conn_layer_plain_new(sv[0]));

	enum {
		TOTAL = 4 * 1024 * 1024
	};

	unsigned char *src = malloc(TOTAL), *dst = malloc(TOTAL + 1);
	size_t sent = 0, got = 0;
	bool blocked = false;
	int ret;

	(void)state;
	peer_zinit();
	srand(7);
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (unsigned char)rand(); /* incompressible */
	while (sent < TOTAL) {
		size_t len = TOTAL - sent < 65536 ? TOTAL - sent : 65536;
		ssize_t n = conn_layer_write(l, src + sent, len);

		if (n == CONN_LAYER_AGAIN) {
			blocked = true;
			got += peer_read_inflate(dst + got, TOTAL + 1 - got);
			continue;
		}
		assert_true(n > 0);
		sent += (size_t)n;
	}
	assert_true(blocked);
	while ((ret = conn_layer_flush(l)) == 0)
		got += peer_read_inflate(dst + got, TOTAL + 1 - got);
	assert_int_equal(ret, 1);
	got += peer_read_inflate(dst + got, TOTAL + 1 - got);
	assert_int_equal(got, TOTAL);
	assert_memory_equal(dst, src, TOTAL);
	conn_layer_free(&l);
	peer_zend();
	free(src);
	free(dst);
}

/* Bytes that are not deflate: an error naming zlib's reason, also on
   every later read. */
static void test_deflate_garbage(void **state)
{
	struct conn_layer *l =
		conn_layer_deflate_new(conn_layer_plain_new(sv[0]));
	unsigned char junk[64];
	char buf[64];

	(void)state;
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(write(sv[1], junk, sizeof(junk)), sizeof(junk));
	assert_int_equal(conn_layer_read(l, buf, sizeof(buf)),
			 CONN_LAYER_ERROR);
	assert_string_equal(conn_layer_error(l), "invalid block type");
	assert_int_equal(conn_layer_read(l, buf, sizeof(buf)),
			 CONN_LAYER_ERROR);
	assert_false(conn_layer_read_pending(l));
	conn_layer_free(&l);
}

/* The heap one compressing session costs once both directions carried
   data (zlib's state, windows, our buffers): reported, and bounded. */
static void test_deflate_memory(void **state)
{
	struct conn_layer *l;
	unsigned char z[256], out[256];
	char in[64];
	size_t before, after_new, after_use, n;

	(void)state;
	peer_zinit();
	/* the peer's inflate window is allocated by its first output */
	l = conn_layer_deflate_new(conn_layer_plain_new(sv[0]));
	assert_int_equal(conn_layer_write(l, "* OK x\r\n", 8), 8);
	assert_int_equal(conn_layer_flush(l), 1);
	assert_int_equal(peer_read_inflate(out, sizeof(out)), 8);
	conn_layer_free(&l);
	inflateReset(&pz_in);
	before = mallinfo2().uordblks;
	l = conn_layer_deflate_new(conn_layer_plain_new(sv[0]));
	after_new = mallinfo2().uordblks;
	assert_int_equal(conn_layer_write(l, "* OK x\r\n", 8), 8);
	assert_int_equal(conn_layer_flush(l), 1);
	assert_int_equal(peer_read_inflate(out, sizeof(out)), 8);
	n = peer_compress("a NOOP\r\n", 8, z, sizeof(z));
	assert_int_equal(write(sv[1], z, n), (ssize_t)n);
	assert_int_equal(layer_read_all(l, in, sizeof(in)), 8);
	after_use = mallinfo2().uordblks;
	print_message("deflate layer: %zu bytes at start, %zu after use\n",
		      after_new - before, after_use - before);
	assert_true(after_use - before < 96 * 1024);
	conn_layer_free(&l);
	peer_zend();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plain_backpressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deflate_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deflate_split_everywhere,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_deflate_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deflate_backpressure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_deflate_garbage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deflate_memory, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
