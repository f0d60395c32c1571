// links: mp_server
/* conn_layer: the transport layers on one end of a socketpair, the test
   playing the peer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/conn_layer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plain_backpressure, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
