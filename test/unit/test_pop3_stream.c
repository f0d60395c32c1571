// links: mp_server mp_storage mp_auth mp_lib
/* Unit tests for protocols/pop3/pop3_stream: CRLF conversion, dot-stuffing,
   TOP line limits; every input whole, byte by byte and split at every
   offset gives the same bytes. */
#include "protocols/pop3/pop3_stream.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* Feeds in as pieces split at the offsets in cuts (ascending, < len). */
static void run_split(const char *in, size_t len, bool top, uint64_t lines,
		      const size_t *cuts, size_t n_cuts, struct buf *out)
{
	struct pop3_stream st;
	size_t pos = 0;

	pop3_stream_init(&st, top, lines);
	for (size_t i = 0; i <= n_cuts && !pop3_stream_done(&st); i++) {
		size_t end = i < n_cuts ? cuts[i] : len;
		size_t used = pop3_stream_feed(&st, in + pos, end - pos, out);

		assert_true(used <= end - pos);
		if (used < end - pos)
			assert_true(pop3_stream_done(&st));
		pos = end;
	}
	pop3_stream_finish(&st, out);
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
	/* without stuffing and ".\r\n" the octets are the vsize */
	const char *in = "A: b\nC: d\r\n\nbody\nx\r\n";
	size_t vsize = strlen(in) + 3; /* three bare LFs */
	struct buf out;
	struct pop3_stream st;

	buf_init(&out, BUF_UNLIMITED);
	pop3_stream_init(&st, false, 0);
	assert_int_equal(pop3_stream_feed(&st, in, strlen(in), &out),
			 strlen(in));
	assert_int_equal(out.len, vsize);
	pop3_stream_finish(&st, &out);
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
