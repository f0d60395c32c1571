/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_pool: a small pool of worker threads for blocking work (password
 * hashing, PAM) whose results come back on a libev loop.
 *
 * work() runs on a worker thread and must touch only its context; done()
 * then runs on the loop's thread, in completion order. Jobs are never
 * dropped: a job submitted is worked and done exactly once (also when its
 * owner lost interest: mark the context cancelled and clean up in done()).
 */
#ifndef MERPATI_AUTH_POOL_H
#define MERPATI_AUTH_POOL_H

struct auth_pool;
struct ev_loop;

typedef void auth_pool_fn(void *context);

/* Starts `threads` workers (at least 1) reporting to loop. */
struct auth_pool *auth_pool_new(struct ev_loop *loop, unsigned threads);

/* Waits for running jobs, then stops the threads; jobs not done yet get
   their discard() instead of done() (to free the context without
   reporting to an owner that is going away). Takes NULL, leaves NULL. */
void auth_pool_free(struct auth_pool **pool);

/* Queues a job. Never fails. discard may be NULL when the context needs
   no freeing. */
void auth_pool_submit(struct auth_pool *pool, auth_pool_fn *work,
		      auth_pool_fn *done, auth_pool_fn *discard, void *context);

/* Jobs queued or running (for tests). */
unsigned auth_pool_pending(struct auth_pool *pool);

#endif
