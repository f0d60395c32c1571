/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rfc822: header field syntax of RFC 5322 and MIME (RFC 2045, 2231, 2047).
 *
 * A tolerant tokenizer over one unfolded header value (CFWS, atoms,
 * dot-atoms, quoted strings, phrases, domains, MIME tokens and parameters),
 * the address-list parser that ENVELOPE needs, RFC 2231 parameter merging
 * and RFC 2047 encoded-word decoding (for SEARCH). The rules follow
 * Dovecot's lib-mail (rfc822-parser.c, message-address.c, rfc2231-parser.c)
 * so that broken mail gives the answers IMAP clients already know: nothing
 * here rejects input, it only extracts what can be extracted.
 *
 * Tokenizer functions return 1 when more input follows the token (after
 * skipping CFWS), 0 at the end of the input, -1 on a syntax error; they
 * append what they parsed to a struct buf. A NUL inside a quoted string or
 * comment is replaced with RFC822_NUL_REPLACEMENT (U+FFFD, as Dovecot).
 */
#ifndef MERPATI_RFC822_H
#define MERPATI_RFC822_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>

struct arena;

#define RFC822_NUL_REPLACEMENT "\xef\xbf\xbd"

struct rfc822_parser {
	const unsigned char *data, *end;
	struct buf *last_comment; /* NULL: comments are not kept */
};

void rfc822_parser_init(struct rfc822_parser *p, const void *data, size_t len,
			struct buf *last_comment);

/* Skips spaces, tabs, CR, LF and (nested) comments. */
int rfc822_skip_lwsp(struct rfc822_parser *p);
int rfc822_parse_atom(struct rfc822_parser *p, struct buf *out);
int rfc822_parse_dot_atom(struct rfc822_parser *p, struct buf *out);
/* RFC 2045 token (atext without "/", "=", "?"), may be empty. */
int rfc822_parse_mime_token(struct rfc822_parser *p, struct buf *out);
/* At '"': the unquoted content, folding CRLF removed. */
int rfc822_parse_quoted_string(struct rfc822_parser *p, struct buf *out);
/* Words and dots (obs-phrase) joined with single spaces. */
int rfc822_parse_phrase(struct rfc822_parser *p, struct buf *out);
/* At '@': a dot-atom or [domain literal]. */
int rfc822_parse_domain(struct rfc822_parser *p, struct buf *out);
/* "type/subtype" into out (what was parsed, even on -1). */
int rfc822_parse_content_type(struct rfc822_parser *p, struct buf *out);

/* One MIME parameter (name and value, NUL-terminated, arena-owned). */
struct rfc822_param {
	const char *name, *value;
};

/*
 * Parses "; name=value" parameters up to the end (skipping broken ones)
 * and merges RFC 2231 continuations (name*0, name*1*, ...) into one
 * parameter "name" or, when any piece is extended, "name*" with the value
 * kept encoded (charset'language'%XX...), as Dovecot reports it. Returns
 * the count; *params_r is in the arena (NULL when none).
 */
unsigned rfc822_parse_params(struct rfc822_parser *p, struct arena *arena,
			     struct rfc822_param **params_r);

/* One address of an address list (RFC 5322 3.4, with the obsolete forms).
   A group is a start entry (mailbox = group name, domain NULL) and an end
   entry (all NULL). Strings are NUL-terminated in the arena. */
struct rfc822_address {
	struct rfc822_address *next;
	const char *name, *route, *mailbox, *domain;
	bool invalid_syntax;
};

/* Limit of addresses taken from one header field. */
#define RFC822_ADDRESS_MAX 10000

/*
 * Parses an address list. Broken parts become entries with
 * MISSING_MAILBOX, MISSING_DOMAIN or SYNTAX_ERROR in place of what could
 * not be read (Dovecot's fill-missing mode). NULL when there are none.
 */
struct rfc822_address *rfc822_address_parse(struct arena *arena,
					    const void *data, size_t len);

/*
 * RFC 2047: decodes the encoded-words of an unstructured header value into
 * UTF-8 (charsets through iconv; undecodable words stay as they are;
 * whitespace between adjacent encoded-words is dropped) and appends the
 * result to out. Returns 0, or -1 when out is full.
 */
int rfc822_decode_words(const char *data, size_t len, struct buf *out);

#endif
