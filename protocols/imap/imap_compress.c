/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_compress.h"

#include "protocols/imap/imap_arg.h"

#include <strings.h>

void imap_compress_capabilities(struct imap_session *s, struct buf *out)
{
	/* RFC 4978 3: not advertised once active (Dovecot does the same) */
	if (imap_session_settings(s)->compress && !conn_is_compressed(s->conn))
		buf_append_str(out, " COMPRESS=DEFLATE");
}

enum imap_cmd_result imap_cmd_compress(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct strv alg;

	if (!imap_session_settings(s)->compress) {
		imap_reply(cmd, "BAD", "COMPRESS is disabled");
		return IMAP_CMD_DONE;
	}
	if (imap_cmd_argc(cmd) != 1 ||
	    !imap_arg_get_atom(imap_cmd_arg(cmd, 0), &alg)) {
		imap_reply(cmd, "BAD", "COMPRESS takes one algorithm");
		return IMAP_CMD_DONE;
	}
	if (alg.len != 7 || strncasecmp(alg.p, "DEFLATE", 7) != 0) {
		imap_reply(cmd, "BAD", "Unknown compression algorithm");
		return IMAP_CMD_DONE;
	}
	if (conn_is_compressed(s->conn)) {
		imap_reply(cmd, "NO",
			   "[COMPRESSIONACTIVE] DEFLATE is already active");
		return IMAP_CMD_DONE;
	}
	/* RFC 4978 3: this OK is the last line sent uncompressed */
	imap_reply(cmd, "OK", "DEFLATE active");
	conn_start_compress(s->conn);
	return IMAP_CMD_DONE;
}
