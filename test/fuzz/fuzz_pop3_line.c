/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include "fuzz_conn.h"

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

static struct ev_loop *loop;
static struct pop3_context *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pop3_settings set = {
		.timeout = 600,
		.plaintext = AUTH_PLAINTEXT_ALWAYS,
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
	struct buf out;

	if (size == 0)
		return 0;
	/* the first byte seeds the piece sizes; the rest is the client's */
	fuzz_conn_run(loop, &pop3_conn_handler, ctx, data[0], data + 1,
		      size - 1, &out);
	check_output(&out);
	buf_free(&out);
	return 0;
}
