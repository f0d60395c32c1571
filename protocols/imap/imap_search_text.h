/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_search_text: the text side of SEARCH (RFC 3501 6.4.4): streaming
 * decoders and a case-insensitive substring matcher with bounded memory.
 *
 * A body is searched the way it reads to a person: the content transfer
 * encoding (base64, quoted-printable) is undone, the part's charset is
 * converted to UTF-8 through iconv (a charset iconv does not know is
 * searched as raw bytes), and both the text and the key are case-folded
 * before a plain substring search. Every stage is fed chunks of any size
 * and keeps only a few bytes of state between chunks, so a 50 MB part is
 * searched with a few kilobytes of memory.
 *
 * Case folding (imap_search_text_fold): ASCII A-Z, Latin-1 and Latin
 * Extended-A capitals, Greek capitals (with tonos; final sigma folds to
 * sigma) and Cyrillic capitals (U+0400-U+052F) become their simple
 * lowercase letter (U+0130 becomes "i"); everything else, invalid UTF-8
 * included, is kept byte for byte. No normalisation or accent stripping:
 * "cafe" does not find "café" (doc/imap.md, SEARCH).
 */
#ifndef MERPATI_IMAP_SEARCH_TEXT_H
#define MERPATI_IMAP_SEARCH_TEXT_H

#include "lib/arena.h"
#include "lib/buf.h"

#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Appends the folded form of in[0..len) to out. A UTF-8 sequence cut at
 * the end of in is not folded: the number of bytes used is returned and
 * the caller passes the rest again with the next chunk (at most 3 bytes),
 * or with final set everything is used. out must have room for len bytes
 * (folding never makes text longer); returns the bytes used.
 */
size_t imap_search_text_fold(const void *in, size_t len, bool final,
			     struct buf *out);

/* Content-Transfer-Encoding decoders. */
enum imap_search_cte {
	IMAP_SEARCH_CTE_NONE,	 /* absent, 7bit, 8bit, binary */
	IMAP_SEARCH_CTE_UNKNOWN, /* anything else: the body is not text */
	IMAP_SEARCH_CTE_BASE64,
	IMAP_SEARCH_CTE_QP,
};

struct imap_search_decoder {
	enum imap_search_cte cte;
	unsigned bits;	     /* base64: bits collected */
	unsigned nbits;	     /* base64: how many */
	int qp_state;	     /* quoted-printable: where in an "=XY" or "=\n" */
	unsigned char qp_hi; /* quoted-printable: the X of "=XY" */
};

/* The decoder for a Content-Transfer-Encoding value (NULL: none). An
   unknown encoding (also an empty value) gives IMAP_SEARCH_CTE_UNKNOWN,
   whose bytes the caller should not search (RFC 2045 6.4: such a body
   cannot be interpreted); the decoder then passes them as they are. */
void imap_search_decoder_init(struct imap_search_decoder *d,
			      const char *encoding);

/* Decodes in and appends to out (room for len bytes needed: decoding never
   grows). Bytes a decoder cannot use (bad base64 characters, a broken
   "=XY") are skipped or kept as they are, as mail readers do. */
void imap_search_decoder_feed(struct imap_search_decoder *d, const void *in,
			      size_t len, struct buf *out);

/* The end of the part: what a decoder still holds (a cut "=X") goes to
   out as it is. */
void imap_search_decoder_finish(struct imap_search_decoder *d, struct buf *out);

/* Charset conversion to UTF-8. */
struct imap_search_charset {
	iconv_t cd;	       /* (iconv_t)-1: bytes pass as they are */
	unsigned char hold[8]; /* a multibyte character cut by a chunk */
	size_t held;
};

/*
 * Opens the conversion from charset (NULL, "", US-ASCII and UTF-8 need
 * none). Returns 0, or -1 when iconv does not know the charset (the
 * bytes then pass unconverted). Close with imap_search_charset_close().
 */
int imap_search_charset_open(struct imap_search_charset *cs,
			     const char *charset);
void imap_search_charset_close(struct imap_search_charset *cs);

/* Converts in and appends to out; an invalid sequence becomes U+FFFD.
   out grows up to its max (4 output bytes per input byte at most plus
   3 per invalid byte); the caller feeds pieces small enough. */
void imap_search_charset_feed(struct imap_search_charset *cs, const void *in,
			      size_t len, struct buf *out);

/* True for the charsets a SEARCH key may be given in (RFC 3501 6.4.4:
   US-ASCII, and UTF-8 as every server must take it). */
bool imap_search_charset_key_ok(const char *name, size_t len);

/*
 * A streaming substring matcher for one folded key: it keeps the last
 * len - 1 bytes of the text so that a match across chunks is found.
 */
struct imap_search_matcher {
	const char *key; /* folded, in the command's arena */
	size_t len;	 /* > 0 */
	char *tail;	 /* len - 1 bytes of room */
	char *scratch;	 /* 2 * (len - 1) bytes: tail + next chunk's start */
	size_t tail_len;
	bool found;
};

/* key is folded here; an empty key matches at once. */
void imap_search_matcher_init(struct imap_search_matcher *m,
			      struct arena *arena, const char *key, size_t len);
/* Forget the text so far (a new part begins); found stays. */
void imap_search_matcher_reset(struct imap_search_matcher *m);
/* Forget the text and the result (a new message). */
void imap_search_matcher_restart(struct imap_search_matcher *m);
/* Searches the next chunk of folded text; returns m->found. */
bool imap_search_matcher_feed(struct imap_search_matcher *m, const void *text,
			      size_t len);

#endif
