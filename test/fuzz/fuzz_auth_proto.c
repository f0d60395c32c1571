/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for auth/auth_proto: frames between the serving processes
 * and the auth helper.
 *
 * The input is a byte stream from a peer, parsed frame by frame the way
 * the helper and the client do (parse, use, consume), fed in pieces whose
 * sizes come from the input itself.
 * Invariants: a frame is 1 to AUTH_PROTO_FRAME_MAX bytes after its 4-byte
 * length; its fields lie inside it, end in NUL and cover it exactly; an
 * incomplete frame (0) stays 0 until more bytes come and then gives the
 * same result as the whole input; re-framing the fields with
 * auth_proto_append() gives the frame's bytes back; -1 is final for that
 * input. The input split at '\n' into fields also goes through append and
 * parse unchanged.
 */
#include "fuzz.h"

#include "auth/auth_proto.h"

#include <string.h>

/* Checks one parsed frame at the front of in. */
static void check_frame(const struct buf *in, const struct auth_proto_msg *m)
{
	const char *frame = in->data + 4;
	size_t len = m->frame_len - 4, pos = 0;
	struct buf again;

	FUZZ_CHECK(m->frame_len > 4 && m->frame_len <= in->len);
	FUZZ_CHECK(len <= AUTH_PROTO_FRAME_MAX);
	FUZZ_CHECK(m->n >= 1 && m->n <= AUTH_PROTO_FIELDS_MAX);
	for (size_t i = 0; i < m->n; i++) {
		FUZZ_CHECK(m->f[i] == frame + pos);
		pos += strlen(m->f[i]) + 1;
		FUZZ_CHECK(pos <= len);
	}
	FUZZ_CHECK(pos == len);

	buf_init(&again, BUF_UNLIMITED);
	FUZZ_CHECK(auth_proto_append(&again, m->f, m->n) == 0);
	FUZZ_CHECK(again.len == m->frame_len);
	FUZZ_CHECK(memcmp(again.data, in->data, again.len) == 0);
	buf_free(&again);
}

/* Parses all frames of data; returns the frames seen, -1 on malformed. */
static long parse_all(const uint8_t *data, size_t size, const uint8_t *pieces,
		      size_t n_pieces)
{
	struct buf in;
	struct auth_proto_msg m;
	size_t fed = 0, k = 0;
	long frames = 0;
	int ret = 0;

	buf_init(&in, AUTH_PROTO_BUF_MAX);
	while (fed < size || ret == 1) {
		if (ret != 1) {
			size_t piece =
				n_pieces > 0 ? pieces[k++ % n_pieces] : 0;

			piece = piece == 0 ? size - fed : piece;
			if (piece > size - fed)
				piece = size - fed;
			FUZZ_CHECK(buf_append(&in, data + fed, piece) == 0);
			fed += piece;
		}
		ret = auth_proto_parse(&in, &m);
		if (ret < 0)
			break;
		if (ret == 1) {
			check_frame(&in, &m);
			buf_consume(&in, m.frame_len);
			frames++;
		}
	}
	buf_free(&in);
	return ret < 0 ? -1 : frames;
}

static void check_fields(const uint8_t *data, size_t size)
{
	const char *fields[AUTH_PROTO_FIELDS_MAX];
	char *copy = malloc(size + 1);
	size_t n = 0;
	struct buf out;
	struct auth_proto_msg m;
	char *p;

	FUZZ_CHECK(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	copy[size] = '\0';
	/* fields never contain NUL: cut at the first one */
	for (p = copy; n < AUTH_PROTO_FIELDS_MAX;) {
		char *nl = strchr(p, '\n');

		fields[n++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	buf_init(&out, BUF_UNLIMITED);
	if (auth_proto_append(&out, fields, n) < 0) {
		FUZZ_CHECK(out.len == 0);
		buf_free(&out);
		free(copy);
		return;
	}
	FUZZ_CHECK(auth_proto_parse(&out, &m) == 1);
	FUZZ_CHECK(m.frame_len == out.len);
	FUZZ_CHECK(m.n == n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(strcmp(m.f[i], fields[i]) == 0);
	buf_free(&out);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long whole, pieces, bytes;
	size_t n_pieces = size > 0 ? data[0] % 8 : 0;

	if (size < 1 + n_pieces)
		n_pieces = 0;
	whole = parse_all(data, size, NULL, 0);
	pieces = parse_all(data, size, data + 1, n_pieces);
	FUZZ_CHECK(whole == pieces);
	if (size <= 256) {
		static const uint8_t one = 1;

		bytes = parse_all(data, size, &one, 1);
		FUZZ_CHECK(whole == bytes);
	}
	check_fields(data, size);
	return 0;
}
