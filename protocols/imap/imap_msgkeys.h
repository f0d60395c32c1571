/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_msgkeys: what SORT and THREAD need of a message's header (RFC 5256,
 * RFC 5957), read once and kept in the folder cache.
 *
 * For one message of the selected folder: the base subject
 * (imap_basesubject.h) and whether it was a reply or forward, the Date:
 * field as UTC, the first address of From, To and Cc as SORT compares
 * them (addr-mailbox) and as DISPLAYFROM/DISPLAYTO show them, the
 * Message-ID and the references THREAD=REFERENCES links by. The first
 * field of each name counts, as in Dovecot.
 *
 * The values are computed from the message's top-level header, read from
 * the file up to the empty line (at most IMAP_MSGKEYS_HEADER_MAX bytes),
 * and stored as one blob in the folder cache (cache.h, field
 * IMAP_MSGKEYS_CACHE_FIELD): a second SORT or THREAD of the folder, in
 * this session or a later one, reads no message file. One call does
 * bounded work (one header); callers loop over messages in slices.
 */
#ifndef MERPATI_IMAP_MSGKEYS_H
#define MERPATI_IMAP_MSGKEYS_H

#include "lib/arena.h"
#include "storage/cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mailbox;

#define IMAP_MSGKEYS_CACHE_FIELD (MAIL_CACHE_FIELD_FIRST_USER + 10)
#define IMAP_MSGKEYS_HEADER_MAX (1024 * 1024)
/* References kept per message (the newest ones when there are more). */
#define IMAP_MSGKEYS_REFS_MAX 256

struct imap_msgkeys {
	const char *subject; /* base subject, UTF-8 ("" when none) */
	bool reply_or_fwd;   /* the subject was a reply or forward */
	bool has_date;	     /* a readable Date: field */
	int64_t date;	     /* its time in UTC */
	/* addr-mailbox of the first address ("" when none) */
	const char *from, *to, *cc;
	/* RFC 5957: display name of the first address, else its
	   mailbox@host ("" when none) */
	const char *display_from, *display_to;
	const char *msgid;  /* first valid Message-ID, NULL when none */
	const char **refs;  /* References' IDs (else In-Reply-To's first) */
	unsigned ref_count; /* oldest first */
};

/*
 * Fills *keys_r for view index idx, strings in arena. Returns 0, or -1
 * when the message cannot be read (expunged meanwhile: *keys_r is then
 * all empty, which sorts as a message without those fields).
 */
int imap_msgkeys_get(struct mailbox *box, unsigned idx, struct arena *arena,
		     struct imap_msgkeys *keys_r, const char **error_r);

/* One message of a SORT or THREAD with what it is ordered by. */
struct imap_msgkeys_item {
	unsigned idx; /* view index */
	struct imap_msgkeys keys;
	uint64_t size;	 /* RFC822.SIZE */
	int64_t arrival; /* INTERNALDATE */
	/* RFC 5256 2.2 sent date: Date: in UTC, else INTERNALDATE */
	int64_t sent;
};

enum imap_msgkeys_need {
	IMAP_MSGKEYS_NEED_HEADER = 1u << 0, /* keys (and sent) */
	IMAP_MSGKEYS_NEED_SIZE = 1u << 1,
	IMAP_MSGKEYS_NEED_ARRIVAL = 1u << 2,
};

/*
 * Fills items[*pos..n) with what `need` (enum imap_msgkeys_need) asks,
 * until deadline_usec (CLOCK_MONOTONIC) passes after some message.
 * Returns true when all are done; false when called again later (*pos
 * keeps the place). A message that cannot be read gets empty keys and
 * size 0.
 */
bool imap_msgkeys_load(struct mailbox *box, struct arena *arena,
		       struct imap_msgkeys_item *items, size_t n, size_t *pos,
		       unsigned need, uint64_t deadline_usec);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t imap_msgkeys_now_usec(void);

/*
 * The next valid message ID in [*p, end) as Dovecot's lib-mail reads it
 * ("<local@domain>" with CFWS and quoting removed, or else any "<...@...>"
 * with blanks removed), in arena; *p moves past it. NULL when none.
 */
const char *imap_msgkeys_next_msgid(const char **p, const char *end,
				    struct arena *arena);

/* RFC 5322 3.3 date-time (obsolete forms too) as UTC; -1 unreadable. */
int imap_msgkeys_parse_date(const char *value, size_t len, int64_t *utc_r);

#endif
