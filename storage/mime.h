/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mime: a streaming MIME parser that builds a message's part tree.
 *
 * The parser is fed a message in chunks of any size (it never reads, and a
 * split at any byte gives the same tree) and produces, for every part
 * (RFC 2045/2046; RFC 3501 6.4.5 section numbering follows the tree):
 * where its header and body start and how big they are, both in file bytes
 * (physical: to seek and stream a section) and with every bare LF counted
 * as CRLF (virtual: what IMAP reports and BODY[]<> offsets use), line
 * counts, the Content-* fields and, for the message and each
 * message/rfc822 part's child, the raw envelope header fields.
 *
 * Broken mail is parsed the way Dovecot's lib-mail parses it, so that
 * BODYSTRUCTURE answers match the reference server: a boundary line is
 * "--" + a boundary of any enclosing multipart as a prefix (the longest
 * match wins; the CRLF before it belongs to the boundary), a closing
 * "--boundary--" ends its multipart, an outer boundary ends inner parts,
 * a boundary inside a header ends that header, missing boundaries leave
 * the rest as the body, a header without Content-Type (or a message
 * without MIME-Version and Content-Type) is text/plain (message/rfc822
 * inside multipart/digest), NULs, bare CRs and 8-bit bytes are data.
 * Nesting stops at MIME_MAX_DEPTH levels and at MIME_MAX_PARTS parts: a
 * deeper multipart or message/rfc822 is then a leaf (its body is data),
 * and after the part limit further boundaries are body text.
 *
 * The tree can be serialised into a compact blob (for the folder cache)
 * and read back; a damaged blob is refused, never trusted.
 */
#ifndef MERPATI_MIME_H
#define MERPATI_MIME_H

#include "lib/buf.h"
#include "lib/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIME_MAX_DEPTH 100	   /* nesting levels below the message */
#define MIME_MAX_PARTS 10000	   /* parts in one message */
#define MIME_FIELD_MAX (64 * 1024) /* bytes kept of one header field */
#define MIME_BOUNDARY_MAX 80	   /* longer boundaries are cut */

enum mime_part_flag {
	MIME_PART_MULTIPART = 0x01, /* has children separated by boundaries */
	MIME_PART_RFC822 = 0x02,    /* message/rfc822 with one child */
	MIME_PART_TEXT = 0x04,	    /* text/... (or the default) */
	MIME_PART_IS_MIME = 0x08,   /* Content-* fields apply */
	MIME_PART_DIGEST = 0x10,    /* multipart/digest */
};

struct mime_size {
	uint64_t physical; /* bytes in the file */
	uint64_t virtual;  /* bytes with every bare LF as CRLF */
	uint64_t lines;	   /* LFs */
};

struct mime_param {
	const char *name, *value;
};

enum mime_env_field {
	MIME_ENV_DATE,
	MIME_ENV_SUBJECT,
	MIME_ENV_FROM,
	MIME_ENV_SENDER,
	MIME_ENV_REPLY_TO,
	MIME_ENV_TO,
	MIME_ENV_CC,
	MIME_ENV_BCC,
	MIME_ENV_IN_REPLY_TO,
	MIME_ENV_MESSAGE_ID,
	MIME_ENV_COUNT
};

/* The last occurrence of each envelope field, unfolded (continuation
   lines joined with "\n", CRs dropped), initial blanks skipped, NULs kept; the address fields (From to Bcc) hold every occurrence joined
   with MIME_ENV_SEPARATOR. p == NULL: the field is absent. */
#define MIME_ENV_SEPARATOR "\n\n"

struct mime_envelope {
	struct strv field[MIME_ENV_COUNT];
};

/*
 * One part; the tree is read-only for users. Strings are NUL-terminated
 * (NULL: the field is absent) and live as long as the message.
 */
struct mime_part {
	struct mime_part *parent, *next, *children;
	unsigned flags;		    /* enum mime_part_flag */
	uint64_t physical_pos;	    /* file offset of the header */
	uint64_t virtual_pos;	    /* the same with bare LFs as CRLF */
	struct mime_size header;    /* including the empty line */
	struct mime_size body;	    /* children and boundaries included */
	const char *type, *subtype; /* Content-Type, as written */
	struct mime_param *params;  /* Content-Type parameters */
	unsigned param_count;
	const char *id, *description, *encoding, *md5, *location;
	const char *disposition; /* Content-Disposition value */
	struct mime_param *disp_params;
	unsigned disp_param_count;
	const char **language;		/* Content-Language tags */
	unsigned language_count;	/* 0: absent */
	struct mime_envelope *envelope; /* message and message/rfc822 child */
};

struct mime_message;
struct mime_parser;

struct mime_parser *mime_parser_new(void);

/* Feeds the next len bytes of the message. */
void mime_parser_feed(struct mime_parser *parser, const void *data, size_t len);

/* Ends the input, frees the parser (NULL after) and returns the tree. */
struct mime_message *mime_parser_finish(struct mime_parser **parser);

/* Parses a whole file from its start. Returns 0 or -1 (*error_r). */
int mime_parse_fd(int fd, struct mime_message **msg_r, const char **error_r);

void mime_message_free(struct mime_message **msg);

/* The message itself (the root part). */
const struct mime_part *mime_message_root(const struct mime_message *msg);

/*
 * The part of an IMAP section number (RFC 3501 6.4.5: "1.2" as {1, 2}):
 * numbers count the children of a multipart; a message/rfc822 part is
 * numbered through to the message it holds; a part that is not a
 * multipart has only the number 1, itself. n == 0 is the message. BODY[n]
 * is the returned part's body: it starts at physical_pos +
 * header.physical (virtual_pos + header.virtual with CRLF line ends).
 * NULL when there is no such part.
 */
const struct mime_part *mime_message_section(const struct mime_message *msg,
					     const unsigned *section, size_t n);

/* Appends the compact form of the tree. Returns 0 or -1 (out full). */
int mime_message_serialize(const struct mime_message *msg, struct buf *out);

/* Reads a serialised tree; NULL when the blob is damaged. */
struct mime_message *mime_message_deserialize(const void *data, size_t len);

#endif
