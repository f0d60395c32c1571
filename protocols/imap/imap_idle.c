/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_idle.h"

#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_sync.h"
#include "storage/watch.h"

#include <ev.h>
#include <strings.h>

/* A sync that failed (the folder lock is busy: never waited for on the
   loop) is tried again after this long. */
#define IDLE_RETRY_SECS 0.05

struct imap_idle {
	struct mailbox_watch *watch;
	ev_timer retry;
	struct ev_loop *loop;
};

static void idle_retry_later(void *arg)
{
	struct imap_cmd *cmd = arg;
	struct imap_idle *idle = cmd->state;

	ev_timer_stop(idle->loop, &idle->retry);
	ev_timer_set(&idle->retry, IDLE_RETRY_SECS, 0.);
	ev_timer_start(idle->loop, &idle->retry);
}

/* A rescan runs on a storage thread (imap_job.h); its responses come
   when it is over. */
static void idle_sync(struct imap_cmd *cmd)
{
	struct imap_idle *idle = cmd->state;

	ev_timer_stop(idle->loop, &idle->retry);
	if (imap_job_sync_busy(cmd->s)) {
		idle_retry_later(cmd); /* after the running one */
		return;
	}
	if (imap_job_sync_start(cmd->s, NULL, 0, idle_retry_later, cmd))
		return;
	if (imap_sync(cmd->s, true) < 0)
		idle_retry_later(cmd);
}

static void idle_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	idle_sync(w->data);
}

static void idle_changed(struct mailbox_watch *watch, unsigned events,
			 void *context)
{
	struct imap_cmd *cmd = context;

	(void)watch;
	(void)events;
	/* RFC 2177 3: while idling the server may send EXISTS, EXPUNGE and
	   FETCH at any time */
	idle_sync(cmd);
}

static void idle_cleanup(struct imap_cmd *cmd)
{
	struct imap_idle *idle = cmd->state;

	mailbox_watch_free(&idle->watch);
	ev_timer_stop(idle->loop, &idle->retry);
}

static enum imap_cmd_result idle_resume(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct strv line;
	int ret;

	if (imap_job_sync_busy(s))
		return IMAP_CMD_PENDING; /* resumed when it is over */
	ret = conn_peek_line(s->conn, 64, &line);
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
	idle->loop = conn_loop(s->conn);
	ev_timer_init(&idle->retry, idle_retry_cb, IDLE_RETRY_SECS, 0.);
	idle->retry.data = cmd;
	cmd->state = idle;
	cmd->cleanup = idle_cleanup;
	cmd->resume = idle_resume;
	/* what happened before IDLE first */
	idle_sync(cmd);
	if (s->sel != NULL)
		idle->watch = mailbox_watch_new(conn_loop(s->conn), s->sel->box,
						0, idle_changed, cmd);
	conn_write_str(s->conn, "+ idling\r\n");
	return idle_resume(cmd);
}
