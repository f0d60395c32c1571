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

/*
 * The sync of a command's end (imap_cmd_done()) and of IDLE's wakeups,
 * when it may scan the folder (mailbox_sync_needed()): after deliveries a
 * rescan of a big folder takes long, so it runs on a storage thread. The
 * session's input is paused meanwhile and process() runs nothing (commands
 * pipelined behind wait, so they are answered in order); the job owns the
 * selected folder and the store like any job. When it is over,
 * imap_job_sync_finish() (from process(), on the loop) writes the untagged
 * responses (imap_sync(), so RFC 3501 7.4.1's rules hold) and then `reply`,
 * the command's tagged line (NULL for IDLE).
 *
 * imap_job_sync_start() returns false when the caller should sync on the
 * loop instead (cheap: nothing changed; no pool; the folder was synced by
 * the command's job already). It copies reply. Call it only when no sync
 * job is running (imap_job_sync_busy()). failed(arg), if set, runs on the
 * loop when the sync failed (the lock stayed busy): IDLE retries then.
 */
typedef void imap_job_failed_fn(void *arg);

bool imap_job_sync_start(struct imap_session *s, const char *reply,
			 size_t reply_len, imap_job_failed_fn *failed,
			 void *arg);
bool imap_job_sync_busy(const struct imap_session *s);

/* In process(): false while the sync runs (process nothing), else writes
   its replies, ends it and returns true. */
bool imap_job_sync_finish(struct imap_session *s);

/* The session is being freed: a running sync takes over the store and the
   selected folder and frees them when it is over. */
void imap_job_sync_cancel(struct imap_session *s);

#endif
