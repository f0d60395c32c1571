/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_job: a command's storage work on a storage thread (storage_pool.h),
 * so a cold folder open, an expunge or a copy never holds up the worker's
 * other sessions.
 *
 * imap_job_run() pauses the session's input and queues work(ctx) on the
 * process's storage pool; the command is pending meanwhile. While work
 * runs it owns the session's store and selected mailbox: nothing on the
 * loop touches them (the session reads no commands, and IDLE is not
 * running). When work is over, done(cmd, ctx) runs on the loop and ends
 * the command (it writes the replies, may set s->sel, and returns
 * imap_cmd_done()'s result); then free_ctx(ctx) runs. With sync_after, the
 * selected folder is also synced on the thread after work (when the
 * command may report expunges at its end), and the imap_sync() of the
 * command's end reports those changes instead of scanning on the loop.
 *
 * A session freed while work runs (the client went away) hands its store
 * and selected folder to the job: work finishes on its thread, then
 * free_ctx(ctx) and the store are freed on the loop; done never runs.
 * Without a pool (unit tests) work runs inline.
 */
#ifndef MERPATI_IMAP_JOB_H
#define MERPATI_IMAP_JOB_H

#include "protocols/imap/imap_private.h"

#include <stdbool.h>

typedef void imap_job_work_fn(void *ctx);
typedef enum imap_cmd_result imap_job_done_fn(struct imap_cmd *cmd, void *ctx);
typedef void imap_job_free_fn(void *ctx);

enum imap_cmd_result imap_job_run(struct imap_cmd *cmd, imap_job_work_fn *work,
				  imap_job_done_fn *done,
				  imap_job_free_fn *free_ctx, void *ctx,
				  bool sync_after);

#endif
