// links: mp_server
/* conn: line framing split at every offset, overlong lines, backpressure,
   flush on close, pipelined input before a half-close. Runs a real
   connection on one end of a socketpair, driven by the libev loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/conn.h"
#include "server/conn_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LINES 64

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
	while ((ret = conn_peek_line(f->conn, 64, &line)) != 0) {
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

static void start(size_t output_high)
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
	conn_new(loop, sv[0], &ss, &fake_handler, NULL, NULL, false, &limits);
	peer = sv[1];
	spin(3);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_everywhere),
		cmocka_unit_test(test_overlong_line_skipped),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_close_flushes_output),
		cmocka_unit_test(test_pipelined_then_half_close),
		cmocka_unit_test(test_half_close_while_paused),
	};

	log_init("test_conn", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
