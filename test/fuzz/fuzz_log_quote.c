/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for log_quote() (lib/log.h): the escaping that keeps every
 * outside value (user names, folder names, helper output) one log value.
 *
 * The first byte picks the output size (16 bytes up to LOG_QUOTE_MAX), the
 * rest is the value. Invariants: the output fits with its NUL; it holds no
 * control byte (C0, DEL) and is valid UTF-8 without C1 characters; it is
 * either the value itself (non-empty printable ASCII without space, '"',
 * '=' or '\') or one double-quoted string whose only escapes are \\, \"
 * and \xNN and which unescapes to the value, or, when cut, to a shorter
 * prefix of it followed by `...`.
 */
#include "fuzz.h"

#include "lib/log.h"

#include <stdbool.h>
#include <string.h>

static const size_t sizes[] = {16, 17, 23, 64, 255, LOG_QUOTE_MAX};

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes the escapes of q[0..n); returns the length written to out
   (at least n bytes), aborts on an escape log_quote() never writes. */
static size_t unescape(const char *q, size_t n, unsigned char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(q[i] != '"');
		if (q[i] != '\\') {
			out[o++] = (unsigned char)q[i];
			continue;
		}
		FUZZ_CHECK(i + 1 < n);
		if (q[i + 1] == '\\' || q[i + 1] == '"') {
			out[o++] = (unsigned char)q[++i];
			continue;
		}
		FUZZ_CHECK(q[i + 1] == 'x' && i + 3 < n);
		FUZZ_CHECK(hex(q[i + 2]) >= 0 && hex(q[i + 3]) >= 0);
		out[o++] = (unsigned char)(hex(q[i + 2]) * 16 + hex(q[i + 3]));
		i += 3;
	}
	return o;
}

/* Valid UTF-8 (shortest forms, no surrogates) without C0, DEL or C1. */
static void check_clean_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i], len, cp;

		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
		if (c < 0x80) {
			i++;
			continue;
		}
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		FUZZ_CHECK(c >= 0xc2 && c <= 0xf4 && i + len <= n);
		cp = c & (0x3fu >> (len - 1));
		for (unsigned k = 1; k < len; k++) {
			FUZZ_CHECK((p[i + k] & 0xc0) == 0x80);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		FUZZ_CHECK(cp >= 0xa0); /* no C1 */
		FUZZ_CHECK(len != 3 || cp >= 0x800);
		FUZZ_CHECK(len != 4 || (cp >= 0x10000 && cp <= 0x10ffff));
		FUZZ_CHECK(cp < 0xd800 || cp > 0xdfff);
		i += len;
	}
}

static bool bare(const uint8_t *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '=' || s[i] == '\\')
			return false;
	}
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char out[16];

	(void)argc;
	(void)argv;
	FUZZ_CHECK(strcmp(log_quote(out, sizeof(out), NULL, 0), "-") == 0);
	FUZZ_CHECK(strcmp(log_quote(out, sizeof(out), "", 0), "\"\"") == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[LOG_QUOTE_MAX];
	static unsigned char raw[LOG_QUOTE_MAX];
	size_t out_size, n, len;
	const uint8_t *s;

	if (size == 0)
		return 0;
	out_size = sizes[data[0] % (sizeof(sizes) / sizeof(sizes[0]))];
	s = data + 1;
	n = size - 1;
	memset(out, 0xaa, sizeof(out));
	FUZZ_CHECK(log_quote(out, out_size, (const char *)s, n) == out);
	len = strnlen(out, out_size);
	FUZZ_CHECK(len < out_size);
	/* nothing written past the NUL's byte */
	for (size_t i = out_size; i < sizeof(out); i++)
		FUZZ_CHECK((unsigned char)out[i] == 0xaa);
	check_clean_utf8((const unsigned char *)out, len);
	if (n < out_size && bare(s, n)) {
		FUZZ_CHECK(len == n && memcmp(out, s, n) == 0);
		return 0;
	}
	FUZZ_CHECK(len >= 2 && out[0] == '"' && out[len - 1] == '"');
	if (len >= 5 && memcmp(out + len - 4, "...\"", 4) == 0) {
		size_t m = unescape(out + 1, len - 5, raw);

		/* cut: a prefix of the value, or the whole value when it
		   happens to end in "..." */
		if (m < n && memcmp(raw, s, m) == 0)
			return 0;
	}
	FUZZ_CHECK(unescape(out + 1, len - 2, raw) == n);
	FUZZ_CHECK(memcmp(raw, s, n) == 0);
	return 0;
}
