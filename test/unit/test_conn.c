/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* conn: line framing split at every offset, raw bytes (literals) beside
   it, overlong lines, backpressure, flush on close, pipelined input before
   a half-close, TLS. Runs a real connection on one end of a socketpair,
   driven by the libev loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/conn.h"
#include "server/conn_server.h"
#include "server/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LINES 64
#define MAX_RAW (256 * 1024)

struct fake {
	struct conn *conn;
	char lines[MAX_LINES][256];
	int n_lines;
	int too_long;
	int process_calls;
	size_t produce; /* bytes still to produce (backpressure test) */
	size_t produced;
	bool echo;     /* answer every line with "ok <line>" */
	bool pause_on; /* the line "wait" pauses input, as a login does */
	bool freed;
	/* a line ending in "{N}" is followed by N raw bytes (a literal) */
	size_t lit_left;  /* raw bytes still wanted */
	size_t lit_chunk; /* at most this many per conn_peek_bytes(); 0: any */
	bool hold;	  /* take no raw bytes for now (a write pending) */
	bool pattern;	  /* raw bytes must be 'a' + offset % 26, not kept */
	char raw[MAX_RAW];
	size_t raw_len;
	size_t max_input; /* the most input ever buffered */
};

static struct fake fake;

static void *fake_open(struct conn *conn, void *ctx)
{
	(void)ctx;
	fake.conn = conn;
	return &fake;
}

static void fake_process(void *session)
{
	struct fake *f = session;
	struct strv line;
	int ret;

	f->process_calls++;
	while (f->produce > 0 && !conn_output_full(f->conn)) {
		char chunk[4096];
		size_t n =
			f->produce < sizeof(chunk) ? f->produce : sizeof(chunk);

		memset(chunk, 'x', n);
		conn_write(f->conn, chunk, n);
		f->produce -= n;
		f->produced += n;
	}
	if (f->produce > 0)
		return; /* a producer: stop reading commands until it is done */
	if (conn_input(f->conn)->len > f->max_input)
		f->max_input = conn_input(f->conn)->len;
	for (;;) {
		if (f->lit_left > 0) {
			size_t max = f->lit_left, n;
			struct strv chunk;

			if (f->hold)
				return;
			if (f->lit_chunk > 0 && f->lit_chunk < max)
				max = f->lit_chunk;
			n = conn_peek_bytes(f->conn, max, &chunk);
			if (n == 0)
				return;
			assert_true(n <= max && chunk.len == n);
			for (size_t i = 0; f->pattern && i < n; i++)
				assert_int_equal(chunk.p[i],
						 'a' + (f->raw_len + i) % 26);
			if (!f->pattern) {
				assert_true(f->raw_len + n <= MAX_RAW);
				memcpy(f->raw + f->raw_len, chunk.p, n);
			}
			f->raw_len += n;
			f->lit_left -= n;
			conn_consume_bytes(f->conn, n);
			continue;
		}
		ret = conn_peek_line(f->conn, 64, &line);
		if (ret == 0)
			break;
		if (ret < 0) {
			f->too_long++;
			conn_skip_line(f->conn);
			continue;
		}
		assert_true(f->n_lines < MAX_LINES);
		memcpy(f->lines[f->n_lines], line.p, line.len);
		f->lines[f->n_lines][line.len] = '\0';
		if (f->echo)
			conn_printf(f->conn, "ok %s\r\n", f->lines[f->n_lines]);
		char *brace = strrchr(f->lines[f->n_lines], '{');

		if (brace != NULL && line.len > 0 &&
		    line.p[line.len - 1] == '}')
			f->lit_left = strtoul(brace + 1, NULL, 10);
		f->n_lines++;
		conn_consume_line(f->conn);
		if (f->pause_on &&
		    strcmp(f->lines[f->n_lines - 1], "wait") == 0) {
			conn_pause_input(f->conn, true);
			break;
		}
	}
}

static void fake_free(void *session)
{
	((struct fake *)session)->freed = true;
}

static const struct conn_handler fake_handler = {
	.name = "test",
	.open = fake_open,
	.process = fake_process,
	.free = fake_free,
};

static struct ev_loop *loop;
static int peer;

static void spin(int rounds)
{
	for (int i = 0; i < rounds; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void start_with(size_t output_high, struct tls_creds *creds)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct conn_limits limits = {
		.input_max = 1024,
		.output_high = output_high,
		.output_low = output_high / 4,
		.login_timeout = 60,
	};
	int sv[2];

	memset(&fake, 0, sizeof(fake));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	loop = ev_default_loop(0);
	conn_new(loop, sv[0], &ss, &fake_handler, NULL, creds, creds != NULL,
		 &limits);
	peer = sv[1];
	spin(3);
}

static void start(size_t output_high)
{
	start_with(output_high, NULL);
}

static void finish(void)
{
	if (!fake.freed) {
		conn_close(fake.conn, "test over");
		close(peer);
		spin(5);
	} else {
		close(peer);
	}
	assert_true(fake.freed);
	assert_int_equal(conn_count(), 0);
}

static void send_all(const char *s, size_t len)
{
	assert_int_equal(send(peer, s, len, 0), (ssize_t)len);
}

/* Reads what the connection sent so far. */
static size_t recv_some(char *buf, size_t size)
{
	ssize_t n = recv(peer, buf, size, 0);

	return n < 0 ? 0 : (size_t)n;
}

static void test_lines_split_everywhere(void **state)
{
	const char input[] = "a1 NOOP\r\nb22 LIST\nc333 X Y\r\n\r\nd4\r\n";
	size_t len = sizeof(input) - 1;

	(void)state;
	for (size_t split = 0; split <= len; split++) {
		start(65536);
		send_all(input, split);
		spin(3);
		send_all(input + split, len - split);
		spin(3);
		assert_int_equal(fake.n_lines, 5);
		assert_string_equal(fake.lines[0], "a1 NOOP");
		assert_string_equal(fake.lines[1], "b22 LIST");
		assert_string_equal(fake.lines[2], "c333 X Y");
		assert_string_equal(fake.lines[3], "");
		assert_string_equal(fake.lines[4], "d4");
		finish();
	}
	/* and byte by byte */
	start(65536);
	for (size_t i = 0; i < len; i++) {
		send_all(input + i, 1);
		spin(2);
	}
	assert_int_equal(fake.n_lines, 5);
	finish();
}

static void test_overlong_line_skipped(void **state)
{
	char big[300];

	(void)state;
	start(65536);
	memset(big, 'z', sizeof(big));
	send_all("ok1\r\n", 5);
	send_all(big, sizeof(big)); /* longer than the 64-byte limit */
	spin(3);
	assert_int_equal(fake.too_long, 1);
	send_all(big, sizeof(big)); /* the rest of it is dropped as it comes */
	send_all("tail\r\nok2\r\n", 11);
	spin(3);
	assert_int_equal(fake.too_long, 1);
	assert_int_equal(fake.n_lines, 2);
	assert_string_equal(fake.lines[0], "ok1");
	assert_string_equal(fake.lines[1], "ok2");
	finish();
}

static void test_backpressure(void **state)
{
	char buf[65536];
	size_t got = 0;
	int calls;

	(void)state;
	start(16384);
	fake.produce = 8 * 1024 * 1024; /* far more than the socket holds */
	send_all("go\r\n", 4);
	spin(20);
	/* the peer reads nothing: production stops at the high-water mark
	   plus what the socket buffers took */
	assert_true(fake.produced < 8 * 1024 * 1024);
	assert_true(conn_output_pending(fake.conn) <= 16384 + 4096);
	calls = fake.process_calls;
	/* commands behind it are not read while the output is blocked */
	send_all("queued\r\n", 8);
	spin(20);
	assert_int_equal(fake.n_lines, 0);
	assert_true(fake.process_calls - calls <= 1);
	/* draining lets the producer finish, then the queued line runs */
	for (int i = 0; i < 100000 && got < 8 * 1024 * 1024; i++) {
		got += recv_some(buf, sizeof(buf));
		spin(1);
	}
	assert_int_equal(got, 8 * 1024 * 1024);
	assert_int_equal(fake.produced, 8 * 1024 * 1024);
	spin(5);
	assert_int_equal(fake.n_lines, 2);
	assert_string_equal(fake.lines[1], "queued");
	finish();
}

static void test_close_flushes_output(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	start(65536);
	conn_write_str(fake.conn, "bye now\r\n");
	conn_close(fake.conn, "test");
	assert_true(conn_is_closing(fake.conn));
	spin(5);
	assert_true(fake.freed);
	n = recv_some(buf, sizeof(buf));
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "bye now\r\n", 9);
	assert_int_equal(recv(peer, buf, sizeof(buf), 0), 0); /* EOF */
	finish();
}

static void test_pipelined_then_half_close(void **state)
{
	char buf[256];
	size_t n = 0;

	(void)state;
	start(65536);
	fake.echo = true;
	send_all("one\r\ntwo\r\n", 10);
	shutdown(peer, SHUT_WR);
	spin(10);
	assert_true(fake.freed);
	for (int i = 0; i < 10; i++)
		n += recv_some(buf + n, sizeof(buf) - n);
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "ok one\r\nok two\r\n", 16);
	finish();
}

/* A client that half-closes while its login is being checked still gets
   every answer: the connection finishes the pipelined work first. */
static void test_half_close_while_paused(void **state)
{
	char buf[256];
	size_t n = 0;

	(void)state;
	start(65536);
	fake.echo = true;
	fake.pause_on = true;
	send_all("wait\r\nafter\r\n", 13);
	shutdown(peer, SHUT_WR);
	spin(10);
	assert_false(fake.freed); /* paused: not done yet */
	assert_int_equal(fake.n_lines, 1);
	conn_pause_input(fake.conn, false); /* the "login" answer came */
	spin(10);
	assert_true(fake.freed);
	for (int i = 0; i < 10; i++)
		n += recv_some(buf + n, sizeof(buf) - n);
	assert_int_equal(n, 19);
	assert_memory_equal(buf, "ok wait\r\nok after\r\n", 19);
	finish();
}

/* Lines with literals: "{N}" at the end of a line announces N raw bytes,
   then the command's line goes on. */
static const char lit_input[] = "a1 X {5}\r\nhe\nl\r tail\r\nb2 NOOP\r\n"
				"c3 Y {3}\r\n{1}\r\nd4 {0}\r\n\r\n";

static void expect_literals(void)
{
	assert_int_equal(fake.n_lines, 7);
	assert_string_equal(fake.lines[0], "a1 X {5}");
	assert_string_equal(fake.lines[1], " tail");
	assert_string_equal(fake.lines[2], "b2 NOOP");
	assert_string_equal(fake.lines[3], "c3 Y {3}");
	assert_string_equal(fake.lines[4], "");
	assert_string_equal(fake.lines[5], "d4 {0}");
	assert_string_equal(fake.lines[6], "");
	assert_int_equal(fake.raw_len, 8);
	assert_memory_equal(fake.raw, "he\nl\r{1}", 8);
	assert_int_equal(fake.lit_left, 0);
}

static void test_literals_split_everywhere(void **state)
{
	size_t len = sizeof(lit_input) - 1;

	(void)state;
	for (size_t chunk = 0; chunk <= 2; chunk++) {
		for (size_t split = 0; split <= len; split++) {
			start(65536);
			fake.lit_chunk = chunk;
			send_all(lit_input, split);
			spin(3);
			send_all(lit_input + split, len - split);
			spin(3);
			expect_literals();
			finish();
		}
	}
	start(65536);
	for (size_t i = 0; i < len; i++) {
		send_all(lit_input + i, 1);
		spin(2);
	}
	expect_literals();
	finish();
}

/* A literal far bigger than the input buffer streams through it; a
   front-end that takes nothing stops the reading (the buffer stays within
   its limit) and everything arrives once it goes on. */
static void test_literal_backpressure(void **state)
{
	static char pattern[26 * 2048];
	const size_t total = 4 * 1024 * 1024;
	size_t sent = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	start(65536);
	fake.hold = true;
	fake.pattern = true;
	send_all("up {4194304}\r\n", 14);
	for (int i = 0; i < 100000 && fake.raw_len < total; i++) {
		size_t want =
			total - sent < 26 * 2000 ? total - sent : 26 * 2000;
		ssize_t n =
			want > 0 ? send(peer, pattern + sent % 26, want, 0) : 0;

		if (n > 0)
			sent += (size_t)n;
		spin(1);
		if (i == 1000) {
			/* the socket buffers are full: the sender is
			   throttled, the input buffer at its limit */
			assert_true(sent < total);
			assert_int_equal(fake.raw_len, 0);
			assert_int_equal(conn_input(fake.conn)->len, 1024);
			fake.hold = false;
			conn_kick(fake.conn);
		}
	}
	send_all("next\r\n", 6);
	spin(3);
	assert_int_equal(fake.raw_len, total);
	assert_true(fake.max_input <= 1024);
	assert_int_equal(fake.n_lines, 2);
	assert_string_equal(fake.lines[1], "next");
	finish();
}

/* Over TLS: a record bigger than the input buffer leaves decrypted bytes
   inside GnuTLS that the socket never announces; they must still come. */
static void test_tls_record_bigger_than_input(void **state)
{
	const char *src = getenv("MERPATI_SRC");
	char cert[1024], key[1024], *error = NULL, msg[9000];
	gnutls_certificate_credentials_t cc;
	gnutls_session_t client;
	struct tls_creds *creds;
	int ret = -1;

	(void)state;
	assert_non_null(src);
	snprintf(cert, sizeof(cert), "%s/test/integration/certs/cert1.pem",
		 src);
	snprintf(key, sizeof(key), "%s/test/integration/certs/key1.pem", src);
	tls_global_init();
	creds = tls_creds_load(cert, key, "NORMAL", &error);
	if (creds == NULL)
		fail_msg("%s", error);
	start_with(65536, creds);
	tls_creds_unref(&creds);
	assert_int_equal(gnutls_certificate_allocate_credentials(&cc), 0);
	assert_int_equal(gnutls_init(&client, GNUTLS_CLIENT | GNUTLS_NONBLOCK),
			 0);
	gnutls_set_default_priority(client);
	gnutls_credentials_set(client, GNUTLS_CRD_CERTIFICATE, cc);
	gnutls_transport_set_int(client, peer);
	for (int i = 0; i < 1000 && ret != 0; i++) {
		ret = gnutls_handshake(client);
		spin(1);
	}
	assert_int_equal(ret, 0);
	/* one record: a line, an 8000-byte literal, the end of the line */
	memcpy(msg, "x {8000}\r\n", 10);
	memset(msg + 10, 'L', 8000);
	memcpy(msg + 8010, "\r\nnext\r\n", 8);
	assert_int_equal(gnutls_record_send(client, msg, 8018), 8018);
	spin(50);
	assert_int_equal(fake.raw_len, 8000);
	assert_int_equal(fake.n_lines, 3);
	assert_string_equal(fake.lines[2], "next");
	assert_true(fake.max_input <= 1024);
	finish();
	gnutls_deinit(client);
	gnutls_certificate_free_credentials(cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_everywhere),
		cmocka_unit_test(test_overlong_line_skipped),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_close_flushes_output),
		cmocka_unit_test(test_pipelined_then_half_close),
		cmocka_unit_test(test_half_close_while_paused),
		cmocka_unit_test(test_literals_split_everywhere),
		cmocka_unit_test(test_literal_backpressure),
		cmocka_unit_test(test_tls_record_bigger_than_input),
	};

	log_init("test_conn", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	signal(SIGPIPE,
	       SIG_IGN); /* as merpatid: a TLS goodbye to a closed peer */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
