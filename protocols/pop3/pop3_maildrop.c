#include "protocols/pop3/pop3_private.h"

#include "lib/xalloc.h"
#include "protocols/pop3/pop3_lock.h"
#include "server/config.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"

#include <stdlib.h>
#include <time.h>

/* Messages whose sizes the LOAD job looks up per `process` call: a big
   maildrop without sizes in its file names must not stall the loop. */
#define POP3_LOAD_SLICE 1000

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

static bool pop3_maildrop_fail(struct pop3_session *s, const char *code,
			       const char *what, const char *error)
{
	conn_log_warn(s->conn, "event=maildrop_failed step=%s error=\"%s\"",
		      what, error);
	pop3_reply(s, "-ERR", "[%s] %s", code, error);
	pop3_maildrop_close(s);
	conn_set_user(s->conn, NULL);
	return false;
}

/* LOGIN-DELAY (RFC 2449 8.1.2): refuse a login sooner than configured
   after the previous one. */
static bool pop3_login_delay_ok(struct pop3_session *s, time_t now)
{
	unsigned delay = s->ctx->set.login_delay;
	time_t last;

	if (delay == 0)
		return true;
	last = pop3_lock_last_login(s->lock);
	return last == 0 || now < last || now - last >= (time_t)delay;
}

/* Seconds a login or QUIT may wait for the folder's UID list lock. */
#define POP3_LOCK_WAIT_SECS 5

bool pop3_maildrop_open(struct pop3_session *s, const char *user,
			const char *mail_root)
{
	struct maildir_settings set;
	const char *error = NULL;
	time_t now = time(NULL);
	int ret;

	conn_set_user(s->conn, user);
	if (mail_root == NULL || mail_root[0] == '\0')
		return pop3_maildrop_fail(s, "SYS/PERM", "root",
					  "No mail location for this user");
	maildir_settings_init(&set);
	set.fsync = s->ctx->set.fsync;
	/* storage calls are synchronous: waiting for another process's
	   folder lock holds up this worker's loop, so give up early and let
	   the client retry ([SYS/TEMP]) rather than stall every session */
	set.lock_timeout_secs = POP3_LOCK_WAIT_SECS;
	if (maildir_open(mail_root, &set, true, &s->store, &error) < 0)
		return pop3_maildrop_fail(s, "SYS/TEMP", "open", error);
	ret = pop3_lock_acquire(mail_root, &s->lock, &error);
	if (ret < 0)
		return pop3_maildrop_fail(s, "SYS/TEMP", "lock", error);
	if (ret == 0) {
		conn_log_info(s->conn, "event=login_refused reason=in-use");
		pop3_reply(
			s, "-ERR",
			"[IN-USE] Mailbox is locked by another POP3 session");
		pop3_maildrop_close(s);
		conn_set_user(s->conn, NULL);
		return false;
	}
	if (!pop3_login_delay_ok(s, now)) {
		conn_log_info(s->conn,
			      "event=login_refused reason=login-delay");
		pop3_reply(
			s, "-ERR",
			"[LOGIN-DELAY] Minimum time between logins is %u seconds",
			s->ctx->set.login_delay);
		pop3_maildrop_close(s);
		conn_set_user(s->conn, NULL);
		return false;
	}
	if (mailbox_open(s->store, "INBOX", 0, &s->box, &error) < 0)
		return pop3_maildrop_fail(s, pop3_sys_code(s->store), "mailbox",
					  error);
	if (s->ctx->set.login_delay > 0)
		pop3_lock_set_login(s->lock, now);
	s->msgs = xcalloc(mailbox_count(s->box) + 1, sizeof(*s->msgs));
	s->job = POP3_JOB_LOAD;
	s->job_pos = 0;
	return true;
}

bool pop3_maildrop_load(struct pop3_session *s)
{
	unsigned n = mailbox_count(s->box);
	unsigned end = n - s->job_pos > POP3_LOAD_SLICE
			       ? s->job_pos + POP3_LOAD_SLICE
			       : n;

	for (; s->job_pos < end; s->job_pos++) {
		struct mailbox_msg m;
		uint64_t size, vsize;
		const char *error;

		if (mailbox_msg_sizes(s->box, s->job_pos, &size, &vsize,
				      &error) < 0) {
			/* gone since the sync (IMAP, another server): the
			   view simply does not have it */
			if (maildir_last_error(s->store) ==
			    MAILDIR_ERROR_EXPUNGED)
				continue;
			s->job = POP3_JOB_NONE;
			return !pop3_maildrop_fail(s, pop3_sys_code(s->store),
						   "sizes", error);
		}
		mailbox_get(s->box, s->job_pos, &m);
		s->msgs[s->count++] = (struct pop3_msg){
			.idx = s->job_pos,
			.uid = m.uid,
			.vsize = vsize,
		};
		s->total_size += vsize;
	}
	if (s->job_pos < n) {
		conn_kick(s->conn);
		return false;
	}
	/* sizes read from files go to merpati.cache: the next login (and
	   IMAP) need not read them again */
	if (mailbox_cache_save(s->box) < 0)
		conn_log_warn(s->conn, "event=cache_save_failed");
	s->job = POP3_JOB_NONE;
	s->state = POP3_STATE_TRANSACTION;
	if (s->ctx->set.timeout > 0)
		conn_set_timeout(s->conn, s->ctx->set.timeout);
	conn_log_info(s->conn, "event=login messages=%u octets=%llu", s->count,
		      (unsigned long long)s->total_size);
	pop3_reply(s, "+OK", "Logged in.");
	return true;
}

int pop3_maildrop_update(struct pop3_session *s, const char **error_r)
{
	enum config_after_download after =
		(enum config_after_download)s->ctx->set.after_download;
	uint32_t *expunge = xcalloc(s->count + 1, sizeof(*expunge));
	uint32_t *seen = xcalloc(s->count + 1, sizeof(*seen));
	size_t n_expunge = 0, n_seen = 0;
	int ret = 0;

	for (unsigned i = 0; i < s->count; i++) {
		const struct pop3_msg *m = &s->msgs[i];

		if ((m->marks & POP3_MARK_DELETED) != 0)
			expunge[n_expunge++] = m->uid;
		else if ((m->marks & POP3_MARK_RETRIEVED) == 0)
			continue;
		else if (after == CONFIG_AFTER_DOWNLOAD_DELETE)
			expunge[n_expunge++] = m->uid;
		else if (after == CONFIG_AFTER_DOWNLOAD_SEEN)
			seen[n_seen++] = m->uid;
	}
	/* flags first: if they fail nothing was expunged yet */
	if (n_seen > 0 &&
	    mailbox_update_flags(s->box, seen, n_seen, MAILBOX_FLAGS_ADD,
				 MAILDIR_FLAG_SEEN, 0, error_r) < 0)
		ret = -1;
	if (ret == 0 && n_expunge > 0 &&
	    mailbox_expunge(s->box, expunge, n_expunge, error_r) < 0)
		ret = -1;
	if (ret == 0)
		conn_log_info(s->conn, "event=update expunged=%zu seen=%zu",
			      n_expunge, n_seen);
	else
		conn_log_warn(s->conn, "event=update_failed error=\"%s\"",
			      *error_r);
	free(expunge);
	free(seen);
	return ret;
}
