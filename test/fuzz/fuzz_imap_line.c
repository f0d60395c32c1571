/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include "fuzz_conn.h"

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

#define TAG_MAX 128 /* IMAP_TAG_MAX */

static struct ev_loop *loop;
static struct imap_context *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct imap_settings set = {
		.timeout = 1800,
		.plaintext = AUTH_PLAINTEXT_ALWAYS,
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
	struct buf out;

	if (size == 0)
		return 0;
	/* the first byte seeds the piece sizes; the rest is the client's */
	fuzz_conn_run(loop, &imap_conn_handler, ctx, data[0], data + 1,
		      size - 1, &out);
	check_output(&out, data + 1, size - 1);
	buf_free(&out);
	return 0;
}
