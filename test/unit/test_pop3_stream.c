/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server mp_storage mp_auth mp_lib
/* The POP3 message pipeline: storage/msg_stream (CRLF conversion, TOP line
   limits) then protocols/pop3/pop3_stream (dot-stuffing, termination).
   Every message is read whole, byte by byte and split at every pair of
   output offsets, and must give the same bytes. */
#include "protocols/pop3/pop3_stream.h"
#include "storage/msg_stream.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

/* Reads the message in pieces ending at the output offsets in cuts
   (ascending), then in large pieces, framing each piece. */
static void run_split(const char *in, size_t len, bool top, uint64_t lines,
		      const size_t *cuts, size_t n_cuts, struct buf *out)
{
	int fd = memfd_create("message", 0);
	struct msg_stream *ms;
	struct pop3_stream st;
	const char *error;
	size_t pos = 0;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, in, len), (ssize_t)len);
	ms = msg_stream_new_fd(fd, MSG_PART_WHOLE);
	if (top)
		msg_stream_set_body_lines(ms, lines);
	pop3_stream_init(&st);
	for (size_t i = 0;; i++) {
		char piece[4096];
		size_t want = i < n_cuts ? cuts[i] - pos : sizeof(piece);
		ssize_t n = msg_stream_read(ms, piece, want, &error);

		assert_true(n >= 0 && (size_t)n <= want);
		pop3_stream_feed(&st, piece, (size_t)n, out);
		pos += (size_t)n;
		if (i >= n_cuts && (size_t)n < want)
			break;
	}
	pop3_stream_finish(&st, out);
	msg_stream_free(&ms);
}

static void check(const char *in, bool top, uint64_t lines, const char *want)
{
	size_t len = strlen(in);
	struct buf out;
	size_t cuts[2];

	buf_init(&out, BUF_UNLIMITED);
	run_split(in, len, top, lines, NULL, 0, &out);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	/* byte by byte */
	{
		size_t *all =
			len > 1 ? test_malloc((len - 1) * sizeof(*all)) : NULL;

		for (size_t i = 1; i < len; i++)
			all[i - 1] = i;
		buf_reset(&out);
		run_split(in, len, top, lines, all, len > 1 ? len - 1 : 0,
			  &out);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.data, want, out.len);
		if (all != NULL)
			test_free(all);
	}
	/* every pair of split points */
	for (size_t a = 1; a < len; a++) {
		for (size_t b = a; b < len; b++) {
			cuts[0] = a;
			cuts[1] = b;
			buf_reset(&out);
			run_split(in, len, top, lines, cuts, 2, &out);
			assert_int_equal(out.len, strlen(want));
			assert_memory_equal(out.data, want, out.len);
		}
	}
	buf_free(&out);
}

static void test_lf_becomes_crlf(void **state)
{
	(void)state;
	check("Subject: a\n\nbody\n", false, 0,
	      "Subject: a\r\n\r\nbody\r\n.\r\n");
}

static void test_crlf_kept(void **state)
{
	(void)state;
	check("Subject: a\r\n\r\nbody\r\nmore\n", false, 0,
	      "Subject: a\r\n\r\nbody\r\nmore\r\n.\r\n");
}

static void test_lone_cr_kept(void **state)
{
	(void)state;
	check("A: b\n\nx\ry\n", false, 0, "A: b\r\n\r\nx\ry\r\n.\r\n");
}

static void test_dot_stuffing(void **state)
{
	(void)state;
	check(".hdr: x\n\n.\n..two\nmid.dle\n.\r\nend\n", false, 0,
	      "..hdr: x\r\n\r\n..\r\n...two\r\nmid.dle\r\n..\r\nend\r\n.\r\n");
}

static void test_no_final_newline(void **state)
{
	(void)state;
	check("A: b\n\nlast", false, 0, "A: b\r\n\r\nlast\r\n.\r\n");
	check("A: b\n\n.", false, 0, "A: b\r\n\r\n..\r\n.\r\n");
}

static void test_empty_message(void **state)
{
	(void)state;
	check("", false, 0, ".\r\n");
	check("", true, 0, ".\r\n");
}

static void test_top_zero(void **state)
{
	(void)state;
	check("A: b\nC: d\n\nline1\nline2\n", true, 0,
	      "A: b\r\nC: d\r\n\r\n.\r\n");
	check("A: b\r\n\r\nline1\r\n", true, 0, "A: b\r\n\r\n.\r\n");
}

static void test_top_lines(void **state)
{
	(void)state;
	check("A: b\n\nl1\n.l2\nl3\n", true, 2,
	      "A: b\r\n\r\nl1\r\n..l2\r\n.\r\n");
	check("A: b\n\nl1\n\nl3\n", true, 2, "A: b\r\n\r\nl1\r\n\r\n.\r\n");
}

static void test_top_more_than_body(void **state)
{
	(void)state;
	check("A: b\n\nl1\nl2\n", true, 100, "A: b\r\n\r\nl1\r\nl2\r\n.\r\n");
	check("A: b\n\nl1\nl2", true, 100, "A: b\r\n\r\nl1\r\nl2\r\n.\r\n");
}

static void test_top_header_only(void **state)
{
	(void)state;
	/* no blank line: everything is header */
	check("A: b\nC: d\n", true, 0, "A: b\r\nC: d\r\n.\r\n");
	check("A: b\nC: d", true, 3, "A: b\r\nC: d\r\n.\r\n");
}

static void test_top_crlf_blank_line(void **state)
{
	(void)state;
	/* "\r\n" alone is the blank line; "\r\r\n" is not */
	check("A: b\r\n\r\r\nx\r\n\r\ny\r\n", true, 0,
	      "A: b\r\n\r\r\nx\r\n\r\n.\r\n");
}

static void test_size_equals_vsize(void **state)
{
	(void)state;
	/* without stuffing and ".\r\n" the octets are the vsize, and
	   msg_stream_size() says so before a byte is sent */
	const char *in = "A: b\nC: d\r\n\nbody\nx\r\n";
	size_t vsize = strlen(in) + 3; /* three bare LFs */
	int fd = memfd_create("message", 0);
	struct msg_stream *ms;
	const char *error;
	uint64_t size;
	struct buf out;

	assert_int_equal(write(fd, in, strlen(in)), (ssize_t)strlen(in));
	ms = msg_stream_new_fd(fd, MSG_PART_WHOLE);
	assert_int_equal(msg_stream_size(ms, &size, &error), 0);
	assert_int_equal(size, vsize);
	msg_stream_free(&ms);
	buf_init(&out, BUF_UNLIMITED);
	run_split(in, strlen(in), false, 0, NULL, 0, &out);
	assert_int_equal(out.len, vsize + 3);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lf_becomes_crlf),
		cmocka_unit_test(test_crlf_kept),
		cmocka_unit_test(test_lone_cr_kept),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_top_zero),
		cmocka_unit_test(test_top_lines),
		cmocka_unit_test(test_top_more_than_body),
		cmocka_unit_test(test_top_header_only),
		cmocka_unit_test(test_top_crlf_blank_line),
		cmocka_unit_test(test_size_equals_vsize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
