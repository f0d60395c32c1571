/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/msg_stream.h"

#include "storage/mailbox.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_BUF_SIZE 32768

/* Where we are; copied to compute sizes without moving the stream. */
struct stream_state {
	off_t file_off;	      /* next byte to read from the file */
	char prev;	      /* last input byte consumed */
	bool in_body;	      /* past the empty line */
	unsigned line_bytes;  /* bytes on this line so far, saturating at 2 */
	bool pending_lf;      /* a bare LF's CR went out, its LF not yet */
	bool pending_in_body; /* region of that LF */
	uint64_t out_pos;     /* converted bytes of the part produced so far */
	uint64_t lines;	      /* body lines completed */
	bool eof;
};

struct msg_stream {
	int fd;
	enum msg_part part;
	uint64_t offset, length, max_lines;
	uint64_t file_start, file_end; /* msg_stream_set_file_range() */
	struct stream_state st;
	char buf[STREAM_BUF_SIZE]; /* read-ahead at buf_off */
	off_t buf_off;
	size_t buf_len;
};

struct msg_stream *msg_stream_new_fd(int fd, enum msg_part part)
{
	struct msg_stream *s = xcalloc(1, sizeof(*s));

	s->fd = fd;
	s->part = part;
	s->length = UINT64_MAX;
	s->max_lines = UINT64_MAX;
	s->file_end = UINT64_MAX;
	s->st.prev = '\n';
	return s;
}

int msg_stream_open(struct mailbox *box, unsigned idx, enum msg_part part,
		    struct msg_stream **stream_r, const char **error_r)
{
	int fd;

	if (mailbox_msg_open(box, idx, &fd, error_r) < 0)
		return -1;
	*stream_r = msg_stream_new_fd(fd, part);
	return 0;
}

void msg_stream_set_range(struct msg_stream *s, uint64_t offset,
			  uint64_t length)
{
	s->offset = offset;
	s->length = length;
}

void msg_stream_set_file_range(struct msg_stream *s, uint64_t start,
			       uint64_t end)
{
	s->part = MSG_PART_WHOLE;
	s->file_start = start;
	s->file_end = end;
	s->st.file_off = (off_t)start;
}

void msg_stream_set_body_lines(struct msg_stream *s, uint64_t lines)
{
	s->max_lines = lines;
}

bool msg_stream_is_eof(const struct msg_stream *s)
{
	return s->st.eof;
}

void msg_stream_free(struct msg_stream **sp)
{
	if (*sp == NULL)
		return;
	close((*sp)->fd);
	free(*sp);
	*sp = NULL;
}

/* Bytes of the read-ahead at st->file_off within the file range. */
static ssize_t clip(const struct msg_stream *s, const struct stream_state *st,
		    ssize_t avail)
{
	uint64_t left = s->file_end - (uint64_t)st->file_off;

	return (uint64_t)avail > left ? (ssize_t)left : avail;
}

/* Makes the read-ahead cover st->file_off. Returns the bytes available
   there (0 at the end of the file) or -1 on a read error. */
static ssize_t fill(struct msg_stream *s, const struct stream_state *st)
{
	ssize_t n;

	if ((uint64_t)st->file_off >= s->file_end)
		return 0;
	if (st->file_off >= s->buf_off &&
	    st->file_off < s->buf_off + (off_t)s->buf_len)
		return clip(s, st,
			    s->buf_off + (off_t)s->buf_len - st->file_off);
	do {
		n = pread(s->fd, s->buf, sizeof(s->buf), st->file_off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	s->buf_off = st->file_off;
	s->buf_len = (size_t)n;
	return clip(s, st, n);
}

/* True when the part is over before the next input byte. */
static bool part_done(const struct msg_stream *s, const struct stream_state *st)
{
	if (s->part == MSG_PART_HEADER && st->in_body)
		return true;
	if (st->in_body && st->lines >= s->max_lines)
		return true;
	if (s->length != UINT64_MAX && st->out_pos >= s->offset + s->length)
		return true;
	return false;
}

static bool region_wanted(const struct msg_stream *s, bool in_body)
{
	switch (s->part) {
	case MSG_PART_HEADER:
		return !in_body;
	case MSG_PART_BODY:
		return in_body;
	case MSG_PART_WHOLE:
		break;
	}
	return true;
}

/*
 * Emits converted bytes data[0..len) of one region into out[*n..size)
 * (out NULL: only counts), honouring the byte range. Returns how many of
 * them were taken (all when skipped by region or range offset).
 */
static size_t emit(const struct msg_stream *s, struct stream_state *st,
		   bool in_body, const char *data, size_t len, char *out,
		   size_t size, size_t *n)
{
	size_t taken = 0;

	if (!region_wanted(s, in_body))
		return len;
	if (st->out_pos < s->offset) {
		uint64_t skip = s->offset - st->out_pos;

		taken = skip < len ? (size_t)skip : len;
		st->out_pos += taken;
	}
	while (taken < len && *n < size) {
		size_t k = len - taken;

		if (size - *n < k)
			k = size - *n;
		if (s->length != UINT64_MAX &&
		    s->offset + s->length - st->out_pos < k)
			k = (size_t)(s->offset + s->length - st->out_pos);
		if (k == 0) {
			st->eof = true; /* the range is complete */
			break;
		}
		if (out != NULL)
			memcpy(out + *n, data + taken, k);
		*n += k;
		taken += k;
		st->out_pos += k;
	}
	return taken;
}

/* Line accounting after an input LF. A line is empty when nothing but
   its line end (LF or CRLF) is on it: "\r\r\n" holds a lone CR. */
static void end_line(struct stream_state *st)
{
	bool empty = st->line_bytes == 0 ||
		     (st->line_bytes == 1 && st->prev == '\r');

	if (st->in_body)
		st->lines++;
	else if (empty)
		st->in_body = true; /* the empty line ends the header */
	st->line_bytes = 0;
	st->prev = '\n';
}

/*
 * The engine: fills out (NULL: only counts) with up to size converted
 * bytes. It works on runs of input between line ends, so it copies with
 * memcpy and stops (resumably) at any output byte: a bare LF whose CR
 * went out last waits in pending_lf.
 */
static ssize_t produce(struct msg_stream *s, struct stream_state *st, char *out,
		       size_t size, const char **error_r)
{
	size_t n = 0;

	while (n < size && !st->eof) {
		if (st->pending_lf) {
			if (emit(s, st, st->pending_in_body, "\n", 1, out, size,
				 &n) == 0)
				break;
			st->pending_lf = false;
			continue;
		}
		if (part_done(s, st)) {
			st->eof = true;
			break;
		}
		ssize_t avail = fill(s, st);

		if (avail < 0) {
			log_error("event=msg_read error=\"pread: %s\"",
				  strerror(errno));
			*error_r = "cannot read the message";
			return -1;
		}
		if (avail == 0) {
			st->eof = true;
			break;
		}
		const char *p = s->buf + (st->file_off - s->buf_off);
		const char *nl = memchr(p, '\n', (size_t)avail);
		size_t run = nl != NULL ? (size_t)(nl - p) : (size_t)avail;

		if (run > 0) {
			size_t k =
				emit(s, st, st->in_body, p, run, out, size, &n);

			if (k > 0) {
				st->line_bytes =
					st->line_bytes + k >= 2
						? 2
						: st->line_bytes + (unsigned)k;
				st->prev = p[k - 1];
			}
			st->file_off += (off_t)k;
			continue;
		}
		/* at an LF: a CRLF stays, a bare LF becomes CRLF */
		bool region = st->in_body;

		if (st->prev != '\r') {
			if (emit(s, st, region, "\r", 1, out, size, &n) == 0)
				break;
			st->pending_lf = true;
			st->pending_in_body = region;
		} else if (emit(s, st, region, "\n", 1, out, size, &n) == 0) {
			break;
		}
		st->file_off++;
		end_line(st);
	}
	return (ssize_t)n;
}

ssize_t msg_stream_read(struct msg_stream *s, char *buf, size_t size,
			const char **error_r)
{
	return produce(s, &s->st, buf, size, error_r);
}

int msg_stream_size(struct msg_stream *s, uint64_t *size_r,
		    const char **error_r)
{
	struct stream_state st;
	uint64_t total = 0;
	ssize_t n;

	memset(&st, 0, sizeof(st));
	st.prev = '\n';
	st.file_off = (off_t)s->file_start;
	do {
		n = produce(s, &st, NULL, 1u << 30, error_r);
		if (n < 0)
			return -1;
		total += (uint64_t)n;
	} while (!st.eof);
	*size_r = total;
	return 0;
}
