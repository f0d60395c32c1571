/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/mailbox_name.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static const char mutf7_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool mailbox_name_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* Decodes one UTF-8 sequence at in[*pos]; -1 on overlong forms, surrogates,
 * values above U+10FFFF and truncation. */
static int utf8_next(const unsigned char *in, size_t len, size_t *pos,
		     uint32_t *cp_r)
{
	size_t i = *pos, n;
	uint32_t cp, min;
	unsigned char c = in[i];

	if (c < 0x80) {
		*cp_r = c;
		*pos = i + 1;
		return 0;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (len - i - 1 < n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		if ((in[i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (in[i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cp_r = cp;
	*pos = i + 1 + n;
	return 0;
}

static void utf8_put(struct buf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	buf_append(out, b, n);
}

static bool mutf7_is_direct(uint32_t cp)
{
	return cp >= 0x20 && cp <= 0x7e;
}

/* A base64 run under construction: bits not yet written. */
struct mutf7_run {
	bool open;
	uint32_t bits;
	int nbits;
};

static void mutf7_put_unit(struct buf *out, struct mutf7_run *run,
			   uint16_t unit)
{
	if (!run->open) {
		buf_append(out, "&", 1);
		run->open = true;
		run->bits = 0;
		run->nbits = 0;
	}
	run->bits = (run->bits << 16) | unit;
	run->nbits += 16;
	while (run->nbits >= 6) {
		run->nbits -= 6;
		buf_append(out, &mutf7_b64[(run->bits >> run->nbits) & 0x3f],
			   1);
	}
}

static void mutf7_close(struct buf *out, struct mutf7_run *run)
{
	if (!run->open)
		return;
	if (run->nbits > 0)
		buf_append(out,
			   &mutf7_b64[(run->bits << (6 - run->nbits)) & 0x3f],
			   1);
	buf_append(out, "-", 1);
	run->open = false;
}

int mailbox_name_utf8_to_mutf7(const char *in, size_t len, struct buf *out,
			       const char **error_r)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t old_len = out->len, pos = 0;
	struct mutf7_run run = {false, 0, 0};
	uint32_t cp;

	while (pos < len) {
		if (utf8_next(s, len, &pos, &cp) < 0) {
			buf_truncate(out, old_len);
			*error_r = "mailbox name is not valid UTF-8";
			return -1;
		}
		if (mutf7_is_direct(cp)) {
			mutf7_close(out, &run);
			if (cp == '&')
				buf_append(out, "&-", 2);
			else
				buf_append(out, &s[pos - 1], 1);
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			mutf7_put_unit(out, &run,
				       (uint16_t)(0xd800 | (cp >> 10)));
			mutf7_put_unit(out, &run,
				       (uint16_t)(0xdc00 | (cp & 0x3ff)));
		} else {
			mutf7_put_unit(out, &run, (uint16_t)cp);
		}
	}
	mutf7_close(out, &run);
	return 0;
}

static int mutf7_b64_value(char c)
{
	const char *p = c == '\0' ? NULL : strchr(mutf7_b64, c);

	return p == NULL ? -1 : (int)(p - mutf7_b64);
}

/* Decodes the base64 run in[start..end) into UTF-8. */
static int mutf7_decode_run(const char *in, size_t start, size_t end,
			    struct buf *out, const char **error_r)
{
	uint32_t bits = 0, high = 0;
	int nbits = 0;
	size_t nunits = 0;

	for (size_t i = start; i < end; i++) {
		int v = mutf7_b64_value(in[i]);

		if (v < 0) {
			*error_r = "invalid modified UTF-7 in mailbox name";
			return -1;
		}
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;
		nunits++;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				goto bad_surrogate;
			utf8_put(out, 0x10000 + ((high - 0xd800) << 10) +
					      (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			goto bad_surrogate;
		} else if (unit == 0) {
			/* the name goes on as a C string: "a&AAA-" must not
			   become "a" */
			*error_r = "mailbox name contains a NUL character";
			return -1;
		} else if (mutf7_is_direct(unit)) {
			*error_r =
				"needlessly encoded character in mailbox name";
			return -1;
		} else {
			utf8_put(out, unit);
		}
	}
	/* RFC 3501 5.1.3 and RFC 2152: at most 4 (here: 5) padding bits,
	 * all zero, and the run ends on a whole character */
	if (nunits == 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) {
		*error_r = "invalid modified UTF-7 padding in mailbox name";
		return -1;
	}
	if (high != 0)
		goto bad_surrogate;
	return 0;
bad_surrogate:
	*error_r = "broken UTF-16 surrogate in mailbox name";
	return -1;
}

int mailbox_name_mutf7_to_utf8(const char *in, size_t len, struct buf *out,
			       const char **error_r)
{
	size_t old_len = out->len, i = 0;
	bool prev_run = false;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c > 0x7e) {
			*error_r = "mailbox name contains an invalid byte";
			goto fail;
		}
		if (c != '&') {
			buf_append(out, &in[i++], 1);
			prev_run = false;
			continue;
		}
		size_t end = i + 1;
		while (end < len && in[end] != '-')
			end++;
		if (end == len) {
			*error_r =
				"unterminated modified UTF-7 in mailbox name";
			goto fail;
		}
		if (end == i + 1) {
			buf_append(out, "&", 1);
			prev_run = false;
		} else {
			/* two adjacent runs must have been one */
			if (prev_run) {
				*error_r =
					"invalid modified UTF-7 in mailbox name";
				goto fail;
			}
			if (mutf7_decode_run(in, i + 1, end, out, error_r) < 0)
				goto fail;
			prev_run = true;
		}
		i = end + 1;
	}
	return 0;
fail:
	buf_truncate(out, old_len);
	return -1;
}

int mailbox_name_validate(const char *name, char sep, const char **error_r)
{
	size_t len = strlen(name), pos = 0;
	uint32_t cp;

	if (len == 0) {
		*error_r = "mailbox name is empty";
		return -1;
	}
	if (len > MAILBOX_NAME_MAX) {
		*error_r = "mailbox name is too long";
		return -1;
	}
	if (name[0] == sep || name[len - 1] == sep) {
		*error_r =
			"mailbox name must not begin or end with the hierarchy separator";
		return -1;
	}
	while (pos < len) {
		size_t at = pos;

		if (utf8_next((const unsigned char *)name, len, &pos, &cp) <
		    0) {
			*error_r = "mailbox name is not valid UTF-8";
			return -1;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			*error_r = "mailbox name contains a control character";
			return -1;
		}
		if (cp == (uint32_t)(unsigned char)sep) {
			if (name[at + 1] == sep) {
				*error_r =
					"mailbox name has an empty hierarchy level";
				return -1;
			}
			continue;
		}
		/* '.' separates levels on disk and '/' would leave the
		 * folder directory: neither may appear inside a level */
		if (cp == '.' || cp == '/' || cp == '\\') {
			*error_r =
				"mailbox name contains a character not allowed in a hierarchy level ('.', '/' or '\\')";
			return -1;
		}
		if (cp == '%' || cp == '*') {
			*error_r = "mailbox name contains a wildcard character";
			return -1;
		}
	}
	return 0;
}

int mailbox_name_to_dir(const char *name, char sep, struct buf *out,
			const char **error_r)
{
	size_t old_len = out->len;
	const char *p = name;

	if (mailbox_name_validate(name, sep, error_r) < 0)
		return -1;
	if (mailbox_name_is_inbox(name))
		return 0;
	while (*p != '\0') {
		const char *end = strchr(p, sep);
		size_t n = end == NULL ? strlen(p) : (size_t)(end - p);

		buf_append(out, ".", 1);
		if (mailbox_name_utf8_to_mutf7(p, n, out, error_r) < 0) {
			buf_truncate(out, old_len);
			return -1;
		}
		p += n;
		if (*p == sep)
			p++;
	}
	if (out->len - old_len > 255) {
		buf_truncate(out, old_len);
		*error_r = "mailbox name is too long";
		return -1;
	}
	return 0;
}

int mailbox_name_from_dir(const char *dir, char sep, struct buf *out,
			  const char **error_r)
{
	size_t old_len = out->len;
	const char *p = dir;

	if (dir[0] != '.' || dir[1] == '\0' || dir[1] == '.' ||
	    strchr(dir, '/') != NULL) {
		*error_r = "not a Maildir++ folder directory";
		return -1;
	}
	p++;
	while (*p != '\0') {
		const char *end = strchr(p, '.');
		size_t n = end == NULL ? strlen(p) : (size_t)(end - p);

		if (n == 0) {
			*error_r = "folder directory has an empty level";
			goto fail;
		}
		if (old_len != out->len)
			buf_append(out, &sep, 1);
		if (mailbox_name_mutf7_to_utf8(p, n, out, error_r) < 0)
			goto fail;
		p += n;
		if (*p == '.' && *++p == '\0') {
			*error_r = "folder directory has an empty level";
			goto fail;
		}
	}
	if (mailbox_name_validate(out->data + old_len, sep, error_r) < 0)
		goto fail;
	return 0;
fail:
	buf_truncate(out, old_len);
	return -1;
}
