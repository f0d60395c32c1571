/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_sync: reports changes of the selected folder (RFC 3501 7.4.1, 5.2).
 *
 * The session's view (the mailbox snapshot, whose index + 1 is the message
 * sequence number) only moves at the end of commands that may report
 * expunges: imap_sync() then brings the snapshot up to date and writes
 * "* n EXPUNGE" (highest first, so every number is valid when it is read),
 * "* n EXISTS" for arrivals and "* n FETCH (FLAGS ...)" for flags changed
 * by others. At the end of FETCH, STORE, SEARCH and COPY with sequence
 * numbers nothing is synced (expunges would renumber messages under the
 * client); the changes wait for the next command that allows them.
 */
#ifndef MERPATI_IMAP_SYNC_H
#define MERPATI_IMAP_SYNC_H

#include "lib/buf.h"
#include "protocols/imap/imap_private.h"

#include <stdbool.h>

/* Brings the selected folder's view up to date and writes the untagged
   responses (see above). Does nothing without a selected folder or when
   !expunges_ok. A lost UID list ends the session with BYE. */
/* Returns -1 when the sync failed (logged; the folder lock may be busy:
   storage never waits for it on the loop), else 0. */
int imap_sync(struct imap_session *s, bool expunges_ok);

/* Appends "* <seq> FETCH (FLAGS (...))\r\n"-style flag lists of message
   idx (0-based) of the selected folder: "FLAGS (...)". */
void imap_sync_write_flags(struct imap_session *s, unsigned idx,
			   struct buf *out);

#endif
