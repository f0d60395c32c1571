/*
 * Fuzz target for the POP3 front-end's command-line handling
 * (protocols/pop3/pop3.c): a real connection on a socketpair, driven by
 * the libev loop, without an auth client (AUTHORIZATION state only: USER,
 * PASS, AUTH, APOP, CAPA, STLS, QUIT and everything refused there).
 *
 * The first byte seeds the piece sizes; the rest is sent as client bytes
 * in pieces, the loop running a few rounds after each, then the client
 * half-closes. Invariants: every server line ends in CRLF with no other CR
 * or LF in it; a reply starts with "+OK" or "-ERR" (lines of the CAPA list
 * excepted, which ends with "."); the greeting comes first; echoed text is
 * printable; the connection is gone once the client has left.
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "protocols/pop3/pop3.h"
#include "server/conn_server.h"

#include <arpa/inet.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROUNDS 4

static struct ev_loop *loop;
static struct pop3_context *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pop3_settings set = {
		.timeout = 600,
		.plaintext = 2, /* CONFIG_PLAINTEXT_ALWAYS */
		.after_download = 0,
		.login_delay = 0,
		.auth = NULL,
		.max_failures = 3,
	};

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_pop3_line", LOG_TARGET_STDERR, LOG_LEVEL_ERROR);
	loop = ev_default_loop(0);
	ctx = pop3_context_new(&set);
	return 0;
}

static void drain(int peer, struct buf *out)
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

static void spin(int peer, struct buf *out, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		drain(peer, out);
	}
}

static void check_output(const struct buf *out)
{
	size_t pos = 0;
	bool in_list = false;

	FUZZ_CHECK(out->len > 4 && memcmp(out->data, "+OK ", 4) == 0);
	while (pos < out->len) {
		const char *p = out->data + pos;
		const char *nl = memchr(p, '\n', out->len - pos);
		size_t len;

		FUZZ_CHECK(nl != NULL);
		len = (size_t)(nl - p) + 1;
		pos += len;
		FUZZ_CHECK(len >= 2 && p[len - 2] == '\r');
		for (size_t i = 0; i < len - 2; i++)
			FUZZ_CHECK(p[i] >= 0x20 && p[i] < 0x7f);
		if (in_list) {
			in_list = !(len == 3 && p[0] == '.');
			continue;
		}
		FUZZ_CHECK(strncmp(p, "+OK", 3) == 0 ||
			   strncmp(p, "-ERR", 4) == 0);
		FUZZ_CHECK(p[p[0] == '+' ? 3 : 4] == ' ' ||
			   p[p[0] == '+' ? 3 : 4] == '\r');
		if (len == 29 &&
		    memcmp(p, "+OK Capability list follows", 27) == 0)
			in_list = true;
	}
	FUZZ_CHECK(!in_list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct conn_limits limits = {
		.input_max = 256 * 1024,
		.output_high = 256 * 1024,
		.output_low = 64 * 1024,
		.login_timeout = 60,
	};
	unsigned seed;
	size_t pos = 0;
	struct buf out;
	int sv[2];

	if (size == 0)
		return 0;
	seed = data[0];
	data++;
	size--;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conn_new(loop, sv[0], &ss, &pop3_conn_handler, ctx, NULL, false,
		 &limits);
	buf_init(&out, BUF_UNLIMITED);
	spin(sv[1], &out, 1);
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
		spin(sv[1], &out, ROUNDS);
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 20 && conn_count() > 0; i++)
		spin(sv[1], &out, 1);
	FUZZ_CHECK(conn_count() == 0);
	drain(sv[1], &out);
	close(sv[1]);
	check_output(&out);
	buf_free(&out);
	return 0;
}
