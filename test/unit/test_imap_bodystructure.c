/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server mp_storage mp_lib
/*
 * protocols/imap/imap_bodystructure and imap_envelope: BODY,
 * BODYSTRUCTURE and ENVELOPE of hand-written messages, exactly as the
 * reference server (Dovecot 2.3) answers them, for input fed whole, byte
 * by byte and split at every offset, and after the cache form round trip;
 * the quoted-string / literal / NIL rules of RFC 3501 9 and 7.4.2.
 */
#include "lib/buf.h"
#include "protocols/imap/imap_bodystructure.h"
#include "protocols/imap/imap_envelope.h"
#include "storage/mime.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct mime_message *parse(const char *data, size_t len, size_t split,
				  size_t step)
{
	struct mime_parser *p = mime_parser_new();
	size_t pos = split;

	mime_parser_feed(p, data, split);
	while (pos < len) {
		size_t n = step == 0 || len - pos < step ? len - pos : step;

		mime_parser_feed(p, data + pos, n);
		pos += n;
	}
	return mime_parser_finish(&p);
}

enum item {
	ITEM_BODYSTRUCTURE,
	ITEM_BODY,
	ITEM_ENVELOPE
};

static char *write_item(const struct mime_message *m, enum item item)
{
	const struct mime_part *root = mime_message_root(m);
	struct buf b;
	char *s;

	buf_init(&b, BUF_UNLIMITED);
	if (item == ITEM_ENVELOPE)
		assert_int_equal(imap_envelope_write(&b, root->envelope), 0);
	else
		assert_int_equal(imap_bodystructure_write(
					 &b, root, item == ITEM_BODYSTRUCTURE),
				 0);
	s = strndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* The item must be `want` however the input arrives. */
static void check(const char *msg, enum item item, const char *want)
{
	size_t len = strlen(msg);
	struct mime_message *m;
	struct buf blob;
	char *got;

	for (size_t split = 0; split <= len; split++) {
		m = parse(msg, len, split, split == 0 ? 1 : 0);
		got = write_item(m, item);
		if (strcmp(got, want) != 0)
			fail_msg("split %zu:\n got %s\nwant %s", split, got,
				 want);
		free(got);
		if (split == 0) {
			/* the cache form gives the same answer */
			struct mime_message *back;

			buf_init(&blob, BUF_UNLIMITED);
			assert_int_equal(mime_message_serialize(m, &blob), 0);
			back = mime_message_deserialize(blob.data, blob.len);
			assert_non_null(back);
			got = write_item(back, item);
			assert_string_equal(got, want);
			free(got);
			mime_message_free(&back);
			buf_free(&blob);
		}
		mime_message_free(&m);
	}
}

static const char nested[] =
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"XYZ\"\n\n"
	"preamble\n--XYZ\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Language: en, fr\n\nfirst\n--XYZ\n"
	"Content-Type: message/rfc822\n"
	"Content-Disposition: attachment; filename=\"m.eml\"\n\n"
	"Subject: inner\nFrom: \"Doe, J\" <j@d.example>\n"
	"Content-Type: multipart/alternative; boundary=in\n\n"
	"--in\n\na\n--in\nContent-Type: text/html\nContent-ID: <c@x>\n"
	"Content-Location: http://x/\n y\n\n<b>\n--in--\n--XYZ--\n"
	"epilogue\n";

static void test_nested_bodystructure(void **state)
{
	(void)state;
	/* Dovecot 2.3.19's answer */
	check(nested, ITEM_BODYSTRUCTURE,
	      "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 "
	      "0 NIL NIL (\"en\" \"fr\") NIL)(\"message\" \"rfc822\" NIL NIL "
	      "NIL \"7bit\" 207 (NIL \"inner\" ((\"Doe, J\" NIL \"j\" "
	      "\"d.example\")) ((\"Doe, J\" NIL \"j\" \"d.example\")) "
	      "((\"Doe, J\" NIL \"j\" \"d.example\")) NIL NIL NIL NIL NIL) "
	      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 1 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" "
	      "\"us-ascii\") \"<c@x>\" NIL \"7bit\" 3 0 NIL NIL NIL "
	      "\"http://x/ y\") \"alternative\" (\"boundary\" \"in\") NIL NIL "
	      "NIL) 15 NIL (\"attachment\" (\"filename\" \"m.eml\")) NIL NIL) "
	      "\"mixed\" (\"boundary\" \"XYZ\") NIL NIL NIL");
	check(nested, ITEM_BODY,
	      "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 "
	      "0)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 207 (NIL "
	      "\"inner\" ((\"Doe, J\" NIL \"j\" \"d.example\")) ((\"Doe, J\" "
	      "NIL \"j\" \"d.example\")) ((\"Doe, J\" NIL \"j\" "
	      "\"d.example\")) NIL NIL NIL NIL NIL) ((\"text\" \"plain\" "
	      "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0)(\"text\" "
	      "\"html\" (\"charset\" \"us-ascii\") \"<c@x>\" NIL \"7bit\" 3 0) "
	      "\"alternative\") 15) \"mixed\"");
	check(nested, ITEM_ENVELOPE, "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL");
}

static void test_envelope(void **state)
{
	static const char msg[] =
		"Date: Mon, 7 Feb 1994 21:52:25\n -0800\n"
		"Subject: =?UTF-8?B?SsO8cmdlbg==?=  and\ttabs\n"
		"From: A Group:Ed Jones <c@a.test>,joe@where.test;, "
		"\"q\\\"uote\" <q@x>\n"
		"To: <@r1,@r2:j@d.example>, user\n"
		"Cc: Undisclosed:;\n"
		"In-Reply-To: <a@b>\n"
		"Message-ID: <\"\\\"\\\\\\\"\\\\\\\"@x>\n\nbody\n";
	static const char from[] =
		"((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
		"(NIL NIL \"joe\" \"where.test\")(NIL NIL NIL NIL)({6}\r\n"
		"q\"uote NIL \"q\" \"x\"))";
	char want[1024];

	(void)state;
	/* Sender and Reply-To default to From (RFC 3501 7.4.2); a subject
	   is cleaned for people and then needs a literal; five escapes
	   make a literal too */
	snprintf(want, sizeof(want),
		 "\"Mon, 7 Feb 1994 21:52:25 -0800\" {33}\r\n"
		 "=?UTF-8?B?SsO8cmdlbg==?= and tabs %s %s %s "
		 "((NIL \"@r1,@r2\" \"j\" \"d.example\")"
		 "(NIL NIL \"user\" \"MISSING_DOMAIN\")) "
		 "((NIL NIL \"Undisclosed\" NIL)(NIL NIL NIL NIL)) NIL "
		 "\"<a@b>\" {15}\r\n<\"\\\"\\\\\\\"\\\\\\\"@x>",
		 from, from, from);
	check(msg, ITEM_ENVELOPE, want);
	check(msg, ITEM_BODYSTRUCTURE,
	      "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 "
	      "1 NIL NIL NIL NIL");
}

static void test_defaults_and_empty(void **state)
{
	(void)state;
	/* a multipart without parts shows one empty text/plain part */
	check("Content-Type: multipart/mixed; boundary=z\n\n--z--\n",
	      ITEM_BODYSTRUCTURE,
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	      "0 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"z\") NIL NIL NIL");
	check("Content-Type: multipart/mixed; boundary=z\n\n--z--\n", ITEM_BODY,
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	      "0 0) \"mixed\"");
	/* broken Content-Types */
	check("Content-Type: text/\n\nx\n", ITEM_BODYSTRUCTURE,
	      "\"\" \"\" NIL NIL NIL \"7bit\" 3 NIL NIL NIL NIL");
	check("Content-Type: text\n\nx\n", ITEM_BODYSTRUCTURE,
	      "\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 "
	      "NIL NIL NIL NIL");
	/* message/rfc822 with an empty body still has a (text) child */
	check("Content-Type: message/rfc822\n\n", ITEM_BODYSTRUCTURE,
	      "\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 (NIL NIL NIL NIL "
	      "NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" "
	      "\"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) 0 NIL NIL "
	      "NIL NIL");
	/* no header at all */
	check("", ITEM_ENVELOPE, "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL");
	check("", ITEM_BODYSTRUCTURE,
	      "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 "
	      "0 NIL NIL NIL NIL");
	/* RFC 2231: merged, kept encoded; 8-bit value: a literal */
	check("MIME-Version: 1.0\nContent-Type: application/x; "
	      "t*0*=utf-8''%E2%82; t*1*=%AC; n=\"\xc3\xa9\"\n\n",
	      ITEM_BODYSTRUCTURE,
	      "\"application\" \"x\" (\"n\" {2}\r\n\xc3\xa9 \"t*\" "
	      "\"utf-8''%E2%82%AC\") NIL NIL \"7bit\" 0 NIL NIL NIL NIL");
}

static char *app(int (*f)(struct buf *, const char *), const char *s)
{
	struct buf b;
	char *r;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(f(&b, s), 0);
	r = strndup(b.data, b.len);
	buf_free(&b);
	return r;
}

#define ASSERT_APP(f, in, want)                    \
	do {                                       \
		char *got_ = app((f), (in));       \
		assert_string_equal(got_, (want)); \
		free(got_);                        \
	} while (0)

static int humans(struct buf *b, const char *s)
{
	return imap_envelope_append_humans(b, s, strlen(s));
}

static void test_strings(void **state)
{
	(void)state;
	ASSERT_APP(imap_envelope_append_nstring, NULL, "NIL");
	ASSERT_APP(imap_envelope_append_nstring, "", "\"\"");
	ASSERT_APP(imap_envelope_append_nstring, "NIL", "\"NIL\"");
	ASSERT_APP(imap_envelope_append_nstring, "a\"b\\c", "\"a\\\"b\\\\c\"");
	ASSERT_APP(imap_envelope_append_nstring, "\"\"\"\"",
		   "\"\\\"\\\"\\\"\\\"\"");
	ASSERT_APP(imap_envelope_append_nstring, "\"\"\"\"\"",
		   "{5}\r\n\"\"\"\"\"");
	ASSERT_APP(imap_envelope_append_nstring, "a\r\nb", "{4}\r\na\r\nb");
	ASSERT_APP(imap_envelope_append_nstring, "\xc3\xa9", "{2}\r\n\xc3\xa9");
	ASSERT_APP(imap_envelope_append_nstring_nolf, "a\n b\nc", "\"a b c\"");
	ASSERT_APP(humans, "plain", "\"plain\"");
	ASSERT_APP(humans, "  a \t b\n c  ", "{5}\r\na b c");
	ASSERT_APP(humans, " \t ", "\"\"");
	ASSERT_APP(humans, "", "\"\"");
	ASSERT_APP(humans, "q\"", "{2}\r\nq\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_bodystructure),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_defaults_and_empty),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
