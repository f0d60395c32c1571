/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_arg: the argument tree of a parsed IMAP command (imap_parser.h) and
 * typed getters following RFC 3501 9's names (astring, mailbox, flag-list,
 * sequence-set, date, number...).
 *
 * Arguments are read-only views owned by the parser's arena; see
 * imap_parser.h for how long they live. Text is NUL-terminated after its
 * len bytes (a literal may contain NUL itself: use len).
 */
#ifndef MERPATI_IMAP_ARG_H
#define MERPATI_IMAP_ARG_H

#include "lib/arena.h"
#include "lib/str.h"
#include "protocols/imap/imap_seqset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_NIL,	  /* the atom NIL, any case */
	IMAP_ARG_QUOTED,  /* "..." */
	IMAP_ARG_LITERAL, /* {n} / {n+} / ~{n} */
	IMAP_ARG_LIST,	  /* ( ... ) */
	IMAP_ARG_EOL,	  /* no argument (NULL: past the end of a list) */
};

struct imap_arg;

/* All accessors take NULL (an argument past the end) and then answer
   false / 0 / an empty strv, so calls can be chained. */
enum imap_arg_type imap_arg_type(const struct imap_arg *a);

/* Items of a list (0 for anything else) and item i (NULL past the end). */
size_t imap_arg_count(const struct imap_arg *list);
const struct imap_arg *imap_arg_at(const struct imap_arg *list, size_t i);

/* The bytes of an atom, NIL, quoted string (unescaped) or buffered
   literal; empty for lists and streamed literals. */
struct strv imap_arg_text(const struct imap_arg *a);

bool imap_arg_is_literal8(const struct imap_arg *a);
bool imap_arg_is_streamed(const struct imap_arg *a);
/* Size of a literal (also streamed); 0 for other types. */
uint64_t imap_arg_literal_size(const struct imap_arg *a);

/* The section of a BODY[...] / BINARY[...] atom as a list, or NULL. */
const struct imap_arg *imap_arg_section(const struct imap_arg *a);

/* --- typed getters (RFC 3501 9 names); false when a does not match --- */

bool imap_arg_is_nil(const struct imap_arg *a);
/* atom: a plain atom (ATOM-CHARs only) */
bool imap_arg_get_atom(const struct imap_arg *a, struct strv *atom_r);
/* string: quoted or buffered literal (not literal8) */
bool imap_arg_get_string(const struct imap_arg *a, struct strv *str_r);
/* astring: string or 1*ASTRING-CHAR (NIL included) */
bool imap_arg_get_astring(const struct imap_arg *a, struct strv *str_r);
/* nstring: string or NIL (*str_r empty, *is_nil_r true) */
bool imap_arg_get_nstring(const struct imap_arg *a, struct strv *str_r,
			  bool *is_nil_r);
/* mailbox: astring without NUL; "INBOX" in any case becomes "INBOX" */
bool imap_arg_get_mailbox(const struct imap_arg *a, struct strv *name_r);
/* list-mailbox: 1*list-char ("%", "*", "]" allowed) or string */
bool imap_arg_get_list_mailbox(const struct imap_arg *a, struct strv *pat_r);
/* flag: "\" atom or a keyword atom */
bool imap_arg_get_flag(const struct imap_arg *a, struct strv *flag_r);
/* flag-list "(" [flag *(SP flag)] ")" or, as STORE allows, one flag;
   the array lives in arena. */
bool imap_arg_get_flags(const struct imap_arg *a, struct arena *arena,
			struct strv **flags_r, size_t *count_r);
/* number (0..2^32-1), nz-number (1..2^32-1), number64 (0..2^63-1) */
bool imap_arg_get_number(const struct imap_arg *a, uint32_t *n_r);
bool imap_arg_get_nz_number(const struct imap_arg *a, uint32_t *n_r);
bool imap_arg_get_number64(const struct imap_arg *a, uint64_t *n_r);
/* sequence-set atom (imap_seqset_parse); the set is the caller's */
int imap_arg_get_seqset(const struct imap_arg *a, bool allow_searchres,
			struct imap_seqset **set_r, const char **error_r);
/* date (atom or quoted) and date-time (quoted) as in imap_date.h */
bool imap_arg_get_date(const struct imap_arg *a, time_t *t_r);
bool imap_arg_get_date_time(const struct imap_arg *a, time_t *t_r,
			    int *zone_min_r);

#endif
