/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3_stream.h"

#include <stdlib.h>
#include <string.h>

void pop3_stream_init(struct pop3_stream *st)
{
	st->line_start = true;
}

static void pop3_stream_append(struct buf *out, const void *data, size_t len)
{
	if (buf_append(out, data, len) < 0)
		abort(); /* out is unlimited */
}

void pop3_stream_feed(struct pop3_stream *st, const char *in, size_t len,
		      struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *nl;
		size_t end;

		/* RFC 1939 3: byte-stuff a leading termination octet */
		if (st->line_start && in[i] == '.')
			pop3_stream_append(out, ".", 1);
		nl = memchr(in + i, '\n', len - i);
		end = nl != NULL ? (size_t)(nl - in) + 1 : len;
		pop3_stream_append(out, in + i, end - i);
		st->line_start = nl != NULL;
		i = end;
	}
}

void pop3_stream_finish(struct pop3_stream *st, struct buf *out)
{
	if (!st->line_start)
		pop3_stream_append(out, "\r\n", 2);
	pop3_stream_append(out, ".\r\n", 3);
	st->line_start = true;
}
