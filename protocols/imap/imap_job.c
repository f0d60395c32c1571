/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Commands' storage work on the storage pool (see imap_job.h). */
#include "protocols/imap/imap_job.h"

#include "lib/xalloc.h"
#include "server/conn.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/storage_pool.h"

#include <stdlib.h>

struct imap_job {
	struct imap_cmd *cmd; /* NULL once cancelled */
	struct storage_job *job;
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

static void job_free(struct imap_job *job)
{
	job->free_ctx(job->ctx);
	if (job->sel != NULL) {
		mailbox_free(&job->sel->box);
		free(job->sel->name);
		free(job->sel);
	}
	maildir_free(&job->store);
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
