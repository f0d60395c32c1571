/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_session_cmds.h"

#include "lib/log.h"
#include "protocols/imap/imap_write.h"

#include <stdio.h>
#include <string.h>

/* What ENABLE can turn on (RFC 5161 3.1). An extension is listed here
   once the session honours its bit everywhere it changes responses;
   unknown names are ignored, as the RFC says. */
static const struct {
	const char *name;
	unsigned bit;
} enable_table[] = {
	{"CONDSTORE", IMAP_ENABLED_CONDSTORE}, /* RFC 7162 3.1 */
	/* RFC 7162 3.2.3: implies CONDSTORE */
	{"QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE},
	{NULL, 0},
};

void imap_enable_capabilities(struct imap_session *s, struct buf *out)
{
	(void)s;
	for (size_t i = 0; enable_table[i].name != NULL; i++)
		buf_printf(out, " %s", enable_table[i].name);
}

enum imap_cmd_result imap_cmd_enable(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	size_t n = imap_cmd_argc(cmd);
	struct buf b;

	if (n == 0) {
		imap_reply(cmd, "BAD", "ENABLE needs capability names");
		return IMAP_CMD_DONE;
	}
	buf_init(&b, 4096);
	buf_append_str(&b, "* ENABLED");
	for (size_t i = 0; i < n; i++) {
		struct strv name;

		if (!imap_arg_get_atom(imap_cmd_arg(cmd, i), &name)) {
			buf_free(&b);
			imap_reply(cmd, "BAD", "Invalid capability name");
			return IMAP_CMD_DONE;
		}
		for (size_t k = 0; enable_table[k].name != NULL; k++) {
			if (!strv_eq_cstr_ci(name, enable_table[k].name))
				continue;
			/* RFC 5161 3.2: only newly enabled ones are listed */
			if ((s->enabled & enable_table[k].bit) !=
			    enable_table[k].bit)
				buf_printf(&b, " %s", enable_table[k].name);
			s->enabled |= enable_table[k].bit;
		}
	}
	buf_append_str(&b, "\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	return imap_cmd_ok(cmd, "ENABLE completed");
}

/* RFC 2342: one personal namespace at the root, "/" as separator */
enum imap_cmd_result imap_cmd_namespace(struct imap_cmd *cmd)
{
	if (imap_cmd_argc(cmd) != 0) {
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	conn_write_str(cmd->s->conn, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	return imap_cmd_ok(cmd, "NAMESPACE completed");
}

/* RFC 2971 3.3: at most 30 pairs, names up to 30 bytes, values up to
   1024 */
#define ID_PAIRS_MAX 30
#define ID_NAME_MAX 30
#define ID_VALUE_MAX 1024

enum imap_cmd_result imap_cmd_id(struct imap_cmd *cmd)
{
	const struct imap_arg *list = imap_cmd_arg(cmd, 0);
	size_t n = imap_arg_count(list);
	char logged[2048];
	size_t used = 0;

	if (imap_cmd_argc(cmd) != 1 ||
	    (!imap_arg_is_nil(list) && (imap_arg_type(list) != IMAP_ARG_LIST ||
					n % 2 != 0 || n / 2 > ID_PAIRS_MAX))) {
		imap_reply(cmd, "BAD",
			   "ID needs NIL or a list of field "
			   "value pairs");
		return IMAP_CMD_DONE;
	}
	logged[0] = '\0';
	for (size_t i = 0; i + 1 < n; i += 2) {
		struct strv name, value;
		bool nil = false;

		if (!imap_arg_get_string(imap_arg_at(list, i), &name) ||
		    !imap_arg_get_nstring(imap_arg_at(list, i + 1), &value,
					  &nil) ||
		    name.len > ID_NAME_MAX || value.len > ID_VALUE_MAX) {
			imap_reply(cmd, "BAD", "Invalid ID field");
			return IMAP_CMD_DONE;
		}
		if (used < sizeof(logged) - 1) {
			/* client-chosen text: quoted and escaped for the log */
			char qn[LOG_QUOTE_MAX], qv[LOG_QUOTE_MAX];
			int w = snprintf(
				logged + used, sizeof(logged) - used, " %s=%s",
				log_quote(qn, sizeof(qn), name.p, name.len),
				nil ? "NIL"
				    : log_quote(qv, sizeof(qv), value.p,
						value.len));

			used += w > 0 ? (size_t)w : 0;
		}
	}
	if (n > 0)
		conn_log_info(cmd->s->conn, "event=client_id%s", logged);
	conn_printf(cmd->s->conn,
		    "* ID (\"name\" \"Merpati\" \"version\" \"%s\")\r\n",
		    MERPATI_VERSION);
	return imap_cmd_ok(cmd, "ID completed");
}
