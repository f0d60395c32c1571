/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_parser: the resumable IMAP command tokenizer (RFC 3501 9, RFC 9051).
 *
 * What it is for. The connection hands over client bytes in whatever
 * chunks arrived; the parser turns them into commands: a tag, a command
 * name and a tree of arguments (atoms, quoted strings, literals, lists,
 * NIL). It never reads a socket and never writes one: the caller feeds
 * bytes, and the parser says what must happen next (run a command, send a
 * "+" continuation, reply BAD, say BYE). State is an enum and counters, so
 * a command split at any byte parses exactly as the whole command does.
 *
 * Grammar (details in doc/imap.md, "Parser"):
 *   command  = tag SP name [SP arg *(SP arg)] CRLF  (LF alone accepted;
 *              runs of spaces and trailing spaces are accepted; an empty
 *              line is ignored)
 *   tag      = 1*<ASTRING-CHAR except "+">, at most IMAP_PARSER_TAG_MAX
 *   name     = 1*ATOM-CHAR
 *   arg      = atom / quoted / literal / literal8 / "(" [arg *(SP arg)] ")"
 *   atom     = 1*<CHAR except ( ) { " SP CTL, "\" only first>: plain
 *              atoms, sequence sets ("1:*"), LIST patterns ("%", "*"),
 *              flags ("\Seen"), "NIL" (type IMAP_ARG_NIL) all come out as
 *              atoms; the typed getters below check the finer rules.
 *              After BODY, BODY.PEEK, BINARY, BINARY.PEEK or BINARY.SIZE,
 *              "[" opens a section that runs to its "]" and may hold
 *              spaces, atoms, quoted strings and lists, then the atom
 *              goes on ("BODY.PEEK[HEADER.FIELDS (A B)]<0.100>" is ONE
 *              atom; its text is exactly what was sent and
 *              imap_arg_section() gives the bracket's contents as a
 *              list). Elsewhere "[" and "]" are plain atom characters
 *              ("[Gmail]/Sent" is an atom).
 *   quoted   = DQUOTE *(<CHAR8 except CR LF " \ NUL> / "\\" / "\"") DQUOTE;
 *              bytes >= 0x80 only with settings.utf8 (RFC 6855), and
 *              then the string must be valid UTF-8.
 *   literal  = "{" number ["+"] "}" CRLF *OCTET     (no NUL)
 *   literal8 = "~{" number ["+"] "}" CRLF *OCTET    (settings.binary,
 *              RFC 3516; NUL allowed)
 *
 * Literals. "{n}" is synchronizing: once the size has passed the limits
 * the parser returns IMAP_PARSER_CONTINUE and the caller must send a
 * continuation ("+ OK\r\n") before the client sends the bytes. A refused
 * synchronizing literal ends the command: the client sends no bytes and
 * its next byte starts a new command. "{n+}" is non-synchronizing
 * (RFC 7888): with settings.literal_plus any size up to literal_max, with
 * only settings.literal_minus at most IMAP_PARSER_LITERAL_MINUS_MAX bytes.
 * The bytes of a refused non-synchronizing literal are counted and
 * discarded, never parsed; when there are more than literal_max of them
 * the error is fatal instead. The same holds for the rest of any command
 * after an error: the parser skips to the end of its line, and when that
 * line ends in "{n+}" it skips those n bytes and the next line too.
 *
 * Streaming. With settings.pause_at_literals the parser stops after each
 * literal header that passed the size checks (IMAP_PARSER_LITERAL) and
 * the caller says what to do with the bytes: keep them in memory
 * (imap_parser_literal_accept() with no sink), hand them to a sink in
 * chunks as they arrive (APPEND writing to tmp/), or refuse the literal
 * (APPENDLIMIT: reply "NO [TOOBIG]" itself). imap_parser_literal_info()
 * says which command and argument the literal belongs to.
 *
 * Errors. -1 from imap_parser_feed() comes with imap_parser_error():
 *   IMAP_PARSER_ERR_COMMAND: reply "<tag> BAD|NO [code] reason" (the
 *     command is not run); the parser resynchronises by itself (skips the
 *     rest of the command, counting literal bytes) - keep feeding.
 *   IMAP_PARSER_ERR_FATAL: reply "* BYE reason" and close; the stream
 *     cannot be resynchronised (a literal too big to skip). Every further
 *     feed fails the same way.
 * imap_parser_error_reply() writes the right line.
 *
 * Limits (struct imap_parser_settings): line_max (command bytes other
 * than literal data: BAD [TOOBIG]), literal_max (one literal: sync
 * NO [TOOBIG]; non-sync above it: fatal), buffer_max (literal bytes one
 * command keeps in memory; streamed literals do not count), depth_max
 * (list nesting: BAD [LIMIT]), args_max (arguments at all levels:
 * BAD [LIMIT]). imap_parser_settings_default() gives the values for
 * before and after login.
 *
 * Memory. The parser owns an arena holding the tag, name and argument
 * tree of the current command; every pointer handed out (strv, imap_arg)
 * is valid until the next imap_parser_feed() after IMAP_PARSER_COMMAND or
 * an error, imap_parser_reset() or imap_parser_free(). Text of atoms and
 * strings is NUL-terminated in the arena (a literal may hold NULs before
 * it; len is exact).
 *
 * Typical loop (the command layer):
 *
 *   for (;;) {
 *           size_t used;
 *           int r = imap_parser_feed(p, in->data, in->len, &used);
 *
 *           buf_consume(in, used);
 *           if (r == IMAP_PARSER_MORE)
 *                   break;                       // wait for bytes
 *           if (r == IMAP_PARSER_CONTINUE)
 *                   conn_write(c, "+ OK\r\n", 6);
 *           else if (r == IMAP_PARSER_LITERAL)
 *                   decide(p);                   // accept/stream/refuse
 *           else if (r == IMAP_PARSER_COMMAND)
 *                   run(tag, name, args);        // stop feeding while
 *                                                // it runs
 *           else {                               // IMAP_PARSER_ERROR
 *                   imap_parser_error_reply(p, &reply);
 *                   if (imap_parser_error(p)->class ==
 *                       IMAP_PARSER_ERR_FATAL)
 *                           close;
 *           }
 *   }
 *
 * AUTHENTICATE responses and IDLE's DONE are lines, not commands: read
 * them from the input without the parser (it never consumes bytes past
 * the end of the command it returned).
 */
#ifndef MERPATI_IMAP_PARSER_H
#define MERPATI_IMAP_PARSER_H

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "protocols/imap/imap_arg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest command, literal data excluded (RFC 7162 3.2.6: >= 8192). */
#define IMAP_PARSER_LINE_MAX 65536
/* Longest tag (replies echo it whole). */
#define IMAP_PARSER_TAG_MAX 128
/* One literal before login (LOGIN's user and password). */
#define IMAP_PARSER_LITERAL_MAX_PREAUTH 8192
/* One literal after login (the APPEND limit unless configured). */
#define IMAP_PARSER_LITERAL_MAX (64 * 1024 * 1024)
/* Literal bytes one command keeps in memory, after login. */
#define IMAP_PARSER_BUFFER_MAX (8 * 1024 * 1024)
/* LITERAL- (RFC 7888 4): largest non-synchronizing literal. */
#define IMAP_PARSER_LITERAL_MINUS_MAX 4096
/* List nesting ("((a))" is 2). */
#define IMAP_PARSER_DEPTH_MAX 16
/* Arguments of one command, list items at every level included. */
#define IMAP_PARSER_ARGS_MAX 10000

struct imap_parser_settings {
	size_t line_max;      /* command bytes except literal data */
	uint64_t literal_max; /* one literal's size */
	uint64_t buffer_max;  /* literal bytes kept in memory per command */
	unsigned depth_max;   /* list nesting */
	unsigned args_max;    /* arguments, all levels */
	bool literal_plus;    /* LITERAL+ advertised: {n+} up to literal_max */
	bool literal_minus;   /* LITERAL- advertised: {n+} up to 4096 */
	bool binary;	      /* BINARY: ~{n} literal8 accepted */
	bool utf8;	      /* UTF8=ACCEPT enabled: UTF-8 in quoted strings */
	bool pause_at_literals; /* return IMAP_PARSER_LITERAL at each one */
};

/* The defaults: before login small literals and LITERAL- only; after
   login LITERAL+, BINARY and the larger limits above. */
void imap_parser_settings_default(struct imap_parser_settings *set,
				  bool authenticated);

/* Results of imap_parser_feed(). */
enum imap_parser_result {
	IMAP_PARSER_ERROR = -1,	  /* see imap_parser_error() */
	IMAP_PARSER_MORE = 0,	  /* all bytes used, command incomplete */
	IMAP_PARSER_COMMAND = 1,  /* a command is complete */
	IMAP_PARSER_LITERAL = 2,  /* paused at a literal header: decide */
	IMAP_PARSER_CONTINUE = 3, /* send "+ ..." now, then feed again */
};

enum imap_parser_error_class {
	IMAP_PARSER_ERR_COMMAND, /* tagged BAD/NO, parser resynchronises */
	IMAP_PARSER_ERR_FATAL,	 /* "* BYE" and close */
};

struct imap_parser_error {
	enum imap_parser_error_class class;
	const char *status; /* "BAD", "NO" or "BYE" */
	const char *code;   /* "TOOBIG", "LIMIT" or NULL */
	const char *reason; /* short, fixed text, safe to send */
	struct strv tag;    /* the command's tag, or "*" */
};

struct imap_parser;

/* A parser with a copy of the settings. */
struct imap_parser *imap_parser_new(const struct imap_parser_settings *set);

/* Frees the parser and its arena; takes NULL, leaves NULL. */
void imap_parser_free(struct imap_parser **p);

/* New limits (after login, ENABLE UTF8=ACCEPT); they apply from the next
   command. */
void imap_parser_set_settings(struct imap_parser *p,
			      const struct imap_parser_settings *set);

/* Forgets any partial command and error (a fatal one too). */
void imap_parser_reset(struct imap_parser *p);

/*
 * Parses up to len bytes of client input. *consumed_r says how many were
 * used (also on error); the rest belongs to what comes next and must be
 * fed again (or read as an AUTHENTICATE line) later. Never uses bytes
 * past the end of a complete command. Returns one of enum
 * imap_parser_result; IMAP_PARSER_CONTINUE and IMAP_PARSER_LITERAL may
 * consume 0 bytes.
 */
int imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
		     size_t *consumed_r);

/* The last error (valid after IMAP_PARSER_ERROR until the next feed). */
const struct imap_parser_error *imap_parser_error(const struct imap_parser *p);

/* Appends the reply for the last error: "<tag> BAD [TOOBIG] reason\r\n"
   or "* BYE reason\r\n". Returns 0 or -1 (out full). */
int imap_parser_error_reply(const struct imap_parser *p, struct buf *out);

/* --- the literal the parser paused at (IMAP_PARSER_LITERAL) --- */

struct imap_parser_literal {
	uint64_t size;
	bool nonsync;	  /* {n+}: the bytes come without a "+" */
	bool literal8;	  /* ~{n} */
	struct strv tag;  /* of the command */
	struct strv name; /* command name as sent (case kept) */
	unsigned depth;	  /* 0: a top-level argument, 1: in a list... */
	size_t index;	  /* position in its own list (0-based) */
	size_t top_index; /* position of the top-level argument holding it */
};

/* Fills *info_r; only while paused at a literal. */
void imap_parser_literal_info(const struct imap_parser *p,
			      struct imap_parser_literal *info_r);

/* Top-level argument i of the command, among those complete before the
   literal the parser paused at (i < info.top_index); NULL past them.
   APPEND reads its mailbox, flags and date here before taking the
   message. Valid while paused. */
const struct imap_arg *imap_parser_literal_top_arg(const struct imap_parser *p,
						   size_t i);

/* Called with each chunk of a streamed literal, in order; the chunks add
   up to its size exactly once the command completes. */
typedef void imap_parser_sink_fn(void *ctx, const void *data, size_t len);

/*
 * Takes the literal: sink NULL keeps it in memory (then it must fit in
 * what is left of buffer_max), else the bytes go to sink(ctx, ...) and the
 * argument holds only its size (imap_arg_is_streamed()). The next feed
 * returns IMAP_PARSER_CONTINUE first for a synchronizing literal.
 * Returns 0, or -1 when it does not fit in memory: the literal is then
 * refused and imap_parser_error() says so (NO/BAD [TOOBIG]); reply with
 * it and keep feeding.
 */
int imap_parser_literal_accept(struct imap_parser *p, imap_parser_sink_fn *sink,
			       void *ctx);

/*
 * Refuses the literal; the caller replies (e.g. "NO [TOOBIG]"). A
 * synchronizing literal ends the command here; a non-synchronizing one's
 * bytes and the rest of its command are skipped by the next feeds.
 */
void imap_parser_literal_refuse(struct imap_parser *p);

/* --- the parsed command (after IMAP_PARSER_COMMAND) --- */

struct strv imap_parser_tag(const struct imap_parser *p);
struct strv imap_parser_name(const struct imap_parser *p);

/* The arguments as one list (type IMAP_ARG_LIST, maybe empty). */
const struct imap_arg *imap_parser_args(const struct imap_parser *p);

/* The arena holding the command (for the caller's scratch of the same
   lifetime). */
struct arena *imap_parser_arena(struct imap_parser *p);

#endif
