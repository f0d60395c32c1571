/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What storage/mime.c, mime_header.c and mime_serialize.c share. */
#ifndef MERPATI_MIME_PRIVATE_H
#define MERPATI_MIME_PRIVATE_H

#include "storage/mime.h"

#include "lib/buf.h"

struct arena;

struct mime_message {
	struct arena *arena; /* every part and string */
	struct mime_part *root;
};

struct mime_message *mime_message_new(void);

/* The parser's state (mime.c), shared with mime_header.c. */
struct mime_boundary {
	struct mime_boundary *next; /* the enclosing multipart's */
	struct mime_part *part;
	const char *text;
	size_t len;
};

enum mime_parse_state {
	MIME_STATE_HEADER,
	MIME_STATE_BODY,
};

struct mime_parser {
	struct mime_message *msg;
	struct arena *arena;
	struct mime_part *part; /* the part being parsed */
	unsigned depth;		/* of part; the message is 0 */
	unsigned parts;		/* created, the message not counted */
	struct mime_boundary *boundaries;
	enum mime_parse_state state;

	uint64_t physical, virtual; /* bytes counted so far */
	unsigned char prev;	    /* the last byte counted */

	/* the current line */
	struct buf line;   /* header: its bytes; body: held bytes */
	uint64_t line_len; /* header: bytes so far, without the LF */
	unsigned char line_last;
	bool line_started;	/* body: the line's kind is decided */
	struct mime_part *rest; /* body: the line is a boundary line whose
				   rest belongs to this part */
	bool rest_new_part;	/* after it, a new part starts */
	unsigned pending_nl;	/* body: 0, 1 ("\n") or 2 ("\r\n") */
	bool held_cr;		/* body: a CR not yet counted */

	/* header */
	struct buf field;   /* the field being collected, unfolded */
	size_t field_first; /* bytes of its first line */
	bool in_field;
	unsigned prev_hdr_nl; /* newline bytes of the last header line */
	bool seen_content_type;
	char *last_boundary;		/* from this header's Content-Type */
	struct buf env[MIME_ENV_COUNT]; /* envelope fields of this header */
	bool env_seen[MIME_ENV_COUNT];
	bool has_env;
};

/* mime_header.c: the header fields of the part being parsed. */
/* One header line (its content, without the line end). */
void mime_header_field_line(struct mime_parser *p, const char *data,
			    size_t len);
/* The field collected so far is complete: apply it. */
void mime_header_field_done(struct mime_parser *p);
/* The header ended: its envelope fields go into the part. */
void mime_header_envelope_commit(struct mime_parser *p);

#endif
