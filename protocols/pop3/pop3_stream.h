/*
 * pop3_stream: turns a Maildir message (LF or CRLF line ends) into the
 * bytes of a POP3 multi-line response body (RFC 1939 3): every line ends in
 * CRLF, a line starting with '.' gets one more '.', and the response ends
 * with ".\r\n" (after a CRLF when the message's last line had no line end).
 *
 * Pure and resumable: feed the file in chunks of any size (a split may fall
 * anywhere, even between CR and LF) and the output is the same. For TOP it
 * stops after the header, the blank line and `lines` body lines.
 *
 * The octets of a whole message, without the dot-stuffing and the final
 * ".\r\n", equal its vsize (every bare LF counted as CRLF) as LIST reports
 * it, unless the last line lacks a line end.
 */
#ifndef MERPATI_POP3_STREAM_H
#define MERPATI_POP3_STREAM_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Public so that a session can embed it; use only the functions. */
struct pop3_stream {
	bool top;	     /* stop after body_lines body lines */
	uint64_t body_lines; /* TOP: body lines still to send */
	bool in_body;	     /* the blank line after the header was seen */
	bool line_start;     /* the next byte starts a line */
	bool last_cr;	     /* the last byte sent was a CR */
	unsigned line_len;   /* bytes of the current line, saturating */
	bool done;	     /* TOP limit reached: stop reading */
};

/* Starts a RETR (top false) or a TOP with `lines` body lines. */
void pop3_stream_init(struct pop3_stream *st, bool top, uint64_t lines);

/*
 * Converts in[0..len) and appends to out (an unlimited buffer). Returns the
 * input bytes used: all of them, or fewer once the TOP limit was reached
 * (then pop3_stream_done() is true and the rest is to be dropped).
 */
size_t pop3_stream_feed(struct pop3_stream *st, const char *in, size_t len,
			struct buf *out);

/* True when a TOP has sent all it should. */
bool pop3_stream_done(const struct pop3_stream *st);

/* At the end of the message (or after done): appends the line end the
   last line lacked, if any, and ".\r\n". */
void pop3_stream_finish(struct pop3_stream *st, struct buf *out);

#endif
