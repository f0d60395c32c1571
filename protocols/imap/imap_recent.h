/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_recent: the \Recent flag of a selected folder (RFC 3501 2.3.2).
 *
 * A message is recent in exactly one session: the first read-write
 * session (SELECT) whose view holds it claims it in the folder
 * (mailbox_recent_claim()), and no later session sees it recent. A
 * read-only session (EXAMINE) sees as recent what no one has claimed
 * when it first sees it, and claims nothing. The recent UIDs are kept as
 * ranges (one per claim), so a first SELECT of a big folder costs one
 * range, not one entry per message.
 */
#ifndef MERPATI_IMAP_RECENT_H
#define MERPATI_IMAP_RECENT_H

#include <stdbool.h>
#include <stdint.h>

struct imap_recent;
struct mailbox;

struct imap_recent *imap_recent_new(bool readonly);
/* Takes NULL, leaves NULL. */
void imap_recent_free(struct imap_recent **r);

/*
 * Takes the messages of box's snapshot this session has not looked at
 * yet (all of them the first time): claims them (read-write) or peeks
 * (read-only) and remembers the recent ones. Cheap when the snapshot has
 * nothing new. Returns -1 when the claim failed (the folder lock is busy:
 * the next call tries again), else 0 (also for a NULL r: no tracking).
 * Runs on any thread that owns box.
 */
int imap_recent_update(struct imap_recent *r, struct mailbox *box);

/* True when uid is recent in this session. NULL r: nothing is. */
bool imap_recent_has(const struct imap_recent *r, uint32_t uid);

/* The number of messages of box's snapshot that are recent here. */
unsigned imap_recent_count(const struct imap_recent *r,
			   const struct mailbox *box);

/* The number of messages of box's snapshot no session has claimed
 * (STATUS RECENT). */
unsigned imap_recent_unclaimed(const struct mailbox *box);

#endif
