/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_fetch_private: what imap_fetch.c (item list, the command's loop,
 * the simple items) and imap_fetch_body.c (BODY[section]<partial>: section
 * resolution in the MIME tree, header field filtering, the streamed
 * literal) share.
 *
 * A FETCH is parsed into a plan (struct imap_fetch_plan): the items in
 * the client's order, each section resolved to its kind, part numbers,
 * header field names and partial range. The plan says which data a
 * message needs before its response starts (the open file, the MIME tree,
 * sizes, date), so that a message whose file is gone is skipped whole.
 */
#ifndef MERPATI_IMAP_FETCH_PRIVATE_H
#define MERPATI_IMAP_FETCH_PRIVATE_H

#include "lib/buf.h"
#include "lib/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mime_message;

enum imap_fetch_item_kind {
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_UID,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY,	  /* BODY without a section: no extensions */
	IMAP_FETCH_BODYSTRUCTURE, /* with extension data */
	IMAP_FETCH_SECTION,	  /* BODY[...], RFC822, RFC822.HEADER/TEXT */
	IMAP_FETCH_MODSEQ,	  /* RFC 7162 3.1.4.1 */
				  /* next: BINARY / BINARY.SIZE (RFC
	   3516), PREVIEW, SAVEDATE, EMAILID: each is one more kind here, a
	   case in imap_fetch.c's item parser and writer */
};

enum imap_fetch_section_kind {
	IMAP_SECTION_ALL,		/* BODY[], RFC822 */
	IMAP_SECTION_HEADER,		/* [n.]HEADER, RFC822.HEADER */
	IMAP_SECTION_HEADER_FIELDS,	/* [n.]HEADER.FIELDS (...) */
	IMAP_SECTION_HEADER_FIELDS_NOT, /* [n.]HEADER.FIELDS.NOT (...) */
	IMAP_SECTION_TEXT,		/* [n.]TEXT, RFC822.TEXT */
	IMAP_SECTION_MIME,		/* n.MIME */
	IMAP_SECTION_PART,		/* n: the part's body */
};

/* Longest header field name compared; longer names never match. */
#define IMAP_FETCH_FIELD_MAX 256

struct imap_fetch_section {
	enum imap_fetch_section_kind kind;
	unsigned *part; /* section numbers (1-based), part_count entries */
	size_t part_count;
	struct strv *fields; /* HEADER.FIELDS[.NOT] names, in the arena */
	size_t field_count;
	bool partial; /* <offset.length> given */
	uint64_t offset, length;
	/* response name without the partial: "BODY[1.MIME]", "RFC822" */
	const char *name;
};

struct imap_fetch_item {
	enum imap_fetch_item_kind kind;
	struct imap_fetch_section sec; /* IMAP_FETCH_SECTION only */
};

struct imap_fetch_plan {
	struct imap_fetch_item *items;
	size_t count;
	bool sets_seen; /* a BODY[...] (not PEEK), RFC822 or RFC822.TEXT */
	bool has_flags; /* FLAGS was asked for */
	bool has_uid;
	bool has_modseq;
	bool has_envelope; /* ENVELOPE: from the cache, else the part tree */
	bool need_mime;	   /* the part tree: BODY*, sections */
	bool need_file;	   /* a section: the message file */
};

/*
 * Parses one section atom (BODY[...], BODY.PEEK[...]) into sec, allocating
 * in arena. *peek_r tells whether it was BODY.PEEK. Returns 0, or -1 with
 * a client-safe reason in *error_r (BAD).
 */
struct imap_arg;
struct arena;
int imap_fetch_section_parse(const struct imap_arg *arg, struct arena *arena,
			     struct imap_fetch_section *sec, bool *peek_r,
			     const char **error_r);

/* One section being sent; see imap_fetch_body.c. */
struct imap_fetch_body;

/*
 * Prepares section sec of a message: fd is the message's open file (not
 * taken over: the body uses its own duplicate), mime its part tree (may be
 * NULL for IMAP_SECTION_ALL), vsize its size with CRLF line ends. *size_r
 * is the literal's size (partial applied). Returns 0, or -1 with a reason
 * in *error_r (the file could not be read).
 */
int imap_fetch_body_open(const struct imap_fetch_section *sec, int fd,
			 const struct mime_message *mime, uint64_t vsize,
			 struct imap_fetch_body **body_r, uint64_t *size_r,
			 const char **error_r);

/* Up to size bytes of the section; 0 at its end, -1 on a read error. */
ssize_t imap_fetch_body_read(struct imap_fetch_body *body, char *buf,
			     size_t size, const char **error_r);

/* Takes NULL, leaves NULL. */
void imap_fetch_body_free(struct imap_fetch_body **body);

#endif
