/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command table, and the commands that need no mailbox: CAPABILITY,
   NOOP, LOGOUT, STARTTLS, CHECK (RFC 3501 6.1, 6.2.1, 6.4.1). */
#include "protocols/imap/imap_append.h"
#include "protocols/imap/imap_auth.h" /* LOGIN, AUTHENTICATE */
#include "protocols/imap/imap_compress.h"
#include "protocols/imap/imap_fetch.h"
#include "protocols/imap/imap_folder.h" /* LIST ... STATUS */
#include "protocols/imap/imap_idle.h"
#include "protocols/imap/imap_list.h" /* LIST LSUB */
#include "protocols/imap/imap_private.h"
#include "protocols/imap/imap_quota.h"	      /* GETQUOTA ... */
#include "protocols/imap/imap_search.h"	      /* SEARCH */
#include "protocols/imap/imap_select.h"	      /* SELECT ... EXPUNGE */
#include "protocols/imap/imap_session_cmds.h" /* ENABLE NAMESPACE ID */
#include "protocols/imap/imap_sort.h"	      /* SORT */
#include "protocols/imap/imap_store.h"	      /* STORE COPY MOVE */
#include "protocols/imap/imap_thread.h"	      /* THREAD */

static bool no_args(struct imap_cmd *cmd)
{
	if (imap_cmd_argc(cmd) == 0)
		return true;
	imap_reply(cmd, "BAD", "Unexpected arguments");
	return false;
}

static enum imap_cmd_result cmd_capability(struct imap_cmd *cmd)
{
	struct buf caps;

	if (!no_args(cmd))
		return IMAP_CMD_DONE;
	buf_init(&caps, 4096);
	imap_capabilities(cmd->s, &caps);
	conn_printf(cmd->s->conn, "* CAPABILITY %s\r\n", caps.data);
	buf_free(&caps);
	return imap_cmd_ok(cmd, "CAPABILITY completed");
}

static enum imap_cmd_result cmd_noop(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return IMAP_CMD_DONE;
	return imap_cmd_ok(cmd, "NOOP completed");
}

/* RFC 3501 6.4.1: a checkpoint; Maildir writes are durable already */
static enum imap_cmd_result cmd_check(struct imap_cmd *cmd)
{
	if (!no_args(cmd))
		return IMAP_CMD_DONE;
	return imap_cmd_ok(cmd, "CHECK completed");
}

static enum imap_cmd_result cmd_logout(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;

	if (!no_args(cmd))
		return IMAP_CMD_DONE;
	conn_write_str(s->conn, "* BYE Logging out\r\n");
	imap_reply(cmd, "OK", "LOGOUT completed");
	s->state = IMAP_STATE_LOGOUT;
	s->stop_reading = true;
	conn_close(s->conn, "logout");
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result cmd_starttls(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;

	if (!no_args(cmd))
		return IMAP_CMD_DONE;
	if (!conn_can_starttls(s->conn)) {
		imap_reply(cmd, "BAD",
			   conn_is_tls(s->conn) ? "TLS is already active"
						: "TLS is not available");
		return IMAP_CMD_DONE;
	}
	imap_reply(cmd, "OK", "Begin TLS negotiation now");
	/* anything pipelined behind this line ends the connection; nothing
	   is parsed until the handshake is done */
	s->starttls_pending = true;
	conn_starttls(s->conn);
	return IMAP_CMD_DONE;
}

const struct imap_command imap_commands[] = {
	{"CAPABILITY", IMAP_IN_ANY, 0, cmd_capability},
	{"NOOP", IMAP_IN_ANY, 0, cmd_noop},
	{"LOGOUT", IMAP_IN_ANY, 0, cmd_logout},
	{"STARTTLS", IMAP_IN_NOAUTH, 0, cmd_starttls},
	{"ID", IMAP_IN_ANY, 0, imap_cmd_id},
	{"ENABLE", IMAP_IN_AUTH, 0, imap_cmd_enable},
	{"NAMESPACE", IMAP_IN_LOGGED_IN, 0, imap_cmd_namespace},
	{"LOGIN", IMAP_IN_NOAUTH, 0, imap_cmd_login},
	{"AUTHENTICATE", IMAP_IN_NOAUTH, 0, imap_cmd_authenticate},
	{"UNAUTHENTICATE", IMAP_IN_LOGGED_IN, 0, imap_cmd_unauthenticate},
	{"COMPRESS", IMAP_IN_LOGGED_IN, 0, imap_cmd_compress},
	{"SELECT", IMAP_IN_LOGGED_IN, 0, imap_cmd_select},
	{"EXAMINE", IMAP_IN_LOGGED_IN, 0, imap_cmd_examine},
	{"CREATE", IMAP_IN_LOGGED_IN, 0, imap_cmd_create},
	{"DELETE", IMAP_IN_LOGGED_IN, 0, imap_cmd_delete},
	{"RENAME", IMAP_IN_LOGGED_IN, 0, imap_cmd_rename},
	{"SUBSCRIBE", IMAP_IN_LOGGED_IN, 0, imap_cmd_subscribe},
	{"UNSUBSCRIBE", IMAP_IN_LOGGED_IN, 0, imap_cmd_unsubscribe},
	{"LIST", IMAP_IN_LOGGED_IN, 0, imap_cmd_list},
	{"LSUB", IMAP_IN_LOGGED_IN, 0, imap_cmd_lsub},
	{"STATUS", IMAP_IN_LOGGED_IN, 0, imap_cmd_status},
	{"APPEND", IMAP_IN_LOGGED_IN, 0, imap_cmd_append},
	{"CHECK", IMAP_IN_SELECTED, 0, cmd_check},
	{"CLOSE", IMAP_IN_SELECTED, 0, imap_cmd_close},
	{"UNSELECT", IMAP_IN_SELECTED, 0, imap_cmd_unselect},
	{"EXPUNGE", IMAP_IN_SELECTED, 0, imap_cmd_expunge},
	{"EXPUNGE", IMAP_IN_SELECTED, IMAP_CMDF_UID_ONLY, imap_cmd_uid_expunge},
	{"STORE", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID,
	 imap_cmd_store},
	{"FETCH", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID,
	 imap_cmd_fetch},
	{"COPY", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID,
	 imap_cmd_copy},
	{"MOVE", IMAP_IN_SELECTED, IMAP_CMDF_UID, imap_cmd_move},
	{"IDLE", IMAP_IN_LOGGED_IN, 0, imap_cmd_idle},
	{"SEARCH", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID,
	 imap_cmd_search},
	{"SORT", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID,
	 imap_cmd_sort},
	{"THREAD", IMAP_IN_SELECTED, IMAP_CMDF_SEQ | IMAP_CMDF_UID,
	 imap_cmd_thread},
	{"GETQUOTA", IMAP_IN_LOGGED_IN, 0, imap_cmd_getquota},
	{"GETQUOTAROOT", IMAP_IN_LOGGED_IN, 0, imap_cmd_getquotaroot},
	{"SETQUOTA", IMAP_IN_LOGGED_IN, 0, imap_cmd_setquota},
	{NULL, 0, 0, NULL},
};
