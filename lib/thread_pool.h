/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thread_pool: a small pool of threads for blocking work (password
 * hashing, PAM, opening or rescanning a big folder, waiting for a lock)
 * whose results come back on a libev loop. auth/ and storage/ both use it.
 *
 * work() runs on a pool thread and must touch only its context; done()
 * then runs on the loop's thread, in completion order. A job is worked
 * exactly once. An owner that loses interest while its job runs cancels it
 * (on the loop thread): work() still finishes on its thread, then
 * discard() runs on the loop instead of done(). Jobs not done when the pool
 * is freed get their discard() too. The threads block every signal: they
 * never take the process's.
 */
#ifndef MERPATI_THREAD_POOL_H
#define MERPATI_THREAD_POOL_H

struct thread_pool;
struct thread_pool_job;
struct ev_loop;

typedef void thread_pool_fn(void *context);

/* Starts `threads` threads (at least 1) reporting to loop; name tells
   them apart in logs ("auth", "storage"; a string literal). Aborts when
   no thread can be started (resource exhaustion). */
struct thread_pool *thread_pool_new(struct ev_loop *loop, unsigned threads,
				    const char *name);

/* Waits for the running jobs, then stops the threads; jobs not done yet
   get their discard(). Takes NULL, leaves NULL. */
void thread_pool_free(struct thread_pool **pool);

/* Queues a job; returns a handle valid until done() or discard() runs (do
   not keep it beyond). Never fails. discard may be NULL when the context
   needs no freeing. */
struct thread_pool_job *thread_pool_run(struct thread_pool *pool,
					thread_pool_fn *work,
					thread_pool_fn *done,
					thread_pool_fn *discard, void *context);

/* The owner lost interest: done() will not run, discard() will once
   work() has finished. Call it on the loop thread only. */
void thread_pool_cancel(struct thread_pool_job *job);

/* Jobs queued, running or not yet reported (for tests). */
unsigned thread_pool_pending(struct thread_pool *pool);

#endif
