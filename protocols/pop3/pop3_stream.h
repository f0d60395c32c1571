/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pop3_stream: the framing of a POP3 multi-line response body (RFC 1939
 * 3): a line that starts with '.' gets one more '.', and the response ends
 * with ".\r\n" (after a CRLF when the message's last line had no line
 * end).
 *
 * Its input is the message already converted to CRLF line ends and cut
 * for TOP by storage/msg_stream.h; this adds only what is POP3's own.
 * Resumable: feed the bytes in pieces of any size and the output is the
 * same.
 */
#ifndef MERPATI_POP3_STREAM_H
#define MERPATI_POP3_STREAM_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Public so that a session can embed it; use only the functions. */
struct pop3_stream {
	bool line_start; /* the next byte starts a line */
};

void pop3_stream_init(struct pop3_stream *st);

/* Dot-stuffs in[0..len) and appends it to out (an unlimited buffer). */
void pop3_stream_feed(struct pop3_stream *st, const char *in, size_t len,
		      struct buf *out);

/* Ends the response: the line end the last line lacked, if any, and
   ".\r\n". */
void pop3_stream_finish(struct pop3_stream *st, struct buf *out);

#endif
