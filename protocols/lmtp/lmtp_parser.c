/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/lmtp/lmtp_parser.h"

#include <string.h>

static const struct {
	const char *name;
	enum lmtp_verb verb;
} lmtp_verbs[] = {
	{"LHLO", LMTP_VERB_LHLO}, {"HELO", LMTP_VERB_HELO},
	{"EHLO", LMTP_VERB_HELO}, {"MAIL", LMTP_VERB_MAIL},
	{"RCPT", LMTP_VERB_RCPT}, {"DATA", LMTP_VERB_DATA},
	{"RSET", LMTP_VERB_RSET}, {"NOOP", LMTP_VERB_NOOP},
	{"QUIT", LMTP_VERB_QUIT}, {"VRFY", LMTP_VERB_VRFY},
};

static bool prefix_ci(struct strv s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && strv_eq_cstr_ci((struct strv){s.p, n}, prefix);
}

static struct strv strv_skip(struct strv s, size_t n)
{
	return (struct strv){s.p + n, s.len - n};
}

static struct strv trim_spaces(struct strv s)
{
	while (s.len > 0 && s.p[0] == ' ')
		s = strv_skip(s, 1);
	while (s.len > 0 && s.p[s.len - 1] == ' ')
		s.len--;
	return s;
}

/* One ESMTP parameter of MAIL FROM (RFC 1870 SIZE, RFC 6152 BODY). */
static int parse_param(struct strv param, struct lmtp_command *cmd,
		       const char **error_r)
{
	if (prefix_ci(param, "SIZE=")) {
		struct strv v = strv_skip(param, 5);
		uint64_t n = 0;

		if (v.len == 0 || v.len > 20)
			goto bad;
		for (size_t i = 0; i < v.len; i++) {
			if (v.p[i] < '0' || v.p[i] > '9' ||
			    n > (UINT64_MAX - 9) / 10)
				goto bad;
			n = n * 10 + (uint64_t)(v.p[i] - '0');
		}
		cmd->has_size = true;
		cmd->size = n;
		return 0;
	}
	if (strv_eq_cstr_ci(param, "BODY=7BIT")) {
		cmd->body = LMTP_BODY_7BIT;
		return 0;
	}
	if (strv_eq_cstr_ci(param, "BODY=8BITMIME")) {
		cmd->body = LMTP_BODY_8BITMIME;
		return 0;
	}
	*error_r = "555 5.5.4 Unsupported parameter";
	return -1;
bad:
	*error_r = "501 5.5.4 Invalid SIZE parameter";
	return -1;
}

/* "FROM:<path> params" / "TO:<path> params" */
static int parse_path(struct strv rest, const char *keyword, bool params_ok,
		      struct lmtp_command *cmd, const char **error_r)
{
	const char *gt;

	if (!prefix_ci(rest, keyword)) {
		*error_r = "501 5.5.4 Syntax error in parameters";
		return -1;
	}
	rest = strv_skip(rest, strlen(keyword));
	while (rest.len > 0 && rest.p[0] == ' ')
		rest = strv_skip(rest, 1); /* "FROM: <a>" is common */
	if (rest.len < 2 || rest.p[0] != '<' ||
	    (gt = memchr(rest.p, '>', rest.len)) == NULL) {
		*error_r = "501 5.1.7 Path must be in angle brackets";
		return -1;
	}
	cmd->path = (struct strv){rest.p + 1, (size_t)(gt - rest.p - 1)};
	if (cmd->path.len > LMTP_PATH_MAX) {
		*error_r = "501 5.1.3 Path too long";
		return -1;
	}
	for (size_t i = 0; i < cmd->path.len; i++) {
		unsigned char c = (unsigned char)cmd->path.p[i];

		if (c <= ' ' || c == 0x7f || c == '<') {
			*error_r = "501 5.1.3 Invalid character in path";
			return -1;
		}
	}
	rest = strv_skip(rest, (size_t)(gt - rest.p) + 1);
	if (rest.len > 0 && rest.p[0] != ' ') {
		*error_r = "501 5.5.4 Syntax error after the path";
		return -1;
	}
	for (;;) {
		struct strv param;

		rest = trim_spaces(rest);
		if (rest.len == 0)
			return 0;
		if (!params_ok) {
			*error_r = "555 5.5.4 Unsupported parameter";
			return -1;
		}
		const char *sp = memchr(rest.p, ' ', rest.len);

		param = (struct strv){rest.p, sp != NULL ? (size_t)(sp - rest.p)
							 : rest.len};
		if (parse_param(param, cmd, error_r) < 0)
			return -1;
		rest = strv_skip(rest, param.len);
	}
}

int lmtp_parser_command(struct strv line, struct lmtp_command *cmd_r,
			const char **error_r)
{
	struct strv verb, rest;
	const char *sp = memchr(line.p, ' ', line.len);

	memset(cmd_r, 0, sizeof(*cmd_r));
	verb = (struct strv){line.p,
			     sp != NULL ? (size_t)(sp - line.p) : line.len};
	rest = sp != NULL ? strv_skip(line, verb.len + 1)
			  : (struct strv){line.p + line.len, 0};
	for (size_t i = 0; i < sizeof(lmtp_verbs) / sizeof(*lmtp_verbs); i++) {
		if (strv_eq_cstr_ci(verb, lmtp_verbs[i].name))
			cmd_r->verb = lmtp_verbs[i].verb;
	}
	cmd_r->arg = trim_spaces(rest);
	switch (cmd_r->verb) {
	case LMTP_VERB_MAIL:
		return parse_path(rest, "FROM:", true, cmd_r, error_r);
	case LMTP_VERB_RCPT:
		return parse_path(rest, "TO:", false, cmd_r, error_r);
	case LMTP_VERB_LHLO:
		if (cmd_r->arg.len == 0) {
			*error_r = "501 5.5.4 LHLO needs a domain";
			return -1;
		}
		return 0;
	case LMTP_VERB_DATA:
	case LMTP_VERB_RSET:
	case LMTP_VERB_QUIT:
		if (cmd_r->arg.len != 0) {
			*error_r = "501 5.5.4 No parameters allowed";
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

void lmtp_data_init(struct lmtp_data *data)
{
	data->state = LMTP_DATA_BOL;
}

bool lmtp_data_decode(struct lmtp_data *data, const char *in, size_t len,
		      char *out, size_t *used_r, size_t *out_len_r)
{
	size_t i = 0, o = 0;

	while (i < len && data->state != LMTP_DATA_END) {
		char c = in[i++];

		switch (data->state) {
		case LMTP_DATA_BOL:
			if (c == '.') {
				data->state = LMTP_DATA_DOT;
				break;
			}
			out[o++] = c;
			data->state = c == '\n' ? LMTP_DATA_BOL : LMTP_DATA_MID;
			break;
		case LMTP_DATA_MID:
			out[o++] = c;
			if (c == '\n')
				data->state = LMTP_DATA_BOL;
			break;
		case LMTP_DATA_DOT:
			/* the stuffed dot is dropped; a lone "." ends */
			if (c == '\r') {
				data->state = LMTP_DATA_DOT_CR;
			} else if (c == '\n') {
				data->state = LMTP_DATA_END;
			} else {
				out[o++] = c;
				data->state = LMTP_DATA_MID;
			}
			break;
		case LMTP_DATA_DOT_CR:
			if (c == '\n') {
				data->state = LMTP_DATA_END;
				break;
			}
			/* ".\rX": a line holding "\rX" */
			out[o++] = '\r';
			out[o++] = c;
			data->state = LMTP_DATA_MID;
			break;
		case LMTP_DATA_END:
			break;
		}
	}
	*used_r = i;
	*out_len_r = o;
	return data->state == LMTP_DATA_END;
}
