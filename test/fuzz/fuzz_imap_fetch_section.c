/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the FETCH section and partial parser
 * (imap_fetch_section_parse() in protocols/imap/imap_fetch_body.c):
 * BODY[1.2.HEADER.FIELDS (...)]<0.100> and every other section form.
 *
 * Input: FETCH items, parsed as "f FETCH 1 <input>" by imap_parser (the
 * section's list comes from there, as in the server). Every atom with a
 * section, at any depth, goes to the section parser. For each one that
 * parses: the kind fits the keyword (MIME only after part numbers, field
 * names only with HEADER.FIELDS[.NOT], at least one), part numbers are
 * >= 1, the response name is "BODY[...]" without the partial, a partial
 * was written as <offset.length>; and the canonical form (the response
 * name, BODY.PEEK if it was one, the partial) parses again to the same
 * section. A refusal has a reason.
 */
#include "fuzz.h"

#include "lib/buf.h"
#include "protocols/imap/imap_arg.h"
#include "protocols/imap/imap_fetch_private.h"
#include "protocols/imap/imap_parser.h"

#include <string.h>
#include <strings.h>

#define PREFIX "f FETCH 1 "

/* Parses text as a whole command; the parser or NULL. */
static struct imap_parser *parse_line(const char *text, size_t len)
{
	struct imap_parser_settings set;
	struct imap_parser *p;
	size_t used = 0;

	imap_parser_settings_default(&set, true);
	p = imap_parser_new(&set);
	if (imap_parser_feed(p, text, len, &used) != IMAP_PARSER_COMMAND) {
		imap_parser_free(&p);
		return NULL;
	}
	return p;
}

static bool same_section(const struct imap_fetch_section *a,
			 const struct imap_fetch_section *b)
{
	if (a->kind != b->kind || a->part_count != b->part_count ||
	    a->field_count != b->field_count || a->partial != b->partial ||
	    strcmp(a->name, b->name) != 0)
		return false;
	if (a->partial && (a->offset != b->offset || a->length != b->length))
		return false;
	for (size_t i = 0; i < a->part_count; i++)
		if (a->part[i] != b->part[i])
			return false;
	for (size_t i = 0; i < a->field_count; i++)
		if (a->fields[i].len != b->fields[i].len ||
		    strncasecmp(a->fields[i].p, b->fields[i].p,
				a->fields[i].len) != 0)
			return false;
	return true;
}

/* The canonical form of sec parses to the same section. */
static void check_reparse(const struct imap_fetch_section *sec, bool peek)
{
	struct buf line;
	struct imap_parser *p;
	const struct imap_arg *args, *a;
	struct imap_fetch_section again;
	const char *error;
	bool peek2;

	/* a field name written as a literal needs a second round trip */
	if (strchr(sec->name, '{') != NULL)
		return;
	buf_init(&line, BUF_UNLIMITED);
	buf_append_str(&line, PREFIX);
	buf_append_str(&line, peek ? "BODY.PEEK" : "BODY");
	buf_append_str(&line, sec->name + 4);
	if (sec->partial)
		buf_printf(&line, "<%llu.%llu>",
			   (unsigned long long)sec->offset,
			   (unsigned long long)sec->length);
	buf_append_str(&line, "\r\n");
	p = parse_line(line.data, line.len);
	FUZZ_CHECK(p != NULL);
	args = imap_parser_args(p);
	FUZZ_CHECK(imap_arg_count(args) == 2);
	a = imap_arg_at(args, 1);
	FUZZ_CHECK(imap_arg_section(a) != NULL);
	FUZZ_CHECK(imap_fetch_section_parse(a, imap_parser_arena(p), &again,
					    &peek2, &error) == 0);
	FUZZ_CHECK(peek2 == peek);
	FUZZ_CHECK(same_section(sec, &again));
	imap_parser_free(&p);
	buf_free(&line);
}

static void check_section(const struct imap_arg *a, struct arena *arena)
{
	struct imap_fetch_section sec;
	const char *error = NULL;
	bool peek = false;
	size_t name_len;

	if (imap_fetch_section_parse(a, arena, &sec, &peek, &error) < 0) {
		FUZZ_CHECK(error != NULL && error[0] != '\0');
		return;
	}
	FUZZ_CHECK(sec.name != NULL);
	name_len = strlen(sec.name);
	FUZZ_CHECK(name_len >= 6 && strncmp(sec.name, "BODY[", 5) == 0 &&
		   sec.name[name_len - 1] == ']');
	for (size_t i = 0; i < sec.part_count; i++)
		FUZZ_CHECK(sec.part[i] >= 1);
	switch (sec.kind) {
	case IMAP_SECTION_MIME:
	case IMAP_SECTION_PART:
		FUZZ_CHECK(sec.part_count > 0);
		/* fall through */
	case IMAP_SECTION_ALL:
	case IMAP_SECTION_HEADER:
	case IMAP_SECTION_TEXT:
		FUZZ_CHECK(sec.field_count == 0);
		break;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		FUZZ_CHECK(sec.field_count > 0);
		for (size_t i = 0; i < sec.field_count; i++)
			FUZZ_CHECK(sec.fields[i].len > 0 &&
				   sec.fields[i].p != NULL);
		break;
	}
	if (sec.kind == IMAP_SECTION_ALL)
		FUZZ_CHECK(sec.part_count == 0);
	if (sec.partial) {
		struct strv t = imap_arg_text(a);

		FUZZ_CHECK(t.len > 0 && t.p[t.len - 1] == '>');
		FUZZ_CHECK(memchr(t.p, '<', t.len) != NULL);
	}
	check_reparse(&sec, peek);
}

static void walk(const struct imap_arg *a, struct arena *arena)
{
	if (imap_arg_type(a) == IMAP_ARG_LIST) {
		for (size_t i = 0; i < imap_arg_count(a); i++)
			walk(imap_arg_at(a, i), arena);
		return;
	}
	if (imap_arg_type(a) == IMAP_ARG_ATOM && imap_arg_section(a) != NULL)
		check_section(a, arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf line;
	struct imap_parser *p;

	if (size > 65536)
		return 0;
	buf_init(&line, BUF_UNLIMITED);
	buf_append_str(&line, PREFIX);
	buf_append(&line, data, size);
	buf_append_str(&line, "\r\n");
	p = parse_line(line.data, line.len);
	if (p != NULL) {
		const struct imap_arg *args = imap_parser_args(p);

		for (size_t i = 1; i < imap_arg_count(args); i++)
			walk(imap_arg_at(args, i), imap_parser_arena(p));
		imap_parser_free(&p);
	}
	buf_free(&line);
	return 0;
}
