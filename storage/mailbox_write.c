/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Changing a folder: flags, expunge, append, copy, move (see mailbox.h). */
#include "storage/mailbox.h"

#include "storage/mailbox_private.h"
#include "storage/maildir_file.h"
#include "storage/maildir_flags.h"
#include "storage/maildir_quota.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool do_fsync(const struct mailbox *box)
{
	return maildir_settings(box->store)->fsync;
}

static void apply_op(enum mailbox_flags_op op, unsigned *flags,
		     uint32_t *keywords, unsigned set_flags,
		     uint32_t set_keywords)
{
	switch (op) {
	case MAILBOX_FLAGS_REPLACE:
		*flags = set_flags;
		*keywords = set_keywords;
		break;
	case MAILBOX_FLAGS_ADD:
		*flags |= set_flags;
		*keywords |= set_keywords;
		break;
	case MAILBOX_FLAGS_REMOVE:
		*flags &= ~set_flags;
		*keywords &= ~set_keywords;
		break;
	}
}

/* One rename; follows a concurrent rename by someone else. 1 = done,
 * 0 = the message is gone, -1 = error. */
static int rec_set_flags(struct mailbox *box, struct mailbox_rec *rec,
			 enum mailbox_flags_op op, unsigned set_flags,
			 uint32_t set_keywords)
{
	struct buf from, to;
	int ret = -1;

	buf_init(&from, PATH_MAX);
	buf_init(&to, PATH_MAX);
	for (int attempt = 0; attempt < 3; attempt++) {
		struct maildir_filename fn;
		unsigned flags;
		uint32_t keywords;
		size_t name_at;

		/* start from what the file says now, not the snapshot */
		if (maildir_filename_parse(rec->filename, &fn) < 0)
			break;
		flags = fn.flags;
		keywords = fn.keywords;
		apply_op(op, &flags, &keywords, set_flags, set_keywords);
		buf_reset(&from);
		buf_reset(&to);
		mailbox_rec_path(box, rec, &from);
		buf_printf(&to, "%s/cur/", box->path);
		name_at = to.len;
		maildir_filename_format(&to, fn.base, flags, keywords);
		/* even when the names are equal: rename() then tells
		 * whether the snapshot's name is still the file's
		 * (ENOENT after someone else's rename) */
		if (rename(from.data, to.data) == 0) {
			mailbox_rec_set_name(rec, to.data + name_at);
			rec->in_new = false;
			rec->flags = flags;
			rec->keywords = keywords;
			ret = 1;
			break;
		}
		if (errno != ENOENT) {
			log_error(
				"event=set_flags path=%s error=\"rename: %s\"",
				log_q(from.data), strerror(errno));
			break;
		}
		if (mailbox_rec_relocate(box, rec) < 0) {
			ret = 0;
			break;
		}
	}
	buf_free(&from);
	buf_free(&to);
	return ret;
}

/* True when rec has a keyword letter this snapshot has no name for
 * (another process added it to dovecot-keywords since we read it). */
static bool rec_has_unnamed_keyword(const struct mailbox *box,
				    const struct mailbox_rec *rec)
{
	const char *const *names = mailbox_keyword_names(box);

	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if ((rec->keywords & (1u << i)) != 0 && names[i] == NULL)
			return true;
	}
	return false;
}

int mailbox_update_flags(struct mailbox *box, const uint32_t *uids, size_t n,
			 enum mailbox_flags_op op, unsigned flags,
			 uint32_t keywords, const char **error_r)
{
	struct uidlist_lock *lock;
	struct mailbox_rec **changed;
	const char *ignored;
	size_t nchanged = 0;
	bool unnamed = false;
	int ret = 0;

	flags &= MAILDIR_FLAGS_ALL;
	/* under the lock so that no locked scan of ours misses the file */
	if (mailbox_lock(box, &lock, error_r) < 0)
		return -1;
	changed = xcalloc(n + 1, sizeof(*changed));
	for (size_t i = 0; i < n; i++) {
		long idx = mailbox_find_uid(box, uids[i]);
		struct mailbox_rec *rec;
		unsigned before_flags;
		uint32_t before_kw;

		if (idx < 0)
			continue;
		rec = mailbox_rec_at(box, (unsigned)idx);
		before_flags = rec->flags;
		before_kw = rec->keywords;
		if (rec_set_flags(box, rec, op, flags, keywords) < 0) {
			ret = maildir_fail(box->store, MAILDIR_ERROR_TEMP,
					   "cannot change flags", error_r);
			break;
		}
		if (!unnamed && rec_has_unnamed_keyword(box, rec))
			unnamed = true;
		/* RFC 7162 3.1: MODSEQ rises when something changed */
		if ((rec->flags != before_flags ||
		     rec->keywords != before_kw) &&
		    (nchanged == 0 || changed[nchanged - 1] != rec))
			changed[nchanged++] = rec;
		if (i % 256 == 255)
			uidlist_lock_touch(lock);
	}
	/* the caller reports the new flags by name */
	if (unnamed)
		mailbox_keywords_refresh(box);
	/* the renames are done: their MODSEQs are given even after an error */
	if (mailbox_index_flags_changed(box, changed, nchanged,
					ret < 0 ? &ignored : error_r) < 0)
		ret = -1;
	free(changed);
	uidlist_lock_release(&lock);
	return ret;
}

/* A message's bytes for the quota (Maildir++ counts the file): the known
 * size, the name's ",S=", else the file's size (path, or looked up). */
static int64_t rec_quota_size(struct mailbox *box,
			      const struct mailbox_rec *rec, const char *path)
{
	struct maildir_filename fn;
	struct stat st;
	struct buf p;
	int ret;

	if (rec->sizes_known)
		return (int64_t)rec->size;
	if (maildir_filename_parse(rec->filename, &fn) == 0 && fn.has_size)
		return (int64_t)fn.size;
	if (path != NULL)
		return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
	buf_init(&p, PATH_MAX);
	mailbox_rec_path(box, rec, &p);
	ret = stat(p.data, &st);
	buf_free(&p);
	return ret == 0 ? (int64_t)st.st_size : 0;
}

/* True when the file name of rec carries \Deleted (T) right now. */
static bool rec_is_deleted(const struct mailbox_rec *rec)
{
	struct maildir_filename fn;

	return maildir_filename_parse(rec->filename, &fn) == 0 &&
	       (fn.flags & MAILDIR_FLAG_DELETED) != 0;
}

static int expunge(struct mailbox *box, const uint32_t *uids, size_t n,
		   bool only_deleted, const char **error_r)
{
	struct uidlist_lock *lock;
	struct buf path;
	bool *drop = NULL, *gone = NULL, any = false, failed = false;
	int64_t quota_bytes = 0, quota_count = 0;
	size_t nrec;
	int ret = -1;

	if (n == 0)
		return 0;
	if (mailbox_lock(box, &lock, error_r) < 0)
		return -1;
	if (mailbox_uidlist_refresh(box, true, error_r) < 0)
		goto out;
	/* gone[i]: uids[i]'s file no longer exists (we or someone else
	 * removed it); only those UIDs may leave the list */
	gone = xcalloc(n, sizeof(*gone));
	buf_init(&path, PATH_MAX);
	for (size_t i = 0; i < n; i++) {
		long idx = mailbox_find_uid(box, uids[i]);
		struct mailbox_rec *rec;
		int64_t size;

		if (idx < 0)
			continue;
		rec = mailbox_rec_at(box, (unsigned)idx);
		for (int attempt = 0; attempt < 3; attempt++) {
			/* checked on the name we unlink: a rename by another
			 * process makes the unlink fail and we look again */
			if (only_deleted && !rec_is_deleted(rec))
				break;
			buf_reset(&path);
			mailbox_rec_path(box, rec, &path);
			size = rec_quota_size(box, rec, path.data);
			if (unlink(path.data) == 0) {
				gone[i] = true;
				quota_bytes += size;
				quota_count++;
				break;
			}
			if (errno != ENOENT) {
				log_error(
					"event=expunge path=%s error=\"unlink: %s\"",
					log_q(path.data), strerror(errno));
				failed = true;
				break;
			}
			/* renamed by another process, or expunged by it */
			if (mailbox_rec_relocate(box, rec) < 0) {
				gone[i] = true;
				break;
			}
		}
	}
	buf_free(&path);
	maildir_quota_update(box->store, -quota_bytes, -quota_count);
	if (do_fsync(box)) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/cur", box->path);
		(void)maildir_fsync_dir(dir);
	}
	/* only now do the UIDs leave the list: a crash before this leaves
	 * records without files, which the next sync drops */
	nrec = uidlist_count(box->uidlist);
	drop = xcalloc(nrec + 1, sizeof(*drop));
	for (size_t i = 0; i < n; i++) {
		long r = uidlist_find_uid(box->uidlist, uids[i]);

		if (r >= 0 && gone[i]) {
			drop[r] = true;
			any = true;
		}
	}
	if (any) {
		uidlist_remove_marked(box->uidlist, drop);
		if (mailbox_uidlist_save(box, error_r) < 0)
			goto out;
	}
	{
		uint32_t *done = xcalloc(n + 1, sizeof(*done));
		size_t ndone = 0;

		for (size_t i = 0; i < n; i++) {
			if (gone[i])
				done[ndone++] = uids[i];
		}
		(void)mailbox_index_expunged(box, done, ndone, error_r);
		free(done);
	}
	box->scan_valid = false;
	if (failed) {
		maildir_fail(box->store, MAILDIR_ERROR_TEMP,
			     "cannot delete a message", error_r);
		goto out;
	}
	ret = 0;
out:
	free(drop);
	free(gone);
	uidlist_lock_release(&lock);
	return ret;
}

int mailbox_expunge(struct mailbox *box, const uint32_t *uids, size_t n,
		    const char **error_r)
{
	return expunge(box, uids, n, false, error_r);
}

int mailbox_expunge_deleted(struct mailbox *box, const uint32_t *uids, size_t n,
			    const char **error_r)
{
	return expunge(box, uids, n, true, error_r);
}

/* --- append --- */

struct mailbox_append {
	struct mailbox *box;
	int fd;
	char *tmp_path;
	char *base; /* unique part, without sizes */
	uint64_t size, vsize;
	char prev;
};

int mailbox_append_begin(struct mailbox *box, struct mailbox_append **ctx_r,
			 const char **error_r)
{
	struct mailbox_append *ctx;
	struct buf dir, path;

	/* full already: refuse before the message is read */
	if (maildir_quota_check(box->store, 0, 1, error_r) < 0)
		return -1;
	ctx = xcalloc(1, sizeof(*ctx));
	buf_init(&dir, PATH_MAX);
	buf_init(&path, PATH_MAX * 2);
	buf_printf(&dir, "%s/tmp", box->path);
	ctx->fd = maildir_file_create_tmp(dir.data, NULL, &path);
	if (ctx->fd < 0) {
		int err = errno;

		log_error("event=append path=%s error=\"create: %s\"",
			  log_q(dir.data), strerror(err));
		buf_free(&dir);
		buf_free(&path);
		free(ctx);
		return maildir_fail(box->store, maildir_errno_kind(err),
				    "cannot store the message", error_r);
	}
	ctx->box = box;
	ctx->tmp_path = xstrdup(path.data);
	ctx->base = xstrdup(strrchr(path.data, '/') + 1);
	buf_free(&dir);
	buf_free(&path);
	*ctx_r = ctx;
	return 0;
}

int mailbox_append_write(struct mailbox_append *ctx, const void *data,
			 size_t len, const char **error_r)
{
	const char *p = data;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && ctx->prev != '\r')
			ctx->vsize++;
		ctx->prev = p[i];
	}
	ctx->size += len;
	ctx->vsize += len;
	while (len > 0) {
		ssize_t n = write(ctx->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			log_error("event=append path=%s error=\"write: %s\"",
				  log_q(ctx->tmp_path), strerror(err));
			return maildir_fail(
				ctx->box->store, maildir_errno_kind(err),
				"cannot store the message", error_r);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void mailbox_append_abort(struct mailbox_append **ctxp)
{
	struct mailbox_append *ctx = *ctxp;

	if (ctx == NULL)
		return;
	if (ctx->fd >= 0)
		close(ctx->fd);
	if (ctx->tmp_path != NULL)
		unlink(ctx->tmp_path);
	free(ctx->tmp_path);
	free(ctx->base);
	free(ctx);
	*ctxp = NULL;
}

/* Under the lock: the file is in place; give it its UID. */
static int append_assign(struct mailbox *box, const char *base, uint32_t *uid_r,
			 const char **error_r)
{
	char path[PATH_MAX];
	long r;
	int ret;

	/* Dovecot's way: a new record is appended to the list, so a delivery
	 * costs the same in a folder of any size; the list is rewritten
	 * whole only when it has to be (missing, damaged, expunges) */
	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, box->path);
	/* a session that holds the list keeps it current (cheap when
	 * unchanged); deliver never reads it */
	if (box->uidlist_loaded &&
	    mailbox_uidlist_refresh(box, true, error_r) < 0)
		return -1;
	ret = uidlist_append_file(path, base, strlen(base), do_fsync(box),
				  uid_r, error_r);
	if (ret > 0) {
		uint32_t next;

		mailbox_uidlist_appended(box, base, *uid_r);
		/* a folder opened without a sync learns its UIDVALIDITY (for
		 * APPENDUID) from the list's first line */
		if (box->uidvalidity == 0)
			(void)uidlist_peek(path, &box->uidvalidity, &next);
		return 0;
	}
	if (ret < 0)
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP, *error_r,
				    error_r);
	if (mailbox_uidlist_refresh(box, true, error_r) < 0)
		return -1;
	r = uidlist_find(box->uidlist, base, strlen(base));
	if (r >= 0) {
		*uid_r = uidlist_get(box->uidlist, (size_t)r)->uid;
		if (box->uidvalidity == 0) /* opened without a sync */
			box->uidvalidity = uidlist_uidvalidity(box->uidlist);
		return 0;
	}
	mailbox_uidlist_renumber_if_full(box);
	*uid_r = uidlist_append(box->uidlist, base, strlen(base), NULL);
	if (*uid_r == 0)
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "UID space exhausted", error_r);
	if (box->uidvalidity == 0) /* opened without a sync */
		box->uidvalidity = uidlist_uidvalidity(box->uidlist);
	return mailbox_uidlist_save(box, error_r);
}

int mailbox_append_finish(struct mailbox_append **ctxp, unsigned flags,
			  uint32_t keywords, time_t date, uint32_t *uid_r,
			  const char **error_r)
{
	struct mailbox_append *ctx = *ctxp;
	struct mailbox *box = ctx->box;
	struct uidlist_lock *lock = NULL;
	struct buf base, target, dir;
	bool to_new = flags == 0 && keywords == 0;
	uint32_t uid = 0;
	int ret = -1, err;

	buf_init(&base, PATH_MAX);
	buf_init(&target, PATH_MAX);
	buf_init(&dir, PATH_MAX);
	/* the data must be on disk before the name says it is there */
	if ((do_fsync(box) && fsync(ctx->fd) < 0) || close(ctx->fd) < 0) {
		err = errno;
		ctx->fd = -1;
		log_error("event=append path=%s error=\"fsync: %s\"",
			  log_q(ctx->tmp_path), strerror(err));
		maildir_fail(box->store, maildir_errno_kind(err),
			     "cannot store the message", error_r);
		goto out;
	}
	ctx->fd = -1;
	if (date != 0) {
		struct timespec times[2] = {{date, 0}, {date, 0}};

		(void)utimensat(AT_FDCWD, ctx->tmp_path, times, 0);
	}
	buf_printf(&base, "%s,S=%llu,W=%llu", ctx->base,
		   (unsigned long long)ctx->size,
		   (unsigned long long)ctx->vsize);
	buf_printf(&dir, "%s/%s", box->path, to_new ? "new" : "cur");
	buf_printf(&target, "%s/", dir.data);
	if (to_new)
		buf_append_str(&target, base.data);
	else
		maildir_filename_format(&target,
					(struct strv){base.data, base.len},
					flags & MAILDIR_FLAGS_ALL, keywords);
	/* the size is known now: over the quota, nothing is stored (the
	 * tmp file goes with the context) */
	if (maildir_quota_check(box->store, ctx->size, 1, error_r) < 0)
		goto out;
	if (mailbox_lock(box, &lock, error_r) < 0)
		goto out;
	/* the name is unique (maildir_unique_base()): rename replaces
	 * nothing */
	if (rename(ctx->tmp_path, target.data) < 0) {
		err = errno;
		log_error("event=append path=%s error=\"rename: %s\"",
			  log_q(target.data), strerror(err));
		maildir_fail(box->store, maildir_errno_kind(err),
			     "cannot store the message", error_r);
		goto out;
	}
	if ((do_fsync(box) && maildir_fsync_dir(dir.data) < 0) ||
	    append_assign(box, base.data, &uid, error_r) < 0) {
		/* not reported as stored: take it back so that the MTA's
		 * retry does not make a duplicate */
		(void)unlink(target.data);
		maildir_fail(box->store, MAILDIR_ERROR_TEMP,
			     "cannot store the message", error_r);
		goto out;
	}
	box->scan_valid = false;
	maildir_quota_update(box->store, (int64_t)ctx->size, 1);
	*uid_r = uid;
	ret = 0;
out:
	uidlist_lock_release(&lock);
	buf_free(&base);
	buf_free(&target);
	buf_free(&dir);
	mailbox_append_abort(ctxp);
	return ret;
}

/* --- copy and move --- */

/* Copies the bytes when a hard link is impossible (another file system,
 * link limits): through dst's tmp/, fsynced, renamed. */
static int copy_file(struct mailbox *dst, int src_fd, const char *target)
{
	char data[65536], dir[PATH_MAX], tmp[PATH_MAX * 2];
	struct buf path;
	ssize_t n;
	int fd, ok = 1;

	snprintf(dir, sizeof(dir), "%s/tmp", dst->path);
	buf_init(&path, sizeof(tmp) - 1);
	fd = maildir_file_create_tmp(dir, NULL, &path);
	if (fd < 0) {
		buf_free(&path);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s", path.data);
	buf_free(&path);
	while (ok && (n = read(src_fd, data, sizeof(data))) != 0) {
		if (n < 0) {
			ok = errno == EINTR;
			continue;
		}
		ok = write(fd, data, (size_t)n) == n;
	}
	if (ok && do_fsync(dst))
		ok = fsync(fd) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, target) < 0) {
		int err = errno;

		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

/* dst's keyword bits for src's keyword bits (letters differ per folder). */
static int map_keywords(struct mailbox *src, struct mailbox *dst, uint32_t kw,
			uint32_t *out, const char **error_r)
{
	*out = 0;
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *name;
		int idx;

		if (!(kw & (1u << i)))
			continue;
		name = maildir_keywords_name(src->keywords, i);
		if (name == NULL)
			continue; /* a letter without a name: drop it */
		idx = mailbox_keyword_index(dst, name, true, error_r);
		if (idx >= 0)
			*out |= 1u << idx;
	}
	return 0;
}

/* Under dst's lock: one message. Returns the new UID, 0 if src's file is
 * gone, or -1. */
static long copy_one(struct mailbox *src, struct mailbox_rec *rec,
		     struct mailbox *dst, uint32_t dst_kw, const char **error_r)
{
	struct buf base, target, from;
	uint64_t size, vsize;
	uint32_t uid = 0;
	long ret = -1;
	int fd = -1;

	if (mailbox_msg_sizes(src, rec->idx, &size, &vsize, error_r) < 0)
		return maildir_last_error(src->store) == MAILDIR_ERROR_EXPUNGED
			       ? 0
			       : -1;
	buf_init(&base, PATH_MAX);
	buf_init(&target, PATH_MAX);
	buf_init(&from, PATH_MAX);
	maildir_unique_base(&base);
	buf_printf(&base, ",S=%llu,W=%llu", (unsigned long long)size,
		   (unsigned long long)vsize);
	buf_printf(&target, "%s/cur/", dst->path);
	maildir_filename_format(&target, (struct strv){base.data, base.len},
				rec->flags, dst_kw);
	for (int attempt = 0; attempt < 3; attempt++) {
		buf_reset(&from);
		mailbox_rec_path(src, rec, &from);
		if (link(from.data, target.data) == 0)
			break;
		if (errno == ENOENT) {
			if (mailbox_rec_relocate(src, rec) < 0) {
				ret = 0;
				goto out;
			}
			continue;
		}
		if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
			log_error("event=copy path=%s error=\"link: %s\"",
				  log_q(target.data), strerror(errno));
			goto fail;
		}
		if (mailbox_msg_open(src, rec->idx, &fd, error_r) < 0) {
			ret = 0;
			goto out;
		}
		if (copy_file(dst, fd, target.data) < 0) {
			log_error("event=copy path=%s error=\"copy: %s\"",
				  log_q(target.data), strerror(errno));
			goto fail;
		}
		break;
	}
	uid = uidlist_append(dst->uidlist, base.data, base.len, NULL);
	ret = uid == 0 ? -1 : (long)uid;
	if (ret < 0)
		*error_r = "UID space exhausted";
	goto out;
fail:
	maildir_fail(dst->store, maildir_errno_kind(errno),
		     "cannot copy the message", error_r);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&base);
	buf_free(&target);
	buf_free(&from);
	return ret;
}

/* The bytes and messages a copy of uids adds (sizes from the names, else
 * stat). */
static void copy_quota_size(struct mailbox *src, const uint32_t *uids, size_t n,
			    uint64_t *bytes_r, uint64_t *count_r)
{
	*bytes_r = 0;
	*count_r = 0;
	for (size_t i = 0; i < n; i++) {
		long idx = mailbox_find_uid(src, uids[i]);

		if (idx >= 0) {
			*bytes_r += (uint64_t)rec_quota_size(
				src, mailbox_rec_at(src, (unsigned)idx), NULL);
			(*count_r)++;
		}
	}
}

/* check_quota: false for a move within one store (the use stays). */
static int copy_messages(struct mailbox *src, const uint32_t *uids, size_t n,
			 struct mailbox *dst, uint32_t *new_uids_r,
			 bool check_quota, const char **error_r)
{
	struct uidlist_lock *lock;
	uint32_t *kw;
	uint64_t qbytes = 0, qcount = 0, added = 0;
	int ret = -1;

	copy_quota_size(src, uids, n, &qbytes, &qcount);
	if (check_quota &&
	    maildir_quota_check(dst->store, qbytes, qcount, error_r) < 0)
		return -1;
	kw = xcalloc(n + 1, sizeof(*kw));

	/* keyword letters first: mailbox_keyword_index() takes the lock */
	for (size_t i = 0; i < n; i++) {
		long idx = mailbox_find_uid(src, uids[i]);

		if (new_uids_r != NULL)
			new_uids_r[i] = 0;
		if (idx >= 0 &&
		    map_keywords(src, dst,
				 mailbox_rec_at(src, (unsigned)idx)->keywords,
				 &kw[i], error_r) < 0)
			goto out_free;
	}
	if (mailbox_lock(dst, &lock, error_r) < 0)
		goto out_free;
	if (mailbox_uidlist_refresh(dst, true, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		long idx = mailbox_find_uid(src, uids[i]), uid;

		if (idx < 0)
			continue;
		uid = copy_one(src, mailbox_rec_at(src, (unsigned)idx), dst,
			       kw[i], error_r);
		if (uid < 0)
			goto out;
		if (uid > 0)
			added++;
		if (new_uids_r != NULL)
			new_uids_r[i] = (uint32_t)uid;
		if (i % 256 == 255)
			uidlist_lock_touch(lock);
	}
	if (do_fsync(dst)) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/cur", dst->path);
		(void)maildir_fsync_dir(dir);
	}
	if (mailbox_uidlist_save(dst, error_r) < 0)
		goto out;
	dst->scan_valid = false;
	/* a message expunged meanwhile was not copied: the sizes are then
	 * an estimate, which the next recalculation corrects */
	if (added != qcount && qcount > 0)
		qbytes = qbytes / qcount * added;
	maildir_quota_update(dst->store, (int64_t)qbytes, (int64_t)added);
	ret = 0;
out:
	uidlist_lock_release(&lock);
out_free:
	free(kw);
	return ret;
}

int mailbox_copy(struct mailbox *src, const uint32_t *uids, size_t n,
		 struct mailbox *dst, uint32_t *new_uids_r,
		 const char **error_r)
{
	return copy_messages(src, uids, n, dst, new_uids_r, true, error_r);
}

int mailbox_move(struct mailbox *src, const uint32_t *uids, size_t n,
		 struct mailbox *dst, uint32_t *new_uids_r,
		 const char **error_r)
{
	uint32_t *copied = xcalloc(n + 1, sizeof(*copied));
	uint32_t *done = xcalloc(n + 1, sizeof(*done));
	size_t ndone = 0;
	int ret;

	/* copy, then expunge: a crash in between leaves a duplicate, never
	 * a loss */
	ret = copy_messages(src, uids, n, dst, copied, src->store != dst->store,
			    error_r);
	if (ret == 0) {
		for (size_t i = 0; i < n; i++) {
			if (copied[i] != 0)
				done[ndone++] = uids[i];
		}
		ret = mailbox_expunge(src, done, ndone, error_r);
	}
	if (new_uids_r != NULL)
		memcpy(new_uids_r, copied, n * sizeof(*copied));
	free(copied);
	free(done);
	return ret;
}
