/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_parser_private: what the parser's two files share: imap_parser.c
 * (the feed loop, tokens, the argument tree) and imap_parser_literal.c
 * (literal headers and data, skipping a bad command's rest).
 */
#ifndef MERPATI_IMAP_PARSER_PRIVATE_H
#define MERPATI_IMAP_PARSER_PRIVATE_H

#include "protocols/imap/imap_arg_private.h"
#include "protocols/imap/imap_parser.h"

enum imap_parser_state {
	IMAP_PARSER_ST_START, /* nothing of a command yet: the next feed starts afresh */
	IMAP_PARSER_ST_TAG,
	IMAP_PARSER_ST_NAME,
	IMAP_PARSER_ST_ARGS, /* between arguments */
	IMAP_PARSER_ST_ATOM,
	IMAP_PARSER_ST_QUOTED,
	IMAP_PARSER_ST_QUOTED_ESC,
	IMAP_PARSER_ST_LIT_TILDE, /* "~" at an argument's start (BINARY) */
	IMAP_PARSER_ST_LIT_SIZE,  /* "{" and digits */
	IMAP_PARSER_ST_LIT_PLUS,  /* "{n+": "}" must follow */
	IMAP_PARSER_ST_LIT_END,	  /* "{n}": CRLF must follow */
	IMAP_PARSER_ST_LIT_PAUSE, /* waiting for literal_accept() or literal_refuse() */
	IMAP_PARSER_ST_LIT_CONT, /* accepted synchronizing literal: say CONTINUE */
	IMAP_PARSER_ST_LIT_DATA,
	IMAP_PARSER_ST_DONE,	 /* a command was returned */
	IMAP_PARSER_ST_SKIP_LIT, /* discarding a refused literal's bytes */
	IMAP_PARSER_ST_SKIP_LINE, /* discarding the rest of a bad command's line */
	IMAP_PARSER_ST_FATAL,
};

/* The states in which bytes belong to the command text (line buffer). */
#define IMAP_PARSER_IN_LINE(s) \
	((s) >= IMAP_PARSER_ST_TAG && (s) <= IMAP_PARSER_ST_LIT_END)

/* A "{digits[+]}" at the end of a line, watched in every state so that
   a bad command's literal is still recognised (and skipped) after an
   error anywhere before it. */
enum imap_parser_scan {
	IMAP_PARSER_SCAN_NONE,
	IMAP_PARSER_SCAN_DIGITS, /* "{" and maybe digits */
	IMAP_PARSER_SCAN_PLUS,	 /* "{n+" */
	IMAP_PARSER_SCAN_CLOSED, /* "{n}" or "{n+}" */
};

struct imap_parser_frame {
	struct imap_arg *list;	       /* the LIST node being filled */
	struct imap_arg *first, *last; /* its items, chained by next */
	bool section;	   /* "[...]" of a BODY[ atom, closed by "]" */
	size_t atom_start; /* section: where its atom starts in line */
};

struct imap_parser {
	struct imap_parser_settings set, next_set;
	struct arena *arena; /* the command: tag, name, args, literals */
	struct buf line;     /* command bytes except CR, LF, literal data */
	enum imap_parser_state state;
	bool cr;	 /* a CR was seen, LF must follow */
	bool need_sep;	 /* an argument just ended: SP or a closer next */
	struct strv tag; /* in arena once read */
	struct strv name;
	size_t tok_start; /* offset in line of the token being read */
	struct imap_parser_frame *frames; /* depth_max + 1, [0] the top level */
	unsigned nframes;
	unsigned nargs;
	uint64_t buffered;	      /* literal bytes kept in memory */
	struct imap_arg *section_arg; /* closed section of the current atom */
	struct imap_arg *args;	      /* the top-level list when done */
	/* the literal being read */
	uint64_t lit_size, lit_left;
	bool lit_plus, lit8;
	bool scan_plus, scan_digits;
	struct imap_arg *lit_arg;
	char *lit_buf;		   /* NULL when streamed */
	imap_parser_sink_fn *sink; /* NULL when buffered */
	void *sink_ctx;
	/* literal-header watch */
	enum imap_parser_scan scan;
	uint64_t scan_size;
	struct imap_parser_error err;
};

/* imap_parser.c: record an error (class, "BAD"/"NO"/"BYE", code or NULL,
   fixed reason) and move to skipping or to the fatal state; return
   IMAP_PARSER_ERROR. */
int imap_parser_fail(struct imap_parser *p, enum imap_parser_error_class c,
		     const char *status, const char *code, const char *reason);
int imap_parser_bad(struct imap_parser *p, const char *reason);
int imap_parser_fatal(struct imap_parser *p, const char *reason);

/* imap_parser.c: a node in the arena, NULL when args_max is reached; and
   appending one to the innermost open list. */
struct imap_arg *imap_parser_new_arg(struct imap_parser *p,
				     enum imap_arg_type t);
void imap_parser_append_arg(struct imap_parser *p, struct imap_arg *a);

/* imap_parser_literal.c: n * 10 + digit c, saturating at UINT64_MAX. */
uint64_t imap_parser_add_digit(uint64_t n, char c);

/* imap_parser_literal.c: the literal-header watch, fed every byte outside
   literal data except CR and LF. */
void imap_parser_scan_byte(struct imap_parser *p, unsigned char c);

/* imap_parser_literal.c: a line's LF while skipping a bad command. */
int imap_parser_skip_line_end(struct imap_parser *p);

/* imap_parser_literal.c: "{n}" CRLF was read: check, pause or take. */
int imap_parser_literal_header(struct imap_parser *p);

/* imap_parser_literal.c: literal bytes; returns how many were used and
   sets *ret_r to IMAP_PARSER_MORE or IMAP_PARSER_ERROR. */
size_t imap_parser_literal_data(struct imap_parser *p,
				const unsigned char *data, size_t len,
				int *ret_r);

#endif
