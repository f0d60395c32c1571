/*
 * Fuzz target for the IMAP front-end's command-line handling
 * (protocols/imap/imap.c): a real connection on a socketpair, driven by
 * the libev loop, without an auth client (only the commands before login
 * run: CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE).
 *
 * The first byte seeds the piece sizes; the rest is sent as client bytes
 * in pieces, the loop running a few rounds after each, then the client
 * half-closes. Invariants: every server line ends in CRLF with no other CR
 * or LF in it, and starts with "* ", "+ " or a tag the client sent
 * (1 to 128 tag characters, then " OK ", " NO " or " BAD "); the greeting
 * comes first; the connection is gone once the client has left.
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "protocols/imap/imap.h"
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
#define TAG_MAX 128 /* IMAP_TAG_MAX */

static struct ev_loop *loop;
static struct imap_context *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct imap_settings set = {
		.timeout = 1800,
		.plaintext = 2, /* CONFIG_PLAINTEXT_ALWAYS */
		.auth = NULL,
		.max_failures = 3,
	};

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_imap_line", LOG_TARGET_STDERR, LOG_LEVEL_ERROR);
	loop = ev_default_loop(0);
	ctx = imap_context_new(&set);
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

static bool tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* True when a client line starts with exactly this tag. */
static bool tag_sent(const uint8_t *in, size_t in_len, const char *tag,
		     size_t t)
{
	for (size_t i = 0; i + t <= in_len; i++) {
		if ((i == 0 || in[i - 1] == '\n') &&
		    (i + t == in_len || !tag_char(in[i + t])) &&
		    memcmp(in + i, tag, t) == 0)
			return true;
	}
	return false;
}

static void check_line(const char *p, size_t len, const uint8_t *in,
		       size_t in_len)
{
	size_t t = 0;

	FUZZ_CHECK(len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n');
	FUZZ_CHECK(memchr(p, '\r', len - 2) == NULL);
	if (len >= 4 && (memcmp(p, "* ", 2) == 0 || memcmp(p, "+ ", 2) == 0))
		return;
	while (t < len && tag_char((unsigned char)p[t]))
		t++;
	FUZZ_CHECK(t > 0 && t <= TAG_MAX);
	FUZZ_CHECK(memcmp(p + t, " OK ", 4) == 0 ||
		   memcmp(p + t, " NO ", 4) == 0 ||
		   memcmp(p + t, " BAD ", 5) == 0);
	FUZZ_CHECK(tag_sent(in, in_len, p, t));
}

static void check_output(const struct buf *out, const uint8_t *in,
			 size_t in_len)
{
	size_t pos = 0;

	FUZZ_CHECK(out->len > 5 && memcmp(out->data, "* OK ", 5) == 0);
	while (pos < out->len) {
		const char *nl = memchr(out->data + pos, '\n', out->len - pos);

		FUZZ_CHECK(nl != NULL);
		check_line(out->data + pos,
			   (size_t)(nl - (out->data + pos)) + 1, in, in_len);
		pos = (size_t)(nl - out->data) + 1;
	}
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
	conn_new(loop, sv[0], &ss, &imap_conn_handler, ctx, NULL, false,
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
	check_output(&out, data, size);
	buf_free(&out);
	return 0;
}
