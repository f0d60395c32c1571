/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The folder index behind a mailbox: MODSEQs, the index file on disk, and
 * the warm open that maps it instead of scanning (see mailbox_private.h
 * and mindex.h).
 *
 * Who writes: MODSEQs are handed out and the index is written only under
 * the folder's lock (dovecot-uidlist.lock), so two processes never give
 * one MODSEQ to two changes. Readers need no lock: the file is replaced by
 * rename, and a mapping is one consistent version.
 */
#include "storage/mailbox.h"

#include "storage/mailbox_private.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directory mtimes are coarse (the kernel's clock tick): a file added in
 * the same tick as the last change leaves the mtime as it was. A stamp is
 * trusted only when the scan began this long after the mtimes. */
#define STAMP_SETTLE_SECS 2

static void index_path(const struct mailbox *box, char *path, size_t size)
{
	snprintf(path, size, "%s/" MINDEX_FILE, box->path);
}

/* The index on disk, or NULL (missing, or damaged: logged, rebuilt). */
static struct mindex *index_load(const struct mailbox *box)
{
	char path[PATH_MAX];
	struct mindex *ix = NULL;
	const char *error = NULL;
	int ret;

	index_path(box, path, sizeof(path));
	ret = mindex_open(path, &ix, &error);
	if (ret < 0)
		log_warn("event=index_rebuild path=%s reason=\"%s\"",
			 log_q(path), error);
	return ret > 0 ? ix : NULL;
}

static bool do_fsync(const struct mailbox *box)
{
	return maildir_settings(box->store)->fsync;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void rec_to_index(const struct mailbox_rec *rec, struct mindex_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->uid = rec->uid;
	r->flags = (rec->flags & MAILDIR_FLAGS_ALL) |
		   (rec->in_new ? MINDEX_REC_IN_NEW : 0) |
		   (rec->sizes_known ? MINDEX_REC_SIZES : 0) |
		   (rec->date != 0 ? MINDEX_REC_DATE : 0);
	r->keywords = rec->keywords;
	r->modseq = rec->modseq;
	if (rec->sizes_known) {
		r->size = rec->size;
		r->vsize = rec->vsize;
	}
	r->date = rec->date;
	r->save_date = rec->save_date;
}

/* What the index knows and the snapshot does not: sizes, dates. */
static void rec_learn(struct mailbox_rec *rec, const struct mindex_rec *r)
{
	if (!rec->sizes_known && (r->flags & MINDEX_REC_SIZES)) {
		rec->size = r->size;
		rec->vsize = r->vsize;
		rec->sizes_known = true;
	}
	if (rec->date == 0 && (r->flags & MINDEX_REC_DATE))
		rec->date = (time_t)r->date;
	if (rec->save_date == 0)
		rec->save_date = r->save_date;
}

/* Fills rec from the idx'th record of ix (the name stays in the map). */
static void rec_from_index(const struct mindex *ix, unsigned idx,
			   struct mailbox_rec *rec)
{
	struct mindex_rec r;

	memset(rec, 0, sizeof(*rec));
	mindex_get(ix, idx, &r);
	rec->idx = idx;
	rec->uid = r.uid;
	rec->flags = r.flags & MAILDIR_FLAGS_ALL;
	rec->keywords = r.keywords;
	rec->in_new = (r.flags & MINDEX_REC_IN_NEW) != 0;
	rec->filename = mindex_get_name(ix, idx).p;
	rec->modseq = r.modseq;
	rec_learn(rec, &r);
}

static size_t overlay_slot(const struct mailbox *box, unsigned idx)
{
	size_t mask = box->overlay_size - 1;
	size_t pos = ((size_t)idx * 0x9e3779b1u) & mask;

	while (box->overlay[pos] != NULL && box->overlay[pos]->idx != idx)
		pos = (pos + 1) & mask;
	return pos;
}

static void overlay_grow(struct mailbox *box)
{
	struct mailbox_rec **old = box->overlay;
	size_t old_size = box->overlay_size;

	box->overlay_size = old_size == 0 ? 16 : old_size * 2;
	box->overlay = xcalloc(box->overlay_size, sizeof(*box->overlay));
	for (size_t i = 0; i < old_size; i++) {
		if (old[i] != NULL)
			box->overlay[overlay_slot(box, old[i]->idx)] = old[i];
	}
	free(old);
}

struct mailbox_rec *mailbox_rec_at(struct mailbox *box, unsigned idx)
{
	size_t pos;

	assert(idx < box->count);
	if (box->recs != NULL)
		return &box->recs[idx];
	if (box->overlay_size > 0) {
		pos = overlay_slot(box, idx);
		if (box->overlay[pos] != NULL)
			return box->overlay[pos];
	}
	if ((box->overlay_count + 1) * 2 > box->overlay_size)
		overlay_grow(box);
	pos = overlay_slot(box, idx);
	box->overlay[pos] = xmalloc(sizeof(struct mailbox_rec));
	rec_from_index(box->index, idx, box->overlay[pos]);
	box->overlay_count++;
	return box->overlay[pos];
}

const struct mailbox_rec *mailbox_rec_view(const struct mailbox *box,
					   unsigned idx,
					   struct mailbox_rec *tmp)
{
	if (box->recs != NULL)
		return &box->recs[idx];
	if (box->overlay_size > 0) {
		size_t pos = overlay_slot(box, idx);

		if (box->overlay[pos] != NULL)
			return box->overlay[pos];
	}
	rec_from_index(box->index, idx, tmp);
	return tmp;
}

void mailbox_recs_free(struct mailbox *box)
{
	for (unsigned i = 0; box->recs != NULL && i < box->count; i++)
		mailbox_rec_clear(&box->recs[i]);
	free(box->recs);
	box->recs = NULL;
	for (size_t i = 0; i < box->overlay_size; i++) {
		if (box->overlay[i] != NULL) {
			mailbox_rec_clear(box->overlay[i]);
			free(box->overlay[i]);
		}
	}
	free(box->overlay);
	box->overlay = NULL;
	box->overlay_size = box->overlay_count = 0;
	box->count = box->cap = 0;
}

/* The snapshot array equals ix: drop the array, read from ix. */
static void to_index_mode(struct mailbox *box, struct mindex *ix)
{
	unsigned count = box->count;

	mailbox_recs_free(box);
	box->count = count;
	mindex_free(&box->index);
	box->index = ix;
}

static void set_index(struct mailbox *box, struct mindex *ix)
{
	mindex_free(&box->index);
	box->index = ix;
}

/* Did a scan begun at `at` begin well after the directories' mtimes? */
static bool settled(uint32_t at, const struct mindex_stamp *stamp)
{
	time_t newest = stamp->new_mtime.tv_sec > stamp->cur_mtime.tv_sec
				? stamp->new_mtime.tv_sec
				: stamp->cur_mtime.tv_sec;

	return (int32_t)(at - (uint32_t)newest) >= STAMP_SETTLE_SECS;
}

int mailbox_index_check(struct mailbox *box, size_t n, const uint32_t *uids,
			const unsigned *flags, const uint32_t *keywords,
			const struct mindex_stamp *stamp)
{
	struct mindex *ix = index_load(box);
	const struct mindex_hdr *hdr;

	if (ix == NULL)
		return -1;
	hdr = mindex_header(ix);
	if (hdr->uidvalidity != uidlist_uidvalidity(box->uidlist) ||
	    hdr->uidnext > uidlist_next_uid(box->uidlist) || hdr->count != n)
		goto differs;
	for (uint32_t i = 0; i < hdr->count; i++) {
		struct mindex_rec r;

		mindex_get(ix, i, &r);
		if (r.uid != uids[i] ||
		    (r.flags & (MAILDIR_FLAGS_ALL | MINDEX_REC_IN_NEW)) !=
			    flags[i] ||
		    r.keywords != keywords[i])
			goto differs;
	}
	mindex_free(&box->index_next);
	box->index_next = ix;
	if (!mindex_stamp_eq(&hdr->stamp, stamp))
		return 0;
	/* built too soon after the last change to be trusted by a warm open,
	 * but it could be now: worth rewriting once */
	if (!settled(hdr->built_at, stamp) &&
	    settled((uint32_t)box->scan_start, stamp))
		return 0;
	return 1;
differs:
	mindex_free(&ix);
	return -1;
}

/* Without the lock: the index checked equal gives its MODSEQs. */
static void store_unlocked(struct mailbox *box)
{
	struct mindex *ix = box->index_next;

	box->index_next = NULL;
	assert(ix != NULL && mindex_header(ix)->count == box->count);
	for (unsigned i = 0; i < box->count; i++) {
		struct mindex_rec r;

		mindex_get(ix, i, &r);
		box->recs[i].modseq = r.modseq;
		rec_learn(&box->recs[i], &r);
	}
	box->highest_modseq =
		max_u64(box->highest_modseq, mindex_header(ix)->highest_modseq);
	to_index_mode(box, ix);
}

struct expunges {
	uint32_t *uids;
	uint64_t *modseqs;
	size_t count, cap;
};

static void expunges_add(struct expunges *e, uint32_t uid, uint64_t modseq)
{
	if (e->count == e->cap) {
		e->cap = e->cap == 0 ? 64 : e->cap * 2;
		e->uids = xrealloc(e->uids, e->cap * sizeof(*e->uids));
		e->modseqs = xrealloc(e->modseqs, e->cap * sizeof(*e->modseqs));
	}
	e->uids[e->count] = uid;
	e->modseqs[e->count++] = modseq;
}

static void expunges_free(struct expunges *e)
{
	free(e->uids);
	free(e->modseqs);
}

/* Does old stand for this folder (not another UIDVALIDITY, no UID the UID
 * list never gave)? */
static bool old_usable(const struct mailbox *box, const struct mindex *old)
{
	return old != NULL &&
	       mindex_header(old)->uidvalidity == box->uidvalidity &&
	       mindex_header(old)->uidnext <= box->uidnext;
}

/* The first free MODSEQ base: the old index's, else the floor. */
static uint64_t start_modseq(const struct mailbox *box,
			     const struct mindex *old, bool usable)
{
	if (usable)
		return max_u64(mindex_header(old)->highest_modseq,
			       box->highest_modseq);
	return max_u64(mindex_modseq_floor(box->path, old, box->uidlist_created,
					   time(NULL)),
		       box->highest_modseq);
}

/* Writes the snapshot as the new index file; failures are logged only
 * (the index is disposable). */
static bool write_index(struct mailbox *box, const struct mindex_hdr *hdr,
			const struct mindex *old, const struct expunges *exp)
{
	struct mindex_writer *w = mindex_writer_new(hdr);
	char path[PATH_MAX];
	const char *error;

	if (old != NULL) {
		for (uint32_t i = 0; i < mindex_header(old)->expunge_count;
		     i++) {
			uint32_t uid;
			uint64_t modseq;

			mindex_get_expunge(old, i, &uid, &modseq);
			mindex_writer_expunge(w, uid, modseq);
		}
	}
	for (size_t i = 0; i < exp->count; i++)
		mindex_writer_expunge(w, exp->uids[i], exp->modseqs[i]);
	for (unsigned i = 0; i < box->count; i++) {
		struct mindex_rec r;

		rec_to_index(&box->recs[i], &r);
		if (mindex_writer_add(
			    w, &r, strv_from_cstr(box->recs[i].filename)) < 0) {
			log_warn(
				"event=index_write path=%s uid=%u error=\"record not indexable\"",
				log_q(box->path), r.uid);
			mindex_writer_free(&w);
			return false;
		}
	}
	index_path(box, path, sizeof(path));
	return mindex_writer_finish(&w, path, false, &error) == 0;
}

static int reserve(struct mailbox *box, uint64_t highest, const char **error_r)
{
	if (mindex_modseq_reserve(box->path, highest, do_fsync(box), error_r) <
	    0)
		return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
				    "cannot store MODSEQs", error_r);
	return 0;
}

int mailbox_index_store(struct mailbox *box, bool locked,
			const struct mindex_stamp *stamp, time_t scan_start,
			const char **error_r)
{
	struct mindex *old;
	struct mindex_hdr hdr;
	struct expunges exp = {0};
	uint64_t highest;
	uint32_t j = 0, old_count = 0;
	time_t now = time(NULL);
	struct mindex *fresh;
	bool usable, written;

	if (!locked) {
		store_unlocked(box);
		return 0;
	}
	mindex_free(&box->index_next);
	old = index_load(box);
	usable = old_usable(box, old);
	highest = start_modseq(box, old, usable);
	if (usable)
		old_count = mindex_header(old)->count;
	else if (box->count > 0)
		highest++; /* a rebuild: every message gets this one */
	for (unsigned i = 0; i < box->count; i++) {
		struct mailbox_rec *rec = &box->recs[i];
		struct mindex_rec r;

		if (!usable) {
			rec->modseq = highest;
			if (rec->save_date == 0)
				rec->save_date = now;
			continue;
		}
		for (; j < old_count; j++) {
			mindex_get(old, j, &r);
			if (r.uid >= rec->uid)
				break;
			expunges_add(&exp, r.uid, ++highest);
		}
		if (j < old_count && r.uid == rec->uid) {
			j++;
			rec_learn(rec, &r);
			rec->modseq =
				(r.flags & MAILDIR_FLAGS_ALL) == rec->flags &&
						r.keywords == rec->keywords
					? r.modseq
					: ++highest;
		} else {
			rec->modseq = ++highest; /* arrived */
			rec->save_date = now;
		}
	}
	for (; j < old_count; j++) {
		struct mindex_rec r;

		mindex_get(old, j, &r);
		expunges_add(&exp, r.uid, ++highest);
	}
	if (reserve(box, highest, error_r) < 0) {
		expunges_free(&exp);
		mindex_free(&old);
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.uidvalidity = box->uidvalidity;
	hdr.uidnext = box->uidnext;
	hdr.highest_modseq = highest;
	hdr.expunge_floor =
		usable ? mindex_header(old)->expunge_floor : highest;
	hdr.stamp = *stamp;
	hdr.built_at = (uint32_t)scan_start;
	written = write_index(box, &hdr, usable ? old : NULL, &exp);
	expunges_free(&exp);
	mindex_free(&old);
	box->highest_modseq = highest;
	fresh = written ? index_load(box) : NULL;
	/* what we wrote is the snapshot (nobody else writes under the lock):
	 * from now on the session reads it from there */
	if (fresh != NULL && mindex_header(fresh)->count == box->count &&
	    mindex_header(fresh)->highest_modseq == highest)
		to_index_mode(box, fresh);
	else
		set_index(box, fresh);
	return 0;
}

static bool dir_stat(const char *dir, const char *sub, struct timespec *r)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	*r = st.st_mtim;
	return true;
}

/* The snapshot is ix itself: O(1), nothing copied. */
static void snapshot_from(struct mailbox *box, struct mindex *ix,
			  uint32_t uidnext)
{
	const struct mindex_hdr *hdr = mindex_header(ix);

	mailbox_recs_free(box);
	box->count = hdr->count;
	box->uidvalidity = hdr->uidvalidity;
	box->uidnext = uidnext;
	box->highest_modseq = hdr->highest_modseq;
	set_index(box, ix);
}

struct mindex *mailbox_index_current(struct mailbox *box, uint32_t *uidnext_r)
{
	char path[PATH_MAX];
	struct mindex_stamp now;
	struct mindex *ix;
	struct stat st;
	uint32_t uidvalidity, uidnext;
	time_t newest;

	snprintf(path, sizeof(path), "%s/" UIDLIST_FILE, box->path);
	if (!dir_stat(box->path, "new", &now.new_mtime) ||
	    !dir_stat(box->path, "cur", &now.cur_mtime) || stat(path, &st) < 0)
		return NULL;
	now.uidlist_mtime = st.st_mtim;
	now.uidlist_ino = (uint64_t)st.st_ino;
	now.uidlist_size = (uint64_t)st.st_size;
	if (uidlist_peek(path, &uidvalidity, &uidnext) <= 0)
		return NULL;
	ix = index_load(box);
	if (ix == NULL)
		return NULL;
	newest = now.new_mtime.tv_sec > now.cur_mtime.tv_sec
			 ? now.new_mtime.tv_sec
			 : now.cur_mtime.tv_sec;
	if (!mindex_agrees(ix, uidvalidity, uidnext, &now) ||
	    !settled(mindex_header(ix)->built_at, &now) ||
	    /* new/ files want moving: that needs a real sync */
	    mindex_any_in_new(ix)) {
		mindex_free(&ix);
		return NULL;
	}
	/* the cheap "nothing changed" test of the next sync works from here */
	box->new_mtime = now.new_mtime;
	box->cur_mtime = now.cur_mtime;
	box->scan_start = newest + STAMP_SETTLE_SECS;
	box->uidlist_sig.valid = true;
	box->uidlist_sig.ino = st.st_ino;
	box->uidlist_sig.size = st.st_size;
	box->uidlist_sig.mtime = st.st_mtim;
	box->scan_valid = true;
	*uidnext_r = uidnext;
	return ix;
}

bool mailbox_index_open_fast(struct mailbox *box)
{
	struct mindex *ix;
	uint32_t uidnext;

	if (box->count != 0 ||
	    (ix = mailbox_index_current(box, &uidnext)) == NULL)
		return false;
	snapshot_from(box, ix, uidnext);
	return true;
}

void mailbox_index_guard_uidnext(struct mailbox *box)
{
	struct mindex *ix = index_load(box);
	const struct mindex_hdr *hdr;

	if (ix == NULL)
		return;
	hdr = mindex_header(ix);
	if (hdr->uidvalidity == uidlist_uidvalidity(box->uidlist) &&
	    hdr->uidnext > uidlist_next_uid(box->uidlist)) {
		log_warn(
			"event=uidlist_behind path=%s next_uid=%u index_next_uid=%u action=raise",
			log_q(box->path), uidlist_next_uid(box->uidlist),
			hdr->uidnext);
		uidlist_raise_next_uid(box->uidlist, hdr->uidnext);
	}
	mindex_free(&ix);
}

bool mailbox_index_to_uidlist(struct mailbox *box)
{
	const struct mindex_hdr *hdr;
	struct uidlist *list;

	if (box->index == NULL)
		return false;
	hdr = mindex_header(box->index);
	list = uidlist_new();
	uidlist_set_uidvalidity(list, hdr->uidvalidity);
	for (uint32_t i = 0; i < hdr->count; i++) {
		struct strv name = mindex_get_name(box->index, i);
		struct mindex_rec r;

		mindex_get(box->index, i, &r);
		uidlist_raise_next_uid(list, r.uid);
		if (uidlist_append(list, name.p,
				   maildir_filename_base_len(name.p),
				   NULL) != r.uid) {
			uidlist_free(&list);
			return false;
		}
	}
	uidlist_raise_next_uid(list, hdr->uidnext);
	uidlist_free(&box->uidlist);
	box->uidlist = list;
	box->uidlist_loaded = true;
	return true;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Rewrites the index on disk with own changes: records whose UID is in
 * changed (ascending, n) take the values of crecs[k] (or go, crecs NULL,
 * logged as expunged). The stamp stays the old one: the directories
 * changed, so the next sync scans them and confirms.
 */
static void rewrite_with(struct mailbox *box, struct mindex *old,
			 uint64_t highest, const uint32_t *changed,
			 struct mailbox_rec *const *crecs, size_t n,
			 const uint64_t *exp_modseqs)
{
	struct mindex_hdr hdr = *mindex_header(old);
	struct mindex_writer *w;
	char path[PATH_MAX];
	const char *error;
	size_t k = 0;

	hdr.highest_modseq = highest;
	w = mindex_writer_new(&hdr);
	for (uint32_t i = 0; i < mindex_header(old)->expunge_count; i++) {
		uint32_t uid;
		uint64_t modseq;

		mindex_get_expunge(old, i, &uid, &modseq);
		mindex_writer_expunge(w, uid, modseq);
	}
	for (size_t i = 0; crecs == NULL && i < n; i++) {
		if (exp_modseqs[i] != 0)
			mindex_writer_expunge(w, changed[i], exp_modseqs[i]);
	}
	for (uint32_t i = 0; i < mindex_header(old)->count; i++) {
		struct mindex_rec r;
		struct strv name = mindex_get_name(old, i);
		int ret;

		mindex_get(old, i, &r);
		while (k < n && changed[k] < r.uid)
			k++;
		if (k < n && changed[k] == r.uid) {
			if (crecs == NULL)
				continue;
			r.flags = (r.flags &
				   (MINDEX_REC_SIZES | MINDEX_REC_DATE)) |
				  crecs[k]->flags |
				  (crecs[k]->in_new ? MINDEX_REC_IN_NEW : 0);
			r.keywords = crecs[k]->keywords;
			r.modseq = crecs[k]->modseq;
			name = strv_from_cstr(crecs[k]->filename);
		}
		ret = mindex_writer_add(w, &r, name);
		if (ret < 0) {
			mindex_writer_free(&w);
			return;
		}
	}
	index_path(box, path, sizeof(path));
	(void)mindex_writer_finish(&w, path, false, &error);
}

static int rec_ptr_cmp(const void *a, const void *b)
{
	const struct mailbox_rec *const *x = a, *const *y = b;

	return (*x)->uid < (*y)->uid ? -1 : (*x)->uid > (*y)->uid;
}

int mailbox_index_flags_changed(struct mailbox *box,
				struct mailbox_rec *const *recs, size_t n,
				const char **error_r)
{
	struct mindex *old;
	struct mailbox_rec **sorted;
	uint32_t *uids;
	uint64_t highest;
	bool usable;

	if (n == 0)
		return 0;
	old = index_load(box);
	usable = old_usable(box, old);
	highest = start_modseq(box, old, usable);
	for (size_t i = 0; i < n; i++)
		recs[i]->modseq = ++highest;
	if (reserve(box, highest, error_r) < 0) {
		mindex_free(&old);
		return -1;
	}
	box->highest_modseq = highest;
	if (usable) {
		sorted = xcalloc(n, sizeof(*sorted));
		uids = xcalloc(n, sizeof(*uids));
		memcpy(sorted, recs, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), rec_ptr_cmp);
		for (size_t i = 0; i < n; i++)
			uids[i] = sorted[i]->uid;
		rewrite_with(box, old, highest, uids, sorted, n, NULL);
		free(sorted);
		free(uids);
	}
	mindex_free(&old);
	return 0;
}

int mailbox_index_expunged(struct mailbox *box, const uint32_t *uids, size_t n,
			   const char **error_r)
{
	struct mindex *old = index_load(box);
	uint32_t *sorted;
	uint64_t *modseqs, highest;

	if (n == 0 || !old_usable(box, old)) {
		mindex_free(&old);
		return 0;
	}
	highest = start_modseq(box, old, true);
	sorted = xcalloc(n, sizeof(*sorted));
	modseqs = xcalloc(n, sizeof(*modseqs));
	memcpy(sorted, uids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), uid_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((i == 0 || sorted[i] != sorted[i - 1]) &&
		    mindex_find_uid(old, sorted[i]) >= 0)
			modseqs[i] = ++highest;
	}
	if (reserve(box, highest, error_r) == 0) {
		box->highest_modseq = highest;
		rewrite_with(box, old, highest, sorted, NULL, n, modseqs);
	}
	free(sorted);
	free(modseqs);
	mindex_free(&old);
	return 0;
}

void mailbox_expunged_since(const struct mailbox *box, uint64_t modseq,
			    uint32_t **uids_r, size_t *count_r,
			    bool *complete_r)
{
	const struct mindex_hdr *hdr;
	uint32_t *uids = NULL;
	size_t n = 0;

	*uids_r = NULL;
	*count_r = 0;
	*complete_r = false;
	if (box->index == NULL)
		return;
	hdr = mindex_header(box->index);
	*complete_r = modseq >= hdr->expunge_floor;
	uids = xcalloc((size_t)hdr->expunge_count + 1, sizeof(*uids));
	for (uint32_t i = 0; i < hdr->expunge_count; i++) {
		uint32_t uid;
		uint64_t m;

		mindex_get_expunge(box->index, i, &uid, &m);
		if (m > modseq)
			uids[n++] = uid;
	}
	qsort(uids, n, sizeof(*uids), uid_cmp);
	if (n == 0) {
		free(uids);
		return;
	}
	*uids_r = uids;
	*count_r = n;
}
