/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/maildir_attr.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "storage/maildir_file.h"
#include "storage/maildir_private.h"
#include "storage/uidlist.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define USE_FILE "merpati-special-use"
#define SELECT_FILE "merpati-last-select"
/* Both files are a few lines; anything longer is not ours. */
#define ATTR_FILE_MAX 1024

static const char *const use_names[MAILDIR_USE_COUNT] = {
	"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
	"\\Junk", "\\Sent",    "\\Trash",
};

const char *maildir_use_name(unsigned i)
{
	return i < MAILDIR_USE_COUNT ? use_names[i] : NULL;
}

unsigned maildir_use_from_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < MAILDIR_USE_COUNT; i++) {
		if (strlen(use_names[i]) == len &&
		    strncasecmp(use_names[i], name, len) == 0)
			return 1u << i;
	}
	return 0;
}

/* "<folder dir>/<file>" into out; -1 for an invalid name. */
static int attr_path(struct maildir *store, const char *name, const char *file,
		     struct buf *out)
{
	const char *error;

	if (maildir_folder_path(store, name, out, &error) < 0)
		return -1;
	buf_printf(out, "/%s", file);
	return 0;
}

/* Reads a small attribute file into text (NUL-terminated); 0 when it is
 * missing or not ours, 1 when read. */
static int attr_read(const char *path, char *text, size_t size)
{
	const char *reason;
	struct stat st;
	int fd = maildir_file_open(path, &st, &reason);
	ssize_t n;

	if (fd < 0) {
		if (errno != ENOENT)
			log_error("event=folder_attr path=%s error=%s",
				  log_q(path), log_q(reason));
		return 0;
	}
	n = read(fd, text, size - 1);
	close(fd);
	if (n < 0 || (size_t)n == size - 1)
		return 0;
	text[n] = '\0';
	return 1;
}

unsigned maildir_attr_uses(struct maildir *store, const char *name)
{
	char text[ATTR_FILE_MAX];
	unsigned uses = 0;
	struct buf path;

	buf_init(&path, PATH_MAX);
	if (attr_path(store, name, USE_FILE, &path) < 0 ||
	    attr_read(path.data, text, sizeof(text)) == 0) {
		buf_free(&path);
		return 0;
	}
	buf_free(&path);
	for (char *line = text, *end; *line != '\0'; line = end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		uses |= maildir_use_from_name(line, (size_t)(end - line));
		if (*end == '\n')
			end++;
	}
	return uses;
}

int maildir_attr_set_uses(struct maildir *store, const char *name,
			  unsigned uses, const char **error_r)
{
	struct buf path, text;
	int ret = 0;

	buf_init(&path, PATH_MAX);
	buf_init(&text, ATTR_FILE_MAX);
	if (attr_path(store, name, USE_FILE, &path) < 0) {
		buf_free(&path);
		buf_free(&text);
		return maildir_fail(store, MAILDIR_ERROR_INVALID_NAME,
				    "Invalid mailbox name", error_r);
	}
	if (!maildir_folder_exists(store, name)) {
		ret = maildir_fail(store, MAILDIR_ERROR_NOT_FOUND,
				   "Mailbox doesn't exist", error_r);
		goto out;
	}
	for (unsigned i = 0; i < MAILDIR_USE_COUNT; i++) {
		if ((uses & (1u << i)) != 0)
			buf_printf(&text, "%s\n", use_names[i]);
	}
	if (uses == 0 ? unlink(path.data) < 0 && errno != ENOENT
		      : maildir_file_replace(path.data, text.data, text.len,
					     store->set.fsync) < 0) {
		log_error("event=folder_attr path=%s error=\"%s\"",
			  log_q(path.data), strerror(errno));
		ret = maildir_fail(store, maildir_errno_kind(errno),
				   "cannot store the special use", error_r);
	}
out:
	buf_free(&path);
	buf_free(&text);
	return ret;
}

/* The last selection's UIDVALIDITY and UIDNEXT; false when unknown. */
static bool last_select(const char *path, uint32_t *uidvalidity_r,
			uint32_t *uidnext_r)
{
	char text[64];
	unsigned long v, n;

	if (attr_read(path, text, sizeof(text)) == 0 ||
	    sscanf(text, "%lu %lu", &v, &n) != 2 || v > UINT32_MAX ||
	    n > UINT32_MAX)
		return false;
	*uidvalidity_r = (uint32_t)v;
	*uidnext_r = (uint32_t)n;
	return true;
}

void maildir_attr_note_select(struct maildir *store, const char *name,
			      uint32_t uidvalidity, uint32_t uidnext)
{
	uint32_t v, n;
	char text[64];
	struct buf path;
	int len;

	buf_init(&path, PATH_MAX);
	if (attr_path(store, name, SELECT_FILE, &path) < 0 ||
	    (last_select(path.data, &v, &n) && v == uidvalidity &&
	     n == uidnext)) {
		buf_free(&path);
		return;
	}
	len = snprintf(text, sizeof(text), "%u %u\n", uidvalidity, uidnext);
	/* a lost update only shows a folder \Marked once more: no fsync */
	if (maildir_file_replace(path.data, text, (size_t)len, false) < 0)
		log_error("event=folder_attr path=%s error=\"%s\"",
			  log_q(path.data), strerror(errno));
	buf_free(&path);
}

/* True when dir has an entry other than "." and "..". */
static bool dir_has_entry(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *d;
	bool found = false;

	if (dp == NULL)
		return false;
	while (!found && (d = readdir(dp)) != NULL)
		found = d->d_name[0] != '.';
	closedir(dp);
	return found;
}

bool maildir_attr_marked(struct maildir *store, const char *name)
{
	uint32_t v = 0, n = 1, list_v, list_n;
	struct buf path;
	size_t base;
	bool marked, selected;
	int peek;

	buf_init(&path, PATH_MAX);
	if (attr_path(store, name, SELECT_FILE, &path) < 0) {
		buf_free(&path);
		return false;
	}
	selected = last_select(path.data, &v, &n);
	base = path.len - strlen(SELECT_FILE);
	buf_truncate(&path, base);
	buf_append_str(&path, "new");
	marked = dir_has_entry(path.data);
	peek = -1;
	if (!marked) {
		buf_truncate(&path, base);
		buf_append_str(&path, UIDLIST_FILE);
		peek = uidlist_peek(path.data, &list_v, &list_n);
		if (peek > 0)
			marked = list_n > n || (selected && list_v != v);
	}
	if (!marked && !selected && peek == 0) {
		/* no UID list yet: messages nobody has indexed */
		buf_truncate(&path, base);
		buf_append_str(&path, "cur");
		marked = dir_has_entry(path.data);
	}
	buf_free(&path);
	return marked;
}
