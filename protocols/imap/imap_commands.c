/* The IMAP commands that need no mailbox: CAPABILITY, NOOP, LOGOUT,
   STARTTLS (RFC 3501 6.1, 6.2.1). */
#include "protocols/imap/imap_auth.h" /* LOGIN, AUTHENTICATE */
#include "protocols/imap/imap_private.h"

static enum imap_cmd_result imap_no_args(struct imap_session *s)
{
	if (s->args.len != 0) {
		imap_reply(s, "BAD", "Unexpected arguments");
		conn_consume_line(s->conn);
		return IMAP_CMD_DONE;
	}
	return IMAP_CMD_PENDING;
}

static enum imap_cmd_result cmd_capability(struct imap_session *s)
{
	struct buf caps;

	if (imap_no_args(s) == IMAP_CMD_DONE)
		return IMAP_CMD_DONE;
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	conn_printf(s->conn, "* CAPABILITY %s\r\n", caps.data);
	buf_free(&caps);
	imap_reply(s, "OK", "CAPABILITY completed");
	conn_consume_line(s->conn);
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result cmd_noop(struct imap_session *s)
{
	if (imap_no_args(s) == IMAP_CMD_DONE)
		return IMAP_CMD_DONE;
	imap_reply(s, "OK", "NOOP completed");
	conn_consume_line(s->conn);
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result cmd_logout(struct imap_session *s)
{
	if (imap_no_args(s) == IMAP_CMD_DONE)
		return IMAP_CMD_DONE;
	conn_write_str(s->conn, "* BYE Logging out\r\n");
	imap_reply(s, "OK", "LOGOUT completed");
	conn_consume_line(s->conn);
	s->state = IMAP_STATE_LOGOUT;
	s->stop_reading = true;
	conn_close(s->conn, "logout");
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result cmd_starttls(struct imap_session *s)
{
	if (imap_no_args(s) == IMAP_CMD_DONE)
		return IMAP_CMD_DONE;
	if (!conn_can_starttls(s->conn)) {
		imap_reply(s, "BAD",
			   conn_is_tls(s->conn) ? "TLS is already active"
						: "TLS is not available");
		conn_consume_line(s->conn);
		return IMAP_CMD_DONE;
	}
	imap_reply(s, "OK", "Begin TLS negotiation now");
	conn_consume_line(s->conn);
	/* anything pipelined behind this line ends the connection */
	conn_starttls(s->conn);
	return IMAP_CMD_DONE;
}

const struct imap_command imap_commands[] = {
	{"CAPABILITY", IMAP_IN_ANY, cmd_capability},
	{"NOOP", IMAP_IN_ANY, cmd_noop},
	{"LOGOUT", IMAP_IN_ANY, cmd_logout},
	{"STARTTLS", IMAP_IN_NOAUTH, cmd_starttls},
	{"LOGIN", IMAP_IN_NOAUTH, imap_cmd_login}, /* imap_auth.c */
	{"AUTHENTICATE", IMAP_IN_NOAUTH,
	 imap_cmd_authenticate}, /* imap_auth.c */
	{NULL, 0, NULL},
};
