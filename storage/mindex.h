/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mindex: the persistent per-folder index `merpati.index`.
 *
 * One file per folder holds what a session needs to open the folder
 * without reading `cur/`, `new/` or `dovecot-uidlist`: a header (UIDVALIDITY,
 * UIDNEXT, HIGHESTMODSEQ, counts, and the stamp of the directories and the
 * UID list it was built from), one fixed-size record per message (UID,
 * flags, keyword bits, MODSEQ, sizes, dates, where its file name is), a
 * bounded log of expunged UIDs with the MODSEQ of their expunge (QRESYNC,
 * RFC 7162 3.2.5), and the file names. The byte layout is in
 * doc/storage.md; every integer is little-endian.
 *
 * Reading maps the file (shared through the page cache, never copied) and
 * checks it whole once: size, checksum, and every record's rules (UIDs
 * ascending and below UIDNEXT, MODSEQs not above HIGHESTMODSEQ, names in
 * bounds and valid Maildir base names, counts). A file that breaks any of
 * them is refused; callers then rebuild from the messages and the UID list
 * and never trust the file over them. A file its writer sealed since this
 * boot (an extended attribute, see doc/storage.md) and not changed since is
 * opened by its header alone, and its names are checked as they are read.
 *
 * Writing builds the whole file in memory and replaces the old one with
 * write-new-and-rename, so a reader's mapping stays a consistent snapshot
 * of one version and a crash leaves the old file or the new one. The file
 * is disposable; what must survive losing it is kept apart: the MODSEQ
 * ceiling in `merpati.modseq` (see mindex_modseq_reserve()), so that a
 * rebuild never hands out a MODSEQ at or below one already seen.
 */
#ifndef MERPATI_MINDEX_H
#define MERPATI_MINDEX_H

#include "lib/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MINDEX_FILE "merpati.index"
#define MINDEX_MODSEQ_FILE "merpati.modseq"
/* Expunge log entries kept; older ones go and raise expunge_floor. */
#define MINDEX_EXPUNGE_MAX 8192
/* MODSEQs reserved ahead per write of merpati.modseq. */
#define MINDEX_MODSEQ_RESERVE 4096
/* Longest file name stored. */
#define MINDEX_NAME_MAX 1024

/* record flag bits beyond enum maildir_flag (low 6 bits) */
#define MINDEX_REC_IN_NEW (1u << 8) /* file is in new/ */
#define MINDEX_REC_SIZES (1u << 9)  /* size and vsize are valid */
#define MINDEX_REC_DATE (1u << 10)  /* date is valid */
#define MINDEX_REC_FLAGS_ALL 0x073fu

/* What the index was synced with: it is current while these match. */
struct mindex_stamp {
	struct timespec new_mtime, cur_mtime, uidlist_mtime;
	uint64_t uidlist_ino, uidlist_size;
};

struct mindex_hdr {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t count;	  /* records (filled in by the writer) */
	uint32_t unseen;  /* records without \Seen (by the writer) */
	uint32_t deleted; /* records with \Deleted (by the writer) */
	uint64_t highest_modseq;
	/* every expunge with a MODSEQ above this is in the log */
	uint64_t expunge_floor;
	uint32_t expunge_count; /* (by the writer) */
	struct mindex_stamp stamp;
	/* when the scan behind it began (seconds, low 32 bits): directory
	 * mtimes are coarse, so a stamp is only trusted when the scan began
	 * well after them */
	uint32_t built_at;
};

struct mindex_rec {
	uint32_t uid;
	uint32_t flags;	   /* maildir flags | MINDEX_REC_* */
	uint32_t keywords; /* bit i = keyword letter 'a' + i */
	uint64_t modseq;
	uint64_t size, vsize; /* when MINDEX_REC_SIZES */
	int64_t date;	      /* INTERNALDATE, when MINDEX_REC_DATE */
	int64_t save_date;    /* when the message got its UID */
};

struct mindex;

/*
 * Maps and checks path. Returns 1 with *index_r, 0 when the file does not
 * exist, -1 with a reason when it is damaged or unreadable (then there is
 * no index: rebuild). A file this process has open already (same device,
 * inode, size and mtime) is shared, not mapped and checked again, so that
 * a session's open costs O(1); not thread-safe.
 */
int mindex_open(const char *path, struct mindex **index_r,
		const char **error_r);
/* Checks a file image in memory the same way (no mapping; data must stay
 * valid while the index is used). */
int mindex_open_mem(const void *data, size_t len, struct mindex **index_r,
		    const char **error_r);
void mindex_free(struct mindex **index);

const struct mindex_hdr *mindex_header(const struct mindex *index);
/* True when a record says its file is in new/. */
bool mindex_any_in_new(const struct mindex *index);
/* True when the index was built from exactly this state. */
bool mindex_stamp_eq(const struct mindex_stamp *a,
		     const struct mindex_stamp *b);

/*
 * True when index may stand for the folder as it is now: same UIDVALIDITY
 * as the UID list, no UID at or beyond the list's next UID, and the stamp
 * (directory mtimes, the list's identity) unchanged.
 */
bool mindex_agrees(const struct mindex *index, uint32_t uidvalidity,
		   uint32_t uidlist_next_uid, const struct mindex_stamp *now);

/* The i'th record (i < count), decoded; O(1). */
void mindex_get(const struct mindex *index, uint32_t i, struct mindex_rec *r);
/* The i'th record's file name (points into the mapping, NUL-terminated). */
struct strv mindex_get_name(const struct mindex *index, uint32_t i);
/* Index of the record with uid, or -1. O(log n). */
long mindex_find_uid(const struct mindex *index, uint32_t uid);
/* The i'th expunge log entry (ascending MODSEQ). */
void mindex_get_expunge(const struct mindex *index, uint32_t i, uint32_t *uid_r,
			uint64_t *modseq_r);

/* Building a new file. */
struct mindex_writer;

/* Counts and expunge_count in hdr are ignored (computed). */
struct mindex_writer *mindex_writer_new(const struct mindex_hdr *hdr);
/* Records in ascending UID order; name is the current file name (base
 * and, in cur/, ":2,<info>").
 * Returns 0, or -1 (writer unchanged) for a record that breaks the rules. */
int mindex_writer_add(struct mindex_writer *w, const struct mindex_rec *r,
		      struct strv name);
/* Log entries in ascending MODSEQ order; beyond MINDEX_EXPUNGE_MAX the
 * oldest go and the floor rises to theirs. */
void mindex_writer_expunge(struct mindex_writer *w, uint32_t uid,
			   uint64_t modseq);
/* The file image (for tests and the fuzz target); the writer takes no
 * more records or log entries after it. */
void mindex_writer_image(struct mindex_writer *w, const void **data_r,
			 size_t *len_r);
/* Writes path atomically (tmp file in dir/tmp/ when it exists, fsync when
 * asked, rename) and frees the writer. Returns 0, or -1 (logged). */
int mindex_writer_finish(struct mindex_writer **w, const char *path,
			 bool do_fsync, const char **error_r);
void mindex_writer_free(struct mindex_writer **w);

/* Recomputes the checksum of a file image in place (fuzzing, tests). */
void mindex_fix_checksum(void *data, size_t len);

/*
 * The MODSEQ ceiling of folder dir: every MODSEQ ever handed out is at or
 * below it. 0 when merpati.modseq is missing or unreadable.
 */
uint64_t mindex_modseq_ceiling(const char *dir);

/*
 * Makes sure the ceiling is at least need before a MODSEQ up to need is
 * handed out: when it is lower, writes need + MINDEX_MODSEQ_RESERVE
 * (atomically, fsynced when asked). Returns 0, or -1 (logged).
 */
int mindex_modseq_reserve(const char *dir, uint64_t need, bool do_fsync,
			  const char **error_r);

/*
 * The lowest HIGHESTMODSEQ a rebuild of folder dir may start from: above
 * the ceiling file and the old index's HIGHESTMODSEQ (old may be NULL).
 * When the ceiling file is lost too, and the folder is not new, what was
 * handed out is unknown: the floor is then derived from the clock
 * (now * 1000, more than the folder can have used). At least 1: a new
 * folder reports HIGHESTMODSEQ 1 and its first message gets 2.
 */
uint64_t mindex_modseq_floor(const char *dir, const struct mindex *old,
			     bool new_folder, time_t now);

#endif
