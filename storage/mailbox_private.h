/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mailbox internals shared by mailbox*.c, msg_stream.c and cache use. */
#ifndef MERPATI_MAILBOX_PRIVATE_H
#define MERPATI_MAILBOX_PRIVATE_H

#include "storage/mailbox.h"

#include "storage/maildir_keywords.h"
#include "storage/maildir_private.h"
#include "storage/mindex.h"
#include "storage/uidlist.h"

#include <sys/stat.h>

/* One message of the snapshot. */
struct mailbox_rec {
	unsigned idx; /* its index in the snapshot (overlay key) */
	uint32_t uid;
	unsigned flags;
	uint32_t keywords;
	bool in_new;	  /* the file is (was last seen) in new/ */
	bool sizes_known; /* size and vsize are valid */
	bool name_owned;  /* filename is ours, else it points into box->index */
	const char *filename; /* current name in new/ or cur/ */
	uint64_t size, vsize;
	time_t date;	   /* mtime, 0 until looked up */
	uint64_t modseq;   /* RFC 7162; 0 until the index gave one */
	int64_t save_date; /* when it got its UID (index), 0 unknown */
};

struct mailbox_file_sig {
	bool valid;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct mailbox {
	struct maildir *store;
	char *name;
	char *path;		 /* folder directory */
	struct uidlist *uidlist; /* the file as last read or written */
	struct mailbox_file_sig uidlist_sig; /* to skip re-reading it */
	bool uidlist_loaded;
	struct maildir_keywords *keywords;

	/* The snapshot, ascending UID: either this array (after a sync that
	 * could not be indexed), or, with recs NULL, the records of
	 * box->index, of which those a session touched (sizes looked up, a
	 * file found renamed, flags changed) are copied to the overlay; so a
	 * session holds O(touched) memory, not O(messages). Use
	 * mailbox_rec_at() and mailbox_rec_view(). */
	struct mailbox_rec *recs;
	unsigned count, cap;
	struct mailbox_rec **overlay; /* open addressing by idx */
	size_t overlay_size, overlay_count;
	uint32_t uidvalidity, uidnext;

	/* scan short-cut: directory mtimes when the last full scan began */
	bool scan_valid;
	struct timespec new_mtime, cur_mtime;
	time_t scan_start;

	/* the changes of the last sync */
	struct mailbox_changes changes;
	uint32_t *exp_uids;
	unsigned *exp_idx;
	uint32_t *flag_uids;
	size_t exp_cap, flag_cap;

	struct mail_cache *cache; /* NULL until first use (cache.h) */

	/* the index version the snapshot was built with (mindex.h), or NULL;
	 * recs' names may point into it */
	struct mindex *index;
	struct mindex *index_next; /* checked equal, not yet adopted */
	uint64_t highest_modseq;   /* of the snapshot and own changes since */
	bool uidlist_created; /* this process made the list: a new folder */
};

/* The idx'th message (idx < count), to read and change; the pointer stays
 * valid until the next sync. */
struct mailbox_rec *mailbox_rec_at(struct mailbox *box, unsigned idx);
/* The idx'th message to read only: tmp may be filled and returned. */
const struct mailbox_rec *mailbox_rec_view(const struct mailbox *box,
					   unsigned idx,
					   struct mailbox_rec *tmp);
/* Frees the snapshot (array or overlay); the index stays. */
void mailbox_recs_free(struct mailbox *box);

/* Sets rec's file name (a copy); rec_clear() frees it. */
void mailbox_rec_set_name(struct mailbox_rec *rec, const char *name);
void mailbox_rec_clear(struct mailbox_rec *rec);

/*
 * The index glue (mailbox_index.c). Without the lock: whether the index on
 * disk holds exactly these messages (uids ascending, with their flags and
 * keywords); loads it for mailbox_index_store(). Returns 1 when it does
 * and its stamp is the given one, 0 when it does but the stamp differs
 * (worth rewriting under the lock), -1 when it does not (or is missing or
 * damaged).
 */
int mailbox_index_check(struct mailbox *box, size_t n, const uint32_t *uids,
			const unsigned *flags, const uint32_t *keywords,
			const struct mindex_stamp *stamp);

/*
 * After the snapshot was rebuilt from a scan. Without the lock (the index
 * checked equal): the records take its MODSEQs. With it: compares the
 * snapshot with the index on disk, gives changed and new messages fresh
 * MODSEQs, logs vanished UIDs as expunged, and writes the index with the
 * stamp the scan began with. Returns 0, or -1 when no MODSEQ could be
 * reserved.
 */
int mailbox_index_store(struct mailbox *box, bool locked,
			const struct mindex_stamp *stamp, time_t scan_start,
			const char **error_r);

/*
 * Warm open: when the index on disk agrees with the folder as it is now
 * (mindex_agrees(), and the directories' mtimes lie well before its scan),
 * the snapshot is taken from it without reading the directories or the UID
 * list. Returns true when it was.
 */
bool mailbox_index_open_fast(struct mailbox *box);

/*
 * The index on disk when it agrees with the folder as it is now (the same
 * rules), with the UID list's next UID; NULL otherwise. On success the
 * cheap "nothing changed" test of the next sync is primed with what was
 * checked.
 */
struct mindex *mailbox_index_current(struct mailbox *box, uint32_t *uidnext_r);

/* Under the lock, before new files get UIDs: when the index on disk (same
 * UIDVALIDITY) saw UIDs up to a higher next UID than the list says (a list
 * restored or rolled back), the list's next UID is raised to it, so that
 * no UID is given twice. */
void mailbox_index_guard_uidnext(struct mailbox *box);

/* Under the lock, when the UID list is lost or damaged and the session
 * never read it (a warm open): box->uidlist is rebuilt from the index the
 * snapshot came from, so that the folder keeps its UIDVALIDITY and UIDs.
 * Returns false when there is no index to do it from. */
bool mailbox_index_to_uidlist(struct mailbox *box);

/* Under the lock, after own flag changes of recs[0..n): fresh MODSEQs,
 * and into the index on disk when there is a valid one. */
int mailbox_index_flags_changed(struct mailbox *box,
				struct mailbox_rec *const *recs, size_t n,
				const char **error_r);

/* Under the lock, after own expunges: the index on disk drops the UIDs
 * and logs them with fresh MODSEQs. */
int mailbox_index_expunged(struct mailbox *box, const uint32_t *uids, size_t n,
			   const char **error_r);

/* Takes the folder's UID list lock with the store's settings. */
int mailbox_lock(struct mailbox *box, struct uidlist_lock **lock_r,
		 const char **error_r);

/*
 * Under the lock: brings box->uidlist up to date with the file (creating
 * the list when missing). Returns 0, or -1.
 */
int mailbox_uidlist_refresh(struct mailbox *box, bool locked,
			    const char **error_r);

/* After uidlist_append_file() added base with uid to the file: the
 * loaded list learns it too (it was current before the append). */
void mailbox_uidlist_appended(struct mailbox *box, const char *base,
			      uint32_t uid);
/* Under the lock: when box->uidlist has no UID left, starts it over with
 * a new, greater UIDVALIDITY (uidlist_renumber(), logged). */
void mailbox_uidlist_renumber_if_full(struct mailbox *box);

/* Writes box->uidlist under the lock. */
int mailbox_uidlist_save(struct mailbox *box, const char **error_r);

/* Appends "<folder>/<new|cur>/<filename>" for rec. */
void mailbox_rec_path(const struct mailbox *box, const struct mailbox_rec *rec,
		      struct buf *out);

/*
 * Finds the current file of rec after someone renamed it (scans new/ and
 * cur/ for its base name) and updates rec. Returns 0, or -1 when the file
 * is gone.
 */
int mailbox_rec_relocate(struct mailbox *box, struct mailbox_rec *rec);

/* Logs one skipped entry of new/ or cur/ (`event=msg_skip`, the name
 * escaped) with the reason. */
void mailbox_log_skip(const struct mailbox *box, bool in_new, const char *name,
		      const char *reason);

/* Reads the keywords file again (cheap: small file). */
void mailbox_keywords_refresh(struct mailbox *box);

#endif
