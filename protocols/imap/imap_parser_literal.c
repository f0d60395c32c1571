/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_parser_literal: literals for imap_parser.c - the size checks
 * before a continuation, pausing, buffering or streaming the bytes - and
 * the watch that finds a bad command's literal headers so that their
 * bytes are skipped by count instead of being run as commands.
 */
#include "protocols/imap/imap_parser_private.h"

#include <assert.h>
#include <string.h>

/* --- the literal-header watch --- */

uint64_t imap_parser_add_digit(uint64_t n, char c)
{
	uint64_t d = (uint64_t)(c - '0');

	return n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
}

void imap_parser_scan_byte(struct imap_parser *p, unsigned char c)
{
	if (c == '{') {
		p->scan = IMAP_PARSER_SCAN_DIGITS;
		p->scan_size = 0;
		p->scan_plus = false;
		p->scan_digits = false;
	} else if (c >= '0' && c <= '9' && p->scan == IMAP_PARSER_SCAN_DIGITS) {
		p->scan_size = imap_parser_add_digit(p->scan_size, (char)c);
		p->scan_digits = true;
	} else if (c == '+' && p->scan == IMAP_PARSER_SCAN_DIGITS &&
		   p->scan_digits) {
		p->scan = IMAP_PARSER_SCAN_PLUS;
	} else if (c == '}' && p->scan_digits &&
		   (p->scan == IMAP_PARSER_SCAN_DIGITS ||
		    p->scan == IMAP_PARSER_SCAN_PLUS)) {
		p->scan_plus = p->scan == IMAP_PARSER_SCAN_PLUS;
		p->scan = IMAP_PARSER_SCAN_CLOSED;
	} else {
		p->scan = IMAP_PARSER_SCAN_NONE;
	}
}

/*
 * The end of a line while skipping: the bad command ends here, unless the
 * line ends in a non-synchronizing literal whose bytes follow. (After a
 * synchronizing one the client waits for a "+" that never comes, and its
 * next byte starts a new command.) The header is recognised wherever it
 * stands, even inside a broken token: when in doubt, never run bytes that
 * may have been meant as literal data.
 */
int imap_parser_skip_line_end(struct imap_parser *p)
{
	bool nonsync = p->scan == IMAP_PARSER_SCAN_CLOSED && p->scan_plus;

	p->scan = IMAP_PARSER_SCAN_NONE;
	if (!nonsync) {
		p->state = IMAP_PARSER_ST_START;
		return IMAP_PARSER_MORE;
	}
	if (p->scan_size > p->set.literal_max)
		return imap_parser_fatal(p, "Literal too big to skip");
	p->lit_left = p->scan_size;
	p->state = IMAP_PARSER_ST_SKIP_LIT;
	return IMAP_PARSER_MORE;
}

/* --- literals --- */

/* Refusal of the literal whose header was just read; a synchronizing one
   is answered with sync_status (NO for a size, BAD for syntax). */
static int literal_refused(struct imap_parser *p, const char *sync_status,
			   const char *code, const char *reason)
{
	if (!p->lit_plus) {
		/* the client sends nothing more of this command */
		imap_parser_fail(p, IMAP_PARSER_ERR_COMMAND, sync_status, code,
				 reason);
		p->state = IMAP_PARSER_ST_START;
		return IMAP_PARSER_ERROR;
	}
	if (p->lit_size > p->set.literal_max)
		return imap_parser_fatal(p, reason);
	imap_parser_fail(p, IMAP_PARSER_ERR_COMMAND, "BAD", code, reason);
	p->lit_left = p->lit_size;
	p->state = IMAP_PARSER_ST_SKIP_LIT;
	return IMAP_PARSER_ERROR;
}

/* Sets up the data phase; buffer NULL sink means memory. */
static int literal_take(struct imap_parser *p, imap_parser_sink_fn *sink,
			void *ctx)
{
	struct imap_arg *a;

	if (sink == NULL && p->lit_size > p->set.buffer_max - p->buffered)
		return literal_refused(p, "NO", "TOOBIG", "Literal too big");
	a = imap_parser_new_arg(p, IMAP_ARG_LITERAL);
	if (a == NULL)
		return literal_refused(p, "BAD", "LIMIT", "Too many arguments");
	a->literal8 = p->lit8;
	a->literal_size = p->lit_size;
	a->streamed = sink != NULL;
	p->lit_arg = a;
	p->sink = sink;
	p->sink_ctx = ctx;
	p->lit_buf = NULL;
	if (sink == NULL) {
		p->buffered += p->lit_size;
		p->lit_buf = arena_alloc(p->arena, (size_t)p->lit_size + 1);
		p->lit_buf[p->lit_size] = '\0';
		a->text = (struct strv){p->lit_buf, (size_t)p->lit_size};
	}
	p->lit_left = p->lit_size;
	if (p->lit_plus) {
		p->state = IMAP_PARSER_ST_LIT_DATA;
		return IMAP_PARSER_MORE;
	}
	p->state = IMAP_PARSER_ST_LIT_DATA;
	return IMAP_PARSER_CONTINUE;
}

/* "{n}" CRLF read: check the size, then pause or take the bytes. */
int imap_parser_literal_header(struct imap_parser *p)
{
	if (p->lit_plus && !p->set.literal_plus) {
		if (!p->set.literal_minus)
			return literal_refused(
				p, "BAD", NULL,
				"Non-synchronizing literals not allowed");
		if (p->lit_size > IMAP_PARSER_LITERAL_MINUS_MAX)
			return literal_refused(
				p, "BAD", "TOOBIG",
				"Non-synchronizing literal over 4096 bytes");
	}
	if (p->lit_size > p->set.literal_max)
		return literal_refused(p, "NO", "TOOBIG", "Literal too big");
	if (p->set.pause_at_literals) {
		p->state = IMAP_PARSER_ST_LIT_PAUSE;
		return IMAP_PARSER_LITERAL;
	}
	return literal_take(p, NULL, NULL);
}

void imap_parser_literal_info(const struct imap_parser *p,
			      struct imap_parser_literal *info_r)
{
	const struct imap_parser_frame *t = &p->frames[p->nframes - 1];

	assert(p->state == IMAP_PARSER_ST_LIT_PAUSE);
	*info_r = (struct imap_parser_literal){
		.size = p->lit_size,
		.nonsync = p->lit_plus,
		.literal8 = p->lit8,
		.tag = p->tag,
		.name = p->name,
		.depth = p->nframes - 1,
		.index = t->list->count,
		.top_index = p->nframes == 1 ? t->list->count
					     : p->frames[0].list->count - 1,
	};
}

const struct imap_arg *imap_parser_literal_top_arg(const struct imap_parser *p,
						   size_t i)
{
	const struct imap_arg *a;

	assert(p->state == IMAP_PARSER_ST_LIT_PAUSE);
	for (a = p->frames[0].first; a != NULL && i > 0; a = a->next)
		i--;
	return a;
}

int imap_parser_literal_accept(struct imap_parser *p, imap_parser_sink_fn *sink,
			       void *ctx)
{
	int r;

	assert(p->state == IMAP_PARSER_ST_LIT_PAUSE);
	r = literal_take(p, sink, ctx);
	if (r == IMAP_PARSER_ERROR)
		return -1;
	if (r == IMAP_PARSER_CONTINUE)
		p->state = IMAP_PARSER_ST_LIT_CONT;
	return 0;
}

void imap_parser_literal_refuse(struct imap_parser *p)
{
	assert(p->state == IMAP_PARSER_ST_LIT_PAUSE);
	if (p->lit_plus) {
		p->lit_left = p->lit_size;
		p->state = IMAP_PARSER_ST_SKIP_LIT;
	} else {
		p->state = IMAP_PARSER_ST_START;
	}
}

/* Literal bytes from data; returns how many were used. */
size_t imap_parser_literal_data(struct imap_parser *p,
				const unsigned char *data, size_t len,
				int *ret_r)
{
	size_t n = len < p->lit_left ? len : (size_t)p->lit_left;
	const unsigned char *nul =
		p->lit8 || n == 0 ? NULL : memchr(data, 0, n);

	*ret_r = IMAP_PARSER_MORE;
	if (nul != NULL) {
		/* RFC 3501 9: CHAR8 excludes NUL outside literal8 */
		n = (size_t)(nul - data) + 1;
		p->lit_left -= n;
		*ret_r = imap_parser_bad(p, "NUL in literal");
		p->state = IMAP_PARSER_ST_SKIP_LIT;
		return n;
	}
	if (n > 0 && p->sink != NULL)
		p->sink(p->sink_ctx, data, n);
	else if (n > 0)
		memcpy(p->lit_buf + (p->lit_size - p->lit_left), data, n);
	p->lit_left -= n;
	if (p->lit_left == 0) {
		imap_parser_append_arg(p, p->lit_arg);
		p->state = IMAP_PARSER_ST_ARGS;
		p->need_sep = true;
	}
	return n;
}
