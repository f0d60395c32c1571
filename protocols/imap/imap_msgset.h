/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_msgset: the messages a command names, as indices of the selected
 * folder's view (index + 1 is the sequence number).
 *
 * A sequence set names sequence numbers, or UIDs for the UID commands
 * (RFC 3501 6.4.8). "*" is the highest number in use; for UIDs a range
 * naming none of the messages is simply empty, while a sequence number
 * beyond the view is a client error (BAD, as Dovecot answers).
 */
#ifndef MERPATI_IMAP_MSGSET_H
#define MERPATI_IMAP_MSGSET_H

#include "protocols/imap/imap_private.h"

#include <stddef.h>
#include <stdint.h>

struct imap_msgset {
	unsigned *idx; /* ascending view indices, in the command's arena */
	size_t count;
};

/*
 * Reads argument argi of cmd as a sequence set, as UIDs when cmd->uid
 * (or when as_uids). Returns 0 with the messages in *set_r, or -1 after
 * replying BAD.
 */
int imap_msgset_arg(struct imap_cmd *cmd, size_t argi, bool as_uids,
		    struct imap_msgset *set_r);

/* The UIDs of the set's messages (in the command's arena). */
uint32_t *imap_msgset_uids(struct imap_cmd *cmd, const struct imap_msgset *set);

#endif
