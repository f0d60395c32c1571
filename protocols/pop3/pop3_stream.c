#include "protocols/pop3/pop3_stream.h"

#include <stdlib.h>
#include <string.h>

void pop3_stream_init(struct pop3_stream *st, bool top, uint64_t lines)
{
	memset(st, 0, sizeof(*st));
	st->top = top;
	st->body_lines = lines;
	st->line_start = true;
}

static void pop3_stream_append(struct buf *out, const void *data, size_t len)
{
	if (buf_append(out, data, len) < 0)
		abort(); /* out is unlimited */
}

/* A line ended; empty tells whether it had no bytes besides its line end.
   RFC 1939 7 (TOP): the header, the blank line, then n body lines. */
static void pop3_stream_line_done(struct pop3_stream *st, bool empty)
{
	if (!st->in_body) {
		if (!empty)
			return;
		st->in_body = true;
		if (st->top && st->body_lines == 0)
			st->done = true;
		return;
	}
	if (st->top && --st->body_lines == 0)
		st->done = true;
}

size_t pop3_stream_feed(struct pop3_stream *st, const char *in, size_t len,
			struct buf *out)
{
	size_t i = 0;

	while (i < len && !st->done) {
		const char *nl;
		size_t end;
		bool empty;

		if (st->line_start) {
			/* RFC 1939 3: byte-stuff a leading termination octet */
			if (in[i] == '.')
				pop3_stream_append(out, ".", 1);
			st->line_start = false;
			st->line_len = 0;
		}
		nl = memchr(in + i, '\n', len - i);
		end = nl != NULL ? (size_t)(nl - in) : len;
		if (end > i) {
			pop3_stream_append(out, in + i, end - i);
			st->last_cr = in[end - 1] == '\r';
			st->line_len =
				end - i >= 2 || st->line_len >= 1 ? 2 : 1;
		}
		if (nl == NULL)
			return len;
		/* a CRLF stays as it is, a bare LF becomes CRLF */
		pop3_stream_append(out, st->last_cr ? "\n" : "\r\n",
				   st->last_cr ? 1 : 2);
		empty = st->line_len == 0 || (st->line_len == 1 && st->last_cr);
		st->last_cr = false;
		st->line_start = true;
		i = end + 1;
		pop3_stream_line_done(st, empty);
	}
	return i;
}

bool pop3_stream_done(const struct pop3_stream *st)
{
	return st->done;
}

void pop3_stream_finish(struct pop3_stream *st, struct buf *out)
{
	if (!st->line_start && !st->done)
		pop3_stream_append(out, st->last_cr ? "\n" : "\r\n",
				   st->last_cr ? 1 : 2);
	pop3_stream_append(out, ".\r\n", 3);
	st->line_start = true;
	st->done = true;
}
