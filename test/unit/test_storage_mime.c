/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/*
 * storage/mime and storage/rfc822: the part tree of hand-written messages
 * (sizes, offsets in file bytes and with CRLF line ends, line counts,
 * fields), the same tree for every way of cutting the input into chunks,
 * the nesting and part limits, the cache form, section numbers, and the
 * header field parsers (addresses, parameters, encoded words).
 */
#include "lib/arena.h"
#include "lib/buf.h"
#include "storage/cache.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/mime.h"
#include "storage/rfc822.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static struct mime_message *parse_chunks(const char *data, size_t len,
					 size_t split, size_t step)
{
	struct mime_parser *p = mime_parser_new();
	size_t pos = 0;

	if (split > 0 && split <= len) {
		mime_parser_feed(p, data, split);
		pos = split;
	}
	while (pos < len) {
		size_t n = step == 0 || len - pos < step ? len - pos : step;

		mime_parser_feed(p, data + pos, n);
		pos += n;
	}
	return mime_parser_finish(&p);
}

static void dump_str(struct buf *b, const char *name, const char *s)
{
	if (s != NULL)
		buf_printf(b, " %s=[%s]", name, s);
}

/* A canonical text form of a tree, for comparing parses. */
static void dump_part(struct buf *b, const struct mime_part *part, int depth)
{
	buf_printf(b,
		   "%*sflags=%x pos=%llu/%llu hdr=%llu/%llu/%llu "
		   "body=%llu/%llu/%llu",
		   depth * 2, "", part->flags,
		   (unsigned long long)part->physical_pos,
		   (unsigned long long)part->virtual_pos,
		   (unsigned long long)part->header.physical,
		   (unsigned long long)part->header.virtual,
		   (unsigned long long)part->header.lines,
		   (unsigned long long)part->body.physical,
		   (unsigned long long)part->body.virtual,
		   (unsigned long long)part->body.lines);
	dump_str(b, "type", part->type);
	dump_str(b, "sub", part->subtype);
	for (unsigned i = 0; i < part->param_count; i++)
		buf_printf(b, " p:%s=%s", part->params[i].name,
			   part->params[i].value);
	dump_str(b, "id", part->id);
	dump_str(b, "desc", part->description);
	dump_str(b, "enc", part->encoding);
	dump_str(b, "md5", part->md5);
	dump_str(b, "loc", part->location);
	dump_str(b, "disp", part->disposition);
	for (unsigned i = 0; i < part->disp_param_count; i++)
		buf_printf(b, " d:%s=%s", part->disp_params[i].name,
			   part->disp_params[i].value);
	for (unsigned i = 0; i < part->language_count; i++)
		buf_printf(b, " lang=%s", part->language[i]);
	if (part->envelope != NULL) {
		for (unsigned i = 0; i < MIME_ENV_COUNT; i++) {
			struct strv v = part->envelope->field[i];

			if (v.p == NULL)
				continue;
			buf_printf(b, " env%u=[", i);
			buf_append(b, v.p, v.len);
			buf_append(b, "]", 1);
		}
	}
	buf_append(b, "\n", 1);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		dump_part(b, c, depth + 1);
}

static char *dump(const struct mime_message *msg)
{
	struct buf b;
	char *s;

	buf_init(&b, BUF_UNLIMITED);
	dump_part(&b, mime_message_root(msg), 0);
	s = strndup(b.data, b.len);
	buf_free(&b);
	return s;
}

/* Parses whole, byte by byte and split at every offset: one tree. Returns
   the whole parse (caller frees). */
static struct mime_message *parse_all_ways(const char *data, size_t len)
{
	struct mime_message *whole = parse_chunks(data, len, 0, 0);
	char *want = dump(whole);
	struct mime_message *m;
	char *got;

	m = parse_chunks(data, len, 0, 1);
	got = dump(m);
	assert_string_equal(got, want);
	free(got);
	mime_message_free(&m);
	for (size_t k = 1; k < len; k++) {
		m = parse_chunks(data, len, k, 0);
		got = dump(m);
		if (strcmp(got, want) != 0)
			fail_msg("split at %zu:\n%s\nwant:\n%s", k, got, want);
		free(got);
		mime_message_free(&m);
	}
	free(want);
	return whole;
}

#define PARSE(s) parse_all_ways((s), sizeof(s) - 1)

/* The CRLF size of data[0..n): what a server sends for those bytes. */
static uint64_t crlf_len(const char *data, size_t n)
{
	uint64_t v = n;

	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			v++;
	}
	return v;
}

/* Every part's offsets and sizes agree with the bytes they cover. */
static void check_offsets(const char *data, size_t len,
			  const struct mime_part *part)
{
	uint64_t hs = part->physical_pos, bs = hs + part->header.physical;

	assert_true(bs + part->body.physical <= len);
	assert_int_equal(part->virtual_pos, crlf_len(data, hs));
	assert_int_equal(crlf_len(data, bs) - crlf_len(data, hs),
			 part->header.virtual);
	for (const struct mime_part *c = part->children; c != NULL;
	     c = c->next) {
		assert_true(c->physical_pos >= bs);
		assert_true(c->physical_pos + c->header.physical +
				    c->body.physical <=
			    bs + part->body.physical);
		check_offsets(data, len, c);
	}
}

static void test_simple(void **state)
{
	static const char msg[] = "Subject: hello\n  world\nFrom: a@b.c\n\n"
				  "line 1\nline 2\n";
	struct mime_message *m = PARSE(msg);
	const struct mime_part *r = mime_message_root(m);

	(void)state;
	assert_int_equal(r->flags, MIME_PART_TEXT);
	assert_int_equal(r->header.physical, 36);
	assert_int_equal(r->header.virtual, 40);
	assert_int_equal(r->header.lines, 4);
	assert_int_equal(r->body.physical, 14);
	assert_int_equal(r->body.virtual, 16);
	assert_int_equal(r->body.lines, 2);
	assert_null(r->type);
	assert_non_null(r->envelope);
	assert_int_equal(r->envelope->field[MIME_ENV_SUBJECT].len, 13);
	assert_memory_equal(r->envelope->field[MIME_ENV_SUBJECT].p,
			    "hello\n  world", 13);
	check_offsets(msg, sizeof(msg) - 1, r);
	mime_message_free(&m);
}

static const char multipart_msg[] =
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--XYZ\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"first\r\n"
	"--XYZ\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"Content-Type: multipart/alternative; boundary=in\r\n"
	"\r\n"
	"--in\r\n"
	"\r\n"
	"a\r\n"
	"--in\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<b>\r\n"
	"--in--\r\n"
	"--XYZ--\r\n"
	"epilogue\r\n";

static void test_multipart_tree(void **state)
{
	struct mime_message *m = PARSE(multipart_msg);
	const struct mime_part *r = mime_message_root(m), *p1, *p2, *inner;
	unsigned sec[3];

	(void)state;
	assert_int_equal(r->flags, MIME_PART_MULTIPART | MIME_PART_IS_MIME);
	assert_string_equal(r->subtype, "mixed");
	p1 = r->children;
	p2 = p1->next;
	assert_null(p2->next);
	assert_int_equal(p1->flags, MIME_PART_TEXT | MIME_PART_IS_MIME);
	/* "first" without the CRLF that precedes the boundary */
	assert_int_equal(p1->body.physical, 5);
	assert_int_equal(p1->body.lines, 0);
	assert_string_equal(p1->params[0].value, "utf-8");
	assert_true(p2->flags & MIME_PART_RFC822);
	inner = p2->children;
	assert_non_null(inner);
	assert_true(inner->flags & MIME_PART_MULTIPART);
	assert_memory_equal(inner->envelope->field[MIME_ENV_SUBJECT].p, "inner",
			    5);
	/* CRLF file: virtual == physical everywhere */
	assert_int_equal(r->header.virtual, r->header.physical);
	assert_int_equal(r->body.virtual, r->body.physical);
	assert_int_equal(r->header.physical + r->body.physical,
			 sizeof(multipart_msg) - 1);
	check_offsets(multipart_msg, sizeof(multipart_msg) - 1, r);
	/* RFC 3501 6.4.5 section numbers */
	sec[0] = 1;
	assert_ptr_equal(mime_message_section(m, sec, 1), p1);
	sec[0] = 2;
	sec[1] = 2;
	assert_ptr_equal(mime_message_section(m, sec, 2),
			 inner->children->next);
	sec[1] = 3;
	assert_null(mime_message_section(m, sec, 2));
	sec[0] = 1;
	sec[1] = 1;
	assert_ptr_equal(mime_message_section(m, sec, 2), p1);
	sec[1] = 2;
	assert_null(mime_message_section(m, sec, 2));
	sec[0] = 0;
	assert_null(mime_message_section(m, sec, 1));
	assert_ptr_equal(mime_message_section(m, sec, 0), r);
	mime_message_free(&m);
}

static void test_lf_offsets(void **state)
{
	char *lf = strdup(multipart_msg);
	size_t n = 0;
	struct mime_message *m;

	(void)state;
	for (size_t i = 0; lf[i] != '\0'; i++) {
		if (lf[i] != '\r')
			lf[n++] = lf[i];
	}
	lf[n] = '\0';
	m = parse_all_ways(lf, n);
	check_offsets(lf, n, mime_message_root(m));
	/* same structure and CRLF sizes as the CRLF original */
	struct mime_message *c =
		parse_chunks(multipart_msg, sizeof(multipart_msg) - 1, 0, 0);
	const struct mime_part *a = mime_message_root(m)->children->next;
	const struct mime_part *b = mime_message_root(c)->children->next;

	assert_int_equal(a->body.virtual, b->body.virtual);
	assert_int_equal(a->virtual_pos, b->virtual_pos);
	assert_int_equal(a->body.lines, b->body.lines);
	mime_message_free(&c);
	mime_message_free(&m);
	free(lf);
}

static void test_broken_boundaries(void **state)
{
	/* no closing boundary; a boundary line inside a header; an
	   outer boundary ending an unclosed inner multipart */
	static const char msg[] =
		"Content-Type: multipart/mixed; boundary=o\n\n"
		"--o\nContent-Type: multipart/alternative; boundary=i\n\n"
		"--i\nContent-Type: text/plain\n--i\n\nbody\n"
		"--o   trailing junk\n\nsecond\n";
	struct mime_message *m = PARSE(msg);
	const struct mime_part *r = mime_message_root(m), *alt, *second;

	(void)state;
	alt = r->children;
	second = alt->next;
	assert_non_null(second);
	assert_null(second->next);
	assert_int_equal(second->body.physical, 7);
	assert_int_equal(second->body.lines, 1);
	/* the header cut by "--i" has its line, not the newline */
	assert_non_null(alt->children);
	assert_non_null(alt->children->next);
	assert_string_equal(alt->children->type, "text");
	assert_int_equal(alt->children->header.lines, 0);
	assert_int_equal(alt->children->header.physical, 24);
	assert_int_equal(alt->children->body.physical, 0);
	check_offsets(msg, sizeof(msg) - 1, r);
	mime_message_free(&m);
}

static void test_boundary_cuts_rfc822_header(void **state)
{
	/* found by fuzz_mime: the message/rfc822 child of a part whose
	   header a boundary cut starts where that header ends, before the
	   newline the boundary takes */
	static const char msg[] =
		"Content-Type: multipart/mixed; boundary=b\r\n"
		"\r\n--b\r\nContent-Type: message/rfc822\r\n"
		"--b--\r\n";
	struct mime_message *m = PARSE(msg);
	const struct mime_part *r = mime_message_root(m), *p1 = r->children;

	(void)state;
	assert_true(p1->flags & MIME_PART_RFC822);
	assert_int_equal(p1->header.physical, 28);
	assert_int_equal(p1->body.physical, 0);
	assert_int_equal(p1->children->physical_pos, p1->physical_pos + 28);
	assert_int_equal(p1->children->header.physical, 0);
	check_offsets(msg, sizeof(msg) - 1, r);
	mime_message_free(&m);
}

static void test_no_boundary_param(void **state)
{
	static const char msg[] = "Content-Type: multipart/mixed\n\n--x\n\n"
				  "body\n--x--\n";
	struct mime_message *m = PARSE(msg);
	const struct mime_part *r = mime_message_root(m);

	(void)state;
	assert_true(r->flags & MIME_PART_MULTIPART);
	assert_null(r->children);
	assert_int_equal(r->body.physical, sizeof(msg) - 1 - 31);
	mime_message_free(&m);
}

static void test_not_mime(void **state)
{
	/* Content-* fields need MIME-Version or Content-Type */
	static const char msg[] = "Content-Transfer-Encoding: base64\n"
				  "Content-ID: <x>\n\nQUJD\n";
	struct mime_message *m = PARSE(msg);
	const struct mime_part *r = mime_message_root(m);

	(void)state;
	assert_int_equal(r->flags, MIME_PART_TEXT);
	assert_null(r->encoding);
	assert_null(r->id);
	mime_message_free(&m);
}

static void test_fields(void **state)
{
	static const char msg[] =
		"MIME-Version: 1.0\n"
		"Content-Type: Application/X-Thing; title*0*=us-ascii'en'"
		"This%20is; title*1=\" fun\"; name=\"q\\\"uoted\"\n"
		"Content-Transfer-Encoding: BASE64 (comment)\n"
		"Content-Disposition: attachment; filename=\"a b.txt\"\n"
		"Content-Language: en, fr-CA\n"
		"Content-ID: <id@x>\n"
		"Content-Description: some\n text\n"
		"Content-MD5: abc\n"
		"Content-Location: http://x/\n\n";
	struct mime_message *m = PARSE(msg);
	const struct mime_part *r = mime_message_root(m);

	(void)state;
	assert_string_equal(r->type, "Application");
	assert_string_equal(r->subtype, "X-Thing");
	assert_int_equal(r->param_count, 2);
	assert_string_equal(r->params[0].name, "name");
	assert_string_equal(r->params[0].value, "q\"uoted");
	assert_string_equal(r->params[1].name, "title*");
	assert_string_equal(r->params[1].value, "us-ascii'en'This%20is fun");
	assert_string_equal(r->encoding, "BASE64");
	assert_string_equal(r->disposition, "attachment");
	assert_string_equal(r->disp_params[0].value, "a b.txt");
	assert_int_equal(r->language_count, 2);
	assert_string_equal(r->language[1], "fr-CA");
	assert_string_equal(r->id, "<id@x>");
	assert_string_equal(r->description, "some\n text");
	assert_string_equal(r->md5, "abc");
	assert_string_equal(r->location, "http://x/");
	assert_int_equal(r->body.physical, 0);
	mime_message_free(&m);
}

static void test_nul_cr_long(void **state)
{
	size_t n = 3 * 65536 + 100;
	char *msg = malloc(n);
	struct mime_message *m;
	const struct mime_part *r;

	(void)state;
	memcpy(msg, "Subject: a\0b\r\n\rx\n\n", 18);
	for (size_t i = 18; i < n; i++)
		msg[i] = i % 1000 == 0 ? '\0' : i % 777 == 0 ? '\r' : 'z';
	msg[n - 2] = 'z';
	msg[n - 1] = '\n';
	m = parse_chunks(msg, n, 0, 4096);
	r = mime_message_root(m);
	assert_int_equal(r->header.physical, 18);
	assert_int_equal(r->header.lines, 3);
	assert_int_equal(r->header.virtual, 20);
	assert_int_equal(r->body.physical, n - 18);
	assert_int_equal(r->body.virtual, n - 18 + 1);
	assert_int_equal(r->body.lines, 1);
	assert_int_equal(r->envelope->field[MIME_ENV_SUBJECT].len, 3);
	mime_message_free(&m);
	free(msg);
}

static void test_no_body_no_header(void **state)
{
	struct mime_message *m;
	const struct mime_part *r;

	(void)state;
	m = PARSE("\nbody only\n");
	r = mime_message_root(m);
	assert_int_equal(r->header.physical, 1);
	assert_int_equal(r->header.virtual, 2);
	assert_int_equal(r->body.physical, 10);
	assert_null(r->envelope);
	mime_message_free(&m);

	m = PARSE("Subject: no body");
	r = mime_message_root(m);
	assert_int_equal(r->header.physical, 16);
	assert_int_equal(r->header.lines, 0);
	assert_int_equal(r->body.physical, 0);
	mime_message_free(&m);

	m = parse_chunks("", 0, 0, 0);
	r = mime_message_root(m);
	assert_int_equal(r->header.physical + r->body.physical, 0);
	assert_int_equal(r->flags, MIME_PART_TEXT);
	mime_message_free(&m);
}

static unsigned depth_of(const struct mime_part *p)
{
	unsigned d = 0;

	while (p->children != NULL) {
		p = p->children;
		d++;
	}
	return d;
}

static void test_depth_limit(void **state)
{
	struct buf b;
	struct mime_message *m;
	const struct mime_part *leaf;

	(void)state;
	buf_init(&b, BUF_UNLIMITED);
	for (int i = 0; i < 150; i++)
		buf_printf(&b,
			   "Content-Type: multipart/mixed; boundary=b%d\n"
			   "\n--b%d\n",
			   i, i);
	buf_append_str(&b, "\nleaf\n");
	m = parse_chunks(b.data, b.len, 0, 0);
	assert_int_equal(depth_of(mime_message_root(m)), MIME_MAX_DEPTH - 1);
	leaf = mime_message_root(m);
	while (leaf->children != NULL)
		leaf = leaf->children;
	assert_int_equal(leaf->flags & MIME_PART_MULTIPART, 0);
	assert_string_equal(leaf->type, "multipart");
	mime_message_free(&m);
	buf_free(&b);
}

static void test_part_limit(void **state)
{
	struct buf b;
	struct mime_message *m;
	unsigned n = 0;

	(void)state;
	buf_init(&b, BUF_UNLIMITED);
	buf_append_str(&b, "Content-Type: multipart/mixed; boundary=x\n\n");
	for (int i = 0; i < MIME_MAX_PARTS + 500; i++)
		buf_append_str(&b, "--x\n\n.\n");
	buf_append_str(&b, "--x--\n");
	m = parse_chunks(b.data, b.len, 0, 0);
	for (const struct mime_part *c = mime_message_root(m)->children;
	     c != NULL; c = c->next)
		n++;
	assert_int_equal(n, MIME_MAX_PARTS);
	assert_int_equal(mime_message_root(m)->body.physical, b.len - 43);
	mime_message_free(&m);
	buf_free(&b);
}

static void test_serialize(void **state)
{
	struct mime_message *m =
		parse_chunks(multipart_msg, sizeof(multipart_msg) - 1, 0, 0);
	struct mime_message *back;
	char *a, *b;
	struct buf blob;

	(void)state;
	buf_init(&blob, BUF_UNLIMITED);
	assert_int_equal(mime_message_serialize(m, &blob), 0);
	back = mime_message_deserialize(blob.data, blob.len);
	assert_non_null(back);
	a = dump(m);
	b = dump(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	mime_message_free(&back);
	/* every cut or extended blob is refused */
	for (size_t k = 0; k < blob.len; k++)
		assert_null(mime_message_deserialize(blob.data, k));
	buf_append(&blob, "", 1);
	assert_null(mime_message_deserialize(blob.data, blob.len));
	mime_message_free(&m);
	buf_free(&blob);
}

static void test_addresses(void **state)
{
	static const char in[] =
		"A Group:Ed Jones <c@a.test>,joe@where.test;, "
		"\"Doe, J\" <@r1,@r2:j@d.example>, x@y (Comment Name), "
		"Undisclosed:;, broken@";
	struct arena *a = arena_new(0);
	const struct rfc822_address *l =
		rfc822_address_parse(a, in, sizeof(in) - 1);

	(void)state;
	assert_string_equal(l->mailbox, "A Group");
	assert_null(l->domain);
	l = l->next;
	assert_string_equal(l->name, "Ed Jones");
	assert_string_equal(l->domain, "a.test");
	l = l->next;
	assert_string_equal(l->mailbox, "joe");
	l = l->next;
	assert_null(l->mailbox); /* end of group */
	l = l->next;
	assert_string_equal(l->name, "Doe, J");
	assert_string_equal(l->route, "@r1,@r2");
	l = l->next;
	assert_string_equal(l->name, "Comment Name");
	l = l->next;
	assert_string_equal(l->mailbox, "Undisclosed");
	l = l->next->next;
	assert_string_equal(l->mailbox, "broken");
	assert_string_equal(l->domain, "MISSING_DOMAIN");
	assert_true(l->invalid_syntax);
	assert_null(l->next);
	assert_null(rfc822_address_parse(a, "  ", 2));
	arena_free(&a);
}

static void test_params(void **state)
{
	static const char in[] =
		"; a=1; B*1=\"y\"; b*0=\"x\"; c*0=1; c*2=3; junk; d==?x?=";
	struct arena *a = arena_new(0);
	struct rfc822_param *ps;
	struct rfc822_parser p;
	unsigned n;

	(void)state;
	rfc822_parser_init(&p, in, sizeof(in) - 1, NULL);
	n = rfc822_parse_params(&p, a, &ps);
	/* "junk" has no value: Dovecot skips from there on, one byte at a
	   time, so d is lost too */
	assert_int_equal(n, 5);
	assert_string_equal(ps[0].name, "a");
	/* sorted by name case-sensitively ("B*1" before "b*0"), grouped
	   ignoring case: the indexes are then 1, 0 and the pieces stay */
	assert_string_equal(ps[1].name, "B*1");
	assert_string_equal(ps[2].name, "b*0");
	assert_string_equal(ps[3].name, "c*0");
	assert_string_equal(ps[4].name, "c*2");
	rfc822_parser_init(&p, "; x*0=a; X*1*=%41b", 18, NULL);
	n = rfc822_parse_params(&p, a, &ps);
	assert_int_equal(n, 2);
	rfc822_parser_init(&p, "; x*0=a; x*1*=%41b; x*2=c%", 26, NULL);
	n = rfc822_parse_params(&p, a, &ps);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].name, "x*");
	assert_string_equal(ps[0].value, "''a%41bc%25");
	arena_free(&a);
}

static void test_encoded_words(void **state)
{
	static const char in[] = "=?UTF-8?B?SsO8cmdlbg==?= =?iso-8859-1?q?"
				 "_M=FCller?= and =?bad?x?y?= plain";
	struct buf out;

	(void)state;
	buf_init(&out, 1024);
	assert_int_equal(rfc822_decode_words(in, sizeof(in) - 1, &out), 0);
	assert_int_equal(out.len, strlen("J\xc3\xbcrgen M\xc3\xbcller and "
					 "=?bad?x?y?= plain"));
	assert_memory_equal(out.data,
			    "J\xc3\xbcrgen M\xc3\xbcller and =?bad?x?y?= plain",
			    out.len);
	buf_free(&out);

	/* a run of "=?" that never closes stays linear (RFC 2047 2: a word
	   is at most 75 characters) and is copied as it is */
	size_t n = 400000;
	char *junk = malloc(n);

	for (size_t i = 0; i < n; i++)
		junk[i] = "=?a?b?"[i % 6];
	buf_init(&out, BUF_UNLIMITED);
	assert_int_equal(rfc822_decode_words(junk, n, &out), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, junk, n);
	buf_free(&out);
	free(junk);
}

static void test_repeated_fields(void **state)
{
	struct buf b;
	struct mime_message *m;
	const struct mime_part *r;

	(void)state;
	/* repeated address fields add up (bounded), others: the last */
	buf_init(&b, BUF_UNLIMITED);
	for (int i = 0; i < 50000; i++)
		buf_printf(&b, "To: u%d@example.com\nSubject: s%d\n", i, i);
	buf_append_str(&b, "\nbody\n");
	m = parse_chunks(b.data, b.len, 0, 0);
	r = mime_message_root(m);
	assert_true(r->envelope->field[MIME_ENV_TO].len <= 4 * MIME_FIELD_MAX);
	assert_true(r->envelope->field[MIME_ENV_TO].len > 3 * MIME_FIELD_MAX);
	assert_memory_equal(r->envelope->field[MIME_ENV_TO].p,
			    "u0@example.com" MIME_ENV_SEPARATOR "u1@", 19);
	assert_int_equal(r->envelope->field[MIME_ENV_SUBJECT].len, 6);
	assert_memory_equal(r->envelope->field[MIME_ENV_SUBJECT].p, "s49999",
			    6);
	mime_message_free(&m);
	buf_free(&b);
}

/* ---- the tree in the folder cache ---- */

static void test_cached_tree(void **state)
{
	static const char text[] = "Subject: cached\nContent-Type: multipart/"
				   "mixed; boundary=b\n\n--b\n\nx\n--b--\n";
	char root[PATH_MAX], path[PATH_MAX + 300], cmd[PATH_MAX + 32];
	struct maildir_settings set;
	struct mailbox_append *ctx;
	struct mime_message *m;
	struct maildir *store;
	struct mailbox *box;
	const struct mailbox_changes *changes;
	struct mailbox_msg msg;
	const char *error;
	uint32_t uid;
	char *want, *got;
	FILE *fp;

	(void)state;
	strcpy(root, "/tmp/merpati-mime-XXXXXX");
	assert_non_null(mkdtemp(root));
	strcat(root, "/mail");
	maildir_settings_init(&set);
	set.fsync = false;
	assert_int_equal(maildir_open(root, &set, true, &store, &error), 0);
	assert_int_equal(mailbox_open(store, "INBOX", 0, &box, &error), 0);
	assert_int_equal(mailbox_append_begin(box, &ctx, &error), 0);
	assert_int_equal(
		mailbox_append_write(ctx, text, sizeof(text) - 1, &error), 0);
	assert_int_equal(mailbox_append_finish(&ctx, 0, 0, 0, &uid, &error), 0);
	assert_int_equal(mailbox_sync(box, &changes, &error), 0);
	assert_int_equal(mailbox_count(box), 1);
	assert_int_equal(mailbox_mime_get(box, 0, &m, &error), 0);
	want = dump(m);
	mime_message_free(&m);
	assert_non_null(strstr(want, "env1=[cached]"));

	/* the file changes behind our back: the cached tree is answered,
	   so the second request read no file */
	mailbox_get(box, 0, &msg);
	snprintf(path, sizeof(path), "%s/new/%s", mailbox_path(box),
		 msg.filename);
	if (access(path, F_OK) != 0)
		snprintf(path, sizeof(path), "%s/cur/%s", mailbox_path(box),
			 msg.filename);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("Subject: other\n\n", fp);
	fclose(fp);
	assert_int_equal(mailbox_mime_get(box, 0, &m, &error), 0);
	got = dump(m);
	assert_string_equal(got, want);
	free(got);
	mime_message_free(&m);

	/* and after the cache went to disk and the folder was reopened */
	assert_int_equal(mailbox_cache_save(box), 0);
	mailbox_free(&box);
	assert_int_equal(mailbox_open(store, "INBOX", 0, &box, &error), 0);
	assert_int_equal(mailbox_mime_get(box, 0, &m, &error), 0);
	got = dump(m);
	assert_string_equal(got, want);
	free(got);
	mime_message_free(&m);

	/* a damaged cache entry is not trusted: the file is read again */
	mail_cache_put(mailbox_cache(box), uid, MAIL_CACHE_FIELD_MIME, "MIME1",
		       5);
	assert_int_equal(mailbox_mime_get(box, 0, &m, &error), 0);
	got = dump(m);
	assert_non_null(strstr(got, "env1=[other]"));
	free(got);
	mime_message_free(&m);
	free(want);
	mailbox_free(&box);
	maildir_free(&store);
	*strrchr(root, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_multipart_tree),
		cmocka_unit_test(test_lf_offsets),
		cmocka_unit_test(test_broken_boundaries),
		cmocka_unit_test(test_boundary_cuts_rfc822_header),
		cmocka_unit_test(test_no_boundary_param),
		cmocka_unit_test(test_not_mime),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_nul_cr_long),
		cmocka_unit_test(test_no_body_no_header),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_part_limit),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_repeated_fields),
		cmocka_unit_test(test_cached_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
