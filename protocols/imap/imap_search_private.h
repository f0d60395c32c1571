/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What imap_search.c (parser, command) and imap_search_eval.c share. */
#ifndef MERPATI_IMAP_SEARCH_PRIVATE_H
#define MERPATI_IMAP_SEARCH_PRIVATE_H

#include "protocols/imap/imap_search.h"
#include "protocols/imap/imap_search_text.h"

#include <stdint.h>
#include <time.h>

struct imap_seqset;
struct mailbox;
struct mime_message;
struct mime_part;

enum imap_search_kind {
	IMAP_SK_ALL,
	IMAP_SK_NONE,
	IMAP_SK_RECENT, /* \Recent in this session (imap_recent.h) */
	IMAP_SK_AND,	/* child list */
	IMAP_SK_OR,	/* two children */
	IMAP_SK_NOT,	/* one child */
	IMAP_SK_SEQSET,
	IMAP_SK_UIDSET,
	IMAP_SK_FLAG,	 /* u.flag set (UN... keys are NOT FLAG) */
	IMAP_SK_KEYWORD, /* u.keyword set; -1: a keyword nobody has */
	IMAP_SK_LARGER,	 /* RFC822.SIZE > u.size */
	IMAP_SK_SMALLER,
	IMAP_SK_BEFORE, /* INTERNALDATE's day vs u.day */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, /* Date: header's day vs u.day */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_OLDER,	 /* INTERNALDATE <= u.time (RFC 5032) */
	IMAP_SK_YOUNGER, /* INTERNALDATE >= u.time */
	IMAP_SK_HEADER,	 /* field hdr_name contains the key */
	IMAP_SK_BODY,
	IMAP_SK_TEXT,
	IMAP_SK_MODSEQ, /* MODSEQ >= u.modseq (RFC 7162 3.1.5) */
};

/* How much of a message a key needs, cheapest first. */
enum imap_search_cost {
	IMAP_SEARCH_COST_VIEW,	 /* flags, UID, sequence number */
	IMAP_SEARCH_COST_META,	 /* size, INTERNALDATE */
	IMAP_SEARCH_COST_HEADER, /* the top-level header */
	IMAP_SEARCH_COST_BODY,	 /* the decoded text */
};

/* How a HEADER key's field value is prepared before matching. */
enum imap_search_hdr_form {
	IMAP_SEARCH_HDR_PLAIN,	  /* HEADER: decoded value */
	IMAP_SEARCH_HDR_ADDRESS,  /* FROM TO CC BCC: addresses rewritten */
	IMAP_SEARCH_HDR_COMPRESS, /* SUBJECT: runs of blanks as one */
};

struct imap_search_node {
	enum imap_search_kind kind;
	struct imap_search_node *next;	/* sibling in an AND list */
	struct imap_search_node *child; /* AND: list; OR: 2; NOT: 1 */

	union {
		struct imap_seqset *set; /* owned; freed with the search */
		unsigned flag;		 /* enum maildir_flag bit */
		int keyword;
		uint64_t size;
		time_t day;	 /* 00:00 UTC of the date */
		time_t time;	 /* OLDER, YOUNGER: now - interval */
		uint64_t modseq; /* MODSEQ */
	} u;

	const char *hdr_name; /* HEADER: field name, NUL-terminated */
	enum imap_search_hdr_form hdr_form;
	bool empty_key;			  /* HEADER with "": field present */
	struct imap_search_matcher match; /* HEADER BODY TEXT */
	int result; /* header keys, per message: -1 unknown, 0, 1 */
	struct imap_search_node *list_next; /* in hdr_keys, text_keys, sets */
};

enum imap_search_phase {
	IMAP_SEARCH_PHASE_START,  /* next message */
	IMAP_SEARCH_PHASE_HEADER, /* reading the top-level header */
	IMAP_SEARCH_PHASE_PARTS,  /* walking the MIME parts */
};

/* A header being split into fields as its bytes arrive. */
struct imap_search_hsplit {
	struct buf field; /* current field, unfolded, CRs dropped */
	bool line_start;
	bool cr_at_start;
	bool done; /* the empty line was seen */
};

struct imap_search {
	struct imap_cmd *cmd;
	struct mailbox *box;
	struct arena *arena;
	struct imap_search_node *root;
	enum imap_search_cost need;	    /* the dearest key */
	struct imap_search_node *hdr_keys;  /* HEADER, SENT* */
	struct imap_search_node *text_keys; /* BODY, TEXT */
	struct imap_search_node *sets;	    /* SEQSET, UIDSET */
	bool text_any;			    /* some TEXT key */
	bool modseq_key;		    /* some MODSEQ key */
	uint32_t star_seq, star_uid;	    /* "*" as resolved */

	/* the results */
	unsigned *hits;
	size_t hit_count;

	/* where the evaluation is */
	unsigned idx, count;
	enum imap_search_phase phase;

	struct imap_search_msg_state {
		uint64_t vsize;
		time_t internal_day; /* INTERNALDATE in local time, as UTC */
		time_t internal;     /* INTERNALDATE itself */
		bool meta;
		bool text_done; /* BODY/TEXT keys not found did not match */
	} msg;

	int fd;
	uint64_t pos, end; /* file region being read */
	struct mime_message *mime;
	const struct mime_part *part;
	bool part_header; /* in PARTS: reading part's header (else body) */
	bool body_text;	  /* the body region is searched */
	struct imap_search_hsplit hs;
	/* the part has a Content-Transfer-Encoding field (the MIME tree
	   drops a malformed one, whose body must not be searched) */
	bool cte_seen;
	struct imap_search_decoder dec;
	struct imap_search_charset cs;
	bool cs_open;
	char *chunk; /* CHUNK bytes read from the file */
	struct buf decoded, utf8, folded;
	uint64_t deadline_usec;
};

/* imap_search_eval.c */
void imap_search_eval_init(struct imap_search *search);
void imap_search_eval_free(struct imap_search *search);

/* Day of an RFC 5322 date as written, as 00:00 UTC of that day plus the
   time of day (wall clock in the field's own zone): -1 when the value
   cannot be read. */
int imap_search_parse_date_header(const char *value, size_t len,
				  time_t *wall_r);

#endif
