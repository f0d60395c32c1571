/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_sort: SORT and UID SORT (RFC 5256 3), with DISPLAYFROM and
 * DISPLAYTO (RFC 5957).
 *
 * "SORT (criteria) charset search-keys": the search runs in slices as
 * SEARCH does (imap_search.h), then the matching messages' keys are
 * gathered in slices (imap_msgkeys.h: from the folder cache, else one
 * header read each, then cached), then ordered by the criteria with the
 * sequence number breaking ties (RFC 5256 3: "the order in which they
 * appear in the mailbox"; REVERSE does not reverse that).
 */
#ifndef MERPATI_IMAP_SORT_H
#define MERPATI_IMAP_SORT_H

#include "protocols/imap/imap_private.h"

/* SORT / UID SORT (IMAP_CMDF_SEQ | IMAP_CMDF_UID). */
enum imap_cmd_result imap_cmd_sort(struct imap_cmd *cmd);

#endif
