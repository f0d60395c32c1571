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
	off_t file_off;	  /* next byte to read from the file */
	char prev;	  /* last input byte */
	bool in_body;	  /* past the empty line */
	bool line_empty;  /* nothing but CR seen on this line yet */
	uint64_t out_pos; /* converted bytes of the part produced so far */
	uint64_t lines;	  /* body lines completed */
	char seq[2];	  /* converted bytes of the current input byte */
	unsigned seq_len, seq_pos;
	bool seq_in_body; /* region of seq */
	bool eof;
};

struct msg_stream {
	int fd;
	enum msg_part part;
	uint64_t offset, length, max_lines;
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
	s->st.line_empty = true;
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

/* The next file byte at st->file_off; 0 at EOF, -1 on error. */
static int next_byte(struct msg_stream *s, struct stream_state *st, char *c_r)
{
	if (st->file_off < s->buf_off ||
	    st->file_off >= s->buf_off + (off_t)s->buf_len) {
		ssize_t n;

		do {
			n = pread(s->fd, s->buf, sizeof(s->buf), st->file_off);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		s->buf_off = st->file_off;
		s->buf_len = (size_t)n;
		if (n == 0)
			return 0;
	}
	*c_r = s->buf[st->file_off - s->buf_off];
	st->file_off++;
	return 1;
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

/* Turns the next input byte into st->seq (bare LF -> CRLF). */
static int convert_next(struct msg_stream *s, struct stream_state *st)
{
	char c;
	int ret = next_byte(s, st, &c);

	if (ret <= 0)
		return ret;
	st->seq_pos = 0;
	st->seq_in_body = st->in_body;
	if (c == '\n' && st->prev != '\r') {
		st->seq[0] = '\r';
		st->seq[1] = '\n';
		st->seq_len = 2;
	} else {
		st->seq[0] = c;
		st->seq_len = 1;
	}
	st->prev = c;
	if (c == '\n') {
		if (st->in_body)
			st->lines++;
		else if (st->line_empty)
			st->in_body = true; /* the empty line ends the header */
		st->line_empty = true;
	} else if (c != '\r') {
		st->line_empty = false;
	}
	return 1;
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

/* The engine: fills out (NULL: only counts) with up to size bytes. */
static ssize_t produce(struct msg_stream *s, struct stream_state *st, char *out,
		       size_t size, const char **error_r)
{
	size_t n = 0;

	while (n < size && !st->eof) {
		if (st->seq_pos == st->seq_len) {
			int ret;

			if (part_done(s, st)) {
				st->eof = true;
				break;
			}
			ret = convert_next(s, st);
			if (ret < 0) {
				log_error("event=msg_read error=\"pread: %s\"",
					  strerror(errno));
				*error_r = "cannot read the message";
				return -1;
			}
			if (ret == 0) {
				st->eof = true;
				break;
			}
			continue;
		}
		char c = st->seq[st->seq_pos++];

		if (!region_wanted(s, st->seq_in_body))
			continue;
		if (s->length != UINT64_MAX &&
		    st->out_pos >= s->offset + s->length) {
			st->eof = true;
			break;
		}
		if (st->out_pos++ < s->offset)
			continue;
		if (out != NULL)
			out[n] = c;
		n++;
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
	st.line_empty = true;
	do {
		n = produce(s, &st, NULL, 1u << 30, error_r);
		if (n < 0)
			return -1;
		total += (uint64_t)n;
	} while (!st.eof);
	*size_r = total;
	return 0;
}
