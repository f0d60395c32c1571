/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_keywords: the folder's keyword names (`dovecot-keywords`).
 *
 * Dovecot's format: one line "<index> <name>" per keyword, index 0 is file
 * name letter 'a', up to 26 keywords (a-z). Lines that do not parse are
 * ignored (the file is advisory: a lost name only hides a keyword). Changed
 * only under the folder's UID list lock, replaced atomically.
 */
#ifndef MERPATI_MAILDIR_KEYWORDS_H
#define MERPATI_MAILDIR_KEYWORDS_H

#include "storage/maildir_flags.h"

#include <stdbool.h>

#define MAILDIR_KEYWORDS_FILE "dovecot-keywords"

struct maildir_keywords;

struct maildir_keywords *maildir_keywords_new(void);
void maildir_keywords_free(struct maildir_keywords **kw);

/* Replaces the contents with the file text. Never fails. */
void maildir_keywords_parse(struct maildir_keywords *kw, const char *data,
			    size_t len);

/* Reads path (missing = no keywords). Returns 0, or -1 on an I/O error. */
int maildir_keywords_read(struct maildir_keywords *kw, const char *path);

/* Writes path atomically. Returns 0, or -1 (logged). */
int maildir_keywords_write(const struct maildir_keywords *kw, const char *path,
			   bool do_fsync);

/* Index (0..25) of a keyword name (case-insensitive, as IMAP), or -1. */
int maildir_keywords_lookup(const struct maildir_keywords *kw,
			    const char *name);

/* Index of name, adding it when missing; -1 when all 26 are taken or the
 * name is not an IMAP atom (RFC 3501: no spaces, controls, 8-bit, or
 * any of ( ) { % * " \ ]). */
int maildir_keywords_add(struct maildir_keywords *kw, const char *name);

/* The name for index, or NULL. */
const char *maildir_keywords_name(const struct maildir_keywords *kw,
				  unsigned idx);

/* All names indexed by letter (NULL where unused); valid while kw lives. */
const char *const *maildir_keywords_names(const struct maildir_keywords *kw);

#endif
