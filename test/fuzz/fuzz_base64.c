/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for lib/base64: strict decoding of arbitrary bytes.
 *
 * Invariants: a successful decode is canonical, so re-encoding gives the
 * input back byte for byte; a failed decode leaves the buffer as it was;
 * any bytes survive encode then decode; a buffer too small by one byte
 * refuses the decode and is restored.
 */
#include "fuzz.h"

#include "lib/base64.h"

#include <string.h>

#define PREFIX "pre:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static void check_decode(const char *in, size_t size)
{
	struct buf dec, enc, tight;

	buf_init(&dec, BUF_UNLIMITED);
	FUZZ_CHECK(buf_append(&dec, PREFIX, PREFIX_LEN) == 0);
	if (base64_decode(&dec, in, size) < 0) {
		FUZZ_CHECK(dec.len == PREFIX_LEN);
		FUZZ_CHECK(memcmp(dec.data, PREFIX, PREFIX_LEN) == 0);
		FUZZ_CHECK(dec.data[dec.len] == '\0');
		buf_free(&dec);
		return;
	}
	FUZZ_CHECK(size % 4 == 0);
	FUZZ_CHECK(memcmp(dec.data, PREFIX, PREFIX_LEN) == 0);
	FUZZ_CHECK(dec.data[dec.len] == '\0');

	size_t n = dec.len - PREFIX_LEN;

	FUZZ_CHECK(base64_encoded_len(n) == size);
	buf_init(&enc, BUF_UNLIMITED);
	FUZZ_CHECK(base64_encode(&enc, dec.data + PREFIX_LEN, n) == 0);
	FUZZ_CHECK(enc.len == size);
	FUZZ_CHECK(size == 0 || memcmp(enc.data, in, size) == 0);
	buf_free(&enc);

	if (n > 0) {
		buf_init(&tight, PREFIX_LEN + n - 1);
		FUZZ_CHECK(buf_append(&tight, PREFIX, PREFIX_LEN) == 0);
		FUZZ_CHECK(base64_decode(&tight, in, size) < 0);
		FUZZ_CHECK(tight.len == PREFIX_LEN);
		buf_free(&tight);
	}
	buf_free(&dec);
}

static void check_encode(const uint8_t *data, size_t size)
{
	struct buf enc, dec;

	buf_init(&enc, BUF_UNLIMITED);
	FUZZ_CHECK(base64_encode(&enc, data, size) == 0);
	FUZZ_CHECK(enc.len == base64_encoded_len(size));
	buf_init(&dec, BUF_UNLIMITED);
	FUZZ_CHECK(base64_decode(&dec, enc.data, enc.len) == 0);
	FUZZ_CHECK(dec.len == size);
	FUZZ_CHECK(size == 0 || memcmp(dec.data, data, size) == 0);
	buf_free(&dec);
	buf_free(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode((const char *)data, size);
	check_encode(data, size);
	return 0;
}
