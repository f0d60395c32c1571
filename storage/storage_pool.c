/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Storage threads with results on the loop (see storage_pool.h). */
#include "storage/storage_pool.h"

#include "lib/xalloc.h"

#include <stdlib.h>

struct storage_pool {
	struct thread_pool *threads;
};

static _Thread_local bool on_loop_thread;
static struct storage_pool *default_pool;

struct storage_pool *storage_pool_new(struct ev_loop *loop, unsigned threads)
{
	struct storage_pool *pool = xcalloc(1, sizeof(*pool));

	pool->threads = thread_pool_new(loop, threads, "storage");
	on_loop_thread = true;
	if (default_pool == NULL)
		default_pool = pool;
	return pool;
}

void storage_pool_free(struct storage_pool **poolp)
{
	struct storage_pool *pool = *poolp;

	if (pool == NULL)
		return;
	*poolp = NULL;
	if (default_pool == pool)
		default_pool = NULL;
	thread_pool_free(&pool->threads);
	free(pool);
}

struct storage_pool *storage_pool_default(void)
{
	return default_pool;
}

struct thread_pool_job *
storage_pool_run(struct storage_pool *pool, storage_pool_fn *work,
		 storage_pool_fn *done, storage_pool_fn *discard, void *context)
{
	return thread_pool_run(pool->threads, work, done, discard, context);
}

void storage_job_cancel(struct thread_pool_job *job)
{
	thread_pool_cancel(job);
}

unsigned storage_pool_pending(struct storage_pool *pool)
{
	return thread_pool_pending(pool->threads);
}

bool storage_pool_on_loop_thread(void)
{
	return on_loop_thread;
}
