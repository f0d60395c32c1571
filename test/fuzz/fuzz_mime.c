/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/mime and the IMAP writers: any bytes are a
 * message.
 *
 * Input: 1 control byte (seed of the chunk sizes), then the message.
 * Invariants: the tree accounts for every byte (the message's header plus
 * body is the input; with bare LFs counted as CRLF, the CRLF size), each
 * part lies inside its parent's body, fed in chunks of any sizes the
 * parser builds the same tree (same cache form, byte for byte), the cache
 * form reads back into a tree that writes the same BODYSTRUCTURE, BODY
 * and ENVELOPE, a damaged cache form (cut short) is refused, every
 * section number of the tree finds its part, and the Subject's encoded
 * words decode (into a bounded buffer: never past it).
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "protocols/imap/imap_bodystructure.h"
#include "protocols/imap/imap_envelope.h"
#include "storage/mime.h"
#include "storage/rfc822.h"

#include <string.h>

static struct mime_message *parse(const uint8_t *data, size_t len,
				  unsigned seed)
{
	struct mime_parser *p = mime_parser_new();
	size_t pos = 0;

	while (pos < len) {
		size_t n = seed == 0 ? len - pos : seed % 61 + 1;

		if (n > len - pos)
			n = len - pos;
		mime_parser_feed(p, data + pos, n);
		pos += n;
		seed = seed * 1103515245u + 12345u;
		if (seed == 0)
			seed = 1;
	}
	return mime_parser_finish(&p);
}

static void write_all(const struct mime_message *m, struct buf *out)
{
	const struct mime_part *root = mime_message_root(m);

	FUZZ_CHECK(imap_bodystructure_write(out, root, true) == 0);
	FUZZ_CHECK(imap_bodystructure_write(out, root, false) == 0);
	FUZZ_CHECK(imap_envelope_write(out, root->envelope) == 0);
}

static void check_part(const struct mime_part *part, unsigned *n)
{
	uint64_t body_start = part->physical_pos + part->header.physical;
	uint64_t body_end = body_start + part->body.physical;

	(*n)++;
	FUZZ_CHECK(part->header.virtual >= part->header.physical);
	FUZZ_CHECK(part->body.virtual >= part->body.physical);
	FUZZ_CHECK(part->virtual_pos >= part->physical_pos);
	if ((part->flags & MIME_PART_RFC822) != 0)
		FUZZ_CHECK(part->children != NULL &&
			   part->children->next == NULL);
	for (const struct mime_part *c = part->children; c != NULL;
	     c = c->next) {
		FUZZ_CHECK(c->parent == part);
		FUZZ_CHECK(c->physical_pos >= body_start);
		FUZZ_CHECK(c->physical_pos + c->header.physical +
				   c->body.physical <=
			   body_end);
		check_part(c, n);
	}
}

/* Every section number of the first levels leads to a part. */
static void check_sections(const struct mime_message *m,
			   const struct mime_part *part, unsigned *sec,
			   size_t depth)
{
	const struct mime_part *c;
	unsigned k = 1;

	if (depth >= 4)
		return;
	if ((part->flags & MIME_PART_RFC822) != 0)
		part = part->children;
	if ((part->flags & MIME_PART_MULTIPART) == 0)
		return;
	for (c = part->children; c != NULL && k <= 8; c = c->next, k++) {
		sec[depth] = k;
		FUZZ_CHECK(mime_message_section(m, sec, depth + 1) == c);
		check_sections(m, c, sec, depth + 1);
	}
	sec[depth] = k;
	if (c == NULL)
		FUZZ_CHECK(mime_message_section(m, sec, depth + 1) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_message *whole, *chunked, *back;
	struct buf blob, blob2, out, out2;
	const struct mime_part *root;
	unsigned seed, parts = 0, sec[4];
	uint64_t crlf;

	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;
	whole = parse(data, size, 0);
	root = mime_message_root(whole);
	FUZZ_CHECK(root->physical_pos == 0 && root->virtual_pos == 0);
	FUZZ_CHECK(root->header.physical + root->body.physical == size);
	crlf = size;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			crlf++;
	}
	FUZZ_CHECK(root->header.virtual + root->body.virtual == crlf);
	check_part(root, &parts);
	FUZZ_CHECK(parts <= MIME_MAX_PARTS + 1);
	check_sections(whole, root, sec, 0);
	if (root->envelope != NULL &&
	    root->envelope->field[MIME_ENV_SUBJECT].p != NULL) {
		struct strv subj = root->envelope->field[MIME_ENV_SUBJECT];
		struct buf dec;

		buf_init(&dec, 4 * subj.len + 64);
		(void)rfc822_decode_words(subj.p, subj.len, &dec);
		FUZZ_CHECK(dec.len <= 4 * subj.len + 64);
		buf_free(&dec);
	}

	buf_init(&blob, BUF_UNLIMITED);
	buf_init(&blob2, BUF_UNLIMITED);
	FUZZ_CHECK(mime_message_serialize(whole, &blob) == 0);
	chunked = parse(data, size, seed | 1);
	FUZZ_CHECK(mime_message_serialize(chunked, &blob2) == 0);
	FUZZ_CHECK(blob.len == blob2.len &&
		   memcmp(blob.data, blob2.data, blob.len) == 0);

	buf_init(&out, BUF_UNLIMITED);
	buf_init(&out2, BUF_UNLIMITED);
	write_all(whole, &out);
	back = mime_message_deserialize(blob.data, blob.len);
	FUZZ_CHECK(back != NULL);
	write_all(back, &out2);
	FUZZ_CHECK(out.len == out2.len &&
		   memcmp(out.data, out2.data, out.len) == 0);
	FUZZ_CHECK(mime_message_deserialize(blob.data, blob.len - 1) == NULL);

	mime_message_free(&back);
	mime_message_free(&chunked);
	mime_message_free(&whole);
	buf_free(&out);
	buf_free(&out2);
	buf_free(&blob);
	buf_free(&blob2);
	return 0;
}
