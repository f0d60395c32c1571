/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base64.h"

#include <stdint.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

int base64_encode(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t old = out->len;
	char q[4];

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
		q[3] = n > 2 ? alphabet[v & 63] : '=';
		if (buf_append(out, q, 4) < 0) {
			buf_truncate(out, old);
			return -1;
		}
	}
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes one group of 4 characters into 1-3 bytes; last says padding may occur. */
static int decode_quad(const char *in, int last, unsigned char *o, size_t *n_r)
{
	int v[4];
	int pad = 0;

	for (int i = 0; i < 4; i++) {
		if (in[i] == '=' && last && i >= 2) {
			v[i] = 0;
			pad++;
			continue;
		}
		if (pad > 0)
			return -1; /* data after padding */
		v[i] = b64_value(in[i]);
		if (v[i] < 0)
			return -1;
	}
	uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		     (uint32_t)v[2] << 6 | (uint32_t)v[3];
	o[0] = (unsigned char)(w >> 16);
	o[1] = (unsigned char)(w >> 8);
	o[2] = (unsigned char)w;
	/* RFC 4648 3.5: non-zero pad bits are not canonical; reject */
	if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
		return -1;
	*n_r = 3 - (size_t)pad;
	return 0;
}

int base64_decode(struct buf *out, const char *in, size_t len)
{
	size_t old = out->len;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		unsigned char o[3];
		size_t n;

		if (decode_quad(in + i, i + 4 == len, o, &n) < 0 ||
		    buf_append(out, o, n) < 0) {
			buf_truncate(out, old);
			return -1;
		}
	}
	return 0;
}
