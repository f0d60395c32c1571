/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_flags: what a Maildir file name says about its message.
 *
 * A name reads "<base>:2,<info>" where base is the unique part (for ours
 * "<sec>.M<usec>P<pid>.<host>,S=<size>,W=<crlfsize>") and info lists the
 * standard flags as capital letters in ASCII order (D F P R S T; \Deleted
 * is T) followed by keyword letters a-z, whose names dovecot-keywords holds
 * (see maildir_keywords.h). Files in new/ usually have no info at all.
 */
#ifndef MERPATI_MAILDIR_FLAGS_H
#define MERPATI_MAILDIR_FLAGS_H

#include "lib/buf.h"
#include "lib/str.h"

#include <stdbool.h>
#include <stdint.h>

/* The standard flags as bits; the IMAP names are in the comments. */
enum maildir_flag {
	MAILDIR_FLAG_DRAFT = 1u << 0,	/* D \Draft */
	MAILDIR_FLAG_FLAGGED = 1u << 1, /* F \Flagged */
	MAILDIR_FLAG_PASSED = 1u << 2,	/* P (forwarded, $Forwarded) */
	MAILDIR_FLAG_REPLIED = 1u << 3, /* R \Answered */
	MAILDIR_FLAG_SEEN = 1u << 4,	/* S \Seen */
	MAILDIR_FLAG_DELETED = 1u << 5, /* T \Deleted */
};

#define MAILDIR_FLAGS_ALL 0x3fu

/* Keyword letters: bit i is letter 'a' + i. */
#define MAILDIR_KEYWORDS_MAX 26

struct maildir_filename {
	struct strv base;  /* the name up to ':' (the UID list key) */
	unsigned flags;	   /* enum maildir_flag bits */
	uint32_t keywords; /* bit i = letter 'a' + i */
	bool has_info;	   /* ":2," was present */
	bool has_size;	   /* ",S=" in base */
	bool has_vsize;	   /* ",W=" in base */
	uint64_t size;	   /* ",S=": bytes on disk */
	uint64_t vsize;	   /* ",W=": bytes with CRLF line ends */
};

/*
 * Parses a file name (no directory). The result points into name. Unknown
 * info letters and other info versions (":1,") are ignored. Returns 0, or
 * -1 when the name cannot be a message (empty, starts with '.', contains
 * '/', or has an empty base).
 */
int maildir_filename_parse(const char *name, struct maildir_filename *r);

/* Length of the base part of name (up to the first ':'). */
size_t maildir_filename_base_len(const char *name);

/*
 * Orders file names by delivery time as Dovecot does (new files get UIDs in
 * this order): the leading seconds, then the ".M" microseconds, compared as
 * numbers (neither is zero-padded), then the names byte by byte. Returns
 * <0, 0 or >0 like strcmp().
 */
int maildir_filename_time_cmp(const char *a, const char *b);

/* Appends "<base>:2,<flags><keywords>" to out. */
void maildir_filename_format(struct buf *out, struct strv base, unsigned flags,
			     uint32_t keywords);

/*
 * The `merpati ls` flag notation: the IMAP flag names joined by ','
 * ("\Seen,\Flagged,$Junk"), keywords by name when names[] has one (else
 * "kw:<letter>"), "-" when none. names may be NULL.
 */
void maildir_flags_describe(struct buf *out, unsigned flags, uint32_t keywords,
			    const char *const names[MAILDIR_KEYWORDS_MAX]);

#endif
