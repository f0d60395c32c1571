/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msg_stream: a resumable reader of one message, with CRLF line ends.
 *
 * Maildir files usually end lines with a bare LF; POP3 and IMAP must send
 * CRLF. A stream fills a caller's buffer chunk by chunk, turning every bare
 * LF into CRLF (CRLF stays as it is), so a producer can stop at its output
 * high-water mark and call msg_stream_read() again later: all state is in
 * the stream, nothing is ever read whole into memory.
 *
 * Parts (RFC 3501 6.4.5): the whole message, the header (up to and
 * including the empty line that ends it; the whole file if there is none)
 * or the body (after it). A byte range of the converted part (IMAP
 * BODY[]<offset.length>) and a body line limit (POP3 TOP) narrow it. The
 * stream keeps the file open: a rename (flag change) or expunge by another
 * process after msg_stream_open() does not disturb it.
 */
#ifndef MERPATI_MSG_STREAM_H
#define MERPATI_MSG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mailbox;
struct msg_stream;

enum msg_part {
	MSG_PART_WHOLE,
	MSG_PART_HEADER,
	MSG_PART_BODY,
};

/*
 * Opens the idx'th message of box's snapshot. Fails with
 * MAILDIR_ERROR_EXPUNGED (maildir_last_error()) when the file is gone.
 */
int msg_stream_open(struct mailbox *box, unsigned idx, enum msg_part part,
		    struct msg_stream **stream_r, const char **error_r);

/* A stream over an open file descriptor (taken over: closed at free). */
struct msg_stream *msg_stream_new_fd(int fd, enum msg_part part);

/* Only bytes [offset, offset + length) of the converted part; call before
 * the first read. length UINT64_MAX: to the end. */
void msg_stream_set_range(struct msg_stream *stream, uint64_t offset,
			  uint64_t length);

/*
 * Only the file bytes [start, end) (one MIME part, or its header or body,
 * by mime.h's physical offsets), read as a WHOLE part: start must be at
 * the beginning of a line. Combines with msg_stream_set_range(), which
 * then counts converted bytes of this slice. Call before the first read.
 */
void msg_stream_set_file_range(struct msg_stream *stream, uint64_t start,
			       uint64_t end);

/* Ends the body after `lines` lines (POP3 TOP); for WHOLE parts. */
void msg_stream_set_body_lines(struct msg_stream *stream, uint64_t lines);

/*
 * Copies up to size converted bytes into buf. Returns the number copied
 * (less than size only at the end), 0 at the end, or -1 on a read error
 * (logged; reason in *error_r).
 */
ssize_t msg_stream_read(struct msg_stream *stream, char *buf, size_t size,
			const char **error_r);

/* True when every byte has been read. */
bool msg_stream_is_eof(const struct msg_stream *stream);

/*
 * The converted size of the selected part/range/lines (for an IMAP
 * literal's {size}). Reads the file once without moving the stream.
 */
int msg_stream_size(struct msg_stream *stream, uint64_t *size_r,
		    const char **error_r);

/* Closes the file; takes NULL, leaves NULL. */
void msg_stream_free(struct msg_stream **stream);

#endif
