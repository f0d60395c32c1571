/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for protocols/pop3/pop3_stream: dot-stuffing of a POP3
 * multi-line response.
 *
 * The first byte seeds the piece sizes; the rest is the message, fed in
 * pieces. Invariants: the output is the same whatever the pieces; it ends
 * in ".\r\n" after a line end, no earlier line is "." alone (so the
 * client cannot see the end early), and un-stuffing it (drop the final
 * ".\r\n", remove one '.' from lines that start with '.') gives the input
 * back, plus "\r\n" when the input did not end with a line end.
 */
#include "fuzz.h"

#include "protocols/pop3/pop3_stream.h"

#include <string.h>

static void stuff(const char *in, size_t len, unsigned seed, struct buf *out)
{
	struct pop3_stream st;
	size_t pos = 0;

	pop3_stream_init(&st);
	while (pos < len) {
		size_t n = seed == 0 ? len - pos : seed % 13;

		seed = seed * 1103515245u + 12345u;
		if (n > len - pos)
			n = len - pos;
		pop3_stream_feed(&st, in + pos, n, out);
		pos += n;
	}
	pop3_stream_finish(&st, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len, pos = 0;
	struct buf whole, pieces, bytes, back;
	bool line_start = true;

	if (size == 0)
		return 0;
	len = size - 1;
	buf_init(&whole, BUF_UNLIMITED);
	buf_init(&pieces, BUF_UNLIMITED);
	buf_init(&bytes, BUF_UNLIMITED);
	stuff(in, len, 0, &whole);
	stuff(in, len, data[0] | 1u << 8, &pieces);
	{
		struct pop3_stream st;

		pop3_stream_init(&st);
		for (size_t i = 0; i < len; i++)
			pop3_stream_feed(&st, in + i, 1, &bytes);
		pop3_stream_feed(&st, in, 0, &bytes);
		pop3_stream_finish(&st, &bytes);
	}
	FUZZ_CHECK(pieces.len == whole.len && bytes.len == whole.len);
	FUZZ_CHECK(memcmp(pieces.data, whole.data, whole.len) == 0);
	FUZZ_CHECK(memcmp(bytes.data, whole.data, whole.len) == 0);

	/* the end marker, and only there */
	FUZZ_CHECK(whole.len >= 3);
	FUZZ_CHECK(memcmp(whole.data + whole.len - 3, ".\r\n", 3) == 0);
	FUZZ_CHECK(whole.len == 3 || whole.data[whole.len - 4] == '\n');

	buf_init(&back, BUF_UNLIMITED);
	while (pos < whole.len - 3) {
		const char *p = whole.data + pos;
		const char *nl = memchr(p, '\n', whole.len - 3 - pos);
		size_t n =
			nl != NULL ? (size_t)(nl - p) + 1 : whole.len - 3 - pos;

		pos += n;
		FUZZ_CHECK(!(n == 3 && memcmp(p, ".\r\n", 3) == 0));
		FUZZ_CHECK(!(n == 2 && memcmp(p, ".\n", 2) == 0));
		if (line_start && *p == '.') {
			FUZZ_CHECK(n >= 2 && p[1] == '.');
			p++;
			n--;
		}
		buf_append(&back, p, n);
		line_start = nl != NULL;
	}
	if (len > 0 && in[len - 1] != '\n') {
		FUZZ_CHECK(back.len == len + 2);
		FUZZ_CHECK(memcmp(back.data + len, "\r\n", 2) == 0);
	} else {
		FUZZ_CHECK(back.len == len);
	}
	FUZZ_CHECK(len == 0 || memcmp(back.data, in, len) == 0);
	buf_free(&back);
	buf_free(&bytes);
	buf_free(&pieces);
	buf_free(&whole);
	return 0;
}
