/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/lmtp/lmtp.h"

#include "auth/auth_client.h"
#include "lib/xalloc.h"
#include "protocols/lmtp/lmtp_parser.h"
#include "storage/mail_user.h"
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/maildir_quota.h"
#include "storage/storage_pool.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bad or misplaced commands tolerated before hanging up. */
#define LMTP_BAD_COMMANDS_MAX 20
/* DATA bytes taken from the input per step. */
#define LMTP_DATA_CHUNK 65536
#define LMTP_HOSTNAME_MAX 256

struct lmtp_context {
	struct lmtp_settings set;
	char hostname[LMTP_HOSTNAME_MAX];
};

/* One accepted recipient. */
struct lmtp_rcpt {
	char *addr;	 /* as in RCPT TO, for the replies */
	char *user;	 /* canonical, from the userdb */
	char *mail_root; /* from the userdb */
	char **overrides;
	struct maildir *store;
	struct mailbox *box;
	struct mailbox_append *append; /* while the data arrives */
	const char *reply; /* failure reply (static), NULL: still fine */
	uint32_t uid;	   /* once stored */
};

/* The end of DATA on a storage thread: owns the recipients meanwhile. */
struct lmtp_delivery {
	struct lmtp_session *session; /* NULL once the session is gone */
	struct lmtp_rcpt *rcpts;
	size_t n_rcpts;
	uint64_t size;
	bool quota_bounce; /* lmtp_settings.quota_bounce */
};

struct lmtp_session {
	struct conn *conn;
	struct lmtp_context *ctx;
	bool greeted; /* LHLO seen */
	bool in_mail; /* MAIL FROM accepted */
	bool in_data; /* between 354 and the final dot */
	bool too_big; /* the data passed max_size: refuse it at the end */
	unsigned bad_commands;
	struct lmtp_rcpt *rcpts;
	size_t n_rcpts;
	struct auth_client_request *lookup; /* RCPT's userdb lookup */
	char *lookup_addr;
	struct lmtp_data data;
	uint64_t data_size;
	char *scratch; /* LMTP_DATA_CHUNK + 1 decoded bytes */
	struct thread_pool_job *job;
	struct lmtp_delivery *delivery;
};

struct lmtp_context *lmtp_context_new(const struct lmtp_settings *set)
{
	struct lmtp_context *ctx = xcalloc(1, sizeof(*ctx));

	ctx->set = *set;
	if (gethostname(ctx->hostname, sizeof(ctx->hostname) - 1) < 0 ||
	    ctx->hostname[0] == '\0')
		strcpy(ctx->hostname, "localhost");
	return ctx;
}

void lmtp_context_free(struct lmtp_context **ctx)
{
	free(*ctx);
	*ctx = NULL;
}

static void lmtp_reply(struct lmtp_session *s, const char *line)
{
	conn_write_str(s->conn, line);
	conn_write(s->conn, "\r\n", 2);
}

/* --- recipients --- */

static void rcpt_clear(struct lmtp_rcpt *r)
{
	mailbox_append_abort(&r->append);
	mailbox_free(&r->box);
	maildir_free(&r->store);
	free(r->addr);
	free(r->user);
	free(r->mail_root);
	if (r->overrides != NULL) {
		for (char **o = r->overrides; *o != NULL; o++)
			free(*o);
		free(r->overrides);
	}
	memset(r, 0, sizeof(*r));
}

static void rcpts_free(struct lmtp_rcpt **rcpts, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		rcpt_clear(&(*rcpts)[i]);
	free(*rcpts);
	*rcpts = NULL;
	*n = 0;
}

/* RSET, the end of a transaction: the recipients and their files go. */
static void lmtp_reset(struct lmtp_session *s)
{
	rcpts_free(&s->rcpts, &s->n_rcpts);
	s->in_mail = false;
	s->in_data = false;
	s->too_big = false;
	s->data_size = 0;
}

/* The reply for a failed storage call of r: over quota (the mailbox's
   Maildir++ quota, or ENOSPC/EDQUOT from the file system) is 452 4.2.2
   (RFC 3463: mailbox full), or a permanent 552 5.2.2 for the quota with
   mail.quota_bounce = yes, as `merpati deliver` exits 77 then. */
static const char *rcpt_storage_reply(const struct lmtp_rcpt *r,
				      const char *error, bool quota_bounce)
{
	if (r->store == NULL ||
	    maildir_last_error(r->store) != MAILDIR_ERROR_NO_SPACE)
		return "451 4.3.0 Temporary storage failure";
	if (quota_bounce && error != NULL &&
	    strcmp(error, MAILDIR_QUOTA_EXCEEDED) == 0)
		return "552 5.2.2 Mailbox full";
	return "452 4.2.2 Mailbox full";
}

/* Opens r's INBOX and a tmp/ file for the message (on the loop: a few
   small calls; the folder lock is not taken before finish). */
static void rcpt_begin(struct lmtp_session *s, struct lmtp_rcpt *r)
{
	struct maildir_settings set;
	struct mail_user u = {r->user, r->mail_root,
			      (const char *const *)r->overrides};
	const char *error = NULL;

	maildir_settings_init(&set);
	set.fsync = s->ctx->set.fsync;
	/* mail.quota; the userdb's quota_rule (overrides) replaces it */
	set.quota_bytes = s->ctx->set.quota_bytes;
	switch (mail_user_open(&u, &set, &r->store, &error)) {
	case MAIL_USER_OK:
		break;
	case MAIL_USER_NO_ROOT:
		r->reply = "550 5.2.1 Mailbox unavailable";
		goto fail;
	case MAIL_USER_FAILED:
		r->reply = "451 4.3.0 Temporary storage failure";
		goto fail;
	}
	if (mailbox_open(r->store, "INBOX", MAILBOX_OPEN_NO_SYNC, &r->box,
			 &error) < 0 ||
	    mailbox_append_begin(r->box, &r->append, &error) < 0) {
		r->reply =
			rcpt_storage_reply(r, error, s->ctx->set.quota_bounce);
		goto fail;
	}
	return;
fail:
	conn_log_warn(s->conn,
		      "event=lmtp_open_failed rcpt=%s user=%s error=%s",
		      log_q(r->addr), log_q(r->user), log_q(error));
}

/* --- the end of DATA, on a storage thread --- */

static void delivery_work(void *context)
{
	struct lmtp_delivery *d = context;

	for (size_t i = 0; i < d->n_rcpts; i++) {
		struct lmtp_rcpt *r = &d->rcpts[i];
		const char *error;

		if (r->reply != NULL || r->append == NULL)
			continue;
		if (mailbox_append_finish(&r->append, 0, 0, 0, &r->uid,
					  &error) < 0) {
			r->reply =
				rcpt_storage_reply(r, error, d->quota_bounce);
			r->append = NULL;
		}
	}
}

static void delivery_free(struct lmtp_delivery *d)
{
	rcpts_free(&d->rcpts, &d->n_rcpts);
	free(d);
}

static void delivery_discard(void *context)
{
	delivery_free(context);
}

static void delivery_done(void *context)
{
	struct lmtp_delivery *d = context;
	struct lmtp_session *s = d->session;

	s->job = NULL;
	s->delivery = NULL;
	/* RFC 2033 4.2: one reply per accepted recipient, in RCPT order */
	for (size_t i = 0; i < d->n_rcpts; i++) {
		struct lmtp_rcpt *r = &d->rcpts[i];

		if (r->reply == NULL) {
			conn_printf(s->conn,
				    "250 2.0.0 <%s> Saved as UID %u\r\n",
				    r->addr, r->uid);
			conn_log_info(
				s->conn,
				"event=lmtp_delivered rcpt=%s user=%s uid=%u size=%llu",
				log_q(r->addr), log_q(r->user), r->uid,
				(unsigned long long)d->size);
		} else {
			conn_printf(s->conn, "%s <%s>\r\n", r->reply, r->addr);
			conn_log_info(
				s->conn,
				"event=lmtp_not_delivered rcpt=%s user=%s reply=%s",
				log_q(r->addr), log_q(r->user),
				log_q(r->reply));
		}
	}
	delivery_free(d);
	conn_pause_input(s->conn, false);
}

static void lmtp_deliver(struct lmtp_session *s)
{
	struct lmtp_delivery *d = xcalloc(1, sizeof(*d));
	struct storage_pool *pool = storage_pool_default();

	d->session = s;
	d->rcpts = s->rcpts;
	d->n_rcpts = s->n_rcpts;
	d->size = s->data_size;
	d->quota_bounce = s->ctx->set.quota_bounce;
	s->rcpts = NULL;
	s->n_rcpts = 0;
	if (s->too_big) {
		for (size_t i = 0; i < d->n_rcpts; i++) {
			mailbox_append_abort(&d->rcpts[i].append);
			d->rcpts[i].reply = "552 5.3.4 Message too big";
		}
	}
	lmtp_reset(s);
	conn_pause_input(s->conn, true);
	if (pool == NULL) {
		delivery_work(d);
		delivery_done(d);
		return;
	}
	s->delivery = d;
	s->job = storage_pool_run(pool, delivery_work, delivery_done,
				  delivery_discard, d);
}

/* --- DATA bytes --- */

static void data_write(struct lmtp_session *s, const char *p, size_t len)
{
	if (len == 0 || s->too_big)
		return;
	if (len > s->ctx->set.max_size - s->data_size) {
		/* RFC 1870 6: refuse at the end, after reading it all */
		s->too_big = true;
		for (size_t i = 0; i < s->n_rcpts; i++)
			mailbox_append_abort(&s->rcpts[i].append);
		return;
	}
	s->data_size += len;
	for (size_t i = 0; i < s->n_rcpts; i++) {
		struct lmtp_rcpt *r = &s->rcpts[i];
		const char *error;

		if (r->append == NULL)
			continue;
		if (mailbox_append_write(r->append, p, len, &error) < 0) {
			r->reply = rcpt_storage_reply(r, error,
						      s->ctx->set.quota_bounce);
			mailbox_append_abort(&r->append);
		}
	}
}

/* Takes what has arrived of the data; false when waiting for more. */
static bool data_step(struct lmtp_session *s)
{
	struct strv chunk;
	size_t used, out_len;
	bool end;

	if (conn_peek_bytes(s->conn, LMTP_DATA_CHUNK, &chunk) == 0)
		return false;
	end = lmtp_data_decode(&s->data, chunk.p, chunk.len, s->scratch, &used,
			       &out_len);
	data_write(s, s->scratch, out_len);
	conn_consume_bytes(s->conn, used);
	if (!end)
		return true;
	lmtp_deliver(s);
	return false;
}

/* --- commands --- */

static void lookup_cb(const struct auth_client_reply *reply, void *context)
{
	struct lmtp_session *s = context;
	char *addr = s->lookup_addr;

	s->lookup = NULL;
	s->lookup_addr = NULL;
	conn_pause_input(s->conn, false);
	switch (reply->status) {
	case AUTH_CLIENT_OK: {
		struct lmtp_rcpt *r;
		size_t n = 0;

		s->rcpts = xrealloc(s->rcpts,
				    (s->n_rcpts + 1) * sizeof(*s->rcpts));
		r = &s->rcpts[s->n_rcpts++];
		memset(r, 0, sizeof(*r));
		r->addr = addr;
		r->user = xstrdup(reply->user);
		r->mail_root = xstrdup(reply->mail_root);
		while (reply->overrides[n] != NULL)
			n++;
		r->overrides = xcalloc(n + 1, sizeof(*r->overrides));
		for (size_t i = 0; i < n; i++)
			r->overrides[i] = xstrdup(reply->overrides[i]);
		lmtp_reply(s, "250 2.1.5 OK");
		return;
	}
	case AUTH_CLIENT_FAIL:
		conn_log_info(s->conn, "event=lmtp_unknown_user rcpt=%s",
			      log_q(addr));
		lmtp_reply(s, "550 5.1.1 User unknown");
		break;
	default:
		lmtp_reply(s, "451 4.3.0 Temporary user lookup failure");
		break;
	}
	free(addr);
}

static void cmd_rcpt(struct lmtp_session *s, const struct lmtp_command *cmd)
{
	if (!s->in_mail) {
		lmtp_reply(s, "503 5.5.1 MAIL first");
		return;
	}
	if (s->n_rcpts >= LMTP_RCPT_MAX) {
		lmtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (cmd->path.len == 0) {
		lmtp_reply(s, "501 5.1.3 Empty recipient");
		return;
	}
	if (s->ctx->set.auth == NULL) {
		lmtp_reply(s, "451 4.3.0 Temporary user lookup failure");
		return;
	}
	s->lookup_addr = xstrndup(cmd->path.p, cmd->path.len);
	conn_pause_input(s->conn, true);
	s->lookup = auth_client_userdb(s->ctx->set.auth, "lmtp", s->lookup_addr,
				       lookup_cb, s);
}

static void cmd_mail(struct lmtp_session *s, const struct lmtp_command *cmd)
{
	if (!s->greeted) {
		lmtp_reply(s, "503 5.5.1 LHLO first");
		return;
	}
	if (s->in_mail) {
		lmtp_reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (cmd->has_size && cmd->size > s->ctx->set.max_size) {
		lmtp_reply(s, "552 5.3.4 Message too big");
		return;
	}
	s->in_mail = true;
	lmtp_reply(s, "250 2.1.0 OK");
}

static void cmd_data(struct lmtp_session *s)
{
	if (!s->in_mail) {
		lmtp_reply(s, "503 5.5.1 MAIL first");
		return;
	}
	if (s->n_rcpts == 0) {
		lmtp_reply(s, "503 5.5.1 No valid recipients");
		return;
	}
	for (size_t i = 0; i < s->n_rcpts; i++)
		rcpt_begin(s, &s->rcpts[i]);
	if (s->scratch == NULL)
		s->scratch = xmalloc(LMTP_DATA_CHUNK + 1);
	lmtp_data_init(&s->data);
	s->data_size = 0;
	s->in_data = true;
	lmtp_reply(s, "354 Start mail input; end with <CRLF>.<CRLF>");
}

static void cmd_lhlo(struct lmtp_session *s)
{
	/* RFC 2033 4.1: LHLO also resets the transaction */
	lmtp_reset(s);
	s->greeted = true;
	conn_printf(s->conn,
		    "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
		    "250-8BITMIME\r\n250 SIZE %llu\r\n",
		    s->ctx->hostname, (unsigned long long)s->ctx->set.max_size);
}

static bool lmtp_bad(struct lmtp_session *s, const char *reply)
{
	lmtp_reply(s, reply);
	if (++s->bad_commands < LMTP_BAD_COMMANDS_MAX)
		return true;
	lmtp_reply(s, "421 4.7.0 Too many errors, closing connection");
	conn_close(s->conn, "too many bad commands");
	return false;
}

/* Runs one command line; false to stop reading (closing, waiting). */
static bool lmtp_run(struct lmtp_session *s, struct strv line)
{
	struct lmtp_command cmd;
	const char *error;

	if (lmtp_parser_command(line, &cmd, &error) < 0)
		return lmtp_bad(s, error);
	switch (cmd.verb) {
	case LMTP_VERB_LHLO:
		cmd_lhlo(s);
		return true;
	case LMTP_VERB_HELO:
		return lmtp_bad(s, "500 5.5.1 This is LMTP: use LHLO");
	case LMTP_VERB_MAIL:
		cmd_mail(s, &cmd);
		return true;
	case LMTP_VERB_RCPT:
		cmd_rcpt(s, &cmd);
		return s->lookup == NULL;
	case LMTP_VERB_DATA:
		cmd_data(s);
		return true;
	case LMTP_VERB_RSET:
		lmtp_reset(s);
		lmtp_reply(s, "250 2.0.0 OK");
		return true;
	case LMTP_VERB_NOOP:
		lmtp_reply(s, "250 2.0.0 OK");
		return true;
	case LMTP_VERB_VRFY:
		lmtp_reply(s, "252 2.5.2 Cannot VRFY user");
		return true;
	case LMTP_VERB_QUIT:
		lmtp_reply(s, "221 2.0.0 Bye");
		conn_close(s->conn, "quit");
		return false;
	case LMTP_VERB_UNKNOWN:
		break;
	}
	return lmtp_bad(s, "500 5.5.2 Unknown command");
}

static void lmtp_process(void *session)
{
	struct lmtp_session *s = session;

	while (!conn_is_closing(s->conn) && s->job == NULL &&
	       s->lookup == NULL && !conn_output_full(s->conn)) {
		struct strv line;
		int ret;

		if (s->in_data) {
			if (!data_step(s))
				break;
			continue;
		}
		ret = conn_peek_line(s->conn, LMTP_LINE_MAX, &line);
		if (ret == 0)
			break;
		if (ret < 0) {
			conn_skip_line(s->conn);
			if (!lmtp_bad(s, "500 5.5.2 Line too long"))
				break;
			continue;
		}
		bool go_on = lmtp_run(s, line);

		conn_consume_line(s->conn);
		if (!go_on)
			break;
	}
}

static void *lmtp_open(struct conn *conn, void *context)
{
	struct lmtp_session *s = xcalloc(1, sizeof(*s));

	s->conn = conn;
	s->ctx = context;
	/* no login in LMTP: the idle timeout applies from the start */
	conn_set_timeout(conn, s->ctx->set.timeout);
	conn_printf(conn, "220 %s LMTP Merpati ready\r\n", s->ctx->hostname);
	return s;
}

static void lmtp_bye(void *session, enum conn_bye why)
{
	struct lmtp_session *s = session;

	lmtp_reply(s, why == CONN_BYE_SHUTDOWN
			      ? "421 4.3.2 Server shutting down"
			      : "421 4.4.2 Idle timeout, closing connection");
}

static void lmtp_free(void *session)
{
	struct lmtp_session *s = session;

	auth_client_request_cancel(&s->lookup);
	free(s->lookup_addr);
	if (s->job != NULL) {
		/* the files are stored on their thread; nobody is told */
		s->delivery->session = NULL;
		storage_job_cancel(s->job);
	}
	/* mid-DATA: every tmp/ file is removed */
	lmtp_reset(s);
	free(s->scratch);
	free(s);
}

const struct conn_handler lmtp_conn_handler = {
	.name = "lmtp",
	.open = lmtp_open,
	.process = lmtp_process,
	.bye = lmtp_bye,
	.free = lmtp_free,
	.refuse = "421 4.3.2 Too many connections, try later\r\n",
};
