/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_pool.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct auth_pool_job {
	auth_pool_fn *work, *done, *discard;
	void *context;
	struct auth_pool_job *next;
};

struct auth_pool_queue {
	struct auth_pool_job *head, *tail;
};

struct auth_pool {
	struct ev_loop *loop;
	ev_async async; /* a job finished */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct auth_pool_queue queued, finished;
	unsigned pending;
	bool stopping;
	pthread_t *threads;
	unsigned n_threads;
};

static void queue_push(struct auth_pool_queue *q, struct auth_pool_job *job)
{
	job->next = NULL;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

static struct auth_pool_job *queue_pop(struct auth_pool_queue *q)
{
	struct auth_pool_job *job = q->head;

	if (job != NULL) {
		q->head = job->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return job;
}

static void *worker_main(void *arg)
{
	struct auth_pool *pool = arg;
	struct auth_pool_job *job;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stopping && pool->queued.head == NULL)
			pthread_cond_wait(&pool->cond, &pool->lock);
		if (pool->stopping)
			break;
		job = queue_pop(&pool->queued);
		pthread_mutex_unlock(&pool->lock);
		job->work(job->context);
		pthread_mutex_lock(&pool->lock);
		queue_push(&pool->finished, job);
		ev_async_send(pool->loop, &pool->async);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void pool_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct auth_pool *pool = w->data;
	struct auth_pool_job *job;

	(void)loop;
	(void)revents;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		job = queue_pop(&pool->finished);
		if (job != NULL)
			pool->pending--;
		pthread_mutex_unlock(&pool->lock);
		if (job == NULL)
			break;
		job->done(job->context);
		free(job);
	}
}

struct auth_pool *auth_pool_new(struct ev_loop *loop, unsigned threads)
{
	struct auth_pool *pool = xcalloc(1, sizeof(*pool));
	sigset_t all, old;

	if (threads == 0)
		threads = 1;
	pool->loop = loop;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	ev_async_init(&pool->async, pool_async_cb);
	pool->async.data = pool;
	ev_async_start(loop, &pool->async);

	/* Workers must never take the process's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pool->threads = xcalloc(threads, sizeof(*pool->threads));
	for (unsigned i = 0; i < threads; i++) {
		int ret = pthread_create(&pool->threads[i], NULL, worker_main,
					 pool);
		if (ret != 0) {
			log_error(
				"event=auth_pool_error error=\"pthread_create: %s\"",
				strerror(ret));
			break;
		}
		pool->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pool->n_threads == 0) {
		/* Cannot happen short of resource exhaustion: fail loudly. */
		log_error("event=auth_pool_error error=\"no worker threads\"");
		abort();
	}
	return pool;
}

void auth_pool_free(struct auth_pool **poolp)
{
	struct auth_pool *pool = *poolp;
	struct auth_pool_job *job;

	if (pool == NULL)
		return;
	*poolp = NULL;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->n_threads; i++)
		pthread_join(pool->threads[i], NULL);
	while ((job = queue_pop(&pool->queued)) != NULL ||
	       (job = queue_pop(&pool->finished)) != NULL) {
		if (job->discard != NULL)
			job->discard(job->context);
		free(job);
	}
	ev_async_stop(pool->loop, &pool->async);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->cond);
	free(pool->threads);
	free(pool);
}

void auth_pool_submit(struct auth_pool *pool, auth_pool_fn *work,
		      auth_pool_fn *done, auth_pool_fn *discard, void *context)
{
	struct auth_pool_job *job = xmalloc(sizeof(*job));

	job->work = work;
	job->done = done;
	job->discard = discard;
	job->context = context;
	pthread_mutex_lock(&pool->lock);
	queue_push(&pool->queued, job);
	pool->pending++;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

unsigned auth_pool_pending(struct auth_pool *pool)
{
	unsigned n;

	pthread_mutex_lock(&pool->lock);
	n = pool->pending;
	pthread_mutex_unlock(&pool->lock);
	return n;
}
