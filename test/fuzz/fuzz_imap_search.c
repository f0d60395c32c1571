/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the SEARCH key parser (imap_search_parse() in
 * protocols/imap/imap_search.c) and the evaluation behind it.
 *
 * Setup (once): a Maildir with five messages (plain, multipart with a
 * base64 part, encoded words, flags, a keyword) selected in a session
 * whose connection is one end of a socketpair, as in the server.
 *
 * Input: byte 0 bit 0 makes it UID SEARCH; the rest are the keys, parsed
 * as "s SEARCH <keys>" by imap_parser. Checked: a refusal writes exactly
 * one line, "s BAD <reason>" or "s NO [BADCHARSET (UTF-8 US-ASCII)] ...";
 * a search that parses runs to the end and its hits are ascending
 * message indices of the folder; "NOT (<keys>)" hits exactly the other
 * messages and "OR (<keys>) ALL" all of them (when those parse: CHARSET
 * cannot be wrapped, nesting has a limit).
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "protocols/imap/imap.h"
#include "protocols/imap/imap_parser.h"
#include "protocols/imap/imap_private.h"
#include "protocols/imap/imap_search.h"
#include "server/conn_server.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"

#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ev_loop *loop;
static struct maildir *store;
static struct imap_session session;
static struct imap_selected selected;
static int peer = -1;
static char root[64];

static const char *const messages[] = {
	"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\n"
	"Subject: Hello\r\nDate: Mon, 01 Dec 2025 09:00:00 +0000\r\n\r\n"
	"Hello Bob, how are you?\r\n",
	"From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
	"Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\nCc: carol@example.org\r\n"
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n"
	"\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nRnJvaGUgV2VpaG5hY2h0ZW4=\r\n"
	"--b\r\nContent-Type: text/html\r\n\r\n<p>Lunch</p>\r\n--b--\r\n",
	"Subject: no date\r\nX-Custom: value\r\n\r\nshort\r\n",
	"Date: garbage\r\n\r\n",
	"\r\n\r\nbody only\r\n",
};

static void *fake_open(struct conn *conn, void *ctx)
{
	(void)ctx;
	session.conn = conn;
	return &session;
}

static void fake_process(void *s)
{
	(void)s;
}

static void fake_bye(void *s, enum conn_bye why)
{
	(void)s;
	(void)why;
}

static void fake_free(void *s)
{
	(void)s;
	session.conn = NULL;
}

static const struct conn_handler handler = {
	.name = "imap",
	.open = fake_open,
	.process = fake_process,
	.bye = fake_bye,
	.free = fake_free,
};

static const struct imap_command search_cmd = {
	"SEARCH", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID, NULL};

static void cleanup(void)
{
	char cmd[128];

	if (root[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz_imap_search: cannot remove %s\n",
				root);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct maildir_settings set;
	struct sockaddr_storage ss = {0};
	struct conn_limits limits = {
		.input_max = 256 * 1024,
		.output_high = 1 << 20,
		.output_low = 64 * 1024,
		.login_timeout = 600,
	};
	const struct mailbox_changes *ch;
	const char *error;
	char path[128];
	int sv[2];

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_imap_search", LOG_TARGET_STDERR, LOG_LEVEL_ERROR);
	loop = ev_default_loop(0);
	snprintf(root, sizeof(root), "/tmp/fuzz-imap-search-XXXXXX");
	FUZZ_CHECK(mkdtemp(root) != NULL);
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/mail", root);
	maildir_settings_init(&set);
	set.fsync = false;
	FUZZ_CHECK(maildir_open(path, &set, true, &store, &error) == 0);
	FUZZ_CHECK(mailbox_open(store, "INBOX", 0, &selected.box, &error) == 0);
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		struct mailbox_append *a;
		uint32_t uid;
		unsigned flags =
			i == 0	 ? MAILDIR_FLAG_SEEN
			: i == 1 ? MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_REPLIED
			: i == 3 ? MAILDIR_FLAG_DELETED
				 : 0;

		FUZZ_CHECK(mailbox_append_begin(selected.box, &a, &error) == 0);
		FUZZ_CHECK(mailbox_append_write(a, messages[i],
						strlen(messages[i]),
						&error) == 0);
		FUZZ_CHECK(mailbox_append_finish(&a, flags, i == 1 ? 1 : 0,
						 1764583200 + (time_t)i * 90000,
						 &uid, &error) == 0);
	}
	FUZZ_CHECK(mailbox_keyword_index(selected.box, "$Work", true, &error) ==
		   0);
	FUZZ_CHECK(mailbox_sync(selected.box, &ch, &error) == 0);
	FUZZ_CHECK(mailbox_count(selected.box) == 5);
	selected.name = (char *)"INBOX";
	session.state = IMAP_STATE_SELECTED;
	session.store = store;
	session.sel = &selected;

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	((struct sockaddr_in *)&ss)->sin_family = AF_INET;
	((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conn_new(loop, sv[0], &ss, &handler, NULL, NULL, false, &limits);
	peer = sv[1];
	FUZZ_CHECK(session.conn != NULL);
	return 0;
}

/* What the session wrote since the last call. */
static void drain(struct buf *out)
{
	buf_reset(out);
	for (int round = 0; round < 4; round++) {
		ev_run(loop, EVRUN_NOWAIT);
		for (;;) {
			size_t avail;
			char *dst = buf_reserve(out, 65536, &avail);
			ssize_t n = recv(peer, dst, avail, MSG_DONTWAIT);

			if (n <= 0)
				break;
			buf_commit(out, (size_t)n);
		}
	}
}

/* Runs "s [UID ]SEARCH keys"; returns the hit mask (bit i: message i),
   or -1 when refused (checked), -2 when the line does not parse. */
static long run_search(bool uid, const char *keys, size_t len)
{
	struct imap_parser_settings set;
	struct imap_parser *p;
	struct imap_search *search = NULL;
	struct imap_cmd cmd = {0};
	struct buf line, out;
	size_t used = 0, n = 0;
	const unsigned *hits;
	long mask = 0;
	int r;

	imap_parser_settings_default(&set, true);
	p = imap_parser_new(&set);
	buf_init(&line, BUF_UNLIMITED);
	buf_append_str(&line, uid ? "s UID SEARCH " : "s SEARCH ");
	buf_append(&line, keys, len);
	buf_append_str(&line, "\r\n");
	r = imap_parser_feed(p, line.data, line.len, &used);
	buf_free(&line);
	if (r != IMAP_PARSER_COMMAND) {
		imap_parser_free(&p);
		return -2;
	}
	cmd.s = &session;
	cmd.def = &search_cmd;
	cmd.tag = imap_parser_tag(p);
	cmd.name = imap_parser_name(p);
	cmd.argv = imap_parser_args(p);
	cmd.first = uid ? 1 : 0;
	cmd.uid = uid;
	cmd.arena = imap_parser_arena(p);
	session.cmd = &cmd;
	if (imap_arg_count(cmd.argv) == cmd.first) {
		/* the server refuses an empty SEARCH before the parser */
		session.cmd = NULL;
		imap_parser_free(&p);
		return -2;
	}
	buf_init(&out, BUF_UNLIMITED);
	if (imap_search_parse(&cmd, 0, &search) < 0) {
		const char *nl;

		FUZZ_CHECK(search == NULL);
		drain(&out);
		FUZZ_CHECK(out.len > 6);
		nl = memchr(out.data, '\n', out.len);
		FUZZ_CHECK(nl == out.data + out.len - 1 && nl[-1] == '\r');
		FUZZ_CHECK(memcmp(out.data, "s BAD ", 6) == 0 ||
			   memcmp(out.data,
				  "s NO [BADCHARSET (UTF-8 US-ASCII)] ",
				  35) == 0);
		mask = -1;
	} else {
		unsigned count = mailbox_count(selected.box);

		for (int i = 0; i < 1000000 &&
				imap_search_step(search) != IMAP_SEARCH_DONE;
		     i++)
			FUZZ_CHECK(i < 999999);
		hits = imap_search_result(search, &n);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(hits[i] < count);
			FUZZ_CHECK(i == 0 || hits[i] > hits[i - 1]);
			mask |= 1L << hits[i];
		}
		imap_search_free(&search);
		drain(&out);
		FUZZ_CHECK(out.len == 0);
	}
	buf_free(&out);
	session.cmd = NULL;
	imap_parser_free(&p);
	return mask;
}

static long wrapped(bool uid, const char *pre, const uint8_t *data, size_t size,
		    const char *post)
{
	struct buf b;
	long mask;

	buf_init(&b, BUF_UNLIMITED);
	buf_append_str(&b, pre);
	buf_append(&b, data, size);
	buf_append_str(&b, post);
	mask = run_search(uid, b.data, b.len);
	buf_free(&b);
	return mask;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool uid;
	long mask, not_mask, or_mask;
	long all = (1L << 5) - 1;

	if (size < 1 || size > 16384)
		return 0;
	uid = (data[0] & 1) != 0;
	data++;
	size--;
	mask = run_search(uid, (const char *)data, size);
	if (mask < 0)
		return 0;
	if (size >= 7 && strncasecmp((const char *)data, "CHARSET", 7) == 0)
		return 0;
	not_mask = wrapped(uid, "NOT (", data, size, ")");
	if (not_mask >= 0)
		FUZZ_CHECK(not_mask == (all & ~mask));
	or_mask = wrapped(uid, "OR (", data, size, ") ALL");
	if (or_mask >= 0)
		FUZZ_CHECK(or_mask == all);
	return 0;
}
