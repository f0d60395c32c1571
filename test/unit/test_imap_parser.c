/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/*
 * Unit tests for protocols/imap/imap_parser (and the getters of imap_arg).
 *
 * Every input is fed whole, byte by byte, and split in two at every
 * offset; each way must give the same transcript: one line per event,
 *   "tag name args"  a command (atoms bare, "quoted", {n:literal},
 *                    ~{n:literal8}, {n:streamed}, (lists), NIL, and an
 *                    atom's section as atom§(items))
 *   "+"              IMAP_PARSER_CONTINUE
 *   "L size ..."     a pause at a literal (pause_at_literals)
 *   the reply line   of an error (imap_parser_error_reply)
 */
#include "protocols/imap/imap_parser.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum policy {
	POLICY_BUFFER, /* imap_parser_literal_accept(p, NULL, NULL) */
	POLICY_STREAM, /* accept with a sink */
	POLICY_REFUSE, /* imap_parser_literal_refuse() */
};

struct run {
	struct imap_parser *p;
	enum policy policy;
	struct buf out;	   /* the transcript */
	struct buf stream; /* bytes the sink got */
	bool dead;	   /* fatal error seen */
};

static void put_text(struct buf *b, struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c >= 0x20 && c < 0x7f)
			buf_append(b, &c, 1);
		else
			buf_printf(b, "\\x%02x", c);
	}
}

static void put_arg(struct buf *b, const struct imap_arg *a)
{
	switch (imap_arg_type(a)) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
		put_text(b, imap_arg_text(a));
		if (imap_arg_section(a) != NULL) {
			buf_append_str(b, "\xc2\xa7");
			put_arg(b, imap_arg_section(a));
		}
		break;
	case IMAP_ARG_QUOTED:
		buf_append_str(b, "\"");
		put_text(b, imap_arg_text(a));
		buf_append_str(b, "\"");
		break;
	case IMAP_ARG_LITERAL:
		buf_printf(b, "%s{%llu:", imap_arg_is_literal8(a) ? "~" : "",
			   (unsigned long long)imap_arg_literal_size(a));
		if (imap_arg_is_streamed(a))
			buf_append_str(b, "streamed");
		else
			put_text(b, imap_arg_text(a));
		buf_append_str(b, "}");
		break;
	case IMAP_ARG_LIST:
		buf_append_str(b, "(");
		for (size_t i = 0; i < imap_arg_count(a); i++) {
			if (i > 0)
				buf_append_str(b, " ");
			put_arg(b, imap_arg_at(a, i));
		}
		buf_append_str(b, ")");
		break;
	case IMAP_ARG_EOL:
		buf_append_str(b, "EOL");
		break;
	}
}

/* The error's reply line, CRLF checked and written as "\n". */
static void put_error(struct run *run)
{
	struct buf line;

	buf_init(&line, 1024);
	assert_int_equal(imap_parser_error_reply(run->p, &line), 0);
	assert_true(line.len > 2);
	assert_memory_equal(line.data + line.len - 2, "\r\n", 2);
	assert_null(memchr(line.data, '\n', line.len - 1));
	buf_append(&run->out, line.data, line.len - 2);
	buf_append_str(&run->out, "\n");
	buf_free(&line);
}

static void sink(void *ctx, const void *data, size_t len)
{
	struct run *run = ctx;

	assert_true(len > 0);
	buf_append(&run->stream, data, len);
}

static void on_command(struct run *run)
{
	const struct imap_arg *args = imap_parser_args(run->p);

	assert_int_equal(imap_arg_type(args), IMAP_ARG_LIST);
	put_text(&run->out, imap_parser_tag(run->p));
	buf_append_str(&run->out, " ");
	put_text(&run->out, imap_parser_name(run->p));
	for (size_t i = 0; i < imap_arg_count(args); i++) {
		buf_append_str(&run->out, " ");
		put_arg(&run->out, imap_arg_at(args, i));
	}
	assert_null(imap_arg_at(args, imap_arg_count(args)));
	if (run->stream.len > 0) {
		buf_append_str(&run->out, " stream=");
		put_text(&run->out,
			 (struct strv){run->stream.data, run->stream.len});
		buf_reset(&run->stream);
	}
	buf_append_str(&run->out, "\n");
}

static void on_literal(struct run *run)
{
	struct imap_parser_literal info;

	imap_parser_literal_info(run->p, &info);
	buf_printf(&run->out, "L %llu%s%s %.*s %.*s d%u i%zu t%zu\n",
		   (unsigned long long)info.size, info.nonsync ? "+" : "",
		   info.literal8 ? "~" : "", (int)info.tag.len, info.tag.p,
		   (int)info.name.len, info.name.p, info.depth, info.index,
		   info.top_index);
	if (run->policy == POLICY_REFUSE) {
		imap_parser_literal_refuse(run->p);
		buf_append_str(&run->out, "refused\n");
		return;
	}
	if (imap_parser_literal_accept(
		    run->p, run->policy == POLICY_STREAM ? sink : NULL, run) <
	    0) {
		assert_int_equal(imap_parser_error(run->p)->class,
				 IMAP_PARSER_ERR_COMMAND);
		put_error(run);
	}
}

/* Feeds one chunk, handling every event it causes. */
static void feed(struct run *run, const char *data, size_t len)
{
	while (!run->dead) {
		size_t used = 12345;
		int r = imap_parser_feed(run->p, data, len, &used);

		assert_true(used <= len);
		data += used;
		len -= used;
		switch (r) {
		case IMAP_PARSER_MORE:
			assert_int_equal(len, 0);
			return;
		case IMAP_PARSER_COMMAND:
			on_command(run);
			break;
		case IMAP_PARSER_CONTINUE:
			buf_append_str(&run->out, "+\n");
			break;
		case IMAP_PARSER_LITERAL:
			on_literal(run);
			break;
		case IMAP_PARSER_ERROR:
			put_error(run);
			if (imap_parser_error(run->p)->class ==
			    IMAP_PARSER_ERR_FATAL) {
				/* and it stays dead */
				assert_int_equal(
					imap_parser_feed(run->p, "a", 1, &used),
					IMAP_PARSER_ERROR);
				assert_int_equal(used, 0);
				run->dead = true;
			}
			break;
		default:
			fail_msg("feed returned %d", r);
		}
	}
}

/* mode 0: whole; 1: byte by byte; 2+k: split at offset k. */
static char *transcript(const struct imap_parser_settings *set,
			enum policy policy, const char *in, size_t len,
			size_t mode)
{
	struct run run = {.policy = policy};
	char *result;

	run.p = imap_parser_new(set);
	buf_init(&run.out, 1 << 20);
	buf_init(&run.stream, 1 << 24);
	if (mode == 0) {
		feed(&run, in, len);
	} else if (mode == 1) {
		for (size_t i = 0; i < len; i++)
			feed(&run, in + i, 1);
	} else {
		feed(&run, in, mode - 2);
		feed(&run, in + mode - 2, len - (mode - 2));
	}
	feed(&run, "", 0);
	assert_int_equal(run.stream.len, 0);
	result = strndup(run.out.data != NULL ? run.out.data : "", run.out.len);
	buf_free(&run.out);
	buf_free(&run.stream);
	imap_parser_free(&run.p);
	assert_null(run.p);
	return result;
}

static void check_with(const struct imap_parser_settings *set,
		       enum policy policy, const char *in, size_t len,
		       const char *want)
{
	for (size_t mode = 0; mode < len + 2; mode++) {
		char *got = transcript(set, policy, in, len, mode);

		if (strcmp(got, want) != 0)
			fail_msg(
				"mode %zu of input \"%s\":\n got: %s\nwant: %s",
				mode, in, got, want);
		free(got);
	}
}

static struct imap_parser_settings authed(void)
{
	struct imap_parser_settings set;

	imap_parser_settings_default(&set, true);
	return set;
}

static struct imap_parser_settings preauth(void)
{
	struct imap_parser_settings set;

	imap_parser_settings_default(&set, false);
	return set;
}

/* An input given as a string literal (may hold NUL). */
#define CHECK_LIT(set, policy, in, want) \
	check_with((set), (policy), (in), sizeof(in) - 1, (want))

/* After login, buffered literals, a NUL-free input. */
static void check(const char *in, const char *want)
{
	struct imap_parser_settings set = authed();

	check_with(&set, POLICY_BUFFER, in, strlen(in), want);
}

static void check_preauth(const char *in, const char *want)
{
	struct imap_parser_settings set = preauth();

	check_with(&set, POLICY_BUFFER, in, strlen(in), want);
}

/* --- commands and tokens --- */

static void test_simple_commands(void **state)
{
	(void)state;
	check("a1 NOOP\r\n", "a1 NOOP\n");
	check("a1 noop\n", "a1 noop\n");
	check("\r\n\r\n\na1 NOOP\r\n", "a1 NOOP\n");
	check("a1 NOOP\r\na2 CAPABILITY\r\n", "a1 NOOP\na2 CAPABILITY\n");
	check("a1 NOOP\r\na2 CAPA", "a1 NOOP\n");
	check("a1 SELECT INBOX\r\n", "a1 SELECT INBOX\n");
	check("a1 SELECT  INBOX \r\n", "a1 SELECT INBOX\n");
	check("a.b]c-9 LOGOUT\r\n", "a.b]c-9 LOGOUT\n");
}

static void test_atoms_and_specials(void **state)
{
	(void)state;
	check("a LIST \"\" %/*\r\n", "a LIST \"\" %/*\n");
	check("a FETCH 1:*,$ (FLAGS)\r\n", "a FETCH 1:*,$ (FLAGS)\n");
	check("a STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\n",
	      "a STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\n");
	check("a SELECT [Gmail]/Sent\r\n", "a SELECT [Gmail]/Sent\n");
	check("a X ] a]b\r\n", "a X ] a]b\n");
	check("a X NIL nil \"NIL\" NILL\r\n", "a X NIL nil \"NIL\" NILL\n");
	/* a backslash only starts a flag */
	check("a X a\\b\r\n", "a BAD Invalid character in command\n");
	check("a X a{1}\r\n", "a BAD Invalid character in command\n");
	check("a X a\"b\"\r\n", "a BAD Invalid character in command\n");
	check("a X a(b)\r\n", "a BAD Invalid character in command\n");
	check("a X \x7f\r\n", "a BAD Invalid character in command\n");
	check("a X \x01\r\nb NOOP\r\n",
	      "a BAD Invalid character in command\nb NOOP\n");
}

static void test_quoted(void **state)
{
	(void)state;
	check("a LOGIN \"us er\" \"p\\\"a\\\\ss\"\r\n",
	      "a LOGIN \"us er\" \"p\"a\\ss\"\n");
	check("a X \"\"\r\n", "a X \"\"\n");
	check("a X \"(){%*]\"\r\n", "a X \"(){%*]\"\n");
	check("a X \"\\n\"\r\n", "a BAD Invalid escape in quoted string\n");
	check("a X \"abc\r\nb NOOP\r\n",
	      "a BAD Unterminated quoted string\nb NOOP\n");
	check("a X \"abc\nb NOOP\r\n",
	      "a BAD Unterminated quoted string\nb NOOP\n");
	check("a X \"a\rb\"\r\nb NOOP\r\n",
	      "a BAD CR not followed by LF\nb NOOP\n");
	check("a X \"\xc3\xa9\"\r\n", "a BAD 8-bit byte in quoted string\n");
}

static void test_quoted_utf8(void **state)
{
	(void)state;
	struct imap_parser_settings set = authed();

	static const struct {
		const char *in, *want;
	} cases[] = {
		{"a X \"\xc3\xa9t\xc3\xa9\"\r\n",
		 "a X \"\\xc3\\xa9t\\xc3\\xa9\"\n"},
		{"a X \"\xf0\x9f\x90\xa6\"\r\n",
		 "a X \"\\xf0\\x9f\\x90\\xa6\"\n"},
		{"a X \"\xff\"\r\n", "a BAD Invalid UTF-8 in quoted string\n"},
		{"a X \"\xc3\"\r\n", "a BAD Invalid UTF-8 in quoted string\n"},
		{"a X \"\xc0\xaf\"\r\n",
		 "a BAD Invalid UTF-8 in quoted string\n"},
		{"a X \"\xed\xa0\x80\"\r\n",
		 "a BAD Invalid UTF-8 in quoted string\n"},
		{"a X \xc3\xa9\r\n", "a BAD 8-bit byte outside a string\n"},
	};

	set.utf8 = true;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_with(&set, POLICY_BUFFER, cases[i].in,
			   strlen(cases[i].in), cases[i].want);
}

static void test_lists(void **state)
{
	(void)state;
	check("a X (a (b c) () \"d\")\r\n", "a X (a (b c) () \"d\")\n");
	check("a X ((()))\r\n", "a X ((()))\n");
	check("a X ( a  b )\r\n", "a X (a b)\n");
	check("a X (a)(b)\r\n", "a BAD Missing space between arguments\n");
	check("a X \"a\"\"b\"\r\n", "a BAD Missing space between arguments\n");
	check("a X (a\r\n", "a BAD Missing )\n");
	check("a X a)\r\n", "a BAD Unexpected )\n");
	check("a X )\r\nb NOOP\r\n", "a BAD Unexpected )\nb NOOP\n");
}

static void test_sections(void **state)
{
	(void)state;
	check("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> "
	      "BODY[] binary[1.2] BINARY.SIZE[3] BODY[1.MIME])\r\n",
	      "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100>"
	      "\xc2\xa7(HEADER.FIELDS (From \"To\")) BODY[]\xc2\xa7() "
	      "binary[1.2]\xc2\xa7(1.2) BINARY.SIZE[3]\xc2\xa7(3) "
	      "BODY[1.MIME]\xc2\xa7(1.MIME))\n");
	check("a FETCH 1 BODY[TEXT]\r\n",
	      "a FETCH 1 BODY[TEXT]\xc2\xa7(TEXT)\n");
	/* only after BODY/BINARY does "[" open a section */
	check("a X FOO[a b]\r\n", "a X FOO[a b]\n");
	check("a X BODY[a\r\n", "a BAD Missing ]\n");
	check("a X BODY[a)]\r\n", "a BAD Unexpected )\n");
	check("a X BODY[{3}\r\nb NOOP\r\n",
	      "a BAD Literal inside a section\nb NOOP\n");
	check("a X BODY[1]]\r\n", "a X BODY[1]]\xc2\xa7(1)\n");
}

static void test_tag_and_name(void **state)
{
	(void)state;
	char tag[200];

	check("+a NOOP\r\n", "* BAD Invalid tag\n");
	check("a+ NOOP\r\n", "* BAD Invalid tag\n");
	check(" a NOOP\r\nb NOOP\r\n", "* BAD Invalid tag\nb NOOP\n");
	check("a\r\n", "a BAD Missing command\n");
	check("a \r\n", "a BAD Missing command\n");
	check("a  NOOP\r\n", "a BAD Missing command\n");
	check("a NO%OP\r\n", "a BAD Invalid command name\n");
	check("a NOOP\rX\r\nb NOOP\r\n",
	      "a BAD CR not followed by LF\nb NOOP\n");
	char want[200];

	memset(tag, 't', 128);
	strcpy(tag + 128, " NOOP\r\n");
	memcpy(want, tag, 128);
	strcpy(want + 128, " NOOP\n");
	check(tag, want);
	memset(tag, 't', 129);
	strcpy(tag + 129, " NOOP\r\nb NOOP\r\n");
	check(tag, "* BAD Tag too long\nb NOOP\n");
}

/* --- literals --- */

static void test_literals_sync(void **state)
{
	(void)state;
	check("a LOGIN {4}\r\nuser {4}\r\np\r\nw\r\n",
	      "+\n+\na LOGIN {4:user} {4:p\\x0d\\x0aw}\n");
	check("a X {0}\r\n\r\n", "+\na X {0:}\n");
	check("a X ({1}\r\n))\r\n", "+\na X ({1:)})\n");
	check("a X {1}\r\naa\r\n",
	      "+\na BAD Missing space between arguments\n");
	check("a X {1}x\r\nb NOOP\r\n",
	      "a BAD Missing CRLF after literal size\nb NOOP\n");
	check("a X {}\r\nb NOOP\r\n", "a BAD Invalid literal size\nb NOOP\n");
	check("a X {+}\r\nb NOOP\r\n", "a BAD Invalid literal size\nb NOOP\n");
	check("a X {1a}\r\nb NOOP\r\n", "a BAD Invalid literal size\nb NOOP\n");
	check("a X {1+x}\r\nb NOOP\r\n",
	      "a BAD Invalid literal size\nb NOOP\n");
}

static void test_literal_nul(void **state)
{
	(void)state;
	struct imap_parser_settings set = authed();
	static const char in1[] = "a X {3}\r\na\0b\r\nb NOOP\r\n";
	static const char in2[] = "a X {3+}\r\na\0b c\r\nb NOOP\r\n";
	static const char in3[] = "a X ~{3}\r\na\0b (~{1+}\r\n\0)\r\n";
	static const char in4[] = "a X \"a\0\"\r\nb NOOP\r\n";
	static const char in5[] = "a X a\0\r\nb NOOP\r\n";

	check_with(&set, POLICY_BUFFER, in1, sizeof(in1) - 1,
		   "+\na BAD NUL in literal\nb NOOP\n");
	/* the rest of the literal and of its line are skipped */
	check_with(&set, POLICY_BUFFER, in2, sizeof(in2) - 1,
		   "a BAD NUL in literal\nb NOOP\n");
	check_with(&set, POLICY_BUFFER, in3, sizeof(in3) - 1,
		   "+\na X ~{3:a\\x00b} (~{1:\\x00})\n");
	check_with(&set, POLICY_BUFFER, in4, sizeof(in4) - 1,
		   "a BAD NUL byte in quoted string\nb NOOP\n");
	check_with(&set, POLICY_BUFFER, in5, sizeof(in5) - 1,
		   "a BAD NUL byte in command\nb NOOP\n");
	/* without BINARY, ~{ is an atom "~" running into "{" */
	set.binary = false;
	check_with(&set, POLICY_BUFFER, in3, sizeof(in3) - 1,
		   "a BAD Invalid character in command\n* BAD Invalid tag\n");
	check("a X ~a ~\r\n", "a X ~a ~\n");
}

static void test_literal_plus(void **state)
{
	(void)state;
	struct imap_parser_settings set = authed();

	check("a LOGIN {4+}\r\nuser {2+}\r\npw\r\n",
	      "a LOGIN {4:user} {2:pw}\n");
	check("a X {4+}\r\n1234 ~{2+}\r\n12\r\n", "a X {4:1234} ~{2:12}\n");
	/* not advertised at all: refused, its bytes skipped by count */
	set.literal_plus = false;
	set.literal_minus = false;
	CHECK_LIT(&set, POLICY_BUFFER,
		  "a X {12+}\r\nb DELETE x\r\n\r\nc NOOP\r\n",
		  "a BAD Non-synchronizing literals not allowed\n"
		  "c NOOP\n");
}

static void test_literal_minus(void **state)
{
	(void)state;
	struct imap_parser_settings set = preauth();
	char in[8000];
	size_t len;

	assert_true(set.literal_minus);
	assert_false(set.literal_plus);
	/* 4096 is allowed, 4097 is not: BAD [TOOBIG], bytes skipped */
	len = (size_t)snprintf(in, sizeof(in), "a LOGIN u {4096+}\r\n");
	memset(in + len, 'x', 4096);
	len += 4096;
	len += (size_t)snprintf(in + len, sizeof(in) - len, "\r\n");
	{
		/* whole, byte by byte and split at every offset */
		char want[4200];
		size_t w = (size_t)snprintf(want, sizeof(want),
					    "a LOGIN u {4096:");

		memset(want + w, 'x', 4096);
		w += 4096;
		snprintf(want + w, sizeof(want) - w, "}\n");
		check_with(&set, POLICY_BUFFER, in, len, want);
	}
	len = (size_t)snprintf(in, sizeof(in), "a LOGIN u {4097+}\r\n");
	memset(in + len, 'x', 4097);
	/* literal bytes that look like commands are never run */
	memcpy(in + len + 100, "\r\nb LOGOUT\r\n", 12);
	len += 4097;
	len += (size_t)snprintf(in + len, sizeof(in) - len,
				" more\r\nc NOOP\r\n");
	for (size_t mode = 0; mode < 2; mode++) {
		char *got = transcript(&set, POLICY_BUFFER, in, len, mode);

		assert_string_equal(got, "a BAD [TOOBIG] Non-synchronizing "
					 "literal over 4096 bytes\nc NOOP\n");
		free(got);
	}
	check_with(&set, POLICY_BUFFER, in, len,
		   "a BAD [TOOBIG] Non-synchronizing literal over 4096 "
		   "bytes\nc NOOP\n");
}

static void test_literal_limits(void **state)
{
	(void)state;
	struct imap_parser_settings set = preauth();

	/* synchronizing over the limit: no "+", the command ends there and
	   the client's next line is a new command */
	check_preauth("a LOGIN {8193}\r\nb NOOP\r\n",
		      "a NO [TOOBIG] Literal too big\nb NOOP\n");
	check_preauth("a LOGIN {8192}\r\n", "+\n");
	check_preauth("a LOGIN {99999999999999999999999}\r\nb NOOP\r\n",
		      "a NO [TOOBIG] Literal too big\nb NOOP\n");
	/* non-synchronizing over literal_max: cannot skip, fatal */
	set.literal_plus = true;
	CHECK_LIT(&set, POLICY_BUFFER, "a LOGIN {8193+}\r\nb NOOP\r\n",
		  "* BYE Literal too big\n");
	CHECK_LIT(&set, POLICY_BUFFER,
		  "a LOGIN {99999999999999999999999+}\r\nb NOOP\r\n",
		  "* BYE Literal too big\n");
	/* buffered bytes per command */
	set = authed();
	set.buffer_max = 10;
	CHECK_LIT(&set, POLICY_BUFFER, "a X {6}\r\n123456 {5}\r\nb NOOP\r\n",
		  "+\na NO [TOOBIG] Literal too big\nb NOOP\n");
	CHECK_LIT(&set, POLICY_BUFFER, "a X {6}\r\n123456 {4}\r\n1234\r\n",
		  "+\n+\na X {6:123456} {4:1234}\n");
	CHECK_LIT(&set, POLICY_BUFFER,
		  "a X {6}\r\n123456 {5+}\r\nb NOO c\r\nd NOOP\r\n",
		  "+\na BAD [TOOBIG] Literal too big\nd NOOP\n");
}

/* A bad command's literals are counted and skipped, never run. */
static void test_skip_after_error(void **state)
{
	(void)state;
	check("a X \"a\\qb\" {11+}\r\nb LOGOUT\r\n\r\nc NOOP\r\n",
	      "a BAD Invalid escape in quoted string\nc NOOP\n");
	check("a X \x01 {5+}\r\nb X\r\n {3+}\r\nb X\r\nc NOOP\r\n",
	      "a BAD Invalid character in command\nc NOOP\n");
	/* a synchronizing literal: the client waits for "+" */
	check("a X \x01 {5}\r\nb NOOP\r\n",
	      "a BAD Invalid character in command\nb NOOP\n");
	/* literal data that holds CRLF and a command */
	check("a X ( {8+}\r\nb NOOP\r\n\r\nc NOOP\r\n",
	      "a BAD Missing )\nc NOOP\n");
	/* the header even when inside a broken token */
	check("a X \"abc{5+}\r\nb X\r\n\r\nc NOOP\r\n",
	      "a BAD Unterminated quoted string\nc NOOP\n");
	check("a X abc{5+}\r\nb X\r\n\r\nc NOOP\r\n",
	      "a BAD Invalid character in command\nc NOOP\n");
	/* too big to skip */
	check("a X \x01 {99999999999+}\r\nb NOOP\r\n",
	      "a BAD Invalid character in command\n"
	      "* BYE Literal too big to skip\n");
	check("\x01 {99999999999+}\r\nb NOOP\r\n",
	      "* BAD Invalid tag\n* BYE Literal too big to skip\n");
}

static void test_limits(void **state)
{
	(void)state;
	struct imap_parser_settings set = authed();
	char in[300];

	check("a X ((((((((((((((((x))))))))))))))))\r\n",
	      "a X ((((((((((((((((x))))))))))))))))\n");
	check("a X (((((((((((((((((x)))))))))))))))))\r\nb NOOP\r\n",
	      "a BAD [LIMIT] Too deeply nested\nb NOOP\n");
	set.depth_max = 1;
	CHECK_LIT(&set, POLICY_BUFFER, "a X (BODY[1])\r\n",
		  "a BAD [LIMIT] Too deeply nested\n");
	set = authed();
	set.args_max = 3;
	CHECK_LIT(&set, POLICY_BUFFER, "a X (a b)\r\n", "a X (a b)\n");
	CHECK_LIT(&set, POLICY_BUFFER, "a X (a b) c\r\nb NOOP\r\n",
		  "a BAD [LIMIT] Too many arguments\nb NOOP\n");
	CHECK_LIT(&set, POLICY_BUFFER, "a X a b c {1}\r\nb NOOP\r\n",
		  "a BAD [LIMIT] Too many arguments\nb NOOP\n");
	CHECK_LIT(&set, POLICY_BUFFER, "a X a b c {1+}\r\nc\r\nb NOOP\r\n",
		  "a BAD [LIMIT] Too many arguments\nb NOOP\n");
	/* line length: the rest of the line is skipped */
	set = authed();
	set.line_max = 20;
	CHECK_LIT(&set, POLICY_BUFFER, "a X 1234567890123456\r\nb NOOP\r\n",
		  "a X 1234567890123456\nb NOOP\n");
	CHECK_LIT(&set, POLICY_BUFFER,
		  "a X 12345678901234567 {3+}\r\nb X\r\nb NOOP\r\n",
		  "a BAD [TOOBIG] Command line too long\nb NOOP\n");
	/* literal data does not count against the line */
	snprintf(in, sizeof(in), "a X {100}\r\n%0100d\r\n", 0);
	check_with(&set, POLICY_BUFFER, in, strlen(in),
		   "+\na X {100:0000000000000000000000000000000000000000000000"
		   "000000000000000000000000000000000000000000000000000000}\n");
}

/* --- pausing at literals: stream, buffer, refuse --- */

static void test_pause_stream(void **state)
{
	(void)state;
	struct imap_parser_settings set = authed();
	static const char in[] =
		"a APPEND INBOX (\\Seen) {10}\r\n0123456789 {3+}\r\nabc\r\n"
		"b APPEND x (a {2}\r\nzz)\r\n";

	set.pause_at_literals = true;
	check_with(&set, POLICY_STREAM, in, sizeof(in) - 1,
		   "L 10 a APPEND d0 i2 t2\n+\nL 3+ a APPEND d0 i3 t3\n"
		   "a APPEND INBOX (\\Seen) {10:streamed} {3:streamed} "
		   "stream=0123456789abc\n"
		   "L 2 b APPEND d1 i1 t1\n+\nb APPEND x (a {2:streamed}) "
		   "stream=zz\n");
	check_with(&set, POLICY_BUFFER, in, sizeof(in) - 1,
		   "L 10 a APPEND d0 i2 t2\n+\nL 3+ a APPEND d0 i3 t3\n"
		   "a APPEND INBOX (\\Seen) {10:0123456789} {3:abc}\n"
		   "L 2 b APPEND d1 i1 t1\n+\nb APPEND x (a {2:zz})\n");
	/* refused: sync ends the command, non-sync bytes are skipped */
	CHECK_LIT(&set, POLICY_REFUSE,
		  "a APPEND x {10}\r\nb APPEND x {5+}\r\nc NOO\r\nd NOOP\r\n",
		  "L 10 a APPEND d0 i1 t1\nrefused\nL 5+ b APPEND d0 i1 t1\n"
		  "refused\nd NOOP\n");
	/* accepting into memory over buffer_max fails like a limit */
	set.buffer_max = 4;
	CHECK_LIT(&set, POLICY_BUFFER,
		  "a X {5}\r\nb X {5+}\r\n12345\r\nc X ~{4}\r\n1\x00"
		  "34\r\n",
		  "L 5 a X d0 i0 t0\na NO [TOOBIG] Literal too big\n"
		  "L 5+ b X d0 i0 t0\nb BAD [TOOBIG] Literal too big\n"
		  "L 4~ c X d0 i0 t0\n+\nc X ~{4:1\\x0034}\n");
	/* limits are checked before the pause */
	set.literal_max = 4;
	CHECK_LIT(&set, POLICY_STREAM, "a X {5}\r\nb NOOP\r\n",
		  "a NO [TOOBIG] Literal too big\nb NOOP\n");
}

/* --- the contract of feed() itself --- */

static void test_feed_contract(void **state)
{
	(void)state;
	struct imap_parser_settings set = authed();
	struct imap_parser *p = imap_parser_new(&set);
	static const char in[] = "a1 NOOP\r\na2 LOGIN {2}\r\nxy\r\n";
	size_t used;

	/* never past the end of a command */
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &used),
			 IMAP_PARSER_COMMAND);
	assert_int_equal(used, 9);
	assert_true(strv_eq(imap_parser_tag(p), STRV_LIT("a1")));
	assert_int_equal(imap_parser_tag(p).p[2], '\0');
	assert_true(strv_eq(imap_parser_name(p), STRV_LIT("NOOP")));
	assert_int_equal(imap_arg_count(imap_parser_args(p)), 0);
	assert_int_equal(imap_parser_feed(p, in + 9, strlen(in) - 9, &used),
			 IMAP_PARSER_CONTINUE);
	assert_int_equal(used, 14);
	assert_int_equal(imap_parser_feed(p, in + 23, strlen(in) - 23, &used),
			 IMAP_PARSER_COMMAND);
	assert_int_equal(used, 4);
	assert_true(strv_eq(imap_parser_name(p), STRV_LIT("LOGIN")));
	assert_non_null(imap_parser_arena(p));

	/* settings apply from the next command */
	set.line_max = 8;
	imap_parser_set_settings(p, &set);
	assert_int_equal(imap_parser_feed(p, "b NOOP 123\r\n", 12, &used),
			 IMAP_PARSER_ERROR);
	assert_string_equal(imap_parser_error(p)->code, "TOOBIG");
	assert_int_equal(imap_parser_error(p)->class, IMAP_PARSER_ERR_COMMAND);

	/* reset forgets a half command */
	imap_parser_reset(p);
	assert_int_equal(imap_parser_feed(p, "c NOOP\r\n", 8, &used),
			 IMAP_PARSER_COMMAND);

	/* an empty literal completes without bytes; NULL, 0 is valid input */
	assert_int_equal(imap_parser_feed(p, "e X {0}\r\n", 9, &used),
			 IMAP_PARSER_CONTINUE);
	assert_int_equal(imap_parser_feed(p, NULL, 0, &used), IMAP_PARSER_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(imap_parser_feed(p, "\r\n", 2, &used),
			 IMAP_PARSER_COMMAND);
	assert_int_equal(
		imap_arg_literal_size(imap_arg_at(imap_parser_args(p), 0)), 0);
	assert_int_equal(imap_arg_type(imap_arg_at(imap_parser_args(p), 0)),
			 IMAP_ARG_LITERAL);

	/* error reply into a full buffer leaves it as it was */
	{
		struct buf b;

		assert_int_equal(imap_parser_feed(p, "+\r\n", 3, &used),
				 IMAP_PARSER_ERROR);
		buf_init(&b, 5);
		buf_append_str(&b, "xy");
		assert_int_equal(imap_parser_error_reply(p, &b), -1);
		assert_int_equal(b.len, 2);
		buf_free(&b);
	}
	imap_parser_free(&p);
	assert_null(p);
	imap_parser_free(&p);
}

/* --- typed getters --- */

#define PARSE1(line) parse1((line), sizeof(line) - 1)

static struct imap_parser *parse1(const char *line, size_t len)
{
	struct imap_parser_settings set = authed();
	struct imap_parser *p;
	size_t used;

	set.utf8 = true;
	p = imap_parser_new(&set);
	assert_int_equal(imap_parser_feed(p, line, len, &used),
			 IMAP_PARSER_COMMAND);
	assert_int_equal(used, len);
	return p;
}

static void test_getters_strings(void **state)
{
	(void)state;
	struct imap_parser *p = PARSE1("a X atom \"q s\" {3+}\r\nl.t NIL "
				       "a]b %x \\Seen () BODY[1] inbox\r\n");
	const struct imap_arg *args = imap_parser_args(p);
	struct strv s;
	bool nil;

	/* atom */
	assert_true(imap_arg_get_atom(imap_arg_at(args, 0), &s));
	assert_true(strv_eq(s, STRV_LIT("atom")));
	assert_false(imap_arg_get_atom(imap_arg_at(args, 1), &s));
	assert_false(imap_arg_get_atom(imap_arg_at(args, 4), &s)); /* a]b */
	assert_true(imap_arg_get_atom(imap_arg_at(args, 3), &s));  /* NIL */
	/* string */
	assert_true(imap_arg_get_string(imap_arg_at(args, 1), &s));
	assert_true(strv_eq(s, STRV_LIT("q s")));
	assert_true(imap_arg_get_string(imap_arg_at(args, 2), &s));
	assert_int_equal(s.len, 3);
	assert_false(imap_arg_get_string(imap_arg_at(args, 0), &s));
	/* astring: ] allowed, % and \ not, sections not */
	assert_true(imap_arg_get_astring(imap_arg_at(args, 4), &s));
	assert_true(strv_eq(s, STRV_LIT("a]b")));
	assert_true(imap_arg_get_astring(imap_arg_at(args, 3), &s));
	assert_true(strv_eq(s, STRV_LIT("NIL")));
	assert_false(imap_arg_get_astring(imap_arg_at(args, 5), &s));
	assert_false(imap_arg_get_astring(imap_arg_at(args, 6), &s));
	assert_false(imap_arg_get_astring(imap_arg_at(args, 7), &s));
	assert_false(imap_arg_get_astring(imap_arg_at(args, 8), &s));
	assert_false(imap_arg_get_astring(imap_arg_at(args, 99), &s));
	/* nstring */
	assert_true(imap_arg_get_nstring(imap_arg_at(args, 3), &s, &nil));
	assert_true(nil);
	assert_int_equal(s.len, 0);
	assert_true(imap_arg_get_nstring(imap_arg_at(args, 1), &s, &nil));
	assert_false(nil);
	assert_false(imap_arg_get_nstring(imap_arg_at(args, 0), &s, &nil));
	/* mailbox: INBOX any case; no NUL */
	assert_true(imap_arg_get_mailbox(imap_arg_at(args, 9), &s));
	assert_string_equal(s.p, "INBOX");
	assert_true(imap_arg_get_mailbox(imap_arg_at(args, 2), &s));
	assert_true(strv_eq(s, STRV_LIT("l.t")));
	assert_true(imap_arg_get_mailbox(imap_arg_at(args, 1), &s));
	/* list-mailbox */
	assert_true(imap_arg_get_list_mailbox(imap_arg_at(args, 5), &s));
	assert_true(strv_eq(s, STRV_LIT("%x")));
	assert_false(imap_arg_get_list_mailbox(imap_arg_at(args, 7), &s));
	/* types, section, end of list */
	assert_int_equal(imap_arg_type(imap_arg_at(args, 7)), IMAP_ARG_LIST);
	assert_int_equal(imap_arg_count(imap_arg_at(args, 7)), 0);
	assert_int_equal(imap_arg_count(imap_arg_at(args, 0)), 0);
	assert_int_equal(imap_arg_type(imap_arg_at(args, 10)), IMAP_ARG_EOL);
	assert_int_equal(imap_arg_text(NULL).len, 0);
	assert_non_null(imap_arg_section(imap_arg_at(args, 8)));
	assert_null(imap_arg_section(imap_arg_at(args, 0)));
	assert_int_equal(imap_arg_literal_size(imap_arg_at(args, 2)), 3);
	assert_int_equal(imap_arg_literal_size(imap_arg_at(args, 1)), 0);
	imap_parser_free(&p);
}

static void test_getters_flags_numbers(void **state)
{
	(void)state;
	struct imap_parser *p =
		PARSE1("a X (\\Seen $Junk \\Deleted) \\Flagged (a \"b\") (\\) "
		       "0 4294967295 4294967296 9223372036854775807 "
		       "9223372036854775808 1:3,* $ 5-Jul-2024 \"5-Jul-2024\" "
		       "\"05-Jul-2024 13:01:02 +0200\" () ~{1+}\r\nx\r\n");
	const struct imap_arg *args = imap_parser_args(p);
	struct arena *arena = arena_new(0);
	struct strv *flags;
	size_t n;
	uint32_t u;
	uint64_t u64;
	struct imap_seqset *set = NULL;
	const char *error;
	time_t t;
	int zone;
	struct strv s;

	assert_true(
		imap_arg_get_flags(imap_arg_at(args, 0), arena, &flags, &n));
	assert_int_equal(n, 3);
	assert_true(strv_eq(flags[1], STRV_LIT("$Junk")));
	assert_true(
		imap_arg_get_flags(imap_arg_at(args, 1), arena, &flags, &n));
	assert_int_equal(n, 1);
	assert_true(strv_eq(flags[0], STRV_LIT("\\Flagged")));
	assert_false(
		imap_arg_get_flags(imap_arg_at(args, 2), arena, &flags, &n));
	assert_false(
		imap_arg_get_flags(imap_arg_at(args, 3), arena, &flags, &n));
	assert_true(
		imap_arg_get_flags(imap_arg_at(args, 14), arena, &flags, &n));
	assert_int_equal(n, 0);
	assert_false(imap_arg_get_flags(NULL, arena, &flags, &n));
	/* numbers */
	assert_true(imap_arg_get_number(imap_arg_at(args, 4), &u));
	assert_int_equal(u, 0);
	assert_false(imap_arg_get_nz_number(imap_arg_at(args, 4), &u));
	assert_true(imap_arg_get_nz_number(imap_arg_at(args, 5), &u));
	assert_int_equal(u, 4294967295u);
	assert_false(imap_arg_get_number(imap_arg_at(args, 6), &u));
	assert_true(imap_arg_get_number64(imap_arg_at(args, 6), &u64));
	assert_true(imap_arg_get_number64(imap_arg_at(args, 7), &u64));
	assert_int_equal(u64, INT64_MAX);
	assert_false(imap_arg_get_number64(imap_arg_at(args, 8), &u64));
	assert_false(imap_arg_get_number(imap_arg_at(args, 9), &u));
	/* sequence sets */
	assert_int_equal(
		imap_arg_get_seqset(imap_arg_at(args, 9), false, &set, &error),
		0);
	imap_seqset_resolve(set, 10);
	assert_int_equal(imap_seqset_count(set), 4);
	imap_seqset_free(&set);
	assert_int_equal(
		imap_arg_get_seqset(imap_arg_at(args, 10), false, &set, &error),
		-1);
	assert_int_equal(
		imap_arg_get_seqset(imap_arg_at(args, 10), true, &set, &error),
		0);
	assert_true(imap_seqset_is_searchres(set));
	imap_seqset_free(&set);
	assert_int_equal(
		imap_arg_get_seqset(imap_arg_at(args, 12), false, &set, &error),
		-1);
	/* dates */
	assert_true(imap_arg_get_date(imap_arg_at(args, 11), &t));
	assert_int_equal(t, 1720137600);
	assert_true(imap_arg_get_date(imap_arg_at(args, 12), &t));
	assert_false(imap_arg_get_date(imap_arg_at(args, 13), &t));
	assert_true(imap_arg_get_date_time(imap_arg_at(args, 13), &t, &zone));
	assert_int_equal(t, 1720177262);
	assert_int_equal(zone, 120);
	assert_false(imap_arg_get_date_time(imap_arg_at(args, 11), &t, &zone));
	/* literal8 is no string */
	assert_true(imap_arg_is_literal8(imap_arg_at(args, 15)));
	assert_false(imap_arg_get_string(imap_arg_at(args, 15), &s));
	assert_false(imap_arg_get_astring(imap_arg_at(args, 15), &s));
	arena_free(&arena);
	imap_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_atoms_and_specials),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_quoted_utf8),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_tag_and_name),
		cmocka_unit_test(test_literals_sync),
		cmocka_unit_test(test_literal_nul),
		cmocka_unit_test(test_literal_plus),
		cmocka_unit_test(test_literal_minus),
		cmocka_unit_test(test_literal_limits),
		cmocka_unit_test(test_skip_after_error),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_pause_stream),
		cmocka_unit_test(test_feed_contract),
		cmocka_unit_test(test_getters_strings),
		cmocka_unit_test(test_getters_flags_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
