/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_thread: THREAD and UID THREAD (RFC 5256 4), algorithms
 * ORDEREDSUBJECT and REFERENCES.
 *
 * "THREAD algorithm charset search-keys": the search and the gathering of
 * the header keys run in slices as for SORT (imap_sort.h, imap_msgkeys.h:
 * base subject, sent date, Message-ID, references, from the folder
 * cache); the threads are then built in one go (O(n log n) apart from the
 * loop checks of REFERENCES, which walk up the tree) and written as
 * RFC 5256 thread-lists. Trees are walked with parent pointers, never by
 * recursion, so a deep thread cannot exhaust the stack.
 */
#ifndef MERPATI_IMAP_THREAD_H
#define MERPATI_IMAP_THREAD_H

#include "protocols/imap/imap_private.h"

/* THREAD / UID THREAD (IMAP_CMDF_SEQ | IMAP_CMDF_UID). */
enum imap_cmd_result imap_cmd_thread(struct imap_cmd *cmd);

#endif
