/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * base64: RFC 4648 base64 with padding, as SASL (RFC 4422) uses it.
 */
#ifndef MERPATI_BASE64_H
#define MERPATI_BASE64_H

#include "buf.h"

#include <stddef.h>

/* Appends the encoding of len bytes to out. Returns 0, or -1 if out is full. */
int base64_encode(struct buf *out, const void *data, size_t len);

/*
 * Appends the decoding of len characters to out. Strict: the input must be
 * a multiple of 4 characters of the base64 alphabet with correct padding;
 * no whitespace. Returns 0, or -1 on malformed input or a full buffer (out
 * is then restored to its old length).
 */
int base64_decode(struct buf *out, const char *in, size_t len);

/* Bytes needed to encode len bytes (without NUL). */
size_t base64_encoded_len(size_t len);

#endif
