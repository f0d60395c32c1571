/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for protocols/imap/imap_parser.c (and imap_arg.c's getters).
 *
 * Input: byte 0 picks the settings (bit 0 after login, bit 1 UTF8=ACCEPT,
 * bit 2 pause at literals, bits 3-4 what to do there: buffer, stream,
 * refuse; bit 5 tiny limits so that every limit is reached); byte 1
 * seeds the chunk sizes; the rest is client input.
 *
 * The input is fed whole, in pseudo-random chunks and byte by byte; the
 * three transcripts of events (commands with their argument trees,
 * continuations, literal pauses, error replies) must be equal. Each event
 * is checked: consumed never exceeds what was given, MORE uses every
 * byte, error replies are one CRLF-terminated line "<tag> BAD|NO ..." or
 * "* BYE ...", a fatal error stays fatal, a command's tag and name are
 * made of their characters, the tree stays within the depth and argument
 * limits, only literal8 holds NUL, buffered literals hold their size,
 * streamed ones sent exactly their size to the sink, and the arena stays
 * within what the limits allow.
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "protocols/imap/imap_parser.h"

#include <stdbool.h>
#include <string.h>

enum policy {
	POLICY_BUFFER,
	POLICY_STREAM,
	POLICY_REFUSE,
};

struct run {
	struct imap_parser *p;
	struct imap_parser_settings set;
	enum policy policy;
	struct buf out;
	uint64_t streamed;     /* bytes the sink got for this command */
	uint64_t stream_sizes; /* sizes of streamed literals accepted */
	bool dead;
};

static void put_text(struct buf *b, struct strv s)
{
	buf_printf(b, "%zu:", s.len);
	buf_append(b, s.p, s.len);
}

static bool is_tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* Writes the tree and checks it; returns the number of nodes. */
static size_t put_arg(struct run *run, const struct imap_arg *a, unsigned depth)
{
	struct strv t = imap_arg_text(a);
	size_t nodes = 1;

	FUZZ_CHECK(depth <= run->set.depth_max);
	FUZZ_CHECK(t.p != NULL && t.p[t.len] == '\0');
	switch (imap_arg_type(a)) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_NIL:
		FUZZ_CHECK(t.len > 0);
		/* a BODY[...] section may hold spaces and quoted strings */
		for (size_t i = 0; i < t.len; i++)
			FUZZ_CHECK(imap_arg_section(a) != NULL
					   ? t.p[i] != '\0' && t.p[i] != '\r' &&
						     t.p[i] != '\n'
					   : (unsigned char)t.p[i] > 0x20 &&
						     (unsigned char)t.p[i] <
							     0x7f);
		buf_append_str(&run->out, "A");
		put_text(&run->out, t);
		if (imap_arg_section(a) != NULL) {
			buf_append_str(&run->out, "[");
			nodes += put_arg(run, imap_arg_section(a), depth) - 1;
			buf_append_str(&run->out, "]");
		}
		break;
	case IMAP_ARG_QUOTED:
		FUZZ_CHECK(memchr(t.p, 0, t.len) == NULL);
		FUZZ_CHECK(memchr(t.p, '\r', t.len) == NULL);
		FUZZ_CHECK(memchr(t.p, '\n', t.len) == NULL);
		buf_append_str(&run->out, "Q");
		put_text(&run->out, t);
		break;
	case IMAP_ARG_LITERAL:
		if (imap_arg_is_streamed(a)) {
			FUZZ_CHECK(t.len == 0);
			buf_printf(
				&run->out, "S%llu",
				(unsigned long long)imap_arg_literal_size(a));
			run->stream_sizes += imap_arg_literal_size(a);
			break;
		}
		FUZZ_CHECK(t.len == imap_arg_literal_size(a));
		FUZZ_CHECK(imap_arg_is_literal8(a) ||
			   memchr(t.p, 0, t.len) == NULL);
		buf_append_str(&run->out, imap_arg_is_literal8(a) ? "~" : "L");
		put_text(&run->out, t);
		break;
	case IMAP_ARG_LIST:
		buf_append_str(&run->out, "(");
		for (size_t i = 0; i < imap_arg_count(a); i++)
			nodes += put_arg(run, imap_arg_at(a, i), depth + 1);
		FUZZ_CHECK(imap_arg_at(a, imap_arg_count(a)) == NULL);
		buf_append_str(&run->out, ")");
		break;
	case IMAP_ARG_EOL:
		FUZZ_CHECK(false);
	}
	return nodes;
}

/* The getters must not trip over anything the parser produces. */
static void try_getters(const struct imap_arg *a, struct arena *arena)
{
	struct strv s, *flags;
	size_t n;
	bool nil;
	uint32_t u;
	uint64_t u64;
	time_t t;
	int zone;
	struct imap_seqset *set = NULL;
	const char *error;

	if (imap_arg_get_astring(a, &s))
		FUZZ_CHECK(s.p != NULL);
	if (imap_arg_get_mailbox(a, &s))
		FUZZ_CHECK(memchr(s.p, 0, s.len) == NULL);
	imap_arg_get_nstring(a, &s, &nil);
	imap_arg_get_list_mailbox(a, &s);
	imap_arg_get_flags(a, arena, &flags, &n);
	imap_arg_get_nz_number(a, &u);
	imap_arg_get_number64(a, &u64);
	imap_arg_get_date(a, &t);
	imap_arg_get_date_time(a, &t, &zone);
	if (imap_arg_get_seqset(a, true, &set, &error) == 0) {
		imap_seqset_resolve(set, 100);
		imap_seqset_free(&set);
	}
}

static void on_command(struct run *run)
{
	const struct imap_arg *args = imap_parser_args(run->p);
	struct strv tag = imap_parser_tag(run->p);
	struct strv name = imap_parser_name(run->p);
	size_t nodes = 0;

	FUZZ_CHECK(tag.len > 0 && tag.len <= IMAP_PARSER_TAG_MAX);
	for (size_t i = 0; i < tag.len; i++)
		FUZZ_CHECK(is_tag_char((unsigned char)tag.p[i]));
	FUZZ_CHECK(name.len > 0);
	buf_append_str(&run->out, "C");
	put_text(&run->out, tag);
	put_text(&run->out, name);
	FUZZ_CHECK(imap_arg_type(args) == IMAP_ARG_LIST);
	run->stream_sizes = 0;
	for (size_t i = 0; i < imap_arg_count(args); i++) {
		nodes += put_arg(run, imap_arg_at(args, i), 0);
		try_getters(imap_arg_at(args, i), imap_parser_arena(run->p));
	}
	FUZZ_CHECK(nodes <= run->set.args_max);
	FUZZ_CHECK(run->streamed == run->stream_sizes);
	run->streamed = 0;
	buf_append_str(&run->out, "\n");
}

static void sink(void *ctx, const void *data, size_t len)
{
	struct run *run = ctx;

	FUZZ_CHECK(data != NULL && len > 0);
	run->streamed += len;
}

static void on_error(struct run *run)
{
	const struct imap_parser_error *e = imap_parser_error(run->p);
	size_t start = run->out.len;
	const char *line;
	size_t len;

	FUZZ_CHECK(imap_parser_error_reply(run->p, &run->out) == 0);
	line = run->out.data + start;
	len = run->out.len - start;
	FUZZ_CHECK(len > 4 && line[len - 2] == '\r' && line[len - 1] == '\n');
	FUZZ_CHECK(memchr(line, '\r', len - 2) == NULL);
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
	if (e->class == IMAP_PARSER_ERR_FATAL) {
		size_t used = 1;

		FUZZ_CHECK(memcmp(line, "* BYE ", 6) == 0);
		FUZZ_CHECK(imap_parser_feed(run->p, "x", 1, &used) ==
			   IMAP_PARSER_ERROR);
		FUZZ_CHECK(used == 0);
		run->dead = true;
		return;
	}
	FUZZ_CHECK(strcmp(e->status, "BAD") == 0 ||
		   strcmp(e->status, "NO") == 0);
	FUZZ_CHECK(e->tag.len > 0 && e->tag.len <= IMAP_PARSER_TAG_MAX);
	run->streamed = 0; /* a failed command's stream is dropped */
}

static void on_literal(struct run *run)
{
	struct imap_parser_literal info;

	imap_parser_literal_info(run->p, &info);
	FUZZ_CHECK(info.size <= run->set.literal_max);
	FUZZ_CHECK(info.depth <= run->set.depth_max);
	buf_printf(&run->out, "P%llu%c%c%u,%zu,%zu\n",
		   (unsigned long long)info.size, info.nonsync ? '+' : '-',
		   info.literal8 ? '~' : '-', info.depth, info.index,
		   info.top_index);
	if (run->policy == POLICY_REFUSE) {
		imap_parser_literal_refuse(run->p);
		return;
	}
	if (imap_parser_literal_accept(
		    run->p, run->policy == POLICY_STREAM ? sink : NULL, run) <
	    0)
		on_error(run);
}

static void feed(struct run *run, const uint8_t *data, size_t len)
{
	while (!run->dead) {
		size_t used = len + 1;
		int r = imap_parser_feed(run->p, data, len, &used);

		FUZZ_CHECK(used <= len);
		data += used;
		len -= used;
		FUZZ_CHECK(arena_used(imap_parser_arena(run->p)) <=
			   4 * run->set.line_max + run->set.buffer_max +
				   (size_t)run->set.args_max * 160 + 65536);
		switch (r) {
		case IMAP_PARSER_MORE:
			FUZZ_CHECK(len == 0);
			return;
		case IMAP_PARSER_COMMAND:
			on_command(run);
			break;
		case IMAP_PARSER_CONTINUE:
			buf_append_str(&run->out, "+\n");
			break;
		case IMAP_PARSER_LITERAL:
			FUZZ_CHECK(run->set.pause_at_literals);
			on_literal(run);
			break;
		case IMAP_PARSER_ERROR:
			on_error(run);
			break;
		default:
			FUZZ_CHECK(false);
		}
	}
}

static void settings(uint8_t flags, struct imap_parser_settings *set)
{
	imap_parser_settings_default(set, (flags & 1) != 0);
	set->utf8 = (flags & 2) != 0;
	set->pause_at_literals = (flags & 4) != 0;
	if ((flags & 32) != 0) {
		set->line_max = 64;
		set->literal_max = 40;
		set->buffer_max = 48;
		set->depth_max = 3;
		set->args_max = 12;
	}
}

/* chunk 0: whole, 1: byte by byte, else chunk sizes from seed */
static void run_once(uint8_t flags, uint8_t seed, const uint8_t *in, size_t len,
		     int how, struct buf *out)
{
	struct run run = {.policy = (enum policy)((flags >> 3) & 3)};
	uint32_t x = seed * 2654435761u + 1;

	if (run.policy > POLICY_REFUSE)
		run.policy = POLICY_BUFFER;
	settings(flags, &run.set);
	run.p = imap_parser_new(&run.set);
	buf_init(&run.out, BUF_UNLIMITED);
	if (how == 0) {
		feed(&run, in, len);
	} else {
		for (size_t pos = 0; pos < len;) {
			size_t n = 1;

			if (how == 2) {
				x = x * 1103515245u + 12345u;
				n = 1 + (x >> 16) % 37;
			}
			if (n > len - pos)
				n = len - pos;
			feed(&run, in + pos, n);
			pos += n;
		}
	}
	feed(&run, in + len, 0);
	imap_parser_free(&run.p);
	*out = run.out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole, chunks, bytes;

	if (size < 2)
		return 0;
	run_once(data[0], data[1], data + 2, size - 2, 0, &whole);
	run_once(data[0], data[1], data + 2, size - 2, 2, &chunks);
	FUZZ_CHECK(whole.len == chunks.len &&
		   (whole.len == 0 ||
		    memcmp(whole.data, chunks.data, whole.len) == 0));
	if (size < 8192) {
		run_once(data[0], data[1], data + 2, size - 2, 1, &bytes);
		FUZZ_CHECK(whole.len == bytes.len &&
			   (whole.len == 0 ||
			    memcmp(whole.data, bytes.data, whole.len) == 0));
		buf_free(&bytes);
	}
	buf_free(&whole);
	buf_free(&chunks);
	return 0;
}
