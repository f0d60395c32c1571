/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_arg_private: the argument node, shared by the parser that builds
 * it (imap_parser.c) and the getters (imap_arg.c).
 */
#ifndef MERPATI_IMAP_ARG_PRIVATE_H
#define MERPATI_IMAP_ARG_PRIVATE_H

#include "protocols/imap/imap_arg.h"

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;	  /* ~{n} */
	bool streamed;	  /* literal bytes went to a sink, text is empty */
	struct strv text; /* NUL-terminated copy in the arena */
	uint64_t literal_size;
	struct imap_arg **items; /* LIST: count items */
	size_t count;
	struct imap_arg *section; /* BODY[...] atoms: the bracket's list */
	struct imap_arg *next;	  /* while the parser builds the list */
};

#endif
