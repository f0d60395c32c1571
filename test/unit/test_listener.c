/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* listener: address parsing, and binding/keeping sockets across updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/config.h"
#include "server/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_parse(void **state)
{
	struct sockaddr_storage ss;
	unsigned len;
	const char *error;

	(void)state;
	assert_int_equal(
		listener_parse_addr("127.0.0.1:143", &ss, &len, &error), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 143);
	assert_int_equal(listener_parse_addr("[::1]:993", &ss, &len, &error),
			 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 993);
	assert_int_equal(listener_parse_addr("*:110", &ss, &len, &error), 0);
	assert_int_equal(ss.ss_family, AF_INET6);

	assert_int_equal(listener_parse_addr("127.0.0.1", &ss, &len, &error),
			 -1);
	assert_string_equal(error, "expected host:port");
	assert_int_equal(listener_parse_addr("127.0.0.1:0", &ss, &len, &error),
			 -1);
	assert_int_equal(
		listener_parse_addr("127.0.0.1:65536", &ss, &len, &error), -1);
	assert_string_equal(error, "bad port (1-65535)");
	assert_int_equal(listener_parse_addr("[::1]993", &ss, &len, &error),
			 -1);
	assert_int_equal(
		listener_parse_addr("localhost:143", &ss, &len, &error), -1);
	assert_string_equal(error, "not a numeric IPv4 or IPv6 address");
	assert_int_equal(listener_parse_addr("::1:143", &ss, &len, &error), -1);
	assert_string_equal(error, "IPv6 addresses need brackets: [::1]:143");
}

static void set_listen(struct config *c, const char *imap)
{
	for (int i = 0; i < CONFIG_LISTEN_COUNT; i++) {
		free(c->listen[i]);
		c->listen[i] = strdup(i == CONFIG_LISTEN_IMAP ? imap : "");
	}
}

/* a port the kernel just handed out and nobody holds: fixed numbers
   collided with the client ports of tests running beside this one */
static unsigned free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void test_update_keeps_sockets(void **state)
{
	struct listener_set *set = listener_set_new();
	struct config *c = config_new_defaults();
	char *error = NULL;
	int fd;
	unsigned p1 = free_port(), p2 = free_port();
	char two[64], one[32], bad[48];

	(void)state;
	while (p2 == p1)
		p2 = free_port();
	snprintf(two, sizeof(two), "127.0.0.1:%u 127.0.0.1:%u", p1, p2);
	snprintf(one, sizeof(one), "127.0.0.1:%u", p1);
	snprintf(bad, sizeof(bad), "127.0.0.1:%u nonsense", p1);
	set_listen(c, "127.0.0.1:0");
	/* port 0 binds a fresh ephemeral port each time: use a free pair */
	set_listen(c, two);
	assert_int_equal(listener_set_update(set, c, &error), 0);
	assert_int_equal(listener_set_count(set), 2);
	fd = listener_set_fd(set, 0);
	/* same address again: the socket is kept, not rebound */
	set_listen(c, one);
	assert_int_equal(listener_set_update(set, c, &error), 0);
	assert_int_equal(listener_set_count(set), 1);
	assert_int_equal(listener_set_fd(set, 0), fd);
	assert_string_equal(listener_set_addr(set, 0), one);
	/* a bad address leaves the set as it was */
	set_listen(c, bad);
	assert_int_equal(listener_set_update(set, c, &error), -1);
	assert_non_null(
		strstr(error, "listen.imap: nonsense: expected host:port"));
	free(error);
	assert_int_equal(listener_set_count(set), 1);
	assert_int_equal(listener_set_fd(set, 0), fd);
	listener_set_free(&set);
	assert_null(set);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_update_keeps_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
