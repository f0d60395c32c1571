/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* listener under socket activation: sockets systemd bound are adopted for
   the [listen] addresses they match, the rest are closed; and
   sdnotify_listen_fds() reads LISTEN_PID/LISTEN_FDS as sd_listen_fds(3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/config.h"
#include "server/listener.h"
#include "server/sdnotify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FD_BASE 200

/* A socket on 127.0.0.1, an ephemeral port, listening or not, moved to
   descriptor `at`; its port in *port_r. */
static void socket_at(int at, int type, bool listening, unsigned *port_r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port_r = ntohs(sa.sin_port);
	assert_int_equal(dup2(fd, at), at);
	close(fd);
}

static void set_listen(struct config *c, int kind, const char *list)
{
	for (int i = 0; i < CONFIG_LISTEN_COUNT; i++) {
		free(c->listen[i]);
		c->listen[i] = strdup(i == kind ? list : "");
	}
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_adopt_matching(void **state)
{
	struct listener_set *set = listener_set_new();
	struct config *c = config_new_defaults();
	unsigned port_a, port_b, port_c;
	char list[64], *error = NULL;
	int fd_c;

	(void)state;
	socket_at(FD_BASE, SOCK_STREAM, true, &port_a);
	socket_at(FD_BASE + 1, SOCK_STREAM, true, &port_b);
	assert_int_equal(
		listener_set_adopt(set, FD_BASE, 2, &(const char *){NULL}), 0);
	/* the descriptors are the daemon's own now: not inherited by what
	   the auth helper runs */
	assert_true(fcntl(FD_BASE, F_GETFD) & FD_CLOEXEC);
	/* a free port the set binds itself, beside the adopted one */
	socket_at(FD_BASE + 2, SOCK_STREAM, false, &port_c);
	close(FD_BASE + 2);
	snprintf(list, sizeof(list), "127.0.0.1:%u 127.0.0.1:%u", port_a,
		 port_c);
	set_listen(c, CONFIG_LISTEN_IMAPS, list);
	assert_int_equal(listener_set_update(set, c, &error), 0);
	assert_int_equal(listener_set_count(set), 2);
	assert_int_equal(listener_set_fd(set, 0), FD_BASE);
	assert_true(listener_set_is_adopted(set, 0));
	assert_int_equal(listener_set_kind(set, 0), CONFIG_LISTEN_IMAPS);
	assert_false(listener_set_is_adopted(set, 1));
	fd_c = listener_set_fd(set, 1);
	/* the socket for port_b matched nothing: closed, counted */
	assert_true(is_open(FD_BASE + 1));
	assert_int_equal(listener_set_close_unmatched(set), 1);
	assert_false(is_open(FD_BASE + 1));
	assert_int_equal(listener_set_close_unmatched(set), 0);
	/* a reload to the same addresses keeps both sockets */
	assert_int_equal(listener_set_update(set, c, &error), 0);
	assert_int_equal(listener_set_fd(set, 0), FD_BASE);
	assert_true(listener_set_is_adopted(set, 0));
	assert_int_equal(listener_set_fd(set, 1), fd_c);
	/* one no longer listed is closed like any other */
	snprintf(list, sizeof(list), "127.0.0.1:%u", port_c);
	set_listen(c, CONFIG_LISTEN_IMAPS, list);
	assert_int_equal(listener_set_update(set, c, &error), 0);
	assert_int_equal(listener_set_count(set), 1);
	assert_false(is_open(FD_BASE));
	(void)port_b;
	listener_set_free(&set);
	config_free(&c);
}

static void test_adopt_refuses(void **state)
{
	struct listener_set *set = listener_set_new();
	const char *error = NULL;
	unsigned port;

	(void)state;
	socket_at(FD_BASE, SOCK_STREAM, true, &port);
	socket_at(FD_BASE + 1, SOCK_STREAM, false, &port); /* not listening */
	assert_int_equal(listener_set_adopt(set, FD_BASE, 2, &error), -1);
	assert_non_null(strstr(error, "not a listening stream socket"));
	close(FD_BASE + 1);
	socket_at(FD_BASE + 1, SOCK_DGRAM, false, &port);
	error = NULL;
	assert_int_equal(listener_set_adopt(set, FD_BASE, 2, &error), -1);
	assert_non_null(error);
	/* nothing taken: the set frees without closing them */
	listener_set_free(&set);
	assert_true(is_open(FD_BASE));
	assert_true(is_open(FD_BASE + 1));
	close(FD_BASE);
	close(FD_BASE + 1);
	/* not a descriptor at all */
	set = listener_set_new();
	error = NULL;
	assert_int_equal(listener_set_adopt(set, FD_BASE + 10, 1, &error), -1);
	listener_set_free(&set);
}

static void test_listen_fds_env(void **state)
{
	char pid[32];

	(void)state;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "imaps:pop3s", 1);
	assert_int_equal(sdnotify_listen_fds(), 2);
	/* consumed: a child never takes them for its own */
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
	assert_int_equal(sdnotify_listen_fds(), 0);
	/* meant for another process (the variables leaked through a fork) */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	assert_int_equal(sdnotify_listen_fds(), 0);
	assert_null(getenv("LISTEN_FDS"));
	/* not numbers, or absurd counts */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "two", 1);
	assert_int_equal(sdnotify_listen_fds(), 0);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "100000", 1);
	assert_int_equal(sdnotify_listen_fds(), 0);
	setenv("LISTEN_PID", "x", 1);
	setenv("LISTEN_FDS", "1", 1);
	assert_int_equal(sdnotify_listen_fds(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopt_matching),
		cmocka_unit_test(test_adopt_refuses),
		cmocka_unit_test(test_listen_fds_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
