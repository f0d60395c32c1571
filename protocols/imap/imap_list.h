/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_list: LIST and LSUB (RFC 3501 6.3.8, 6.3.9) with LIST-EXTENDED
 * (RFC 5258: selection options SUBSCRIBED REMOTE RECURSIVEMATCH, return
 * options SUBSCRIBED CHILDREN, several patterns, \NonExistent, CHILDINFO),
 * LIST-STATUS (RFC 5819: RETURN (STATUS (...))), SPECIAL-USE (RFC 6154:
 * the attributes, and SPECIAL-USE as selection and return option; LSUB
 * shows them too, for Outlook) and \Marked / \Unmarked (mail arrived
 * since the folder was last selected, storage/maildir_attr.h).
 *
 * LIST runs on a storage thread (imap_job.h): it reads each listed
 * folder's attribute files and, for RETURN (STATUS ...), opens them.
 */
#ifndef MERPATI_IMAP_LIST_H
#define MERPATI_IMAP_LIST_H

#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_list(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_lsub(struct imap_cmd *cmd);

#endif
