/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/* Unit tests: the storage thread pool and the lock that never sleeps on a
   loop thread. */
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/storage_pool.h"
#include "storage/uidlist.h"

#include <ev.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct job_ctx {
	pthread_t loop_thread, work_thread;
	bool worked, done, discarded, done_on_loop;
	int order;
	int *next_order;
	/* a job that waits until released */
	pthread_mutex_t *gate;
	/* lock job */
	const char *dir;
	int lock_ret;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void job_work(void *context)
{
	struct job_ctx *c = context;

	c->work_thread = pthread_self();
	if (c->gate != NULL) {
		pthread_mutex_lock(c->gate);
		pthread_mutex_unlock(c->gate);
	}
	c->worked = true;
}

static void job_done(void *context)
{
	struct job_ctx *c = context;

	c->done = true;
	c->done_on_loop = pthread_equal(pthread_self(), c->loop_thread);
	c->order = (*c->next_order)++;
}

static void job_discard(void *context)
{
	struct job_ctx *c = context;

	c->discarded = true;
	assert_true(pthread_equal(pthread_self(), c->loop_thread));
}

static void run_until(struct ev_loop *loop, struct storage_pool *pool)
{
	double end = now_ms() + 10000;

	while (storage_pool_pending(pool) > 0 && now_ms() < end)
		ev_run(loop, EVRUN_ONCE);
	assert_int_equal(storage_pool_pending(pool), 0);
}

/* Work runs on a pool thread, done() on the loop's thread. */
static void test_jobs_complete_on_loop(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct storage_pool *pool = storage_pool_new(loop, 2);
	struct job_ctx c[20];
	int next = 0;

	(void)state;
	assert_ptr_equal(storage_pool_default(), pool);
	assert_true(storage_pool_on_loop_thread());
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 20; i++) {
		c[i].loop_thread = pthread_self();
		c[i].next_order = &next;
		storage_pool_run(pool, job_work, job_done, job_discard, &c[i]);
	}
	run_until(loop, pool);
	for (int i = 0; i < 20; i++) {
		assert_true(c[i].worked);
		assert_true(c[i].done);
		assert_false(c[i].discarded);
		assert_true(c[i].done_on_loop);
		assert_false(pthread_equal(c[i].work_thread, pthread_self()));
	}
	assert_int_equal(next, 20);
	storage_pool_free(&pool);
	assert_null(pool);
	assert_null(storage_pool_default());
	ev_loop_destroy(loop);
}

/* A job cancelled while it runs finishes on its thread; its result is
   dropped (discard, never done). */
static void test_cancel_mid_job(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct storage_pool *pool = storage_pool_new(loop, 1);
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
	struct job_ctx c = {0}, d = {0};
	struct thread_pool_job *job;
	int next = 0;

	(void)state;
	c.loop_thread = d.loop_thread = pthread_self();
	c.next_order = d.next_order = &next;
	c.gate = &gate;
	pthread_mutex_lock(&gate);
	job = storage_pool_run(pool, job_work, job_done, job_discard, &c);
	/* queued behind the blocked one on the single thread */
	storage_pool_run(pool, job_work, job_done, job_discard, &d);
	usleep(20000);
	storage_job_cancel(job);
	pthread_mutex_unlock(&gate);
	run_until(loop, pool);
	assert_true(c.worked);
	assert_false(c.done);
	assert_true(c.discarded);
	assert_true(d.done);
	assert_false(d.discarded);
	storage_pool_free(&pool);
	ev_loop_destroy(loop);
}

/* Freeing the pool with jobs still queued discards them. */
static void test_free_discards_queued(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct storage_pool *pool = storage_pool_new(loop, 1);
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
	struct job_ctx c = {0}, d = {0};
	int next = 0;

	(void)state;
	c.loop_thread = d.loop_thread = pthread_self();
	c.next_order = d.next_order = &next;
	c.gate = &gate;
	pthread_mutex_lock(&gate);
	storage_pool_run(pool, job_work, job_done, job_discard, &c);
	storage_pool_run(pool, job_work, job_done, job_discard, &d);
	usleep(20000);
	pthread_mutex_unlock(&gate);
	storage_pool_free(&pool);
	/* the running job finished; neither reported to its owner */
	assert_true(c.worked);
	assert_false(c.done);
	assert_true(c.discarded);
	assert_false(d.done);
	assert_true(d.discarded);
	ev_loop_destroy(loop);
}

static char *make_dir(void)
{
	char tmpl[] = "/tmp/test_storage_pool.XXXXXX", path[512];
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	return strdup(dir);
}

static void remove_dir(char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/" UIDLIST_LOCK_FILE, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	rmdir(path);
	rmdir(dir);
	free(dir);
}

static void hold_lock(const char *dir)
{
	char path[512], text[64];
	int fd;

	/* a live holder: this very process's parent, on this host */
	snprintf(path, sizeof(path), "%s/" UIDLIST_LOCK_FILE, dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	snprintf(text, sizeof(text), "%ld:elsewhere.invalid\n",
		 (long)getppid());
	assert_true(write(fd, text, strlen(text)) > 0);
	close(fd);
}

static void lock_work(void *context)
{
	struct job_ctx *c = context;
	struct uidlist_lock *lock = NULL;
	const char *error = NULL;

	c->done_on_loop = storage_pool_on_loop_thread();
	c->lock_ret = uidlist_lock_take(c->dir, 120, 10, &lock, &error);
	uidlist_lock_release(&lock);
	c->worked = true;
}

/* On the loop thread a held lock fails at once (no sleep); on a pool
   thread the same call waits and gets it once released. */
static void test_lock_never_sleeps_on_loop(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct storage_pool *pool = storage_pool_new(loop, 1);
	struct uidlist_lock *lock = NULL;
	const char *error = NULL;
	char *dir = make_dir(), path[512];
	struct job_ctx c = {0};
	double t0;
	int next = 0;

	(void)state;
	hold_lock(dir);
	t0 = now_ms();
	assert_int_equal(uidlist_lock_take(dir, 120, 10, &lock, &error), -1);
	assert_true(now_ms() - t0 < 50);
	assert_non_null(error);
	assert_null(lock);

	c.loop_thread = pthread_self();
	c.next_order = &next;
	c.dir = dir;
	c.lock_ret = 99;
	storage_pool_run(pool, lock_work, job_done, job_discard, &c);
	/* the loop stays free while the thread waits */
	t0 = now_ms();
	while (now_ms() - t0 < 300) {
		ev_run(loop, EVRUN_NOWAIT);
		usleep(1000);
	}
	assert_false(c.done);
	snprintf(path, sizeof(path), "%s/" UIDLIST_LOCK_FILE, dir);
	assert_int_equal(unlink(path), 0);
	run_until(loop, pool);
	assert_true(c.done);
	assert_int_equal(c.lock_ret, 0);
	storage_pool_free(&pool);
	ev_loop_destroy(loop);
	remove_dir(dir);
}

struct open_ctx {
	struct maildir *store;
	unsigned count;
	int ret;
};

static void open_work(void *context)
{
	struct open_ctx *c = context;
	struct mailbox *box = NULL;
	const char *error = NULL;

	c->ret = mailbox_open(c->store, "INBOX", 0, &box, &error);
	if (c->ret == 0)
		c->count = mailbox_count(box);
	mailbox_free(&box);
}

static void open_done(void *context)
{
	(void)context;
}

/* Sessions of one process open the same folder on pool threads and on
   the loop at once: the shared index mappings (mindex.c) are guarded (run
   under TSan too). */
static void test_concurrent_opens_share_index(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct storage_pool *pool = storage_pool_new(loop, 2);
	char *dir = make_dir(), path[512];
	struct maildir_settings set;
	struct open_ctx c[8];
	struct maildir *store = NULL;
	const char *error = NULL;
	struct mailbox *box = NULL;

	(void)state;
	maildir_settings_init(&set);
	set.fsync = false;
	assert_int_equal(maildir_open(dir, &set, true, &store, &error), 0);
	for (int i = 0; i < 50; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/cur/1700000000.M%dP1.x:2,S",
			 dir, i);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs("Subject: x\n\nbody\n", f);
		fclose(f);
	}
	/* an index, settled (not written right after a change) */
	snprintf(path, sizeof(path), "%s/cur", dir);
	assert_int_equal(utimes(path, (struct timeval[2]){{1700000000, 0},
							  {1700000000, 0}}),
			 0);
	assert_int_equal(mailbox_open(store, "INBOX", 0, &box, &error), 0);
	mailbox_free(&box);
	snprintf(path, sizeof(path), "%s/merpati.index", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(mailbox_open(store, "INBOX", 0, &box, &error), 0);
	mailbox_free(&box);
	for (int round = 0; round < 5; round++) {
		memset(c, 0, sizeof(c));
		for (int i = 0; i < 8; i++) {
			assert_int_equal(maildir_open(dir, &set, false,
						      &c[i].store, &error),
					 0);
			c[i].ret = 99;
			storage_pool_run(pool, open_work, open_done, NULL,
					 &c[i]);
		}
		for (int i = 0; i < 8; i++) {
			assert_int_equal(
				mailbox_open(store, "INBOX", 0, &box, &error),
				0);
			assert_int_equal(mailbox_count(box), 50);
			mailbox_free(&box);
		}
		run_until(loop, pool);
		for (int i = 0; i < 8; i++) {
			assert_int_equal(c[i].ret, 0);
			assert_int_equal(c[i].count, 50);
			maildir_free(&c[i].store);
		}
	}
	maildir_free(&store);
	storage_pool_free(&pool);
	ev_loop_destroy(loop);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_complete_on_loop),
		cmocka_unit_test(test_cancel_mid_job),
		cmocka_unit_test(test_free_discards_queued),
		cmocka_unit_test(test_lock_never_sleeps_on_loop),
		cmocka_unit_test(test_concurrent_opens_share_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
