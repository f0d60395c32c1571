/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_conn: drives a protocol front-end through a real connection on a
 * socketpair and the libev loop, for the command-line fuzz targets.
 *
 * fuzz_conn_run() sends the client bytes in pieces whose sizes follow
 * `seed`, runs the loop a few rounds after each, half-closes, checks that
 * the connection is gone once the client has left, and hands back every
 * byte the server sent. Header-only: each target is one program.
 */
#ifndef MERPATI_FUZZ_CONN_H
#define MERPATI_FUZZ_CONN_H

#include "fuzz.h"

#include "lib/buf.h"
#include "server/conn_server.h"

#include <arpa/inet.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_CONN_ROUNDS 4

static void fuzz_conn_drain(int peer, struct buf *out)
{
	for (;;) {
		size_t avail;
		char *dst = buf_reserve(out, 65536, &avail);
		ssize_t n = recv(peer, dst, avail, MSG_DONTWAIT);

		if (n <= 0)
			return;
		buf_commit(out, (size_t)n);
	}
}

static void fuzz_conn_spin(struct ev_loop *loop, int peer, struct buf *out,
			   int rounds)
{
	for (int i = 0; i < rounds; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		fuzz_conn_drain(peer, out);
	}
}

/* Runs one connection of handler/ctx fed data[0..size); out gets what
   the server sent (initialised here, freed by the caller). */
static void fuzz_conn_run(struct ev_loop *loop,
			  const struct conn_handler *handler, void *ctx,
			  unsigned seed, const uint8_t *data, size_t size,
			  struct buf *out)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct conn_limits limits = {
		.input_max = 256 * 1024,
		.output_high = 256 * 1024,
		.output_low = 64 * 1024,
		.login_timeout = 60,
	};
	size_t pos = 0;
	int sv[2];

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conn_new(loop, sv[0], &ss, handler, ctx, NULL, false, &limits);
	buf_init(out, BUF_UNLIMITED);
	fuzz_conn_spin(loop, sv[1], out, 1);
	while (pos < size && conn_count() > 0) {
		size_t n = seed % 64 + 1;
		ssize_t sent;

		seed = seed * 1103515245u + 12345u;
		if (seed % 7 == 0)
			n = size;
		if (n > size - pos)
			n = size - pos;
		sent = send(sv[1], data + pos, n, MSG_NOSIGNAL);
		if (sent < 0)
			break;
		pos += (size_t)sent;
		fuzz_conn_spin(loop, sv[1], out, FUZZ_CONN_ROUNDS);
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 20 && conn_count() > 0; i++)
		fuzz_conn_spin(loop, sv[1], out, 1);
	FUZZ_CHECK(conn_count() == 0);
	fuzz_conn_drain(sv[1], out);
	close(sv[1]);
}

#endif
