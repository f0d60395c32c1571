/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_lib
/* Unit tests: lib/thread_pool, the threads auth and storage share. */
#include "lib/thread_pool.h"

#include <ev.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

struct ctx {
	pthread_t loop_thread, work_thread;
	pthread_mutex_t *gate; /* work waits until it is released */
	bool worked, done, discarded, done_on_loop;
	int order, *next;
};

static void work(void *context)
{
	struct ctx *c = context;

	c->work_thread = pthread_self();
	if (c->gate != NULL) {
		pthread_mutex_lock(c->gate);
		pthread_mutex_unlock(c->gate);
	}
	c->worked = true;
}

static void done(void *context)
{
	struct ctx *c = context;

	c->done = true;
	c->done_on_loop = pthread_equal(pthread_self(), c->loop_thread);
	c->order = (*c->next)++;
}

static void discard(void *context)
{
	struct ctx *c = context;

	c->discarded = true;
	assert_true(pthread_equal(pthread_self(), c->loop_thread));
}

static void run_until_idle(struct ev_loop *loop, struct thread_pool *pool)
{
	time_t end = time(NULL) + 10;

	while (thread_pool_pending(pool) > 0 && time(NULL) < end)
		ev_run(loop, EVRUN_ONCE);
	assert_int_equal(thread_pool_pending(pool), 0);
}

/* work() on a pool thread, done() on the loop's, each exactly once. */
static void test_jobs_done_on_loop(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct thread_pool *pool = thread_pool_new(loop, 2, "test");
	struct ctx c[16];
	int next = 0;

	(void)state;
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 16; i++) {
		c[i].loop_thread = pthread_self();
		c[i].next = &next;
		thread_pool_run(pool, work, done, discard, &c[i]);
	}
	run_until_idle(loop, pool);
	for (int i = 0; i < 16; i++) {
		assert_true(c[i].worked);
		assert_true(c[i].done);
		assert_true(c[i].done_on_loop);
		assert_false(c[i].discarded);
		assert_false(pthread_equal(c[i].work_thread, pthread_self()));
	}
	assert_int_equal(next, 16);
	thread_pool_free(&pool);
	assert_null(pool);
	ev_loop_destroy(loop);
}

/* Cancelled while it runs: work() finishes, discard() instead of done();
   jobs not reported when the pool is freed are discarded. */
static void test_cancel_and_free(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct thread_pool *pool = thread_pool_new(loop, 1, "test");
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
	struct thread_pool_job *job;
	struct ctx a, b, q;
	int next = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.loop_thread = b.loop_thread = pthread_self();
	a.next = b.next = &next;
	a.gate = &gate;
	pthread_mutex_lock(&gate);
	job = thread_pool_run(pool, work, done, discard, &a);
	thread_pool_run(pool, work, done, discard, &b);
	thread_pool_cancel(job);
	pthread_mutex_unlock(&gate);
	run_until_idle(loop, pool);
	assert_true(a.worked);
	assert_false(a.done);
	assert_true(a.discarded);
	assert_true(b.done);
	assert_false(b.discarded);

	/* the pool goes while the jobs are queued or running */
	memset(&a, 0, sizeof(a));
	memset(&q, 0, sizeof(q));
	a.loop_thread = q.loop_thread = pthread_self();
	a.next = q.next = &next;
	a.gate = &gate;
	pthread_mutex_lock(&gate);
	thread_pool_run(pool, work, done, discard, &a);
	thread_pool_run(pool, work, done, discard, &q);
	assert_int_equal(thread_pool_pending(pool), 2);
	pthread_mutex_unlock(&gate);
	thread_pool_free(&pool);
	/* worked or not (the threads may stop first), neither reported to
	   the loop: both are discarded, never done */
	assert_false(a.done);
	assert_true(a.discarded);
	assert_false(q.done);
	assert_true(q.discarded);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_done_on_loop),
		cmocka_unit_test(test_cancel_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
