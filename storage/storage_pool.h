/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * storage_pool: a small pool of storage threads for work that must not run
 * on a worker's event loop (opening or rescanning a big folder, expunging,
 * copying, waiting for a folder lock), with results handed back to the
 * loop: lib/thread_pool.h (the same threads as auth's), plus the process's
 * default pool and the mark of the loop thread.
 *
 * work() runs on a pool thread and touches only its context: a job that
 * works on a struct mailbox or struct maildir owns it while it runs (the
 * session waits, input paused, and does not touch it). done() then runs on
 * the loop's thread. An owner that goes away while its job runs cancels
 * the job: work() still finishes on its thread, then discard() runs on the
 * loop instead of done() (it frees whatever the context owns).
 *
 * The thread that creates a pool is marked as a loop thread: storage
 * never sleeps there (a folder lock is tried once, see uidlist.h); pool
 * threads may wait for locks up to the configured timeout.
 */
#ifndef MERPATI_STORAGE_POOL_H
#define MERPATI_STORAGE_POOL_H

#include <stdbool.h>

#include "lib/thread_pool.h"

struct storage_pool;
struct ev_loop;

typedef thread_pool_fn storage_pool_fn;

/* Starts `threads` threads (at least 1) reporting to loop, marks the
   calling thread as a loop thread and makes the pool the process's
   default (storage_pool_default()) when there is none. */
struct storage_pool *storage_pool_new(struct ev_loop *loop, unsigned threads);

/* Stops the threads after the running jobs; jobs not done yet get their
   discard(). Takes NULL, leaves NULL. */
void storage_pool_free(struct storage_pool **pool);

/* The process's default pool, or NULL (the CLI: storage runs inline). */
struct storage_pool *storage_pool_default(void);

/* Queues a job; returns a handle valid until done()/discard() runs (do
   not keep it beyond). Never fails. discard may be NULL. */
struct thread_pool_job *storage_pool_run(struct storage_pool *pool,
					 storage_pool_fn *work,
					 storage_pool_fn *done,
					 storage_pool_fn *discard,
					 void *context);

/* The owner lost interest: done() will not run, discard() will once
   work() has finished. Call it on the loop thread only. */
void storage_job_cancel(struct thread_pool_job *job);

/* Jobs queued, running or not yet reported (for tests). */
unsigned storage_pool_pending(struct storage_pool *pool);

/* True on a thread that runs an event loop (must never sleep). */
bool storage_pool_on_loop_thread(void);

#endif
