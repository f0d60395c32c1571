/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* Unit tests for server/sdnotify: the sd_notify(3) datagram to a path or an
   abstract socket named by $NOTIFY_SOCKET, and the refusals. */
#include "server/sdnotify.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

/* A datagram socket bound to `name` (a path, or "@name"), as systemd's. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(len < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(
		bind(fd, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
		0);
	return fd;
}

/* The next datagram, which must be exactly `want`. */
static void expect_datagram(int fd, const char *want)
{
	char got[SDNOTIFY_MAX + 16];
	ssize_t n = recv(fd, got, sizeof(got), MSG_DONTWAIT);

	assert_true(n >= 0);
	assert_int_equal((size_t)n, strlen(want));
	assert_memory_equal(got, want, (size_t)n);
}

static void expect_nothing(int fd)
{
	char got[16];

	assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_unset_is_a_no_op(void **state)
{
	(void)state;
	const char *error = NULL;

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_send("READY=1", &error), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sdnotify_send("READY=1", &error), 0);
	assert_null(error);
	unsetenv("NOTIFY_SOCKET");
}

static void test_path_socket(void **state)
{
	(void)state;
	char dir[] = "/tmp/merpati-sdnotify-XXXXXX", path[128];
	const char *error = NULL;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdnotify_send("READY=1", &error), 1);
	expect_datagram(fd, "READY=1");
	/* several assignments travel in one datagram */
	assert_int_equal(sdnotify_send("RELOADING=1\nSTATUS=reloading", &error),
			 1);
	expect_datagram(fd, "RELOADING=1\nSTATUS=reloading");
	assert_int_equal(sdnotify_send("STOPPING=1", &error), 1);
	expect_datagram(fd, "STOPPING=1");
	expect_nothing(fd);
	close(fd);
	unlink(path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract_socket(void **state)
{
	(void)state;
	char name[64];
	const char *error = NULL;
	int fd;

	snprintf(name, sizeof(name), "@merpati-sdnotify-%ld", (long)getpid());
	fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_send("READY=1", &error), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
	/* the '@' is the leading NUL, not part of a path: with nobody bound
	   to the name, the send fails (it does not create a file "@...") */
	assert_int_equal(sdnotify_send("READY=1", &error), -1);
	assert_non_null(strstr(error, "sendto(NOTIFY_SOCKET)"));
	assert_int_equal(access(name, F_OK), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void test_refusals(void **state)
{
	(void)state;
	char long_name[200], big[SDNOTIFY_MAX + 2];
	const char *error = NULL;

	setenv("NOTIFY_SOCKET", "run/notify", 1); /* relative */
	assert_int_equal(sdnotify_send("READY=1", &error), -1);
	assert_non_null(strstr(error, "absolute path"));
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	error = NULL;
	assert_int_equal(sdnotify_send("READY=1", &error), -1);
	assert_non_null(error);
	setenv("NOTIFY_SOCKET", "@", 1);
	error = NULL;
	assert_int_equal(sdnotify_send("READY=1", &error), -1);
	assert_non_null(strstr(error, "does not fit"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[0] = '/';
	long_name[sizeof(long_name) - 1] = '\0';
	setenv("NOTIFY_SOCKET", long_name, 1);
	error = NULL;
	assert_int_equal(sdnotify_send("READY=1", &error), -1);
	assert_non_null(strstr(error, "does not fit"));
	/* nobody listens at the path */
	setenv("NOTIFY_SOCKET", "/nonexistent/merpati/notify", 1);
	error = NULL;
	assert_int_equal(sdnotify_send("READY=1", &error), -1);
	assert_non_null(strstr(error, "No such file or directory"));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	error = NULL;
	assert_int_equal(sdnotify_send(big, &error), -1);
	assert_non_null(strstr(error, "too long"));
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_is_a_no_op),
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
