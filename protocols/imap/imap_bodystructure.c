/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_bodystructure.h"

#include "protocols/imap/imap_envelope.h"
#include "storage/mime.h"

#include <strings.h>

#define DEFAULT_CHARSET "us-ascii" /* RFC 2045 5.2 */

/* A multipart without parts is not allowed (RFC 2046 5.1.1); show one
   empty text/plain part, as Dovecot does. */
#define EMPTY_BODY \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
#define EMPTY_BODYSTRUCTURE                                                    \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 " \
	"NIL NIL NIL NIL)"

static int write_params(struct buf *out, const struct mime_param *params,
			unsigned n, bool default_charset)
{
	bool seen_charset = false;
	int r = 0;

	if (!default_charset && n == 0)
		return buf_append_str(out, "NIL");
	r |= buf_append(out, "(", 1);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			r |= buf_append(out, " ", 1);
		if (strcasecmp(params[i].name, "charset") == 0)
			seen_charset = true;
		r |= imap_envelope_append_nstring(out, params[i].name);
		r |= buf_append(out, " ", 1);
		r |= imap_envelope_append_nstring(out, params[i].value);
	}
	if (default_charset && !seen_charset) {
		if (n > 0)
			r |= buf_append(out, " ", 1);
		r |= buf_append_str(out, "\"charset\" \"" DEFAULT_CHARSET "\"");
	}
	r |= buf_append(out, ")", 1);
	return r != 0 ? -1 : 0;
}

/* Disposition, language and location: the end of every BODYSTRUCTURE. */
static int write_common(struct buf *out, const struct mime_part *part)
{
	int r = buf_append(out, " ", 1);

	if (part->disposition == NULL) {
		r |= buf_append_str(out, "NIL");
	} else {
		r |= buf_append(out, "(", 1);
		r |= imap_envelope_append_nstring(out, part->disposition);
		r |= buf_append(out, " ", 1);
		r |= write_params(out, part->disp_params,
				  part->disp_param_count, false);
		r |= buf_append(out, ")", 1);
	}
	r |= buf_append(out, " ", 1);
	if (part->language_count == 0) {
		r |= buf_append_str(out, "NIL");
	} else {
		r |= buf_append(out, "(", 1);
		for (unsigned i = 0; i < part->language_count; i++) {
			if (i > 0)
				r |= buf_append(out, " ", 1);
			r |= imap_envelope_append_nstring(out,
							  part->language[i]);
		}
		r |= buf_append(out, ")", 1);
	}
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring_nolf(out, part->location);
	return r != 0 ? -1 : 0;
}

static int write_children(struct buf *out, const struct mime_part *c,
			  bool extended)
{
	int r = 0;

	for (; c != NULL; c = c->next) {
		r |= buf_append(out, "(", 1);
		r |= imap_bodystructure_write(out, c, extended);
		r |= buf_append(out, ")", 1);
	}
	return r != 0 ? -1 : 0;
}

static int write_multipart(struct buf *out, const struct mime_part *part,
			   bool extended)
{
	int r = 0;

	if (part->children != NULL)
		r |= write_children(out, part->children, extended);
	else
		r |= buf_append_str(out, extended ? EMPTY_BODYSTRUCTURE
						  : EMPTY_BODY);
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring(
		out, part->subtype != NULL ? part->subtype : "");
	if (!extended)
		return r != 0 ? -1 : 0;
	r |= buf_append(out, " ", 1);
	r |= write_params(out, part->params, part->param_count, false);
	r |= write_common(out, part);
	return r != 0 ? -1 : 0;
}

static int write_leaf(struct buf *out, const struct mime_part *part,
		      bool extended)
{
	bool rfc822 = (part->flags & MIME_PART_RFC822) != 0;
	bool text = false;
	int r = 0;

	if (rfc822) {
		r |= buf_append_str(out, "\"message\" \"rfc822\"");
	} else if (part->type == NULL) {
		text = true;
		r |= buf_append_str(out, "\"text\" \"plain\"");
	} else if (strcasecmp(part->type, "multipart") == 0 ||
		   (strcasecmp(part->type, "message") == 0 &&
		    part->subtype != NULL &&
		    strcasecmp(part->subtype, "rfc822") == 0)) {
		/* a multipart or message we did not open (nesting limit):
		   its parts are opaque data, as Dovecot shows them */
		r |= buf_append_str(out, "\"application\" \"octet-stream\"");
	} else {
		text = strcasecmp(part->type, "text") == 0;
		r |= imap_envelope_append_nstring(out, part->type);
		r |= buf_append(out, " ", 1);
		r |= imap_envelope_append_nstring(
			out, part->subtype != NULL ? part->subtype : "");
	}
	r |= buf_append(out, " ", 1);
	r |= write_params(out, part->params, part->param_count, text);
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring_nolf(out, part->id);
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring_nolf(out, part->description);
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring(
		out, part->encoding != NULL ? part->encoding : "7bit");
	r |= buf_printf(out, " %llu", (unsigned long long)part->body.virtual);
	if (text) {
		r |= buf_printf(out, " %llu",
				(unsigned long long)part->body.lines);
	} else if (rfc822 && part->children != NULL) {
		r |= buf_append_str(out, " (");
		r |= imap_envelope_write(out, part->children->envelope);
		r |= buf_append_str(out, ") ");
		r |= write_children(out, part->children, extended);
		r |= buf_printf(out, " %llu",
				(unsigned long long)part->body.lines);
	}
	if (!extended)
		return r != 0 ? -1 : 0;
	r |= buf_append(out, " ", 1);
	r |= imap_envelope_append_nstring_nolf(out, part->md5);
	r |= write_common(out, part);
	return r != 0 ? -1 : 0;
}

int imap_bodystructure_write(struct buf *out, const struct mime_part *part,
			     bool extended)
{
	if ((part->flags & MIME_PART_MULTIPART) != 0)
		return write_multipart(out, part, extended);
	return write_leaf(out, part, extended);
}
