/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_write.h"

#include "storage/mailbox_name.h"
#include "storage/maildir_flags.h"

#include <string.h>
#include <strings.h>

/* RFC 3501 9: ATOM-CHAR, plus "]" for ASTRING-CHAR */
static bool astring_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\", c) == NULL;
}

static bool quotable(const char *s, size_t len, bool utf8)
{
	/* long strings go as literals: clients handle both, and a literal
	   needs no escaping */
	if (len > 1024)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return false;
		if (c >= 0x80 && !utf8)
			return false;
	}
	return true;
}

int imap_write_string(struct buf *out, const char *s, size_t len, bool utf8)
{
	if (!quotable(s, len, utf8)) {
		if (buf_printf(out, "{%zu}\r\n", len) < 0)
			return -1;
		return buf_append(out, s, len);
	}
	if (buf_append(out, "\"", 1) < 0)
		return -1;
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(s + i, "\"\\");

		if (n > len - i)
			n = len - i;
		if (buf_append(out, s + i, n) < 0)
			return -1;
		i += n;
		if (i < len) {
			char esc[2] = {'\\', s[i]};

			if (buf_append(out, esc, 2) < 0)
				return -1;
			i++;
		}
	}
	return buf_append(out, "\"", 1);
}

int imap_write_nstring(struct buf *out, const char *s, size_t len, bool utf8)
{
	if (s == NULL)
		return buf_append(out, "NIL", 3);
	return imap_write_string(out, s, len, utf8);
}

int imap_write_astring(struct buf *out, const char *s, size_t len, bool utf8)
{
	bool atom = len > 0 && !(len == 3 && strncasecmp(s, "NIL", 3) == 0);

	for (size_t i = 0; atom && i < len; i++)
		atom = astring_char((unsigned char)s[i]);
	if (atom)
		return buf_append(out, s, len);
	return imap_write_string(out, s, len, utf8);
}

int imap_write_mailbox(struct buf *out, const char *name, bool utf8)
{
	struct buf enc;
	const char *error;
	int ret;

	if (mailbox_name_is_inbox(name))
		return buf_append(out, "INBOX", 5);
	if (utf8)
		return imap_write_astring(out, name, strlen(name), true);
	buf_init(&enc, 4 * strlen(name) + 16);
	if (mailbox_name_utf8_to_mutf7(name, strlen(name), &enc, &error) < 0) {
		buf_free(&enc);
		return imap_write_astring(out, name, strlen(name), false);
	}
	ret = imap_write_astring(out, enc.data != NULL ? enc.data : "", enc.len,
				 false);
	buf_free(&enc);
	return ret;
}

/* sep then word, all or nothing */
static int append_word(struct buf *out, const char *sep, const char *word)
{
	size_t len = strlen(sep), wlen = strlen(word);

	if (buf_room(out) < len + wlen)
		return -1;
	buf_append(out, sep, len);
	return buf_append(out, word, wlen);
}

int imap_write_flags(struct buf *out, unsigned flags, uint32_t keywords,
		     const char *const *names, bool recent)
{
	static const struct {
		unsigned bit;
		const char *name;
	} sys[] = {
		{MAILDIR_FLAG_REPLIED, "\\Answered"},
		{MAILDIR_FLAG_FLAGGED, "\\Flagged"},
		{MAILDIR_FLAG_DELETED, "\\Deleted"},
		{MAILDIR_FLAG_SEEN, "\\Seen"},
		{MAILDIR_FLAG_DRAFT, "\\Draft"},
	};

	const char *sep = "";

	/* appends, no printf: FETCH 1:* FLAGS writes this per message */
	if (buf_append(out, "(", 1) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		if ((flags & sys[i].bit) == 0)
			continue;
		if (append_word(out, sep, sys[i].name) < 0)
			return -1;
		sep = " ";
	}
	if (recent) {
		if (append_word(out, sep, "\\Recent") < 0)
			return -1;
		sep = " ";
	}
	for (unsigned i = 0; i < 26 && names != NULL; i++) {
		if ((keywords & (1u << i)) == 0 || names[i] == NULL)
			continue;
		if (append_word(out, sep, names[i]) < 0)
			return -1;
		sep = " ";
	}
	return buf_append(out, ")", 1);
}
