/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Commands' storage work on the storage pool (see imap_job.h). */
#include "protocols/imap/imap_job.h"

#include "lib/log.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap_sync.h"
#include "server/conn.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/storage_pool.h"

#include <stdlib.h>
#include <string.h>

struct imap_job {
	struct imap_cmd *cmd; /* NULL once cancelled */
	struct thread_pool_job *job;
	imap_job_work_fn *work;
	imap_job_done_fn *done;
	imap_job_free_fn *free_ctx;
	void *ctx;
	bool finished;
	/* the selected folder, synced on the thread after work (for the
	   command's end), or NULL */
	struct mailbox *sync_box;
	const struct mailbox_changes *changes;
	int sync_ret;
	/* taken over from a session freed while work ran */
	struct maildir *store;
	struct imap_selected *sel;
};

/* A selected folder and store taken over from a freed session. */
static void orphans_free(struct imap_selected **sel, struct maildir **store)
{
	if (*sel != NULL) {
		mailbox_free(&(*sel)->box);
		free((*sel)->name);
		free(*sel);
		*sel = NULL;
	}
	maildir_free(store);
}

static void job_free(struct imap_job *job)
{
	job->free_ctx(job->ctx);
	orphans_free(&job->sel, &job->store);
	free(job);
}

static void job_work(void *context)
{
	struct imap_job *job = context;
	const char *error = NULL;

	job->work(job->ctx);
	if (job->sync_box != NULL)
		job->sync_ret =
			mailbox_sync(job->sync_box, &job->changes, &error);
}

static enum imap_cmd_result job_resume(struct imap_cmd *cmd)
{
	struct imap_job *job = cmd->state;

	struct imap_selected *sel = cmd->s->sel;

	if (!job->finished)
		return IMAP_CMD_PENDING;
	if (job->sync_box != NULL && job->sync_ret == 0 && sel != NULL &&
	    sel->box == job->sync_box) {
		sel->presynced = true;
		sel->presync_changes = job->changes;
	}
	return job->done(cmd, job->ctx);
}

/* On the loop: work is over. */
static void job_done(void *context)
{
	struct imap_job *job = context;

	job->finished = true;
	job->job = NULL;
	conn_pause_input(job->cmd->s->conn, false); /* kicks process() */
}

static void job_discard(void *context)
{
	job_free(context);
}

/* The command ended (after done) or the session is being freed. */
static void job_cleanup(struct imap_cmd *cmd)
{
	struct imap_job *job = cmd->state;
	struct imap_session *s = cmd->s;

	cmd->state = NULL;
	if (job->job == NULL) {
		job_free(job);
		return;
	}
	/* work still runs and owns the store and the selected folder */
	job->cmd = NULL;
	job->store = s->store;
	s->store = NULL;
	job->sel = s->sel;
	s->sel = NULL;
	storage_job_cancel(job->job);
}

enum imap_cmd_result imap_job_run(struct imap_cmd *cmd, imap_job_work_fn *work,
				  imap_job_done_fn *done,
				  imap_job_free_fn *free_ctx, void *ctx,
				  bool sync_after)
{
	struct storage_pool *pool = storage_pool_default();
	struct imap_job *job;

	if (pool == NULL) {
		enum imap_cmd_result r;

		work(ctx);
		r = done(cmd, ctx);
		free_ctx(ctx);
		return r;
	}
	job = xcalloc(1, sizeof(*job));
	job->cmd = cmd;
	job->work = work;
	job->done = done;
	job->free_ctx = free_ctx;
	job->ctx = ctx;
	/* the sync at the command's end (imap_sync.c) may scan the folder:
	   do it here, where RFC 3501 7.4.1 allows expunges at the end */
	if (sync_after && cmd->s->sel != NULL &&
	    ((cmd->def->flags & IMAP_CMDF_SEQ) == 0 || cmd->uid))
		job->sync_box = cmd->s->sel->box;
	cmd->state = job;
	cmd->resume = job_resume;
	cmd->cleanup = job_cleanup;
	conn_pause_input(cmd->s->conn, true);
	job->job = storage_pool_run(pool, job_work, job_done, job_discard, job);
	return IMAP_CMD_PENDING;
}

/* --- the sync of a command's end or an IDLE wakeup --- */

struct imap_sync_job {
	struct imap_session *s;	     /* NULL once cancelled */
	struct thread_pool_job *job; /* NULL once the sync is over */
	struct mailbox *box;
	const struct mailbox_changes *changes;
	const char *error;
	int ret;
	char *reply; /* the tagged line, or NULL */
	size_t reply_len;
	imap_job_failed_fn *failed;
	void *arg;
	/* taken over from a session freed while the sync ran */
	struct maildir *store;
	struct imap_selected *sel;
};

static void sync_job_free(struct imap_sync_job *j)
{
	orphans_free(&j->sel, &j->store);
	free(j->reply);
	free(j);
}

static void sync_work(void *context)
{
	struct imap_sync_job *j = context;

	j->ret = mailbox_sync(j->box, &j->changes, &j->error);
}

static void sync_done(void *context)
{
	struct imap_sync_job *j = context;

	j->job = NULL;
	conn_pause_input(j->s->conn, false); /* kicks process() */
}

static void sync_discard(void *context)
{
	sync_job_free(context);
}

bool imap_job_sync_start(struct imap_session *s, const char *reply,
			 size_t reply_len, imap_job_failed_fn *failed,
			 void *arg)
{
	struct storage_pool *pool = storage_pool_default();
	struct imap_sync_job *j;

	if (pool == NULL || s->sel == NULL || s->sel->presynced ||
	    !mailbox_sync_needed(s->sel->box))
		return false;
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->box = s->sel->box;
	if (reply != NULL) {
		j->reply = xmalloc(reply_len + 1);
		memcpy(j->reply, reply, reply_len);
		j->reply_len = reply_len;
	}
	j->failed = failed;
	j->arg = arg;
	s->sync_job = j;
	conn_pause_input(s->conn, true);
	j->job = storage_pool_run(pool, sync_work, sync_done, sync_discard, j);
	return true;
}

bool imap_job_sync_busy(const struct imap_session *s)
{
	return s->sync_job != NULL;
}

bool imap_job_sync_finish(struct imap_session *s)
{
	struct imap_sync_job *j = s->sync_job;
	struct imap_selected *sel = s->sel;

	if (j == NULL)
		return true;
	if (j->job != NULL)
		return false;
	s->sync_job = NULL;
	if (j->ret == 0 && sel != NULL && sel->box == j->box) {
		/* imap_sync() reports what the thread found */
		sel->presynced = true;
		sel->presync_changes = j->changes;
		imap_sync(s, true);
	} else if (j->ret < 0) {
		conn_log_warn(s->conn, "event=sync_failed folder=%s error=%s",
			      log_q(sel != NULL ? sel->name : ""),
			      log_q(j->error != NULL ? j->error : ""));
		if (j->failed != NULL)
			j->failed(j->arg);
	}
	if (j->reply != NULL)
		conn_write(s->conn, j->reply, j->reply_len);
	sync_job_free(j);
	return true;
}

void imap_job_sync_cancel(struct imap_session *s)
{
	struct imap_sync_job *j = s->sync_job;

	if (j == NULL)
		return;
	s->sync_job = NULL;
	if (j->job == NULL) {
		sync_job_free(j);
		return;
	}
	/* the sync still runs and owns the store and the selected folder */
	j->s = NULL;
	j->store = s->store;
	s->store = NULL;
	j->sel = s->sel;
	s->sel = NULL;
	storage_job_cancel(j->job);
}
