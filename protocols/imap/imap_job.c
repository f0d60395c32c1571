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

	job->work(job->ctx);
}

static enum imap_cmd_result job_resume(struct imap_cmd *cmd)
{
	struct imap_job *job = cmd->state;

	if (!job->finished)
		return IMAP_CMD_PENDING;
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
				  imap_job_free_fn *free_ctx, void *ctx)
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
	cmd->state = job;
	cmd->resume = job_resume;
	cmd->cleanup = job_cleanup;
	conn_pause_input(cmd->s->conn, true);
	job->job = storage_pool_run(pool, job_work, job_done, job_discard, job);
	return IMAP_CMD_PENDING;
}
