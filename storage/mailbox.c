/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening a folder, the snapshot and sync (see mailbox.h). */
#include "storage/mailbox.h"

#include "storage/cache.h"
#include "storage/mailbox_name.h"
#include "storage/mailbox_private.h"
#include "storage/maildir_file.h"

#include "lib/arena.h"
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

/* Copies of damaged UID lists kept for the admin: the newest few. */
#define DAMAGED_PREFIX UIDLIST_FILE ".damaged."
#define UIDLIST_DAMAGED_KEEP 3

/* A readdir can miss a file that another process renames meanwhile: a file
 * must be missing from this many scans in a row before its UID goes. */
#define SCAN_CONFIRM_PASSES 3

/* One file found by a directory scan. */
struct scan_entry {
	char *name; /* in the scan's arena */
	bool in_new;
	long rec; /* uidlist record index, or -1 */
};

/* An entry of new/ or cur/ that is not a message (logged once the sync
 * that saw it has succeeded). */
struct scan_skip {
	char *name; /* in the scan's arena */
	bool in_new;
	const char *reason; /* static */
};

struct scan {
	struct arena *arena;
	struct scan_entry *entries;
	size_t count, cap;
	struct scan_skip *skips;
	size_t skip_count, skip_cap;
};

int mailbox_lock(struct mailbox *box, struct uidlist_lock **lock_r,
		 const char **error_r)
{
	const struct maildir_settings *set = maildir_settings(box->store);

	if (uidlist_lock_take(box->path, set->lock_stale_secs,
			      set->lock_timeout_secs, lock_r, error_r) < 0)
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP, *error_r,
				    error_r);
	return 0;
}

void mailbox_rec_set_name(struct mailbox_rec *rec, const char *name)
{
	char *copy = xstrdup(name);

	mailbox_rec_clear(rec);
	rec->filename = copy;
	rec->name_owned = true;
}

void mailbox_rec_clear(struct mailbox_rec *rec)
{
	if (rec->name_owned)
		free((char *)rec->filename);
	rec->filename = NULL;
	rec->name_owned = false;
}

void mailbox_rec_path(const struct mailbox *box, const struct mailbox_rec *rec,
		      struct buf *out)
{
	buf_printf(out, "%s/%s/%s", box->path, rec->in_new ? "new" : "cur",
		   rec->filename);
}

static void sig_of(const struct stat *st, struct mailbox_file_sig *sig)
{
	sig->valid = true;
	sig->ino = st->st_ino;
	sig->size = st->st_size;
	sig->mtime = st->st_mtim;
}

static bool sig_eq(const struct mailbox_file_sig *a,
		   const struct mailbox_file_sig *b)
{
	return a->valid && b->valid && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

void mailbox_keywords_refresh(struct mailbox *box)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" MAILDIR_KEYWORDS_FILE, box->path);
	(void)maildir_keywords_read(box->keywords, path);
}

/* The V field of a damaged file's first line, if it has one. */
static uint32_t damaged_uidvalidity(const char *path)
{
	char line[256], *v;
	const char *reason;
	unsigned long value = 0;
	ssize_t n;
	int fd;

	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0)
		return 0;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	line[n] = '\0';
	v = strstr(line, " V");
	if (v != NULL && v < line + strcspn(line, "\n"))
		value = strtoul(v + 2, NULL, 10);
	return value > UINT32_MAX ? 0 : (uint32_t)value;
}

static int damaged_name_cmp(const void *a, const void *b)
{
	const char *const *na = a, *const *nb = b;
	unsigned long long ta = strtoull(*na + sizeof(DAMAGED_PREFIX) - 1, NULL,
					 10),
			   tb = strtoull(*nb + sizeof(DAMAGED_PREFIX) - 1, NULL,
					 10);

	if (ta != tb)
		return ta < tb ? 1 : -1;
	return strcmp(*nb, *na);
}

/* Keeps the newest few copies of damaged lists; a list damaged over and
 * over must not fill the disk. */
static void damaged_prune(const char *dir)
{
	char **names = NULL, path[PATH_MAX * 2];
	size_t count = 0;
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, DAMAGED_PREFIX,
			    sizeof(DAMAGED_PREFIX) - 1) != 0)
			continue;
		names = xrealloc(names, (count + 1) * sizeof(*names));
		names[count++] = xstrdup(d->d_name);
	}
	closedir(dp);
	if (count > UIDLIST_DAMAGED_KEEP)
		qsort(names, count, sizeof(*names), damaged_name_cmp);
	for (size_t i = 0; i < count; i++) {
		if (i >= UIDLIST_DAMAGED_KEEP) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (unlink(path) == 0)
				log_info("event=uidlist_damaged_pruned path=%s",
					 log_q(path));
		}
		free(names[i]);
	}
	free(names);
}

/* Moves a damaged list aside for the admin and starts a new one. */
static void uidlist_restart(struct mailbox *box, const char *path,
			    const char *reason)
{
	char aside[PATH_MAX + 64];
	uint32_t old = damaged_uidvalidity(path);

	snprintf(aside, sizeof(aside), "%s/" DAMAGED_PREFIX "%lld", box->path,
		 (long long)time(NULL));
	if (rename(path, aside) < 0 && errno != ENOENT)
		log_error("event=uidlist_damaged path=%s error=\"rename: %s\"",
			  log_q(path), strerror(errno));
	damaged_prune(box->path);
	uidlist_free(&box->uidlist);
	box->uidlist = uidlist_new();
	uidlist_set_uidvalidity(box->uidlist,
				maildir_next_uidvalidity(box->store, old));
	log_error(
		"event=uidlist_damaged path=%s reason=\"%s\" action=new_uidvalidity moved_to=%s",
		log_q(path), reason, log_q(aside));
}

void mailbox_uidlist_renumber_if_full(struct mailbox *box)
{
	uint32_t old = uidlist_uidvalidity(box->uidlist), fresh;

	if (!uidlist_is_full(box->uidlist))
		return;
	/* UIDs can never be reused under one UIDVALIDITY (RFC 3501 2.3.1.1):
	 * the only way on is a new one, greater than the old */
	fresh = maildir_next_uidvalidity(box->store, old);
	uidlist_renumber(box->uidlist, fresh);
	log_warn(
		"event=uid_space_exhausted path=%s old_uidvalidity=%u uidvalidity=%u action=renumber messages=%zu",
		log_q(box->path), old, fresh, uidlist_count(box->uidlist));
}

int mailbox_uidlist_save(struct mailbox *box, const char **error_r)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, box->path);
	if (uidlist_write(box->uidlist, path,
			  maildir_settings(box->store)->fsync, error_r) < 0)
		return maildir_fail(box->store, maildir_errno_kind(errno),
				    *error_r, error_r);
	if (stat(path, &st) == 0)
		sig_of(&st, &box->uidlist_sig);
	box->uidlist_loaded = true;
	return 0;
}

void mailbox_uidlist_appended(struct mailbox *box, const char *base,
			      uint32_t uid)
{
	char path[PATH_MAX];
	struct stat st;

	if (!box->uidlist_loaded)
		return;
	if (uidlist_append(box->uidlist, base, strlen(base), NULL) != uid) {
		/* should not happen: the file is the truth, re-read it */
		uidlist_raise_next_uid(box->uidlist, uid + 1);
		box->uidlist_sig.valid = false;
		return;
	}
	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, box->path);
	if (stat(path, &st) == 0)
		sig_of(&st, &box->uidlist_sig);
	else
		box->uidlist_sig.valid = false;
}

int mailbox_uidlist_refresh(struct mailbox *box, bool locked,
			    const char **error_r)
{
	char path[PATH_MAX];
	struct mailbox_file_sig sig = {0};
	struct uidlist *fresh;
	struct stat st;
	const char *reason = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, box->path);
	if (stat(path, &st) == 0) {
		sig_of(&st, &sig);
		if (box->uidlist_loaded && sig_eq(&sig, &box->uidlist_sig))
			return 0;
	} else if (errno != ENOENT) {
		log_error("event=uidlist_read path=%s error=\"stat: %s\"",
			  log_q(path), strerror(errno));
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "cannot read the UID list", error_r);
	}
	fresh = uidlist_new();
	ret = uidlist_read(fresh, path, &reason);
	if (ret > 0 && box->uidlist_loaded &&
	    uidlist_uidvalidity(fresh) == uidlist_uidvalidity(box->uidlist) &&
	    uidlist_next_uid(fresh) < uidlist_next_uid(box->uidlist)) {
		ret = -1;
		reason = "next UID went backwards";
	}
	if (ret > 0) {
		uidlist_free(&box->uidlist);
		box->uidlist = fresh;
		box->uidlist_sig = sig;
		box->uidlist_loaded = true;
		return 0;
	}
	uidlist_free(&fresh);
	if (ret < 0 && reason == NULL)
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "cannot read the UID list", error_r);
	/* missing or damaged: both need the lock to repair */
	if (!locked)
		return 1;
	if (!box->uidlist_loaded && mailbox_index_to_uidlist(box)) {
		/* a warm-opened session knows the UIDs from the index */
		log_error(
			"event=uidlist_%s path=%s reason=\"%s\" action=rewrite_from_index",
			ret == 0 ? "lost" : "damaged", log_q(path),
			ret == 0 ? "missing" : reason);
	} else if (ret == 0 && !box->uidlist_loaded) {
		/* a folder seen for the first time */
		box->uidlist_created = true;
		uidlist_set_uidvalidity(
			box->uidlist, maildir_next_uidvalidity(box->store, 0));
	} else if (ret == 0) {
		log_error("event=uidlist_lost path=%s action=rewrite",
			  log_q(path));
	} else if (box->uidlist_loaded) {
		/* we know better than the file: never apply it */
		log_error(
			"event=uidlist_damaged path=%s reason=\"%s\" action=rewrite",
			log_q(path), reason);
	} else {
		uidlist_restart(box, path, reason);
	}
	return mailbox_uidlist_save(box, error_r);
}

/* --- scanning --- */

static void scan_push(struct scan *scan, const char *name, bool in_new)
{
	if (scan->count == scan->cap) {
		scan->cap = scan->cap == 0 ? 256 : scan->cap * 2;
		scan->entries = xrealloc(scan->entries,
					 scan->cap * sizeof(*scan->entries));
	}
	scan->entries[scan->count].name = arena_strdup(scan->arena, name);
	scan->entries[scan->count].in_new = in_new;
	scan->entries[scan->count].rec = -1;
	scan->count++;
}

static void scan_push_skip(struct scan *scan, const char *name, bool in_new,
			   const char *reason)
{
	if (scan->skip_count == scan->skip_cap) {
		scan->skip_cap = scan->skip_cap == 0 ? 16 : scan->skip_cap * 2;
		scan->skips = xrealloc(scan->skips,
				       scan->skip_cap * sizeof(*scan->skips));
	}
	scan->skips[scan->skip_count].name = arena_strdup(scan->arena, name);
	scan->skips[scan->skip_count].in_new = in_new;
	scan->skips[scan->skip_count].reason = reason;
	scan->skip_count++;
}

/*
 * Why a directory entry is not a message, or NULL when it may be one: a
 * message is a regular file (d_type, or lstat where the file system does
 * not tell; a symlink, FIFO, device or directory never gets a UID) whose
 * name has no control character (a newline would break dovecot-uidlist,
 * which is line based).
 */
static const char *entry_not_message(DIR *dp, const struct dirent *d)
{
	struct stat st;

	if (maildir_file_name_has_ctl(d->d_name))
		return "control character in the file name";
	if (d->d_type == DT_REG)
		return NULL;
	if (d->d_type == DT_UNKNOWN) {
		/* gone meanwhile: the sync copes with vanished files */
		if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    S_ISREG(st.st_mode))
			return NULL;
	}
	return "not a regular file";
}

static int scan_dir(struct mailbox *box, struct scan *scan, bool in_new,
		    struct uidlist_lock *lock)
{
	char path[PATH_MAX];
	const char *reason;
	struct dirent *d;
	DIR *dp;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/%s", box->path,
		 in_new ? "new" : "cur");
	dp = opendir(path);
	if (dp == NULL) {
		log_error("event=scan path=%s error=\"opendir: %s\"",
			  log_q(path), strerror(errno));
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		reason = entry_not_message(dp, d);
		if (reason != NULL)
			scan_push_skip(scan, d->d_name, in_new, reason);
		else
			scan_push(scan, d->d_name, in_new);
		if (lock != NULL && ++n % 1024 == 0)
			uidlist_lock_touch(lock);
	}
	closedir(dp);
	return 0;
}

static int scan_all(struct mailbox *box, struct scan *scan,
		    struct uidlist_lock *lock)
{
	/* new/ before cur/: a file moving new -> cur meanwhile is seen */
	if (scan_dir(box, scan, true, lock) < 0 ||
	    scan_dir(box, scan, false, lock) < 0)
		return -1;
	return 0;
}

static void scan_free(struct scan *scan)
{
	arena_free(&scan->arena);
	free(scan->entries);
	free(scan->skips);
	memset(scan, 0, sizeof(*scan));
}

/* Matches entries to uidlist records; found[rec] = entry index + 1. */
static void scan_match(struct mailbox *box, struct scan *scan, size_t *found)
{
	for (size_t i = 0; i < scan->count; i++) {
		struct scan_entry *e = &scan->entries[i];
		size_t blen = maildir_filename_base_len(e->name);
		long rec = uidlist_find(box->uidlist, e->name, blen);

		if (rec >= 0 && found[rec] == 0) {
			e->rec = rec;
			found[rec] = i + 1;
		}
	}
}

static int entry_name_cmp(const void *a, const void *b)
{
	const struct scan_entry *const *ea = a, *const *eb = b;

	return maildir_filename_time_cmp((*ea)->name, (*eb)->name);
}

/* Under the lock: new files get UIDs in delivery-time order (as Dovecot
   sorts them, so both servers number a shared Maildir alike). */
static bool assign_uids(struct mailbox *box, struct scan *scan)
{
	struct scan_entry **fresh = xcalloc(scan->count + 1, sizeof(*fresh));
	size_t n = 0;

	for (size_t i = 0; i < scan->count; i++) {
		if (scan->entries[i].rec < 0)
			fresh[n++] = &scan->entries[i];
	}
	qsort(fresh, n, sizeof(*fresh), entry_name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct scan_entry *e = fresh[i];
		size_t blen = maildir_filename_base_len(e->name);
		long found = uidlist_find(box->uidlist, e->name, blen);
		struct maildir_filename fn;

		if (maildir_filename_parse(e->name, &fn) < 0)
			continue;
		if (found >= 0)
			continue; /* the same base in new/ and cur/ */
		mailbox_uidlist_renumber_if_full(box);
		if (uidlist_append(box->uidlist, e->name, blen, NULL) == 0) {
			log_error(
				"event=uid_assign path=%s error=\"UID space exhausted\"",
				log_q(box->path));
			continue;
		}
		e->rec = (long)uidlist_count(box->uidlist) - 1;
	}
	free(fresh);
	return n > 0;
}

/* Under the lock: new/ files move to cur/ (maildir(5): seen by a client). */
static void move_new_to_cur(struct mailbox *box, struct scan *scan)
{
	struct buf from, to;

	buf_init(&from, PATH_MAX);
	buf_init(&to, PATH_MAX);
	for (size_t i = 0; i < scan->count; i++) {
		struct scan_entry *e = &scan->entries[i];

		if (!e->in_new || e->rec < 0)
			continue;
		buf_reset(&from);
		buf_reset(&to);
		buf_printf(&from, "%s/new/%s", box->path, e->name);
		buf_printf(&to, "%s/cur/", box->path);
		size_t name_at = to.len;
		if (strchr(e->name, ':') != NULL)
			buf_append_str(&to, e->name);
		else
			buf_printf(&to, "%s:2,", e->name);
		if (rename(from.data, to.data) < 0) {
			if (errno != ENOENT)
				log_error(
					"event=move_new path=%s error=\"rename: %s\"",
					log_q(from.data), strerror(errno));
			continue;
		}
		e->name = arena_strdup(scan->arena, to.data + name_at);
		e->in_new = false;
	}
	buf_free(&from);
	buf_free(&to);
}

/* Under the lock: records whose file stays missing across rescans go. */
static bool drop_missing(struct mailbox *box, struct scan *scan, size_t *found,
			 struct uidlist_lock *lock)
{
	size_t nrec = uidlist_count(box->uidlist), missing = 0;
	bool *drop;

	for (size_t r = 0; r < nrec; r++)
		missing += found[r] == 0;
	for (unsigned pass = 1; missing > 0 && pass < SCAN_CONFIRM_PASSES;
	     pass++) {
		struct scan again = {.arena = arena_new(0)};

		if (scan_all(box, &again, lock) < 0) {
			scan_free(&again);
			return false;
		}
		for (size_t i = 0; i < again.count; i++) {
			const char *name = again.entries[i].name;
			long rec =
				uidlist_find(box->uidlist, name,
					     maildir_filename_base_len(name));

			if (rec < 0 || found[rec] != 0)
				continue;
			/* it was renamed under the first scan: keep it */
			scan_push(scan, name, again.entries[i].in_new);
			scan->entries[scan->count - 1].rec = rec;
			found[rec] = scan->count;
			missing--;
		}
		scan_free(&again);
	}
	if (missing == 0)
		return false;
	drop = xcalloc(nrec, sizeof(*drop));
	for (size_t r = 0; r < nrec; r++)
		drop[r] = found[r] == 0;
	uidlist_remove_marked(box->uidlist, drop);
	free(drop);
	/* record indices moved: the caller matches again */
	return true;
}

static void changes_reset(struct mailbox *box)
{
	memset(&box->changes, 0, sizeof(box->changes));
	box->changes.first_new = box->count;
	box->changes.expunged_uids = box->exp_uids;
	box->changes.expunged_idx = box->exp_idx;
	box->changes.flags_changed_uids = box->flag_uids;
}

static void change_expunged(struct mailbox *box, uint32_t uid, unsigned idx)
{
	if (box->changes.expunged_count == box->exp_cap) {
		box->exp_cap = box->exp_cap == 0 ? 64 : box->exp_cap * 2;
		box->exp_uids = xrealloc(box->exp_uids,
					 box->exp_cap * sizeof(*box->exp_uids));
		box->exp_idx = xrealloc(box->exp_idx,
					box->exp_cap * sizeof(*box->exp_idx));
	}
	box->exp_uids[box->changes.expunged_count] = uid;
	box->exp_idx[box->changes.expunged_count++] = idx;
}

static void change_flags(struct mailbox *box, uint32_t uid)
{
	if (box->changes.flags_changed_count == box->flag_cap) {
		box->flag_cap = box->flag_cap == 0 ? 64 : box->flag_cap * 2;
		box->flag_uids =
			xrealloc(box->flag_uids,
				 box->flag_cap * sizeof(*box->flag_uids));
	}
	box->flag_uids[box->changes.flags_changed_count++] = uid;
}

/* Builds the new snapshot from the list and the scan; records changes. */
static void snapshot_rebuild(struct mailbox *box, struct scan *scan,
			     const size_t *found)
{
	size_t nrec = uidlist_count(box->uidlist);
	struct mailbox_rec *recs, tmp;
	const struct mailbox_rec *ov = NULL;
	unsigned old_count = box->count, n = 0, o = 0;
	bool reset = box->uidvalidity != 0 &&
		     box->uidvalidity != uidlist_uidvalidity(box->uidlist);

	recs = xcalloc(nrec + 1, sizeof(*recs));
	changes_reset(box);
	box->changes.uidvalidity_changed = reset;
	for (size_t r = 0; r < nrec; r++) {
		const struct uidlist_rec *ur = uidlist_get(box->uidlist, r);
		const struct scan_entry *e;
		struct maildir_filename fn;
		struct mailbox_rec *rec = &recs[n];

		if (found[r] == 0)
			continue;
		e = &scan->entries[found[r] - 1];
		if (maildir_filename_parse(e->name, &fn) < 0)
			continue;
		rec->uid = ur->uid;
		rec->flags = fn.flags;
		rec->keywords = fn.keywords;
		rec->in_new = e->in_new;
		rec->idx = n;
		mailbox_rec_set_name(rec, e->name);
		while (!reset && o < old_count &&
		       (ov = mailbox_rec_view(box, o, &tmp))->uid < rec->uid) {
			change_expunged(box, ov->uid, o);
			o++;
		}
		if (!reset && o < old_count && ov->uid == rec->uid) {
			if (ov->flags != rec->flags ||
			    ov->keywords != rec->keywords)
				change_flags(box, rec->uid);
			rec->sizes_known = ov->sizes_known;
			rec->size = ov->size;
			rec->vsize = ov->vsize;
			rec->date = ov->date;
			rec->modseq = ov->modseq;
			rec->save_date = ov->save_date;
			o++;
		} else if (box->changes.new_count++ == 0) {
			box->changes.first_new = n;
		}
		n++;
	}
	while (!reset && o < old_count) {
		change_expunged(box, mailbox_rec_view(box, o, &tmp)->uid, o);
		o++;
	}
	mailbox_recs_free(box);
	box->recs = recs;
	box->count = n;
	box->cap = (unsigned)nrec + 1;
	if (box->changes.new_count == 0)
		box->changes.first_new = n;
	box->uidvalidity = uidlist_uidvalidity(box->uidlist);
	box->uidnext = uidlist_next_uid(box->uidlist);
	box->changes.expunged_uids = box->exp_uids;
	box->changes.expunged_idx = box->exp_idx;
	box->changes.flags_changed_uids = box->flag_uids;
}

static bool dir_mtime(const char *dir, const char *sub, struct timespec *r)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (stat(path, &st) < 0)
		return false;
	*r = st.st_mtim;
	return true;
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* True when neither the directories nor the list changed since a scan
 * that began well after their last change (timestamps are coarse). */
static bool sync_unchanged(struct mailbox *box)
{
	struct timespec nm, cm;
	struct mailbox_file_sig sig = {0};
	char path[PATH_MAX];
	struct stat st;

	if (!box->scan_valid || !dir_mtime(box->path, "new", &nm) ||
	    !dir_mtime(box->path, "cur", &cm) || !ts_eq(nm, box->new_mtime) ||
	    !ts_eq(cm, box->cur_mtime))
		return false;
	if (box->scan_start - nm.tv_sec < 2 || box->scan_start - cm.tv_sec < 2)
		return false;
	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, box->path);
	if (stat(path, &st) < 0)
		return false;
	sig_of(&st, &sig);
	return sig_eq(&sig, &box->uidlist_sig);
}

static struct mindex_stamp stamp_of(const struct mailbox *box,
				    struct timespec nm, struct timespec cm)
{
	struct mindex_stamp st = {
		.new_mtime = nm,
		.cur_mtime = cm,
		.uidlist_mtime = box->uidlist_sig.mtime,
		.uidlist_ino = (uint64_t)box->uidlist_sig.ino,
		.uidlist_size = (uint64_t)box->uidlist_sig.size,
	};

	return st;
}

/* Without the lock: does the index on disk hold what the scan found? */
static int index_check(struct mailbox *box, const struct scan *scan,
		       const size_t *found, struct timespec nm,
		       struct timespec cm)
{
	size_t nrec = uidlist_count(box->uidlist), n = 0;
	uint32_t *uids = xcalloc(nrec + 1, sizeof(*uids));
	unsigned *flags = xcalloc(nrec + 1, sizeof(*flags));
	uint32_t *keywords = xcalloc(nrec + 1, sizeof(*keywords));
	struct mindex_stamp stamp = stamp_of(box, nm, cm);
	int ret;

	for (size_t r = 0; r < nrec; r++) {
		struct maildir_filename fn;

		if (found[r] == 0 ||
		    maildir_filename_parse(scan->entries[found[r] - 1].name,
					   &fn) < 0)
			continue;
		uids[n] = uidlist_get(box->uidlist, r)->uid;
		flags[n] = fn.flags;
		keywords[n++] = fn.keywords;
	}
	ret = mailbox_index_check(box, n, uids, flags, keywords, &stamp);
	free(uids);
	free(flags);
	free(keywords);
	return ret;
}

/*
 * One sync pass. Without the lock it only succeeds when nothing needs
 * writing (returns 1 to ask for the lock); with it, it repairs.
 */
static int sync_pass(struct mailbox *box, struct uidlist_lock *lock,
		     const char **error_r)
{
	struct scan scan = {.arena = arena_new(0)};
	struct timespec nm = {0, 0}, cm = {0, 0};
	struct mindex_stamp stamp;
	size_t *found = NULL, nrec;
	bool dirty = false;
	int ret;

	ret = mailbox_uidlist_refresh(box, lock != NULL, error_r);
	if (ret != 0)
		goto out;
	box->scan_start = time(NULL);
	if (!dir_mtime(box->path, "new", &nm) ||
	    !dir_mtime(box->path, "cur", &cm) ||
	    scan_all(box, &scan, lock) < 0) {
		ret = maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				   "cannot read the mailbox", error_r);
		goto out;
	}
	nrec = uidlist_count(box->uidlist);
	found = xcalloc(nrec + 1, sizeof(*found));
	scan_match(box, &scan, found);
	if (lock == NULL) {
		for (size_t i = 0; i < scan.count && ret == 0; i++) {
			if (scan.entries[i].rec < 0 || scan.entries[i].in_new)
				ret = 1;
		}
		for (size_t r = 0; r < nrec && ret == 0; r++) {
			if (found[r] == 0)
				ret = 1;
		}
		/* MODSEQs are given out under the lock only */
		if (ret == 0 && index_check(box, &scan, found, nm, cm) != 1)
			ret = 1;
		if (ret != 0)
			goto out;
	} else {
		if (drop_missing(box, &scan, found, lock)) {
			dirty = true;
			nrec = uidlist_count(box->uidlist);
			memset(found, 0, (nrec + 1) * sizeof(*found));
			for (size_t i = 0; i < scan.count; i++)
				scan.entries[i].rec = -1;
			scan_match(box, &scan, found);
		}
		/* a UID the index saw given must not come again */
		mailbox_index_guard_uidnext(box);
		if (assign_uids(box, &scan)) {
			dirty = true;
			nrec = uidlist_count(box->uidlist);
			found = xrealloc(found, (nrec + 1) * sizeof(*found));
			memset(found, 0, (nrec + 1) * sizeof(*found));
			for (size_t i = 0; i < scan.count; i++)
				scan.entries[i].rec = -1;
			scan_match(box, &scan, found);
		}
		move_new_to_cur(box, &scan);
		if (dirty && mailbox_uidlist_save(box, error_r) < 0) {
			ret = -1;
			goto out;
		}
	}
	snapshot_rebuild(box, &scan, found);
	stamp = stamp_of(box, nm, cm);
	if (mailbox_index_store(box, lock != NULL, &stamp, box->scan_start,
				error_r) < 0) {
		ret = -1;
		goto out;
	}
	/* once per sync, not per pass or rescan */
	for (size_t i = 0; i < scan.skip_count; i++)
		mailbox_log_skip(box, scan.skips[i].in_new, scan.skips[i].name,
				 scan.skips[i].reason);
	box->new_mtime = nm;
	box->cur_mtime = cm;
	/* our own move changed new/ and cur/ again: a rescan will be cheap */
	box->scan_valid = !dirty && lock == NULL;
	ret = 0;
out:
	free(found);
	scan_free(&scan);
	return ret;
}

/*
 * Another process synced the folder and wrote an index that agrees with
 * the folder as it is now: the snapshot moves to that index, with the
 * changes found by comparing the two (O(messages) in memory, no scan, no
 * lock). Returns false when a real sync is needed.
 */
static bool sync_from_index(struct mailbox *box)
{
	const struct mindex_hdr *hdr;
	const struct mailbox_rec *ov = NULL;
	struct mailbox_rec tmp;
	struct mindex *ix;
	unsigned o = 0, old_count = box->count;
	uint32_t uidnext, old_max;

	if (box->recs != NULL || box->index == NULL)
		return false;
	ix = mailbox_index_current(box, &uidnext);
	if (ix == NULL)
		return false;
	hdr = mindex_header(ix);
	if (hdr->uidvalidity != box->uidvalidity)
		goto fallback;
	old_max = old_count > 0
			  ? mailbox_rec_view(box, old_count - 1, &tmp)->uid
			  : 0;
	changes_reset(box);
	for (uint32_t i = 0; i < hdr->count; i++) {
		struct mindex_rec r;

		mindex_get(ix, i, &r);
		while (o < old_count &&
		       (ov = mailbox_rec_view(box, o, &tmp))->uid < r.uid) {
			change_expunged(box, ov->uid, o);
			o++;
		}
		if (o < old_count && ov->uid == r.uid) {
			if ((r.flags & MAILDIR_FLAGS_ALL) != ov->flags ||
			    r.keywords != ov->keywords)
				change_flags(box, r.uid);
			o++;
		} else if (r.uid <= old_max) {
			goto fallback; /* new below old: not ours to explain */
		} else if (box->changes.new_count++ == 0) {
			box->changes.first_new = i;
		}
	}
	while (o < old_count) {
		change_expunged(box, mailbox_rec_view(box, o, &tmp)->uid, o);
		o++;
	}
	if (box->changes.new_count == 0)
		box->changes.first_new = hdr->count;
	/* the arrays may have moved while growing */
	box->changes.expunged_uids = box->exp_uids;
	box->changes.expunged_idx = box->exp_idx;
	box->changes.flags_changed_uids = box->flag_uids;
	mailbox_recs_free(box);
	mindex_free(&box->index);
	box->index = ix;
	box->count = hdr->count;
	box->uidnext = uidnext;
	if (hdr->highest_modseq > box->highest_modseq)
		box->highest_modseq = hdr->highest_modseq;
	return true;
fallback:
	mindex_free(&ix);
	changes_reset(box);
	box->scan_valid = false;
	return false;
}

bool mailbox_sync_needed(struct mailbox *box)
{
	return !sync_unchanged(box);
}

int mailbox_sync(struct mailbox *box, const struct mailbox_changes **changes_r,
		 const char **error_r)
{
	struct uidlist_lock *lock = NULL;
	int ret;

	if (sync_unchanged(box)) {
		changes_reset(box);
		if (changes_r != NULL)
			*changes_r = &box->changes;
		return 0;
	}
	if (sync_from_index(box)) {
		mailbox_keywords_refresh(box);
		if (changes_r != NULL)
			*changes_r = &box->changes;
		return 0;
	}
	ret = sync_pass(box, NULL, error_r);
	if (ret > 0) {
		if (mailbox_lock(box, &lock, error_r) < 0)
			return -1;
		ret = sync_pass(box, lock, error_r);
		uidlist_lock_release(&lock);
	}
	if (ret < 0)
		return -1;
	mailbox_keywords_refresh(box);
	if (changes_r != NULL)
		*changes_r = &box->changes;
	return 0;
}

/* tmp/ files older than the limit are left over from crashes. */
static void clean_tmp(struct mailbox *box)
{
	unsigned max_age = maildir_settings(box->store)->tmp_max_age_secs;
	char dir[PATH_MAX], path[PATH_MAX * 2];
	time_t now = time(NULL);
	struct dirent *d;
	struct stat st;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/tmp", box->path);
	if (stat(dir, &st) < 0)
		return;
	dp = opendir(dir);
	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > (time_t)max_age &&
		    now - st.st_atime > (time_t)max_age) {
			if (unlink(path) == 0)
				log_info("event=tmp_cleanup path=%s",
					 log_q(path));
		}
	}
	closedir(dp);
}

int mailbox_open(struct maildir *store, const char *name, unsigned flags,
		 struct mailbox **box_r, const char **error_r)
{
	struct mailbox *box;
	struct buf path;
	struct stat st;
	char sub[PATH_MAX];

	buf_init(&path, PATH_MAX);
	if (maildir_folder_path(store, name, &path, error_r) < 0) {
		buf_free(&path);
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/cur", path.data);
	if (stat(sub, &st) < 0 || !S_ISDIR(st.st_mode)) {
		buf_free(&path);
		return maildir_fail(store, MAILDIR_ERROR_NOT_FOUND,
				    "Mailbox doesn't exist", error_r);
	}
	box = xcalloc(1, sizeof(*box));
	box->store = store;
	box->name = xstrdup(name);
	box->path = xstrdup(path.data);
	buf_free(&path);
	box->uidlist = uidlist_new();
	box->keywords = maildir_keywords_new();
	changes_reset(box);
	/* Dovecot-created folders may lack tmp/ or new/ */
	(void)maildir_make_dirs(box->path, !mailbox_name_is_inbox(name), false);
	mailbox_keywords_refresh(box);
	if (!(flags & MAILBOX_OPEN_NO_SYNC)) {
		clean_tmp(box);
		/* a warm open maps the index and reads nothing else */
		if (!mailbox_index_open_fast(box) &&
		    mailbox_sync(box, NULL, error_r) < 0) {
			mailbox_free(&box);
			return -1;
		}
		changes_reset(box);
	}
	*box_r = box;
	return 0;
}

void mailbox_free(struct mailbox **boxp)
{
	struct mailbox *box = *boxp;

	if (box == NULL)
		return;
	mail_cache_free(&box->cache);
	mailbox_recs_free(box);
	mindex_free(&box->index);
	mindex_free(&box->index_next);
	uidlist_free(&box->uidlist);
	maildir_keywords_free(&box->keywords);
	free(box->exp_uids);
	free(box->exp_idx);
	free(box->flag_uids);
	free(box->name);
	free(box->path);
	free(box);
	*boxp = NULL;
}

const char *mailbox_name(const struct mailbox *box)
{
	return box->name;
}

const char *mailbox_path(const struct mailbox *box)
{
	return box->path;
}

struct maildir *mailbox_store(const struct mailbox *box)
{
	return box->store;
}

uint32_t mailbox_uidvalidity(const struct mailbox *box)
{
	return box->uidvalidity;
}

uint32_t mailbox_uidnext(const struct mailbox *box)
{
	return box->uidnext;
}

unsigned mailbox_count(const struct mailbox *box)
{
	return box->count;
}

void mailbox_get(const struct mailbox *box, unsigned idx,
		 struct mailbox_msg *msg_r)
{
	struct mailbox_rec tmp;
	const struct mailbox_rec *rec = mailbox_rec_view(box, idx, &tmp);

	msg_r->uid = rec->uid;
	msg_r->flags = rec->flags;
	msg_r->keywords = rec->keywords;
	msg_r->modseq = rec->modseq;
	msg_r->filename = rec->filename;
}

long mailbox_find_uid(const struct mailbox *box, uint32_t uid)
{
	unsigned lo = 0, hi = box->count;

	if (box->recs == NULL)
		return box->index == NULL ? -1
					  : mindex_find_uid(box->index, uid);
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (box->recs[mid].uid == uid)
			return (long)mid;
		if (box->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

uint64_t mailbox_highest_modseq(const struct mailbox *box)
{
	return box->highest_modseq;
}

const char *const *mailbox_keyword_names(const struct mailbox *box)
{
	return maildir_keywords_names(box->keywords);
}
