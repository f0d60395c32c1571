/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server mp_lib
/* Unit tests for protocols/lmtp/lmtp_parser: command lines (MAIL FROM and
   RCPT TO paths, SIZE and BODY, refusals) and the DATA decoder, fed whole,
   byte by byte and split at every offset. */
#include "protocols/lmtp/lmtp_parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int parse(const char *line, struct lmtp_command *cmd, const char **error)
{
	*error = NULL;
	return lmtp_parser_command(strv_from_cstr(line), cmd, error);
}

static void assert_strv(struct strv s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static void test_verbs(void **state)
{
	struct lmtp_command cmd;
	const char *error;

	(void)state;
	assert_int_equal(parse("LHLO mx.example.org", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_LHLO);
	assert_strv(cmd.arg, "mx.example.org");
	assert_int_equal(parse("lhlo", &cmd, &error), -1);
	assert_string_equal(error, "501 5.5.4 LHLO needs a domain");
	assert_int_equal(parse("ehlo x", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_HELO);
	assert_int_equal(parse("data", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_DATA);
	assert_int_equal(parse("DATA x", &cmd, &error), -1);
	assert_int_equal(parse("QUIT", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_QUIT);
	assert_int_equal(parse("NOOP anything", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_NOOP);
	assert_int_equal(parse("XYZZY", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_UNKNOWN);
	assert_int_equal(parse("", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_UNKNOWN);
}

static void test_mail_rcpt(void **state)
{
	struct lmtp_command cmd;
	const char *error;

	(void)state;
	assert_int_equal(parse("MAIL FROM:<a@b.example>", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_MAIL);
	assert_strv(cmd.path, "a@b.example");
	assert_false(cmd.has_size);
	assert_int_equal(
		parse("mail from:<> SIZE=12345 BODY=8BITMIME", &cmd, &error),
		0);
	assert_strv(cmd.path, "");
	assert_true(cmd.has_size);
	assert_int_equal(cmd.size, 12345);
	assert_int_equal(cmd.body, LMTP_BODY_8BITMIME);
	assert_int_equal(parse("MAIL FROM: <x@y>  body=7bit ", &cmd, &error),
			 0);
	assert_int_equal(cmd.body, LMTP_BODY_7BIT);
	assert_int_equal(parse("RCPT TO:<bob@example.org>", &cmd, &error), 0);
	assert_int_equal(cmd.verb, LMTP_VERB_RCPT);
	assert_strv(cmd.path, "bob@example.org");

	assert_int_equal(parse("MAIL FROM:a@b", &cmd, &error), -1);
	assert_string_equal(error, "501 5.1.7 Path must be in angle brackets");
	assert_int_equal(parse("MAIL TO:<a@b>", &cmd, &error), -1);
	assert_int_equal(parse("MAIL FROM:<a@b> SIZE=", &cmd, &error), -1);
	assert_int_equal(parse("MAIL FROM:<a@b> SIZE=12x", &cmd, &error), -1);
	assert_int_equal(parse("MAIL FROM:<a@b> SIZE=99999999999999999999999",
			       &cmd, &error),
			 -1);
	assert_int_equal(parse("MAIL FROM:<a@b> AUTH=<>", &cmd, &error), -1);
	assert_string_equal(error, "555 5.5.4 Unsupported parameter");
	assert_int_equal(parse("MAIL FROM:<a@b>x", &cmd, &error), -1);
	assert_int_equal(parse("RCPT TO:<a b@c>", &cmd, &error), -1);
	assert_int_equal(parse("RCPT TO:<a@b> NOTIFY=NEVER", &cmd, &error), -1);
	assert_int_equal(parse("RCPT TO:<a@b", &cmd, &error), -1);
}

static void test_path_limit(void **state)
{
	char line[LMTP_PATH_MAX + 32];
	struct lmtp_command cmd;
	const char *error;

	(void)state;
	strcpy(line, "RCPT TO:<");
	memset(line + 9, 'a', LMTP_PATH_MAX);
	strcpy(line + 9 + LMTP_PATH_MAX, ">");
	assert_int_equal(parse(line, &cmd, &error), 0);
	strcpy(line + 9 + LMTP_PATH_MAX, "a>");
	assert_int_equal(parse(line, &cmd, &error), -1);
}

/* Decodes in in pieces of `piece` bytes (0: whole); returns the decoded
   bytes (caller frees) and the bytes left after the end in *rest_r. */
static char *decode(const char *in, size_t len, size_t piece, bool *end_r,
		    size_t *out_len_r, size_t *rest_r)
{
	struct lmtp_data d;
	char *out = malloc(len + 1);
	size_t pos = 0, o = 0;

	lmtp_data_init(&d);
	*end_r = false;
	while (pos < len && !*end_r) {
		size_t n = piece == 0 || piece > len - pos ? len - pos : piece;
		char tmp[len + 2];
		size_t used, got;

		*end_r = lmtp_data_decode(&d, in + pos, n, tmp, &used, &got);
		assert_true(used <= n);
		assert_true(got <= n + 1);
		memcpy(out + o, tmp, got);
		o += got;
		pos += used;
		if (!*end_r)
			assert_int_equal(used, n);
	}
	*out_len_r = o;
	*rest_r = len - pos;
	return out;
}

static void check_decode(const char *in, const char *want, size_t rest)
{
	size_t len = strlen(in);

	for (size_t piece = 0; piece <= len; piece++) {
		size_t out_len, got_rest;
		bool end;
		char *out = decode(in, len, piece, &end, &out_len, &got_rest);

		assert_true(end);
		assert_int_equal(out_len, strlen(want));
		assert_memory_equal(out, want, out_len);
		assert_int_equal(got_rest, rest);
		free(out);
	}
}

static void test_data(void **state)
{
	(void)state;
	check_decode(".\r\n", "", 0);
	check_decode("a\r\n.\r\n", "a\r\n", 0);
	check_decode("..a\r\n.\r\nNOOP\r\n", ".a\r\n", 6);
	check_decode("Subject: x\r\n\r\n..\r\n...\r\nb.c\r\n.x\r\n.\r\n",
		     "Subject: x\r\n\r\n.\r\n..\r\nb.c\r\nx\r\n", 0);
	/* bare LF ends a line too; ".\r" not followed by LF is data */
	check_decode("a\n.\n", "a\n", 0);
	check_decode(".\rx\r\n.\r\n", "\rx\r\n", 0);
	check_decode("a\r\n.\r.\r\n.\r\n", "a\r\n\r.\r\n", 0);
}

static void test_data_split_every_offset(void **state)
{
	const char *in = "..a\r\nb\r\n.\rq\r\n..\r\n.\r\n";
	const char *want = ".a\r\nb\r\n\rq\r\n.\r\n";
	size_t len = strlen(in);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		struct lmtp_data d;
		char out[64];
		size_t used, got, o = 0;
		bool end;

		lmtp_data_init(&d);
		end = lmtp_data_decode(&d, in, cut, out, &used, &got);
		assert_false(end);
		assert_int_equal(used, cut);
		o = got;
		end = lmtp_data_decode(&d, in + cut, len - cut, out + o, &used,
				       &got);
		assert_true(end);
		assert_int_equal(used, len - cut);
		o += got;
		assert_int_equal(o, strlen(want));
		assert_memory_equal(out, want, o);
	}
}

static void test_data_unfinished(void **state)
{
	size_t out_len, rest;
	bool end;
	char *out;

	(void)state;
	out = decode("a\r\n.x", 5, 0, &end, &out_len, &rest);
	assert_false(end);
	assert_int_equal(out_len, 4);
	assert_memory_equal(out, "a\r\nx", 4);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_mail_rcpt),
		cmocka_unit_test(test_path_limit),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_data_split_every_offset),
		cmocka_unit_test(test_data_unfinished),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
