/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/msg_stream: the CRLF converter and its parts,
 * ranges and body line limits.
 *
 * Input: 12 control bytes, then the message (written to a memfd).
 *   [0] bits 0-1 part for the narrowed stream, bit 2 range on, bit 3 line
 *       limit on, bit 4 range within the input, bit 5 offset near 2^64; [1..4] range offset, [5..8] range length (0xffffffff:
 *       to the end), [9] body lines, [10..11] seed of the read sizes.
 * Invariants: the WHOLE output is the input with every LF not after a CR
 * turned into CRLF (so it has no bare LF); HEADER ends after the first
 * empty line (LF or CRLF alone; the whole message without one) and
 * HEADER + BODY == WHOLE; a line limit keeps the header and that many body
 * lines; a range is the matching slice of the unranged output; every
 * stream read in pieces of any size gives the same bytes, msg_stream_size()
 * equals the bytes read (before, during and after reading) and eof is
 * reported at the end.
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "storage/msg_stream.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CTL 12

struct out {
	char *p;
	size_t len;
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads a whole stream in pieces from the seed; checks size and eof. */
static struct out read_stream(int fd, enum msg_part part, bool ranged,
			      uint64_t off, uint64_t len, bool limit,
			      uint64_t lines, unsigned seed)
{
	struct msg_stream *s = msg_stream_new_fd(dup(fd), part);
	const char *error = NULL;
	uint64_t size_before, size_mid, size_after;
	struct buf b;
	bool mid_done = false;

	FUZZ_CHECK(s != NULL);
	if (ranged)
		msg_stream_set_range(s, off, len);
	if (limit)
		msg_stream_set_body_lines(s, lines);
	FUZZ_CHECK(msg_stream_size(s, &size_before, &error) == 0);
	buf_init(&b, BUF_UNLIMITED);
	for (;;) {
		size_t want = seed % 37 + 1, avail;
		char *dst;
		ssize_t n;

		seed = seed * 1103515245u + 12345u;
		if (seed % 5 == 0)
			want = seed % 70000 + 1;
		dst = buf_reserve(&b, want, &avail);
		FUZZ_CHECK(dst != NULL);
		n = msg_stream_read(s, dst, want, &error);
		FUZZ_CHECK(n >= 0 && (size_t)n <= want);
		buf_commit(&b, (size_t)n);
		if (!mid_done) {
			FUZZ_CHECK(msg_stream_size(s, &size_mid, &error) == 0);
			FUZZ_CHECK(size_mid == size_before);
			mid_done = true;
		}
		if ((size_t)n < want) {
			FUZZ_CHECK(msg_stream_is_eof(s));
			break;
		}
	}
	FUZZ_CHECK(msg_stream_read(s, b.data, 0, &error) == 0);
	FUZZ_CHECK(msg_stream_size(s, &size_after, &error) == 0);
	FUZZ_CHECK(size_before == b.len && size_after == b.len);
	msg_stream_free(&s);
	FUZZ_CHECK(s == NULL);
	return (struct out){b.data, b.len};
}

static bool out_eq(struct out a, const char *p, size_t len)
{
	return a.len == len && (len == 0 || memcmp(a.p, p, len) == 0);
}

/* The reference conversion and the header length (converted). */
static struct out convert(const char *msg, size_t len, size_t *hdr_len_r)
{
	struct buf b;
	size_t line_start_out = 0;
	bool header_done = false;
	char prev = '\n';

	size_t avail;

	buf_init(&b, BUF_UNLIMITED);
	(void)buf_reserve(&b, 1, &avail); /* data non-NULL even when empty */
	*hdr_len_r = SIZE_MAX;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n') {
			size_t line_len;

			if (prev != '\r')
				buf_append(&b, "\r", 1);
			buf_append(&b, "\n", 1);
			line_len = b.len - line_start_out;
			/* "\r\n" alone, or "\r\r\n" (a lone CR before CRLF
			   is still a line with content) */
			if (!header_done && line_len == 2) {
				header_done = true;
				*hdr_len_r = b.len;
			}
			line_start_out = b.len;
		} else {
			buf_append(&b, &msg[i], 1);
		}
		prev = msg[i];
	}
	if (*hdr_len_r == SIZE_MAX)
		*hdr_len_r = b.len;
	return (struct out){b.data, b.len};
}

static void check_no_bare_lf(struct out o)
{
	for (size_t i = 0; i < o.len; i++)
		FUZZ_CHECK(o.p[i] != '\n' || (i > 0 && o.p[i - 1] == '\r'));
}

/* Length of the header plus `lines` body lines of the WHOLE output. */
static size_t with_lines(struct out whole, size_t hdr, uint64_t lines)
{
	size_t pos = hdr;

	while (lines > 0 && pos < whole.len) {
		const char *nl = memchr(whole.p + pos, '\n', whole.len - pos);

		if (nl == NULL)
			return whole.len;
		pos = (size_t)(nl - whole.p) + 1;
		lines--;
	}
	return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out ref, whole, header, body, narrow;
	size_t hdr_len, base_len, start, stop; /* narrowed: ref[start..+stop) */
	enum msg_part part = MSG_PART_WHOLE;
	bool ranged = false, limit = false;
	uint64_t off = 0, len = UINT64_MAX, lines = 0;
	unsigned seed = 1;
	const char *msg = (const char *)data;
	size_t msg_len = size;
	int fd;

	if (size >= CTL) {
		part = (enum msg_part)((data[0] & 3) % 3);
		ranged = (data[0] & 4) != 0;
		limit = (data[0] & 8) != 0 && part == MSG_PART_WHOLE;
		off = get32(data + 1);
		len = get32(data + 5);
		if (len == UINT32_MAX)
			len = UINT64_MAX;
		if ((data[0] & 0x10) != 0) {
			off %= size + 8;
			if (len != UINT64_MAX)
				len %= size + 8;
		}
		if ((data[0] & 0x20) != 0)
			off |= (uint64_t)UINT32_MAX << 32; /* near the top */
		lines = data[9];
		seed = (unsigned)data[10] << 8 | data[11];
		msg += CTL;
		msg_len -= CTL;
	}
	fd = memfd_create("msg", 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(msg_len == 0 || write(fd, msg, msg_len) == (ssize_t)msg_len);

	ref = convert(msg, msg_len, &hdr_len);
	whole = read_stream(fd, MSG_PART_WHOLE, false, 0, 0, false, 0, seed);
	header = read_stream(fd, MSG_PART_HEADER, false, 0, 0, false, 0,
			     seed + 1);
	body = read_stream(fd, MSG_PART_BODY, false, 0, 0, false, 0, seed + 2);
	FUZZ_CHECK(out_eq(whole, ref.p, ref.len));
	check_no_bare_lf(whole);
	check_no_bare_lf(header);
	check_no_bare_lf(body);
	FUZZ_CHECK(out_eq(header, ref.p, hdr_len));
	FUZZ_CHECK(out_eq(body, ref.p + hdr_len, ref.len - hdr_len));

	/* the narrowed stream against the slice of what it narrows */
	narrow =
		read_stream(fd, part, ranged, off, len, limit, lines, seed + 3);
	switch (part) {
	case MSG_PART_WHOLE:
		start = 0, base_len = ref.len;
		break;
	case MSG_PART_HEADER:
		start = 0, base_len = hdr_len;
		break;
	default:
		start = hdr_len, base_len = ref.len - hdr_len;
		break;
	}
	if (limit)
		base_len = with_lines(ref, hdr_len, lines);
	stop = base_len;
	if (ranged) {
		uint64_t o = off < base_len ? off : base_len;
		uint64_t l = len < base_len - o ? len : base_len - o;

		start += (size_t)o;
		stop = (size_t)l;
	}
	FUZZ_CHECK(out_eq(narrow, ref.p + start, stop));
	if (!ranged)
		check_no_bare_lf(narrow);
	free(narrow.p);
	free(body.p);
	free(header.p);
	free(whole.p);
	free(ref.p);
	close(fd);
	return 0;
}
