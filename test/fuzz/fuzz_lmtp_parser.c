/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for protocols/lmtp/lmtp_parser: every line of the input as
 * an LMTP command line, and the whole input as DATA bytes.
 *
 * Invariants: slices lie inside the line; a path is at most LMTP_PATH_MAX
 * bytes without spaces or controls; an error is a reply with a 5xx code;
 * the DATA decoder consumes what it is given (up to the end), never
 * writes more than len + 1 bytes, and gives the same bytes and the same
 * end when the input is fed in two pieces at a split the first byte
 * picks.
 */
#include "fuzz.h"

#include "protocols/lmtp/lmtp_parser.h"

#include <string.h>

static bool inside(struct strv s, const char *p, size_t len)
{
	return s.len == 0 || (s.p >= p && s.p + s.len <= p + len);
}

static void check_line(const char *p, size_t len)
{
	struct lmtp_command cmd;
	const char *error = NULL;

	if (lmtp_parser_command((struct strv){p, len}, &cmd, &error) < 0) {
		FUZZ_CHECK(error != NULL && error[0] == '5' &&
			   strlen(error) > 4 && error[3] == ' ');
		return;
	}
	FUZZ_CHECK(inside(cmd.arg, p, len));
	FUZZ_CHECK(inside(cmd.path, p, len));
	FUZZ_CHECK(cmd.path.len <= LMTP_PATH_MAX);
	for (size_t i = 0; i < cmd.path.len; i++)
		FUZZ_CHECK((unsigned char)cmd.path.p[i] > ' ');
}

static size_t decode_all(const char *in, size_t len, size_t split, char *out,
			 bool *end_r)
{
	struct lmtp_data d;
	size_t used, got, o = 0, pos = 0;

	lmtp_data_init(&d);
	*end_r = false;
	while (pos < len && !*end_r) {
		size_t n = pos < split ? split - pos : len - pos;

		*end_r =
			lmtp_data_decode(&d, in + pos, n, out + o, &used, &got);
		FUZZ_CHECK(used <= n && got <= n + 1);
		FUZZ_CHECK(*end_r || used == n);
		o += got;
		pos += used;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t start = 0, split, n1, n2;
	char *out1, *out2;
	bool end1, end2;

	for (size_t i = 0; i <= size; i++) {
		if (i == size || p[i] == '\n') {
			size_t len = i - start;

			if (len > 0 && p[start + len - 1] == '\r')
				len--;
			check_line(p + start, len);
			start = i + 1;
		}
	}
	split = size > 0 ? data[0] % (size + 1) : 0;
	out1 = malloc(size + 2);
	out2 = malloc(size + 2);
	n1 = decode_all(p, size, size, out1, &end1);
	n2 = decode_all(p, size, split, out2, &end2);
	FUZZ_CHECK(n1 == n2 && end1 == end2);
	FUZZ_CHECK(n1 == 0 || memcmp(out1, out2, n1) == 0);
	free(out1);
	free(out2);
	return 0;
}
