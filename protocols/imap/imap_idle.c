#include "protocols/imap/imap_idle.h"

#include "protocols/imap/imap_sync.h"
#include "storage/watch.h"

#include <strings.h>

struct imap_idle {
	struct mailbox_watch *watch;
};

static void idle_changed(struct mailbox_watch *watch, unsigned events,
			 void *context)
{
	struct imap_cmd *cmd = context;

	(void)watch;
	(void)events;
	/* RFC 2177 3: while idling the server may send EXISTS, EXPUNGE and
	   FETCH at any time */
	imap_sync(cmd->s, true);
}

static void idle_cleanup(struct imap_cmd *cmd)
{
	struct imap_idle *idle = cmd->state;

	mailbox_watch_free(&idle->watch);
}

static enum imap_cmd_result idle_resume(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct strv line;
	int ret = conn_peek_line(s->conn, 64, &line);

	if (ret == 0)
		return IMAP_CMD_PENDING;
	if (ret < 0) {
		conn_skip_line(s->conn);
		return imap_cmd_bad(cmd, "Expected DONE");
	}
	if (line.len != 4 || strncasecmp(line.p, "DONE", 4) != 0) {
		conn_consume_line(s->conn);
		return imap_cmd_bad(cmd, "Expected DONE");
	}
	conn_consume_line(s->conn);
	return imap_cmd_ok(cmd, "IDLE terminated");
}

enum imap_cmd_result imap_cmd_idle(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_idle *idle;

	if (imap_cmd_argc(cmd) != 0) {
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	idle = arena_zalloc(cmd->arena, sizeof(*idle));
	cmd->state = idle;
	cmd->cleanup = idle_cleanup;
	cmd->resume = idle_resume;
	/* what happened before IDLE first */
	imap_sync(s, true);
	if (s->sel != NULL)
		idle->watch = mailbox_watch_new(conn_loop(s->conn), s->sel->box,
						0, idle_changed, cmd);
	conn_write_str(s->conn, "+ idling\r\n");
	return idle_resume(cmd);
}
