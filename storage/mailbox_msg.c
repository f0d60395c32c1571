/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-message access: files, sizes, dates, the cache (see mailbox.h). */
#include "storage/mailbox.h"

#include "storage/cache.h"
#include "storage/mailbox_private.h"
#include "storage/maildir_file.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool relocate_in(struct mailbox *box, struct mailbox_rec *rec,
			bool in_new)
{
	size_t blen = maildir_filename_base_len(rec->filename);
	char path[PATH_MAX];
	struct dirent *d;
	bool found = false;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/%s", box->path,
		 in_new ? "new" : "cur");
	dp = opendir(path);
	if (dp == NULL)
		return false;
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, rec->filename, blen) == 0 &&
		    (d->d_name[blen] == ':' || d->d_name[blen] == '\0')) {
			mailbox_rec_set_name(rec, d->d_name);
			rec->in_new = in_new;
			found = true;
			break;
		}
	}
	closedir(dp);
	return found;
}

int mailbox_rec_relocate(struct mailbox *box, struct mailbox_rec *rec)
{
	/* a rename by another process: look for the same base name; twice,
	 * since readdir can miss a file being renamed right now */
	for (int pass = 0; pass < 2; pass++) {
		if (relocate_in(box, rec, false) || relocate_in(box, rec, true))
			return 0;
	}
	return -1;
}

/* The full path of a file in new/ or cur/, for a log line (log_q() it). */
static void file_path(const struct mailbox *box, bool in_new, const char *name,
		      struct buf *out)
{
	buf_init(out, BUF_UNLIMITED);
	buf_printf(out, "%s/%s/%s", box->path, in_new ? "new" : "cur", name);
}

void mailbox_log_skip(const struct mailbox *box, bool in_new, const char *name,
		      const char *reason)
{
	struct buf path;

	file_path(box, in_new, name, &path);
	log_warn("event=msg_skip path=%s reason=\"%s\"", log_q(path.data),
		 reason);
	buf_free(&path);
}

/* A failure to open or stat a message file that exists: this message's
 * problem (skip it) unless the process ran out of something. */
static int rec_fail(struct mailbox *box, struct mailbox_rec *rec, int err,
		    const char *reason, const char **error_r)
{
	struct buf path;

	if (err == EMFILE || err == ENFILE || err == ENOMEM) {
		file_path(box, rec->in_new, rec->filename, &path);
		log_error("event=msg_open path=%s error=\"%s\"",
			  log_q(path.data), reason);
		buf_free(&path);
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "cannot open the message", error_r);
	}
	mailbox_log_skip(box, rec->in_new, rec->filename, reason);
	return maildir_fail(box->store, MAILDIR_ERROR_UNREADABLE,
			    "The message cannot be read", error_r);
}

/* Opens rec's file with maildir_file_open() (never a FIFO, a symlink or a
 * directory), following a rename by another process. */
static int rec_open(struct mailbox *box, struct mailbox_rec *rec, int *fd_r,
		    struct stat *st_r, const char **error_r)
{
	const char *reason;
	struct buf path;
	int fd;

	buf_init(&path, PATH_MAX);
	for (int attempt = 0; attempt < 3; attempt++) {
		buf_reset(&path);
		mailbox_rec_path(box, rec, &path);
		fd = maildir_file_open(path.data, st_r, &reason);
		if (fd >= 0) {
			buf_free(&path);
			*fd_r = fd;
			return 0;
		}
		if (errno != ENOENT) {
			buf_free(&path);
			return rec_fail(box, rec, errno, reason, error_r);
		}
		if (mailbox_rec_relocate(box, rec) < 0)
			break;
	}
	buf_free(&path);
	return maildir_fail(box->store, MAILDIR_ERROR_EXPUNGED,
			    "The message has been expunged", error_r);
}

/* lstat() of rec's file, following a rename; a regular file only. */
static int rec_stat(struct mailbox *box, struct mailbox_rec *rec,
		    struct stat *st_r, const char **error_r)
{
	struct buf path;

	buf_init(&path, PATH_MAX);
	for (int attempt = 0; attempt < 3; attempt++) {
		buf_reset(&path);
		mailbox_rec_path(box, rec, &path);
		if (lstat(path.data, st_r) == 0) {
			buf_free(&path);
			if (!S_ISREG(st_r->st_mode))
				return rec_fail(box, rec, EINVAL,
						"not a regular file", error_r);
			return 0;
		}
		if (errno != ENOENT) {
			int err = errno;

			log_error("event=msg_stat path=%s error=\"lstat: %s\"",
				  log_q(path.data), strerror(err));
			buf_free(&path);
			return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
					    "cannot look at the message",
					    error_r);
		}
		if (mailbox_rec_relocate(box, rec) < 0)
			break;
	}
	buf_free(&path);
	return maildir_fail(box->store, MAILDIR_ERROR_EXPUNGED,
			    "The message has been expunged", error_r);
}

int mailbox_msg_open(struct mailbox *box, unsigned idx, int *fd_r,
		     const char **error_r)
{
	return rec_open(box, mailbox_rec_at(box, idx), fd_r, NULL, error_r);
}

struct mail_cache *mailbox_cache(struct mailbox *box)
{
	if (box->cache == NULL)
		box->cache = mail_cache_open(box->path, box->uidvalidity);
	return box->cache;
}

int mailbox_cache_save(struct mailbox *box)
{
	if (box->cache == NULL)
		return 0;
	return mail_cache_save(box->cache, maildir_settings(box->store)->fsync);
}

/* Counts the file's bytes and bare LFs: vsize = size + bare LFs. */
static int count_sizes(int fd, uint64_t *size_r, uint64_t *vsize_r)
{
	char data[65536];
	uint64_t size = 0, bare = 0;
	char prev = '\0';
	ssize_t n;

	while ((n = read(fd, data, sizeof(data))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (data[i] == '\n' && prev != '\r')
				bare++;
			prev = data[i];
		}
		size += (uint64_t)n;
	}
	*size_r = size;
	*vsize_r = size + bare;
	return 0;
}

/* ",S=" and ",W=" from the name, if they can be true: W (CRLF size) is at
 * least S and at most 2 S, and S is the file's size (the lstat also gives
 * the internal date). */
static bool name_sizes_hold(struct mailbox *box, struct mailbox_rec *rec,
			    const struct maildir_filename *fn, int *ret_r,
			    const char **error_r)
{
	struct stat st;

	*ret_r = 0;
	if (fn->vsize < fn->size || fn->size > UINT64_MAX / 2 ||
	    fn->vsize > 2 * fn->size)
		return false;
	if (rec_stat(box, rec, &st, error_r) < 0) {
		*ret_r = -1;
		return false;
	}
	rec->date = st.st_mtime;
	return (uint64_t)st.st_size == fn->size;
}

static int rec_sizes(struct mailbox *box, struct mailbox_rec *rec,
		     const char **error_r)
{
	struct maildir_filename fn;
	struct mail_cache *cache;
	bool from_name = false;
	const void *data;
	size_t len;
	uint64_t v[2];
	int fd, ret;

	if (rec->sizes_known)
		return 0;
	if (maildir_filename_parse(rec->filename, &fn) == 0 && fn.has_size &&
	    fn.has_vsize) {
		from_name = true;
		if (name_sizes_hold(box, rec, &fn, &ret, error_r)) {
			rec->size = fn.size;
			rec->vsize = fn.vsize;
			rec->sizes_known = true;
			return 0;
		}
		if (ret < 0)
			return -1;
	}
	cache = mailbox_cache(box);
	if (mail_cache_get(cache, rec->uid, MAIL_CACHE_FIELD_SIZES, &data,
			   &len) &&
	    len == sizeof(v)) {
		memcpy(v, data, sizeof(v));
		rec->size = v[0];
		rec->vsize = v[1];
		rec->sizes_known = true;
		return 0;
	}
	if (rec_open(box, rec, &fd, NULL, error_r) < 0)
		return -1;
	ret = count_sizes(fd, &v[0], &v[1]);
	close(fd);
	if (ret < 0) {
		log_error("event=msg_size path=%s file=%s error=\"read: %s\"",
			  log_q(box->path), log_q(rec->filename),
			  strerror(errno));
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "cannot read the message", error_r);
	}
	if (from_name) {
		/* a lying name (a broken or hostile writer) is not what
		 * LIST and RFC822.SIZE report */
		struct buf path;

		file_path(box, rec->in_new, rec->filename, &path);
		log_warn(
			"event=msg_size_mismatch path=%s name_size=%llu name_vsize=%llu size=%llu vsize=%llu",
			log_q(path.data), (unsigned long long)fn.size,
			(unsigned long long)fn.vsize, (unsigned long long)v[0],
			(unsigned long long)v[1]);
		buf_free(&path);
	}
	rec->size = v[0];
	rec->vsize = v[1];
	rec->sizes_known = true;
	mail_cache_put(cache, rec->uid, MAIL_CACHE_FIELD_SIZES, v, sizeof(v));
	return 0;
}

int mailbox_msg_sizes(struct mailbox *box, unsigned idx, uint64_t *size_r,
		      uint64_t *vsize_r, const char **error_r)
{
	struct mailbox_rec *rec = mailbox_rec_at(box, idx);

	if (rec_sizes(box, rec, error_r) < 0)
		return -1;
	*size_r = rec->size;
	*vsize_r = rec->vsize;
	return 0;
}

int mailbox_msg_date(struct mailbox *box, unsigned idx, time_t *date_r,
		     const char **error_r)
{
	struct mailbox_rec *rec = mailbox_rec_at(box, idx);
	struct stat st;

	if (rec->date == 0) {
		if (rec_stat(box, rec, &st, error_r) < 0)
			return -1;
		rec->date = st.st_mtime;
	}
	*date_r = rec->date;
	return 0;
}

long mailbox_cache_fill(struct mailbox *box, bool rebuild, const char **error_r)
{
	struct mail_cache *cache = mailbox_cache(box);
	uint32_t *uids = xcalloc(box->count + 1, sizeof(*uids));
	long nread = 0;

	if (rebuild)
		mail_cache_clear(cache);
	for (unsigned i = 0; i < box->count; i++) {
		struct mailbox_rec *rec = mailbox_rec_at(box, i);
		const char *error;

		uids[i] = rec->uid;
		if (rebuild)
			rec->sizes_known = false;
		if (!rec->sizes_known) {
			struct maildir_filename fn;

			if (maildir_filename_parse(rec->filename, &fn) < 0 ||
			    !fn.has_size || !fn.has_vsize)
				nread++;
		}
		/* an expunged file is no reason to stop */
		(void)rec_sizes(box, rec, &error);
	}
	mail_cache_retain(cache, uids, box->count);
	free(uids);
	if (mailbox_cache_save(box) < 0)
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "cannot write the cache", error_r);
	return nread;
}

int mailbox_keyword_index(struct mailbox *box, const char *name, bool create,
			  const char **error_r)
{
	struct uidlist_lock *lock;
	char path[PATH_MAX];
	int idx;

	idx = maildir_keywords_lookup(box->keywords, name);
	if (idx < 0 && !create) {
		/* another process may have added it since we read the file:
		 * STORE -FLAGS must still remove it */
		mailbox_keywords_refresh(box);
		idx = maildir_keywords_lookup(box->keywords, name);
	}
	if (idx >= 0 || !create) {
		if (idx < 0)
			*error_r = "unknown keyword";
		return idx;
	}
	if (mailbox_lock(box, &lock, error_r) < 0)
		return -1;
	/* another process may have added keywords meanwhile */
	mailbox_keywords_refresh(box);
	idx = maildir_keywords_add(box->keywords, name);
	if (idx < 0) {
		*error_r = "too many keywords or invalid keyword";
	} else {
		snprintf(path, sizeof(path), "%s/" MAILDIR_KEYWORDS_FILE,
			 box->path);
		if (maildir_keywords_write(
			    box->keywords, path,
			    maildir_settings(box->store)->fsync) < 0) {
			*error_r = "cannot write the keywords file";
			idx = -1;
		}
	}
	uidlist_lock_release(&lock);
	return idx;
}
