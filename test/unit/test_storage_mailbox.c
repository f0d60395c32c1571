/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: folders, the mailbox snapshot and sync, flags, expunge,
 * append, copy/move, the message stream, the cache and change watching,
 * on a temporary Maildir. */
#include "storage/cache.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/msg_stream.h"
#include "storage/uidlist.h"
#include "storage/watch.h"

#include <dirent.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char root[PATH_MAX];
	struct maildir *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct maildir_settings set;
	const char *error;

	strcpy(f->root, "/tmp/merpati-mailbox-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	strcat(f->root, "/mail");
	maildir_settings_init(&set);
	set.fsync = false;
	if (maildir_open(f->root, &set, true, &f->store, &error) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 32];

	maildir_free(&f->store);
	*strrchr(f->root, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static uint32_t append_text(struct mailbox *box, const char *text,
			    unsigned flags, uint32_t keywords)
{
	struct mailbox_append *ctx;
	const char *error;
	uint32_t uid = 0;

	assert_int_equal(mailbox_append_begin(box, &ctx, &error), 0);
	assert_int_equal(mailbox_append_write(ctx, text, strlen(text), &error),
			 0);
	assert_int_equal(
		mailbox_append_finish(&ctx, flags, keywords, 0, &uid, &error),
		0);
	assert_null(ctx);
	return uid;
}

static struct mailbox *open_box(struct fixture *f, const char *name)
{
	struct mailbox *box = NULL;
	const char *error = NULL;

	if (mailbox_open(f->store, name, 0, &box, &error) < 0)
		fail_msg("open %s: %s", name, error);
	return box;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static size_t count_files(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *d;
	size_t n = 0;

	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void test_folders(void **state)
{
	struct fixture *f = *state;
	struct maildir_folder *folders;
	char **subs, path[PATH_MAX + 64], text[256];
	const char *error;
	size_t count;
	int fd;
	ssize_t n;

	assert_int_equal(maildir_create(f->store, "A/B\xc3\xa4/C", &error), 0);
	assert_true(maildir_folder_exists(f->store, "A"));
	assert_true(maildir_folder_exists(f->store, "A/B\xc3\xa4"));
	snprintf(path, sizeof(path), "%s/.A.B&AOQ-.C/cur", f->root);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(maildir_create(f->store, "A", &error), -1);
	assert_int_equal(maildir_last_error(f->store), MAILDIR_ERROR_EXISTS);
	assert_int_equal(maildir_create(f->store, "../evil", &error), -1);
	assert_int_equal(maildir_last_error(f->store),
			 MAILDIR_ERROR_INVALID_NAME);
	assert_int_equal(maildir_create(f->store, "x\001y", &error), -1);

	/* a Dovecot-made child without its parents' directories */
	snprintf(path, sizeof(path), "%s/.X.Y", f->root);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(maildir_list(f->store, &folders, &count, &error), 0);
	assert_int_equal(count, 6);
	assert_string_equal(folders[0].name, "INBOX");
	assert_string_equal(folders[1].name, "A");
	assert_true(folders[1].has_children);
	assert_string_equal(folders[3].name, "A/B\xc3\xa4/C");
	assert_false(folders[3].has_children);
	assert_string_equal(folders[4].name, "X");
	assert_true(folders[4].noselect);
	maildir_folders_free(&folders, count);

	/* rename takes the children along */
	assert_int_equal(maildir_rename(f->store, "A", "Z/A2", &error), 0);
	assert_false(maildir_folder_exists(f->store, "A"));
	assert_true(maildir_folder_exists(f->store, "Z/A2/B\xc3\xa4/C"));
	assert_int_equal(maildir_rename(f->store, "Z", "Z/in", &error), -1);
	assert_int_equal(maildir_rename(f->store, "nope", "n2", &error), -1);
	assert_int_equal(maildir_last_error(f->store), MAILDIR_ERROR_NOT_FOUND);

	/* delete: not INBOX, not with children */
	assert_int_equal(maildir_delete(f->store, "INBOX", &error), -1);
	assert_int_equal(maildir_delete(f->store, "Z/A2", &error), -1);
	assert_int_equal(maildir_last_error(f->store),
			 MAILDIR_ERROR_NOT_ALLOWED);
	assert_int_equal(maildir_delete(f->store, "Z/A2/B\xc3\xa4/C", &error),
			 0);
	assert_false(maildir_folder_exists(f->store, "Z/A2/B\xc3\xa4/C"));

	/* subscriptions in Dovecot's format */
	assert_int_equal(
		maildir_subscribe(f->store, "Foo/B\xc3\xa4r", true, &error), 0);
	assert_int_equal(maildir_subscribe(f->store, "inbox", true, &error), 0);
	assert_int_equal(maildir_subscribe(f->store, "Gone", true, &error), 0);
	assert_int_equal(maildir_subscribe(f->store, "Gone", false, &error), 0);
	snprintf(path, sizeof(path), "%s/subscriptions", f->root);
	fd = open(path, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n < 0 ? 0 : n] = '\0';
	assert_string_equal(text, "V\t2\n\nFoo\tB&AOQ-r\nINBOX\n");
	assert_int_equal(maildir_subscriptions(f->store, &subs, &count, &error),
			 0);
	assert_int_equal(count, 2);
	assert_string_equal(subs[0], "Foo/B\xc3\xa4r");
	maildir_names_free(subs, count);
}

static void test_rename_inbox(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX"), *dst;
	const char *error;

	append_text(box, "Subject: 1\n\nx\n", 0, 0);
	append_text(box, "Subject: 2\n\nx\n", MAILDIR_FLAG_SEEN, 0);
	assert_int_equal(maildir_create(f->store, "INBOX/child", &error), 0);
	mailbox_free(&box);
	assert_int_equal(maildir_rename(f->store, "INBOX", "Old", &error), 0);
	box = open_box(f, "INBOX");
	dst = open_box(f, "Old");
	assert_int_equal(mailbox_count(box), 0);
	assert_int_equal(mailbox_count(dst), 2);
	assert_true(maildir_folder_exists(f->store, "INBOX/child"));
	/* INBOX's UIDs are not reused after its messages left */
	assert_int_equal(append_text(box, "Subject: 3\n\nx\n", 0, 0), 3);
	mailbox_free(&box);
	mailbox_free(&dst);
}

static void test_append_sync(void **state)
{
	struct fixture *f = *state;
	struct mailbox *a = open_box(f, "INBOX"), *b = open_box(f, "INBOX");
	const struct mailbox_changes *ch;
	struct mailbox_msg msg;
	const char *error;
	uint32_t uids[3], uidvalidity;

	uidvalidity = mailbox_uidvalidity(a);
	assert_true(uidvalidity != 0);
	assert_int_equal(mailbox_count(a), 0);
	uids[0] = append_text(a, "Subject: one\n\nbody\n", 0, 0);
	uids[1] = append_text(a, "Subject: two\r\n\r\nbody\r\n",
			      MAILDIR_FLAG_SEEN, 0);
	uids[2] = append_text(a, "Subject: three\n\nbody\n", 0, 0);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 2);
	assert_int_equal(uids[2], 3);
	/* the snapshot moves only at sync */
	assert_int_equal(mailbox_count(b), 0);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch->new_count, 3);
	assert_int_equal(ch->first_new, 0);
	assert_int_equal(ch->expunged_count, 0);
	assert_int_equal(mailbox_count(b), 3);
	assert_int_equal(mailbox_uidnext(b), 4);
	mailbox_get(b, 1, &msg);
	assert_int_equal(msg.uid, 2);
	assert_int_equal(msg.flags, MAILDIR_FLAG_SEEN);
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	assert_int_equal(ch->new_count, 3);

	/* flags: own change not reported to a, reported to b */
	assert_int_equal(mailbox_update_flags(a, &uids[0], 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_FLAGGED |
						      MAILDIR_FLAG_DELETED,
					      0, &error),
			 0);
	mailbox_get(a, 0, &msg);
	assert_int_equal(msg.flags,
			 MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_DELETED);
	assert_non_null(strstr(msg.filename, ":2,FT"));
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	assert_int_equal(ch->flags_changed_count, 0);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch->flags_changed_count, 1);
	assert_int_equal(ch->flags_changed_uids[0], 1);

	/* expunge: reported by the next sync, with the old index */
	assert_int_equal(mailbox_expunge(a, &uids[1], 1, &error), 0);
	assert_int_equal(mailbox_count(a), 3);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch->expunged_count, 1);
	assert_int_equal(ch->expunged_uids[0], 2);
	assert_int_equal(ch->expunged_idx[0], 1);
	assert_int_equal(mailbox_count(b), 2);
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	assert_int_equal(ch->expunged_count, 1);
	mailbox_free(&a);
	mailbox_free(&b);

	/* reopen: same UIDVALIDITY, UIDs never reused */
	a = open_box(f, "INBOX");
	assert_int_equal(mailbox_uidvalidity(a), uidvalidity);
	assert_int_equal(mailbox_count(a), 2);
	assert_int_equal(append_text(a, "x\n", 0, 0), 4);
	mailbox_free(&a);
}

static void test_external_changes(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX");
	const struct mailbox_changes *ch;
	char from[PATH_MAX + 128], to[PATH_MAX + 128];
	struct mailbox_msg msg;
	const char *error;
	uint64_t size, vsize;
	uint32_t uid;
	int fd;

	/* an MTA drops files into new/: UIDs in name (time) order */
	snprintf(from, sizeof(from), "%s/new/2000.M2P2.host", f->root);
	write_file(from, "Subject: later\n\nb\n");
	snprintf(from, sizeof(from), "%s/new/1000.M1P1.host", f->root);
	write_file(from, "Subject: earlier\n\nb\n");
	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	assert_int_equal(ch->new_count, 2);
	mailbox_get(box, 0, &msg);
	assert_string_equal(msg.filename, "1000.M1P1.host:2,");
	mailbox_get(box, 1, &msg);
	assert_string_equal(msg.filename, "2000.M2P2.host:2,");
	snprintf(from, sizeof(from), "%s/new", f->root);
	assert_int_equal(count_files(from), 0);
	/* sizes read from the file (no S=/W=), LF counted as CRLF */
	assert_int_equal(mailbox_msg_sizes(box, 0, &size, &vsize, &error), 0);
	assert_int_equal(size, 20);
	assert_int_equal(vsize, 23);

	/* another process renames (flags) behind our back */
	uid = msg.uid;
	snprintf(from, sizeof(from), "%s/cur/2000.M2P2.host:2,", f->root);
	snprintf(to, sizeof(to), "%s/cur/2000.M2P2.host:2,S", f->root);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(mailbox_msg_open(box, 1, &fd, &error), 0);
	close(fd);
	assert_int_equal(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_REPLIED, 0, &error),
			 0);
	mailbox_get(box, 1, &msg);
	assert_string_equal(msg.filename, "2000.M2P2.host:2,RS");
	/* gone: expunged, not an error for flags */
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, msg.filename);
	assert_int_equal(unlink(from), 0);
	assert_int_equal(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_SEEN, 0, &error),
			 0);
	assert_int_equal(mailbox_msg_open(box, 1, &fd, &error), -1);
	assert_int_equal(maildir_last_error(f->store), MAILDIR_ERROR_EXPUNGED);
	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	assert_int_equal(ch->expunged_count, 1);
	assert_int_equal(ch->expunged_uids[0], uid);
	mailbox_free(&box);
}

/* An expunge whose unlink fails (not "already gone") keeps the UID: the
 * file would otherwise come back under a new UID (a POP3 client would
 * download it again). */
static void test_expunge_unlink_failure(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX"), *again;
	char path[PATH_MAX + 128];
	struct mailbox_msg msg;
	const char *error = NULL;
	uint32_t uid[2];

	uid[0] = append_text(box, "Subject: a\n\na\n", 0, 0);
	uid[1] = append_text(box, "Subject: b\n\nb\n", 0, 0);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	/* a directory where the file was: unlink() fails with EISDIR */
	mailbox_get(box, 0, &msg);
	snprintf(path, sizeof(path), "%s/cur/%s", f->root, msg.filename);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mailbox_expunge(box, uid, 2, &error), -1);
	assert_non_null(error);
	assert_int_equal(maildir_last_error(f->store), MAILDIR_ERROR_TEMP);
	assert_int_equal(rmdir(path), 0);
	write_file(path, "Subject: a\n\na\n");
	/* uid[0] kept its UID; uid[1] was expunged as asked */
	again = open_box(f, "INBOX");
	assert_int_equal(mailbox_count(again), 1);
	mailbox_get(again, 0, &msg);
	assert_int_equal(msg.uid, uid[0]);
	assert_int_equal(mailbox_expunge(again, uid, 1, &error), 0);
	assert_int_equal(mailbox_sync(again, NULL, &error), 0);
	assert_int_equal(mailbox_count(again), 0);
	mailbox_free(&again);
	mailbox_free(&box);
}

/* Files an MTA drops in the same second get UIDs by their microseconds as
 * numbers: "M99999" was delivered before "M100000". */
static void test_new_files_uid_order(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX");
	const struct mailbox_changes *ch;
	char path[PATH_MAX + 128];
	struct mailbox_msg msg;
	const char *error;

	snprintf(path, sizeof(path), "%s/new/1700000000.M100000P9.host",
		 f->root);
	write_file(path, "Subject: second\n\nb\n");
	snprintf(path, sizeof(path), "%s/new/1700000000.M99999P9.host",
		 f->root);
	write_file(path, "Subject: first\n\nb\n");
	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	assert_int_equal(ch->new_count, 2);
	mailbox_get(box, 0, &msg);
	assert_string_equal(msg.filename, "1700000000.M99999P9.host:2,");
	mailbox_get(box, 1, &msg);
	assert_string_equal(msg.filename, "1700000000.M100000P9.host:2,");
	mailbox_free(&box);
}

static void test_damaged_uidlist(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX"), *box2;
	const struct mailbox_changes *ch;
	char path[PATH_MAX + 64];
	const char *error;
	uint32_t v1, v2;

	append_text(box, "a\n", 0, 0);
	append_text(box, "b\n", 0, 0);
	v1 = mailbox_uidvalidity(box);
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", f->root);
	/* next UID going backwards while we know better: not applied */
	write_file(path, "3 V1 N2\n1 :x\n");
	{
		char buf[64];
		FILE *fp;

		snprintf(buf, sizeof(buf), "3 V%u N2\n", v1);
		fp = fopen(path, "w");
		fputs(buf, fp);
		fclose(fp);
	}
	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	assert_int_equal(mailbox_uidvalidity(box), v1);
	assert_int_equal(mailbox_count(box), 2);
	assert_int_equal(append_text(box, "c\n", 0, 0), 3);
	mailbox_free(&box);

	/* garbage, nobody knows better: a new UIDVALIDITY, fresh UIDs */
	write_file(path, "garbage\n");
	box2 = open_box(f, "INBOX");
	v2 = mailbox_uidvalidity(box2);
	assert_true(v2 > v1);
	assert_int_equal(mailbox_count(box2), 3);
	mailbox_free(&box2);
}

static void read_all(struct msg_stream *s, size_t chunk, struct buf *out)
{
	char data[64];
	const char *error;
	ssize_t n;

	while ((n = msg_stream_read(s, data, chunk, &error)) > 0)
		buf_append(out, data, (size_t)n);
	assert_int_equal(n, 0);
	assert_true(msg_stream_is_eof(s));
}

static void assert_stream(struct mailbox *box, unsigned idx, enum msg_part part,
			  uint64_t off, uint64_t len, uint64_t lines,
			  const char *want)
{
	for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
		struct msg_stream *s;
		const char *error;
		uint64_t size;
		struct buf out;

		buf_init(&out, 1 << 20);
		assert_int_equal(msg_stream_open(box, idx, part, &s, &error),
				 0);
		msg_stream_set_range(s, off, len);
		msg_stream_set_body_lines(s, lines);
		assert_int_equal(msg_stream_size(s, &size, &error), 0);
		read_all(s, chunk, &out);
		assert_string_equal(out.data == NULL ? "" : out.data, want);
		assert_int_equal(size, strlen(want));
		msg_stream_free(&s);
		buf_free(&out);
	}
}

/* msg_stream_set_file_range(): a MIME part's bytes, then a range of
   them (IMAP BODY[n]<o.l>) */
static void assert_file_range(struct mailbox *box, uint64_t start, uint64_t end,
			      uint64_t off, uint64_t len, const char *want)
{
	for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
		struct msg_stream *s;
		const char *error;
		uint64_t size;
		struct buf out;

		buf_init(&out, 1 << 20);
		assert_int_equal(
			msg_stream_open(box, 0, MSG_PART_HEADER, &s, &error),
			0);
		msg_stream_set_file_range(s, start, end);
		msg_stream_set_range(s, off, len);
		assert_int_equal(msg_stream_size(s, &size, &error), 0);
		read_all(s, chunk, &out);
		assert_string_equal(out.data == NULL ? "" : out.data, want);
		assert_int_equal(size, strlen(want));
		msg_stream_free(&s);
		buf_free(&out);
	}
}

static void test_msg_stream_file_range(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX");
	const char *error;

	/* offsets: "To: y\n" 11..17, body 18..37, "line2\r\n" 24..31 */
	append_text(box, "Subject: x\nTo: y\n\nline1\nline2\r\nline3\n", 0, 0);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	assert_file_range(box, 11, 17, 0, UINT64_MAX, "To: y\r\n");
	assert_file_range(box, 18, 37, 0, UINT64_MAX,
			  "line1\r\nline2\r\nline3\r\n");
	assert_file_range(box, 18, 37, 5, 4, "\r\nli");
	assert_file_range(box, 24, 31, 0, UINT64_MAX, "line2\r\n");
	/* ending between CR and LF: the CR alone */
	assert_file_range(box, 24, 30, 0, UINT64_MAX, "line2\r");
	assert_file_range(box, 37, 37, 0, UINT64_MAX, "");
	assert_file_range(box, 0, 11, 100, 5, "");
	mailbox_free(&box);
}

static void test_msg_stream(void **state)
{
	struct fixture *f = *state;
	struct mailbox *box = open_box(f, "INBOX");
	const char *error;
	uint64_t size, vsize;

	append_text(box, "Subject: x\nTo: y\n\nline1\nline2\r\nline3\n", 0, 0);
	append_text(box, "No-Body: here\n", 0, 0);
	append_text(box, "A: b\r\n\r\nc\r\n", 0, 0);
	assert_int_equal(mailbox_sync(box, NULL, &error), 0);
	assert_int_equal(mailbox_msg_sizes(box, 0, &size, &vsize, &error), 0);
	assert_int_equal(size, 37);
	assert_int_equal(vsize, 42);
	assert_stream(box, 0, MSG_PART_WHOLE, 0, UINT64_MAX, UINT64_MAX,
		      "Subject: x\r\nTo: y\r\n\r\nline1\r\nline2\r\nline3\r\n");
	assert_stream(box, 0, MSG_PART_HEADER, 0, UINT64_MAX, UINT64_MAX,
		      "Subject: x\r\nTo: y\r\n\r\n");
	assert_stream(box, 0, MSG_PART_BODY, 0, UINT64_MAX, UINT64_MAX,
		      "line1\r\nline2\r\nline3\r\n");
	/* a range may split a CRLF made from a bare LF */
	assert_stream(box, 0, MSG_PART_WHOLE, 11, 2, UINT64_MAX, "\nT");
	assert_stream(box, 0, MSG_PART_BODY, 5, 100, UINT64_MAX,
		      "\r\nline2\r\nline3\r\n");
	assert_stream(box, 0, MSG_PART_WHOLE, 1000, 10, UINT64_MAX, "");
	/* POP3 TOP */
	assert_stream(box, 0, MSG_PART_WHOLE, 0, UINT64_MAX, 0,
		      "Subject: x\r\nTo: y\r\n\r\n");
	assert_stream(box, 0, MSG_PART_WHOLE, 0, UINT64_MAX, 2,
		      "Subject: x\r\nTo: y\r\n\r\nline1\r\nline2\r\n");
	/* no empty line: all header */
	assert_stream(box, 1, MSG_PART_HEADER, 0, UINT64_MAX, UINT64_MAX,
		      "No-Body: here\r\n");
	assert_stream(box, 1, MSG_PART_BODY, 0, UINT64_MAX, UINT64_MAX, "");
	/* CRLF files pass unchanged */
	assert_stream(box, 2, MSG_PART_WHOLE, 0, UINT64_MAX, UINT64_MAX,
		      "A: b\r\n\r\nc\r\n");
	assert_stream(box, 2, MSG_PART_BODY, 0, UINT64_MAX, UINT64_MAX,
		      "c\r\n");
	mailbox_free(&box);
}

static void test_cache(void **state)
{
	struct fixture *f = *state;
	struct mail_cache *c = mail_cache_open(f->root, 7);
	const void *data;
	char path[PATH_MAX + 64];
	size_t len;
	uint32_t keep[] = {1, 3};
	FILE *fp;

	assert_int_equal(mail_cache_count(c), 0);
	for (uint32_t uid = 1; uid <= 1000; uid++)
		mail_cache_put(c, uid, MAIL_CACHE_FIELD_FIRST_USER, "envelope",
			       8);
	mail_cache_put(c, 3, MAIL_CACHE_FIELD_DATE, "dt", 2);
	assert_int_equal(mail_cache_save(c, false), 0);
	mail_cache_free(&c);
	c = mail_cache_open(f->root, 7);
	assert_int_equal(mail_cache_count(c), 1001);
	assert_true(mail_cache_get(c, 3, MAIL_CACHE_FIELD_DATE, &data, &len));
	assert_int_equal(len, 2);
	assert_memory_equal(data, "dt", 2);
	assert_false(mail_cache_get(c, 3, MAIL_CACHE_FIELD_SIZES, &data, &len));
	mail_cache_retain(c, keep, 2);
	assert_int_equal(mail_cache_count(c), 3);
	mail_cache_put(c, 5000, 99, "z", 1);
	assert_int_equal(mail_cache_save(c, false), 0);
	mail_cache_free(&c);
	/* another UIDVALIDITY: stale, ignored */
	c = mail_cache_open(f->root, 8);
	assert_int_equal(mail_cache_count(c), 0);
	mail_cache_free(&c);
	c = mail_cache_open(f->root, 7);
	assert_int_equal(mail_cache_count(c), 4);
	mail_cache_free(&c);
	/* corrupt: ignored */
	snprintf(path, sizeof(path), "%s/" MAIL_CACHE_FILE, f->root);
	fp = fopen(path, "r+");
	fseek(fp, 40, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	c = mail_cache_open(f->root, 7);
	assert_int_equal(mail_cache_count(c), 0);
	mail_cache_free(&c);
}

static void test_copy_move(void **state)
{
	struct fixture *f = *state;
	struct mailbox *src = open_box(f, "INBOX"), *dst;
	struct mailbox_msg msg;
	const char *error;
	uint32_t uids[2], new_uids[2];
	int kw_src, kw_dst;

	assert_int_equal(maildir_create(f->store, "Archive", &error), 0);
	dst = open_box(f, "Archive");
	/* different letters for the same keyword in the two folders */
	assert_int_equal(mailbox_keyword_index(dst, "other", true, &error), 0);
	kw_src = mailbox_keyword_index(src, "$Work", true, &error);
	assert_int_equal(kw_src, 0);
	uids[0] = append_text(src, "S: 1\n\nx\n", MAILDIR_FLAG_SEEN,
			      1u << kw_src);
	uids[1] = append_text(src, "S: 2\n\nx\n", 0, 0);
	assert_int_equal(mailbox_sync(src, NULL, &error), 0);
	assert_int_equal(mailbox_copy(src, uids, 2, dst, new_uids, &error), 0);
	assert_int_equal(new_uids[0], 1);
	assert_int_equal(new_uids[1], 2);
	assert_int_equal(mailbox_sync(dst, NULL, &error), 0);
	assert_int_equal(mailbox_count(dst), 2);
	mailbox_get(dst, 0, &msg);
	kw_dst = mailbox_keyword_index(dst, "$Work", false, &error);
	assert_int_equal(kw_dst, 1);
	assert_int_equal(msg.flags, MAILDIR_FLAG_SEEN);
	assert_int_equal(msg.keywords, 1u << kw_dst);
	/* move: gone from src, present in dst with new UIDs */
	assert_int_equal(mailbox_move(src, uids, 2, dst, new_uids, &error), 0);
	assert_int_equal(new_uids[0], 3);
	assert_int_equal(mailbox_sync(src, NULL, &error), 0);
	assert_int_equal(mailbox_count(src), 0);
	assert_int_equal(mailbox_sync(dst, NULL, &error), 0);
	assert_int_equal(mailbox_count(dst), 4);
	mailbox_free(&src);
	mailbox_free(&dst);
}

struct watch_seen {
	unsigned events;
	unsigned calls;
};

static void watch_cb(struct mailbox_watch *w, unsigned events, void *context)
{
	struct watch_seen *seen = context;

	(void)w;
	seen->events |= events;
	seen->calls++;
}

static void test_watch(void **state)
{
	struct fixture *f = *state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct mailbox *box = open_box(f, "INBOX"),
		       *other = open_box(f, "INBOX");
	struct watch_seen seen = {0, 0}, seen2 = {0, 0};
	struct mailbox_watch *w =
		mailbox_watch_new(loop, box, 0, watch_cb, &seen);
	struct mailbox_watch *w2 =
		mailbox_watch_new(loop, box, 0, watch_cb, &seen2);
	const struct mailbox_changes *ch;
	char from[PATH_MAX + 128], to[PATH_MAX + 128];
	struct mailbox_msg msg;
	const char *error;

	assert_true(mailbox_watch_uses_inotify(w));
	/* a delivery by someone else: "added" within one loop iteration */
	append_text(other, "Subject: new\n\nx\n", 0, 0);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(seen.events, MAILBOX_WATCH_ADDED);
	assert_int_equal(seen2.events, MAILBOX_WATCH_ADDED);
	/* our own sync moves new -> cur: no event worth a wake-up */
	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	assert_int_equal(ch->new_count, 1);
	seen.events = 0;
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(seen.events, 0);
	/* an external flag rename */
	mailbox_get(box, 0, &msg);
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, msg.filename);
	snprintf(to, sizeof(to), "%s/cur/%.*sS", f->root,
		 (int)strlen(msg.filename), msg.filename);
	assert_int_equal(rename(from, to), 0);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(seen.events, MAILBOX_WATCH_FLAGS);
	assert_int_equal(mailbox_sync(box, &ch, &error), 0);
	assert_int_equal(ch->flags_changed_count, 1);
	/* an expunge */
	seen.events = 0;
	mailbox_watch_free(&w2);
	assert_int_equal(unlink(to), 0);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(seen.events, MAILBOX_WATCH_EXPUNGED);
	mailbox_watch_free(&w);
	assert_null(w);
	mailbox_free(&box);
	mailbox_free(&other);
	ev_loop_destroy(loop);
}

/* IMAP's EXPUNGE goes by the flags the file has when it is unlinked: a
 * message whose \Deleted another session cleared after this snapshot saw
 * it stays (test_imap_model found the loss); a renamed one that still has
 * \Deleted goes. */
static void test_expunge_deleted_rechecks(void **state)
{
	struct fixture *f = *state;
	struct mailbox *a = open_box(f, "INBOX"), *b;
	const struct mailbox_changes *ch;
	const char *error = NULL;
	uint32_t uids[3];
	struct mailbox_msg msg;

	uids[0] = append_text(a, "one\n", MAILDIR_FLAG_DELETED, 0);
	uids[1] = append_text(a, "two\n", MAILDIR_FLAG_DELETED, 0);
	uids[2] = append_text(a, "three\n", 0, 0);
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	b = open_box(f, "INBOX");
	assert_int_equal(mailbox_count(b), 3);
	/* a clears \Deleted on 1 and adds \Seen to 2; b has not synced */
	assert_int_equal(mailbox_update_flags(a, &uids[0], 1,
					      MAILBOX_FLAGS_REMOVE,
					      MAILDIR_FLAG_DELETED, 0, &error),
			 0);
	assert_int_equal(mailbox_update_flags(a, &uids[1], 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_SEEN, 0, &error),
			 0);
	mailbox_get(b, 0, &msg);
	assert_true((msg.flags & MAILDIR_FLAG_DELETED) != 0);
	assert_int_equal(mailbox_expunge_deleted(b, uids, 3, &error), 0);
	assert_int_equal(mailbox_sync(b, &ch, &error), 0);
	assert_int_equal(ch->expunged_count, 1);
	assert_int_equal(ch->expunged_uids[0], uids[1]);
	assert_int_equal(mailbox_count(b), 2);
	mailbox_get(b, 0, &msg);
	assert_int_equal(msg.uid, uids[0]);
	assert_int_equal(msg.flags, 0);
	mailbox_free(&a);
	mailbox_free(&b);
}

/* STORE FLAGS () from a snapshot that saw no flags, on a message another
 * session flagged meanwhile: the flags go (the stale name matched the
 * target name, and the rename was skipped; test_imap_model found it). */
static void test_replace_follows_rename(void **state)
{
	struct fixture *f = *state;
	struct mailbox *a = open_box(f, "INBOX"), *b;
	const struct mailbox_changes *ch;
	const char *error = NULL;
	struct mailbox_msg msg;
	uint32_t uid;

	uid = append_text(a, "one\n", 0, 0);
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	b = open_box(f, "INBOX");
	assert_int_equal(mailbox_update_flags(a, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_DRAFT, 1, &error),
			 0);
	assert_int_equal(mailbox_update_flags(b, &uid, 1, MAILBOX_FLAGS_REPLACE,
					      0, 0, &error),
			 0);
	mailbox_get(b, 0, &msg);
	assert_int_equal(msg.flags, 0);
	assert_int_equal(msg.keywords, 0);
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	assert_int_equal(ch->flags_changed_count, 1);
	mailbox_get(a, 0, &msg);
	assert_int_equal(msg.flags, 0);
	assert_int_equal(msg.keywords, 0);
	assert_non_null(strstr(msg.filename, ":2,"));
	assert_string_equal(strstr(msg.filename, ":2,"), ":2,");
	mailbox_free(&a);
	mailbox_free(&b);
}

/* A flag change that finds a keyword letter another session added after
 * this snapshot read dovecot-keywords knows its name afterwards, so the
 * FETCH FLAGS answer shows it (test_imap_model found it missing, and a
 * STORE -FLAGS of such a keyword that did nothing). */
static void test_store_learns_new_keyword(void **state)
{
	struct fixture *f = *state;
	struct mailbox *a = open_box(f, "INBOX"), *b;
	const struct mailbox_changes *ch;
	const char *error = NULL;
	struct mailbox_msg msg;
	uint32_t uid;
	int kw;

	uid = append_text(a, "one\n", 0, 0);
	assert_int_equal(mailbox_sync(a, &ch, &error), 0);
	b = open_box(f, "INBOX");
	kw = mailbox_keyword_index(a, "$Later", true, &error);
	assert_true(kw >= 0);
	assert_int_equal(mailbox_update_flags(a, &uid, 1, MAILBOX_FLAGS_ADD, 0,
					      1u << kw, &error),
			 0);
	assert_null(mailbox_keyword_names(b)[kw]);
	assert_int_equal(mailbox_update_flags(b, &uid, 1, MAILBOX_FLAGS_ADD,
					      MAILDIR_FLAG_SEEN, 0, &error),
			 0);
	mailbox_get(b, 0, &msg);
	assert_int_equal(msg.keywords, 1u << kw);
	assert_non_null(mailbox_keyword_names(b)[kw]);
	assert_string_equal(mailbox_keyword_names(b)[kw], "$Later");
	/* and a lookup without create finds one added after the snapshot
	 * (STORE -FLAGS of it must not be a no-op) */
	mailbox_free(&b);
	b = open_box(f, "INBOX");
	assert_int_equal(mailbox_keyword_index(a, "$Soon", true, &error),
			 kw + 1);
	assert_int_equal(mailbox_keyword_index(b, "$Soon", false, &error),
			 kw + 1);
	assert_int_equal(mailbox_keyword_index(b, "$Never", false, &error), -1);
	mailbox_free(&a);
	mailbox_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_inbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_append_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_external_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expunge_unlink_failure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_files_uid_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_uidlist, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msg_stream_file_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_msg_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_move, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expunge_deleted_rechecks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_follows_rename,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_learns_new_keyword,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
