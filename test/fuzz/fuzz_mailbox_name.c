/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for storage/mailbox_name: folder names and their Maildir++
 * directories.
 *
 * The first byte picks the separator ('/' or '.'); the rest is tried as a
 * UTF-8 name, as a modified UTF-7 string and as a directory name.
 * Invariants: valid UTF-8 without NUL survives UTF-8 -> mUTF-7 -> UTF-8
 * and its mUTF-7 form is printable ASCII (with a NUL the decode refuses:
 * names are C strings); a strict decode re-encodes to the same bytes (one
 * spelling per name); failures leave the output buffer as it was; a
 * validated name maps to a directory name that starts with '.', not "..",
 * has no '/', no empty level, fits NAME_MAX, and maps back to the name; a
 * directory name that maps to a name maps back to itself (except INBOX,
 * which is the root).
 */
#include "fuzz.h"

#include "storage/mailbox_name.h"

#include <string.h>

#define PREFIX "pre"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static void buf_with_prefix(struct buf *b)
{
	buf_init(b, BUF_UNLIMITED);
	FUZZ_CHECK(buf_append(b, PREFIX, PREFIX_LEN) == 0);
}

static void check_unchanged(const struct buf *b)
{
	FUZZ_CHECK(b->len == PREFIX_LEN);
	FUZZ_CHECK(memcmp(b->data, PREFIX, PREFIX_LEN) == 0);
}

static void check_mutf7_roundtrip(const char *in, size_t len)
{
	struct buf enc, dec;
	const char *error = NULL;

	buf_with_prefix(&enc);
	if (mailbox_name_utf8_to_mutf7(in, len, &enc, &error) < 0) {
		FUZZ_CHECK(error != NULL);
		check_unchanged(&enc);
		buf_free(&enc);
		return;
	}
	for (size_t i = PREFIX_LEN; i < enc.len; i++)
		FUZZ_CHECK(enc.data[i] >= 0x20 && enc.data[i] <= 0x7e);
	buf_init(&dec, BUF_UNLIMITED);
	if (memchr(in, '\0', len) != NULL) {
		/* names are C strings: an encoded NUL never decodes */
		FUZZ_CHECK(mailbox_name_mutf7_to_utf8(enc.data + PREFIX_LEN,
						      enc.len - PREFIX_LEN,
						      &dec, &error) < 0);
		FUZZ_CHECK(dec.len == 0);
		buf_free(&dec);
		buf_free(&enc);
		return;
	}
	if (mailbox_name_mutf7_to_utf8(enc.data + PREFIX_LEN,
				       enc.len - PREFIX_LEN, &dec,
				       &error) < 0) {
		fprintf(stderr, "decode of own encoding failed: %s\n", error);
		FUZZ_CHECK(!"mUTF-7 encoding decodes");
	}
	FUZZ_CHECK(dec.len == len);
	FUZZ_CHECK(len == 0 || memcmp(dec.data, in, len) == 0);
	buf_free(&dec);
	buf_free(&enc);
}

static void check_mutf7_decode(const char *in, size_t len)
{
	struct buf dec, enc;
	const char *error = NULL;

	buf_with_prefix(&dec);
	if (mailbox_name_mutf7_to_utf8(in, len, &dec, &error) < 0) {
		FUZZ_CHECK(error != NULL);
		check_unchanged(&dec);
		buf_free(&dec);
		return;
	}
	/* strict: the only spelling of the decoded string is the input */
	buf_init(&enc, BUF_UNLIMITED);
	FUZZ_CHECK(mailbox_name_utf8_to_mutf7(dec.data + PREFIX_LEN,
					      dec.len - PREFIX_LEN, &enc,
					      &error) == 0);
	FUZZ_CHECK(enc.len == len);
	FUZZ_CHECK(len == 0 || memcmp(enc.data, in, len) == 0);
	buf_free(&enc);
	buf_free(&dec);
}

static void check_dir_shape(const char *dir, size_t len)
{
	FUZZ_CHECK(len > 1 && len <= 255);
	FUZZ_CHECK(strlen(dir) == len);
	FUZZ_CHECK(dir[0] == '.' && dir[1] != '.');
	FUZZ_CHECK(strchr(dir, '/') == NULL);
	FUZZ_CHECK(strstr(dir, "..") == NULL);
	FUZZ_CHECK(dir[len - 1] != '.');
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(dir[i] >= 0x20 && dir[i] < 0x7f);
}

static void check_name(const char *name, char sep)
{
	struct buf dir, back;
	const char *error = NULL;
	int valid = mailbox_name_validate(name, sep, &error);

	buf_with_prefix(&dir);
	if (mailbox_name_to_dir(name, sep, &dir, &error) < 0) {
		check_unchanged(&dir);
		buf_free(&dir);
		return;
	}
	FUZZ_CHECK(valid == 0);
	FUZZ_CHECK(strlen(name) <= MAILBOX_NAME_MAX);
	if (mailbox_name_is_inbox(name)) {
		check_unchanged(&dir);
		buf_free(&dir);
		return;
	}
	check_dir_shape(dir.data + PREFIX_LEN, dir.len - PREFIX_LEN);
	buf_init(&back, BUF_UNLIMITED);
	if (mailbox_name_from_dir(dir.data + PREFIX_LEN, sep, &back, &error) <
	    0) {
		fprintf(stderr, "from_dir(%s) failed: %s\n",
			dir.data + PREFIX_LEN, error);
		FUZZ_CHECK(!"the directory of a valid name maps back");
	}
	FUZZ_CHECK(back.len == strlen(name));
	FUZZ_CHECK(memcmp(back.data, name, back.len) == 0);
	buf_free(&back);
	buf_free(&dir);
}

static void check_dir(const char *dirname, char sep)
{
	struct buf name, dir;
	const char *error = NULL;

	buf_with_prefix(&name);
	if (mailbox_name_from_dir(dirname, sep, &name, &error) < 0) {
		FUZZ_CHECK(error != NULL);
		check_unchanged(&name);
		buf_free(&name);
		return;
	}
	/* the name is a C string the rest of the server can use whole */
	FUZZ_CHECK(name.len > PREFIX_LEN);
	FUZZ_CHECK(strlen(name.data) == name.len);
	FUZZ_CHECK(mailbox_name_validate(name.data + PREFIX_LEN, sep, &error) ==
		   0);
	buf_init(&dir, BUF_UNLIMITED);
	if (mailbox_name_to_dir(name.data + PREFIX_LEN, sep, &dir, &error) <
	    0) {
		/* only length limits may differ: mUTF-7 vs UTF-8 bytes */
		FUZZ_CHECK(strlen(dirname) > 255);
	} else if (!mailbox_name_is_inbox(name.data + PREFIX_LEN)) {
		FUZZ_CHECK(strcmp(dir.data, dirname) == 0);
	}
	buf_free(&dir);
	buf_free(&name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sep, *s;

	if (size == 0)
		return 0;
	sep = (data[0] & 1) != 0 ? '.' : '/';
	data++;
	size--;

	check_mutf7_roundtrip((const char *)data, size);
	check_mutf7_decode((const char *)data, size);

	/* the C-string APIs: up to the first NUL */
	s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	check_name(s, sep);
	check_dir(s, sep);
	free(s);
	return 0;
}
