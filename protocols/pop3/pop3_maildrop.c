/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3_private.h"

#include "lib/xalloc.h"
#include "protocols/pop3/pop3_lock.h"
#include "storage/mail_user.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/storage_pool.h"

#include <stdlib.h>
#include <time.h>

/*
 * The maildrop's slow steps run on a storage thread (storage_pool.h): the
 * login's open (lock, scan, sizes) and QUIT's UPDATE. A job owns what it
 * works on; the session sits in POP3_JOB_STORAGE (reading nothing) until
 * done() hands the result over on the loop. A session freed meanwhile
 * cancels the job, whose discard() frees what it holds.
 */

/* Seconds a login or QUIT may wait (on a storage thread) for the
   folder's UID list lock. */
#define POP3_LOCK_WAIT_SECS 5

enum open_result {
	OPEN_OK,
	OPEN_FAIL,	  /* code, step, error */
	OPEN_IN_USE,	  /* another POP3 session */
	OPEN_LOGIN_DELAY, /* too soon after the last login */
};

struct pop3_storage_job {
	struct pop3_session *s; /* NULL once cancelled */
	struct thread_pool_job *job;
	/* in */
	char *mail_root;
	struct mail_user user; /* for mail_user_open(): fields copied here */
	char **overrides;      /* the copied per-user fields (quota_rule=) */
	bool fsync;
	unsigned login_delay;
	uint64_t quota_bytes; /* mail.quota */
	enum pop3_after_download after;
	/* owned while the job runs, handed to the session by open */
	struct maildir *store;
	struct mailbox *box;
	struct pop3_lock *lock;
	struct pop3_msg *msgs;
	unsigned count;
	uint64_t total_size;
	/* out */
	enum open_result result;
	const char *code, *step, *error;
	bool cache_failed;
	int update_ret;
	size_t n_expunged, n_seen;
};

static const char *pop3_sys_code(struct maildir *store)
{
	if (store == NULL)
		return "SYS/TEMP";
	switch (maildir_last_error(store)) {
	case MAILDIR_ERROR_NOT_FOUND:
	case MAILDIR_ERROR_INVALID_NAME:
	case MAILDIR_ERROR_NOT_ALLOWED:
		return "SYS/PERM";
	default:
		return "SYS/TEMP";
	}
}

static void job_release(struct pop3_storage_job *j)
{
	mailbox_free(&j->box);
	maildir_free(&j->store);
	pop3_lock_release(&j->lock);
	free(j->msgs);
	j->msgs = NULL;
}

static void job_free(struct pop3_storage_job *j)
{
	job_release(j);
	free(j->mail_root);
	for (char **o = j->overrides; o != NULL && *o != NULL; o++)
		free(*o);
	free(j->overrides);
	free(j);
}

static void job_discard(void *context)
{
	job_free(context);
}

void pop3_maildrop_close(struct pop3_session *s)
{
	mailbox_free(&s->box);
	maildir_free(&s->store);
	pop3_lock_release(&s->lock);
	free(s->msgs);
	s->msgs = NULL;
	s->count = s->deleted = 0;
	s->total_size = s->deleted_size = 0;
}

void pop3_maildrop_cancel(struct pop3_session *s)
{
	if (s->storage == NULL)
		return;
	s->storage->s = NULL;
	storage_job_cancel(s->storage->job);
	s->storage = NULL;
	s->job = POP3_JOB_NONE;
}

/* Runs work on the pool (inline without one), done on the loop. */
static void job_start(struct pop3_session *s, struct pop3_storage_job *j,
		      storage_pool_fn *work, storage_pool_fn *done)
{
	struct storage_pool *pool = storage_pool_default();

	j->s = s;
	s->storage = j;
	s->job = POP3_JOB_STORAGE;
	if (pool == NULL) {
		work(j);
		done(j);
		return;
	}
	j->job = storage_pool_run(pool, work, done, job_discard, j);
}

/* --- login --- */

static bool open_fail(struct pop3_storage_job *j, const char *code,
		      const char *step, const char *error)
{
	j->result = OPEN_FAIL;
	j->code = code;
	j->step = step;
	j->error = error;
	return false;
}

/* LOGIN-DELAY (RFC 2449 8.1.2): refuse a login sooner than configured
   after the previous one. */
static bool login_delay_ok(struct pop3_storage_job *j, time_t now)
{
	time_t last;

	if (j->login_delay == 0)
		return true;
	last = pop3_lock_last_login(j->lock);
	return last == 0 || now < last || now - last >= (time_t)j->login_delay;
}

/* Reads the sizes of every message (the fixed view). */
static bool open_load(struct pop3_storage_job *j)
{
	unsigned n = mailbox_count(j->box);
	const char *error = NULL;

	j->msgs = xcalloc(n + 1, sizeof(*j->msgs));
	for (unsigned i = 0; i < n; i++) {
		struct mailbox_msg m;
		uint64_t size, vsize;

		if (mailbox_msg_sizes(j->box, i, &size, &vsize, &error) < 0) {
			/* gone since the sync (IMAP, another server), or a
			   file this server cannot read (logged by storage):
			   the view simply does not have it, the rest is
			   served */
			enum maildir_error kind = maildir_last_error(j->store);

			if (kind == MAILDIR_ERROR_EXPUNGED ||
			    kind == MAILDIR_ERROR_UNREADABLE)
				continue;
			return open_fail(j, pop3_sys_code(j->store), "sizes",
					 error);
		}
		mailbox_get(j->box, i, &m);
		j->msgs[j->count++] = (struct pop3_msg){
			.idx = i,
			.uid = m.uid,
			.vsize = vsize,
		};
		j->total_size += vsize;
	}
	/* sizes read from files go to merpati.cache: the next login (and
	   IMAP) need not read them again */
	j->cache_failed = mailbox_cache_save(j->box) < 0;
	return true;
}

/* On a storage thread. */
static void open_work(void *context)
{
	struct pop3_storage_job *j = context;
	struct maildir_settings set;
	const char *error = NULL;
	time_t now = time(NULL);
	int ret;

	maildir_settings_init(&set);
	set.fsync = j->fsync;
	/* a client retries a login sooner than a session waits */
	set.lock_timeout_secs = POP3_LOCK_WAIT_SECS;
	/* POP3 stores nothing, but its deletions keep maildirsize right */
	set.quota_bytes = j->quota_bytes;
	switch (mail_user_open(&j->user, &set, &j->store, &error)) {
	case MAIL_USER_NO_ROOT:
		open_fail(j, "SYS/PERM", "root", error);
		return;
	case MAIL_USER_FAILED:
		open_fail(j, "SYS/TEMP", "open", error);
		return;
	case MAIL_USER_OK:
		break;
	}
	ret = pop3_lock_acquire(j->mail_root, &j->lock, &error);
	if (ret < 0) {
		open_fail(j, "SYS/TEMP", "lock", error);
		return;
	}
	if (ret == 0) {
		j->result = OPEN_IN_USE;
		return;
	}
	if (!login_delay_ok(j, now)) {
		j->result = OPEN_LOGIN_DELAY;
		return;
	}
	if (mailbox_open(j->store, "INBOX", 0, &j->box, &error) < 0) {
		open_fail(j, pop3_sys_code(j->store), "mailbox", error);
		return;
	}
	if (j->login_delay > 0)
		pop3_lock_set_login(j->lock, now);
	if (open_load(j))
		j->result = OPEN_OK;
}

static void open_refused(struct pop3_session *s)
{
	conn_set_user(s->conn, NULL);
	conn_unclaim_user(s->conn); /* not logged in after all */
}

/* On the loop. */
static void open_done(void *context)
{
	struct pop3_storage_job *j = context;
	struct pop3_session *s = j->s;

	s->storage = NULL;
	s->job = POP3_JOB_NONE;
	conn_kick(s->conn);
	switch (j->result) {
	case OPEN_FAIL:
		conn_log_warn(s->conn,
			      "event=maildrop_failed step=%s error=\"%s\"",
			      j->step, j->error);
		pop3_reply(s, "-ERR", "[%s] %s", j->code, j->error);
		open_refused(s);
		break;
	case OPEN_IN_USE:
		conn_log_info(s->conn, "event=login_refused reason=in-use");
		pop3_reply(
			s, "-ERR",
			"[IN-USE] Mailbox is locked by another POP3 session");
		open_refused(s);
		break;
	case OPEN_LOGIN_DELAY:
		conn_log_info(s->conn,
			      "event=login_refused reason=login-delay");
		pop3_reply(
			s, "-ERR",
			"[LOGIN-DELAY] Minimum time between logins is %u seconds",
			j->login_delay);
		open_refused(s);
		break;
	case OPEN_OK:
		s->store = j->store;
		s->box = j->box;
		s->lock = j->lock;
		s->msgs = j->msgs;
		s->count = j->count;
		s->total_size = j->total_size;
		j->store = NULL;
		j->box = NULL;
		j->lock = NULL;
		j->msgs = NULL;
		if (j->cache_failed)
			conn_log_warn(s->conn, "event=cache_save_failed");
		s->state = POP3_STATE_TRANSACTION;
		if (s->ctx->set.timeout > 0)
			conn_set_timeout(s->conn, s->ctx->set.timeout);
		conn_log_info(s->conn, "event=login messages=%u octets=%llu",
			      s->count, (unsigned long long)s->total_size);
		pop3_reply(s, "+OK", "Logged in.");
		break;
	}
	job_free(j);
}

bool pop3_maildrop_open(struct pop3_session *s, const struct mail_user *user)
{
	struct pop3_storage_job *j;

	conn_set_user(s->conn, user->name);
	j = xcalloc(1, sizeof(*j));
	/* the thread opens it through mail_user_open() with copies of the
	   fields it uses */
	j->mail_root = xstrdup(user->mail_root != NULL ? user->mail_root : "");
	if (user->overrides != NULL) {
		size_t n = 0;

		while (user->overrides[n] != NULL)
			n++;
		j->overrides = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			j->overrides[i] = xstrdup(user->overrides[i]);
	}
	j->user = (struct mail_user){
		.mail_root = j->mail_root,
		.overrides = (const char *const *)j->overrides,
	};
	j->quota_bytes = s->ctx->set.quota_bytes;
	j->fsync = s->ctx->set.fsync;
	j->login_delay = s->ctx->set.login_delay;
	job_start(s, j, open_work, open_done);
	return true;
}

/* --- QUIT: the UPDATE state (RFC 1939 6) --- */

static void update_work(void *context)
{
	struct pop3_storage_job *j = context;
	uint32_t *expunge = xcalloc(j->count + 1, sizeof(*expunge));
	uint32_t *seen = xcalloc(j->count + 1, sizeof(*seen));
	size_t n_expunge = 0, n_seen = 0;
	int ret = 0;

	for (unsigned i = 0; i < j->count; i++) {
		const struct pop3_msg *m = &j->msgs[i];

		if ((m->marks & POP3_MARK_DELETED) != 0)
			expunge[n_expunge++] = m->uid;
		else if ((m->marks & POP3_MARK_RETRIEVED) == 0)
			continue;
		else if (j->after == POP3_AFTER_DOWNLOAD_DELETE)
			expunge[n_expunge++] = m->uid;
		else if (j->after == POP3_AFTER_DOWNLOAD_SEEN)
			seen[n_seen++] = m->uid;
	}
	/* flags first: if they fail nothing was expunged yet */
	if (n_seen > 0 &&
	    mailbox_update_flags(j->box, seen, n_seen, MAILBOX_FLAGS_ADD,
				 MAILDIR_FLAG_SEEN, 0, &j->error) < 0)
		ret = -1;
	if (ret == 0 && n_expunge > 0 &&
	    mailbox_expunge(j->box, expunge, n_expunge, &j->error) < 0)
		ret = -1;
	j->update_ret = ret;
	j->n_expunged = n_expunge;
	j->n_seen = n_seen;
	free(expunge);
	free(seen);
	/* unlock before answering: a client that reconnects at once must
	   not find its own maildrop [IN-USE] */
	job_release(j);
}

static void update_done(void *context)
{
	struct pop3_storage_job *j = context;
	struct pop3_session *s = j->s;

	s->storage = NULL;
	s->job = POP3_JOB_NONE;
	if (j->update_ret == 0) {
		conn_log_info(s->conn, "event=update expunged=%zu seen=%zu",
			      j->n_expunged, j->n_seen);
		pop3_reply(s, "+OK", "Logging out.");
	} else {
		conn_log_warn(s->conn, "event=update_failed error=\"%s\"",
			      j->error);
		pop3_reply(
			s, "-ERR",
			"[SYS/TEMP] Could not remove all messages, the rest is left for the next session: %s",
			j->error);
	}
	job_free(j);
	conn_close(s->conn, "quit");
}

void pop3_maildrop_quit(struct pop3_session *s)
{
	struct pop3_storage_job *j = xcalloc(1, sizeof(*j));

	s->state = POP3_STATE_UPDATE;
	j->after = s->ctx->set.after_download;
	j->store = s->store;
	j->box = s->box;
	j->lock = s->lock;
	j->msgs = s->msgs;
	j->count = s->count;
	s->store = NULL;
	s->box = NULL;
	s->lock = NULL;
	s->msgs = NULL;
	pop3_maildrop_close(s);
	job_start(s, j, update_work, update_done);
}
