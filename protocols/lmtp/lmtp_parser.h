/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lmtp_parser: the LMTP (RFC 2033, on RFC 5321's grammar) command line and
 * the DATA stream, without any I/O, so both are unit-tested and fuzzed
 * alone.
 *
 * Commands: lmtp_parser_command() splits one line (without its line end)
 * into the verb and, for MAIL FROM and RCPT TO, the path between the angle
 * brackets and the ESMTP parameters (SIZE= and BODY= are understood; any
 * other parameter is refused, as RFC 5321 4.1.1.11 allows).
 *
 * DATA: lmtp_data_decode() takes the bytes after "354" as they arrive, in
 * pieces of any size, undoes the dot-stuffing (RFC 5321 4.5.2: a leading
 * '.' of a line is dropped) and finds the end "CRLF . CRLF". The decoded
 * bytes keep their line ends as sent. The state lives in a small struct,
 * so a split at any byte gives the same result.
 */
#ifndef MERPATI_LMTP_PARSER_H
#define MERPATI_LMTP_PARSER_H

#include "lib/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest path between '<' and '>' (RFC 5321 4.5.3.1.3: 256 octets). */
#define LMTP_PATH_MAX 256

enum lmtp_verb {
	LMTP_VERB_UNKNOWN,
	LMTP_VERB_LHLO,
	LMTP_VERB_HELO, /* HELO and EHLO: refused in LMTP (RFC 2033 4.1) */
	LMTP_VERB_MAIL,
	LMTP_VERB_RCPT,
	LMTP_VERB_DATA,
	LMTP_VERB_RSET,
	LMTP_VERB_NOOP,
	LMTP_VERB_QUIT,
	LMTP_VERB_VRFY,
};

enum lmtp_body {
	LMTP_BODY_NONE, /* no BODY= parameter */
	LMTP_BODY_7BIT,
	LMTP_BODY_8BITMIME,
};

struct lmtp_command {
	enum lmtp_verb verb;
	struct strv arg;  /* LHLO's domain, the rest of the line otherwise */
	struct strv path; /* MAIL/RCPT: between '<' and '>' (may be empty) */
	bool has_size;	  /* MAIL: SIZE= given */
	uint64_t size;	  /* MAIL: its value */
	enum lmtp_body body;
};

/*
 * Parses line (slices point into it). Returns 0, or -1 with a reply
 * ("501 5.5.4 ..." style text without the line end, static) in *error_r
 * for a malformed MAIL/RCPT or an argument where none belongs. An unknown
 * verb is not an error: verb is LMTP_VERB_UNKNOWN.
 */
int lmtp_parser_command(struct strv line, struct lmtp_command *cmd_r,
			const char **error_r);

enum lmtp_data_state {
	LMTP_DATA_BOL,	  /* at the start of a line */
	LMTP_DATA_MID,	  /* inside a line */
	LMTP_DATA_DOT,	  /* a '.' opened the line */
	LMTP_DATA_DOT_CR, /* ".\r" opened the line */
	LMTP_DATA_END,	  /* the final dot was seen */
};

struct lmtp_data {
	enum lmtp_data_state state;
};

/* Ready for the first byte after "354". */
void lmtp_data_init(struct lmtp_data *data);

/*
 * Decodes up to len bytes of in into out (room for len + 1 bytes: a "\r"
 * held back from the previous piece may come out; not the buffer of in):
 * *used_r bytes of in are consumed, *out_len_r
 * bytes written. Returns true once the terminating ".CRLF" line was
 * consumed (bytes behind it are left unused: the next command), false
 * when more is needed.
 */
bool lmtp_data_decode(struct lmtp_data *data, const char *in, size_t len,
		      char *out, size_t *used_r, size_t *out_len_r);

#endif
