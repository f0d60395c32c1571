/* The mailbox internals shared by mailbox*.c, msg_stream.c and cache use. */
#ifndef MERPATI_MAILBOX_PRIVATE_H
#define MERPATI_MAILBOX_PRIVATE_H

#include "storage/mailbox.h"

#include "storage/maildir_keywords.h"
#include "storage/maildir_private.h"
#include "storage/uidlist.h"

#include <sys/stat.h>

/* One message of the snapshot. */
struct mailbox_rec {
	uint32_t uid;
	unsigned flags;
	uint32_t keywords;
	bool in_new;	  /* the file is (was last seen) in new/ */
	bool sizes_known; /* size and vsize are valid */
	char *filename;	  /* current name in new/ or cur/ (owned) */
	uint64_t size, vsize;
	time_t date; /* mtime, 0 until looked up */
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

	struct mailbox_rec *recs; /* the snapshot, ascending UID */
	unsigned count, cap;
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
};

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

/* Reads the keywords file again (cheap: small file). */
void mailbox_keywords_refresh(struct mailbox *box);

#endif
