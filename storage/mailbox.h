/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mailbox: one open folder and a session's view of it.
 *
 * A struct mailbox is a session's snapshot of a folder: the messages it has
 * announced, by UID in ascending order, with their flags. Other processes
 * (the MTA, other sessions, Dovecot) change the folder at any time; the
 * snapshot only moves forward when the owner calls mailbox_sync(), which
 * hands back what changed relative to the snapshot (expunged, new, flags).
 * POP3 syncs once at open and never again (a fixed list for the session);
 * IMAP syncs at the points RFC 3501 allows. A watch (watch.h) tells when a
 * sync would find something.
 *
 * Own changes: flag updates made through this mailbox update the snapshot
 * at once and are not reported again by the next sync; expunges and
 * appends made through it are reported by the next sync like anyone
 * else's.
 *
 * UIDs come from `dovecot-uidlist` (uidlist.h): a file that appears gets
 * the next UID when a sync or append sees it under the folder's lock; UIDs
 * strictly increase and are never reused. A damaged UID list is never
 * applied: an open mailbox keeps its UIDs and rewrites the list; otherwise
 * the folder gets a new UIDVALIDITY (clients resync, no UID is reused).
 *
 * Flags are in the file names (maildir_flags.h); a change is one rename.
 * Sizes: size is the file's length, vsize its length with every bare LF
 * counted as CRLF (RFC822.SIZE, what POP3 LIST reports), taken from ",S="
 * and ",W=" in the name when present, else from the cache or by reading the
 * file once. The internal date is the file's mtime.
 *
 * Every call may block on the folder's lock (dovecot-uidlist.lock) and on
 * directory scans: run long ones on a storage thread (storage_pool.h). On
 * the loop thread a busy lock fails at once (MAILDIR_ERROR_TEMP). Errors: -1 with a client-safe reason in *error_r
 * and the kind in maildir_last_error(); details are logged.
 */
#ifndef MERPATI_MAILBOX_H
#define MERPATI_MAILBOX_H

#include "storage/maildir.h"
#include "storage/maildir_flags.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct mailbox;
struct mime_message;

enum mailbox_open_flags {
	/* Don't scan: for appending only (deliver). The snapshot is empty
	 * until the first mailbox_sync(). */
	MAILBOX_OPEN_NO_SYNC = 1u << 0,
};

/*
 * Opens the folder `name` of store and syncs once (unless NO_SYNC). A
 * missing folder is MAILDIR_ERROR_NOT_FOUND. The mailbox must be freed
 * before the store.
 */
int mailbox_open(struct maildir *store, const char *name, unsigned flags,
		 struct mailbox **box_r, const char **error_r);
void mailbox_free(struct mailbox **box);

const char *mailbox_name(const struct mailbox *box);
/* The folder's directory (the root for INBOX). */
const char *mailbox_path(const struct mailbox *box);
struct maildir *mailbox_store(const struct mailbox *box);
uint32_t mailbox_uidvalidity(const struct mailbox *box);
/* UIDNEXT as of the last sync (all snapshot UIDs are below it). */
uint32_t mailbox_uidnext(const struct mailbox *box);

/* One message of the snapshot. */
struct mailbox_msg {
	uint32_t uid;
	unsigned flags;	      /* enum maildir_flag bits */
	uint32_t keywords;    /* bit i = keyword i (mailbox_keyword_name()) */
	uint64_t modseq;      /* RFC 7162 MODSEQ (see below) */
	const char *filename; /* current base name with info; valid until the
				 next call on box */
};

/*
 * MODSEQ (RFC 7162): every message has one, and it rises whenever the
 * message arrives or its flags or keywords change, through this mailbox or
 * any other process (a change made outside Merpati gets its MODSEQ at the
 * next sync that sees it). HIGHESTMODSEQ is the largest given out in the
 * folder as far as this snapshot knows (own flag changes and expunges
 * raise it at once). MODSEQs are persisted in the folder's index and never
 * reused, even when the index is lost (mindex.h).
 */
uint64_t mailbox_highest_modseq(const struct mailbox *box);

/*
 * The UIDs expunged after modseq (QRESYNC's VANISHED, RFC 7162 3.2.5.2),
 * ascending, as of the last sync; *uids_r is malloc'd (the caller frees
 * it; NULL when none). The log is bounded: *complete_r is false when
 * expunges after modseq may have been forgotten (the caller then treats
 * every UID it knows and the snapshot lacks as vanished).
 */
void mailbox_expunged_since(const struct mailbox *box, uint64_t modseq,
			    uint32_t **uids_r, size_t *count_r,
			    bool *complete_r);

/* Messages in the snapshot; indices run 0..count-1 in UID order. */
unsigned mailbox_count(const struct mailbox *box);
/* Fills msg_r for the idx'th message (idx < count). */
void mailbox_get(const struct mailbox *box, unsigned idx,
		 struct mailbox_msg *msg_r);
/* Index of uid in the snapshot, or -1. O(log n). */
long mailbox_find_uid(const struct mailbox *box, uint32_t uid);

/* Sizes (see above). MAILDIR_ERROR_EXPUNGED when the file is gone. */
int mailbox_msg_sizes(struct mailbox *box, unsigned idx, uint64_t *size_r,
		      uint64_t *vsize_r, const char **error_r);
/* INTERNALDATE: the file's mtime. */
int mailbox_msg_date(struct mailbox *box, unsigned idx, time_t *date_r,
		     const char **error_r);
/* Opens the message file read-only (the caller closes it); follows a
 * rename by another process. MAILDIR_ERROR_EXPUNGED when gone. */
int mailbox_msg_open(struct mailbox *box, unsigned idx, int *fd_r,
		     const char **error_r);

/*
 * The MIME part tree of the idx'th message (mime.h; the caller frees it):
 * from the folder cache when it is there, else parsed from the file and
 * cached, so ENVELOPE and BODYSTRUCTURE read a message file once.
 */
int mailbox_mime_get(struct mailbox *box, unsigned idx,
		     struct mime_message **msg_r, const char **error_r);

/*
 * The folder's cache (cache.h), opened on first use; owned by box. Sizes
 * and dates found by reading files are put there; mailbox_cache_save()
 * writes it (the CLI's `index` and sessions at close call it).
 */
struct mail_cache *mailbox_cache(struct mailbox *box);
int mailbox_cache_save(struct mailbox *box);

/*
 * Reads every message whose sizes are not known yet (no ",S=,W=" in its
 * name and not cached) and caches them; with rebuild, drops the cache
 * first. Returns the number of files read, or -1.
 */
long mailbox_cache_fill(struct mailbox *box, bool rebuild,
			const char **error_r);

/* What a sync changed, relative to the previous snapshot. Arrays are
 * ascending and owned by the mailbox until the next sync. */
struct mailbox_changes {
	const uint32_t *expunged_uids; /* gone since the last snapshot */
	const unsigned *expunged_idx;  /* their indices in the OLD snapshot */
	size_t expunged_count;
	unsigned first_new; /* new messages are indices first_new..count-1 */
	unsigned new_count;
	const uint32_t *flags_changed_uids; /* flags or keywords differ */
	size_t flags_changed_count;
	bool uidvalidity_changed; /* the UID list was lost: start over */
};

/*
 * Brings the snapshot up to date: assigns UIDs to new files, drops UIDs of
 * vanished files, moves new/ files to cur/, all under the folder lock.
 * Cheap when nothing changed (directory mtimes). Returns 0 with the changes
 * in *changes_r (may be NULL), or -1 (the snapshot is then unchanged).
 */
int mailbox_sync(struct mailbox *box, const struct mailbox_changes **changes_r,
		 const char **error_r);

/*
 * False when a mailbox_sync() now would find nothing and read nothing (the
 * directories and the UID list are as the last sync left them: three
 * stat()s, cheap enough for the loop). True when it may scan the folder:
 * run that sync on a storage thread.
 */
bool mailbox_sync_needed(struct mailbox *box);

/*
 * \Recent (RFC 3501 2.3.2): a message is recent in exactly one session,
 * the first read-write one that sees it. The folder keeps the first UID
 * no session has claimed yet (merpati.recent, with its UIDVALIDITY;
 * missing or stale: 1, every message is recent).
 * mailbox_recent_claim() takes, under the folder lock, every UID from
 * there up to the snapshot's highest: [*first_r, *end_r) are this
 * session's recent UIDs now (empty when equal), and the next claim of any
 * session starts at *end_r. mailbox_recent_first() only reads the first
 * unclaimed UID (read-only sessions and STATUS: RECENT counts the
 * messages from there on).
 */
int mailbox_recent_claim(struct mailbox *box, uint32_t *first_r,
			 uint32_t *end_r, const char **error_r);
uint32_t mailbox_recent_first(const struct mailbox *box);

/* Keyword names by index (26 entries, NULL where unused). */
const char *const *mailbox_keyword_names(const struct mailbox *box);
/* Index of keyword `name`; with create, adds it (under the lock) when
 * missing. -1 when unknown (no create), all 26 letters are used, or the
 * name is not an atom. */
int mailbox_keyword_index(struct mailbox *box, const char *name, bool create,
			  const char **error_r);

enum mailbox_flags_op {
	MAILBOX_FLAGS_REPLACE,
	MAILBOX_FLAGS_ADD,
	MAILBOX_FLAGS_REMOVE,
};

/*
 * Changes flags and keywords of the messages with the given UIDs (one
 * rename each, under the lock). UIDs not in the snapshot or expunged
 * meanwhile are skipped. The snapshot is updated.
 */
int mailbox_update_flags(struct mailbox *box, const uint32_t *uids, size_t n,
			 enum mailbox_flags_op op, unsigned flags,
			 uint32_t keywords, const char **error_r);

/* Expunges the messages (unlink, then the UIDs leave the list). The
 * snapshot keeps them until the next sync reports them. A message whose
 * file cannot be removed keeps its UID and the call fails
 * (MAILDIR_ERROR_TEMP) after expunging the others. */
int mailbox_expunge(struct mailbox *box, const uint32_t *uids, size_t n,
		    const char **error_r);
/* The same for IMAP's EXPUNGE, CLOSE and UID EXPUNGE: only the messages
 * whose file carries \Deleted at the moment of the unlink go; one whose
 * \Deleted another process cleared since the snapshot stays. */
int mailbox_expunge_deleted(struct mailbox *box, const uint32_t *uids, size_t n,
			    const char **error_r);

/*
 * Copies messages into dst (hard links when possible) with their flags and
 * keywords; new_uids_r (n entries, may be NULL) gets the UIDs in dst.
 * dst may be opened with MAILBOX_OPEN_NO_SYNC. Messages expunged meanwhile
 * are skipped (their new UID is 0).
 */
int mailbox_copy(struct mailbox *src, const uint32_t *uids, size_t n,
		 struct mailbox *dst, uint32_t *new_uids_r,
		 const char **error_r);

/* Copy, then expunge in src: a crash in between leaves a duplicate. */
int mailbox_move(struct mailbox *src, const uint32_t *uids, size_t n,
		 struct mailbox *dst, uint32_t *new_uids_r,
		 const char **error_r);

/*
 * Appending: begin, write the message in any number of pieces, then finish
 * (or abort). The message goes to tmp/, is fsynced, renamed into new/ (no
 * flags) or cur/, the directory is fsynced, and it gets its UID: only then
 * does finish return 0. date 0 means now.
 */
struct mailbox_append;

int mailbox_append_begin(struct mailbox *box, struct mailbox_append **ctx_r,
			 const char **error_r);
int mailbox_append_write(struct mailbox_append *ctx, const void *data,
			 size_t len, const char **error_r);
int mailbox_append_finish(struct mailbox_append **ctx, unsigned flags,
			  uint32_t keywords, time_t date, uint32_t *uid_r,
			  const char **error_r);
/* Drops the tmp file; takes NULL, leaves NULL. */
void mailbox_append_abort(struct mailbox_append **ctx);

#endif
