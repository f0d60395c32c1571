/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_server.h"

#include "auth/auth_hash.h"
#include "auth/auth_penalty.h"
#include "auth/auth_proto.h"
#include "auth/auth_sasl.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SERVER_OVERRIDES_MAX 64
/* descriptors read from one channel message (one is valid) */
#define AUTH_SERVER_FDS_MAX 8
#define AUTH_SERVER_ACCEPT_BATCH 64

enum sreq_state {
	SREQ_DELAYED, /* penalty timer running */
	SREQ_BUSY,    /* auth_verify/auth_lookup running */
	SREQ_WAITING, /* sent a challenge, waiting for the client */
};

struct server_conn;

struct server_req {
	struct server_conn *conn;
	char *id;
	enum sreq_state state;
	char *service, *ip, *user, *password; /* password wiped */
	bool secured;
	struct auth_sasl *sasl; /* NULL for VERIFY */
	char *pending_response; /* SASL data waiting for the delay */
	bool has_pending_response;
	struct auth_request *areq;    /* while SREQ_BUSY */
	struct auth_user *scram_user; /* from the SCRAM lookup */
	const char *scram_fake;	      /* why server-first was faked (log) */
	char *mech_asked;   /* an unsupported mechanism's name (log) */
	int penalty_ticket; /* auth_penalty_begin()'s, -1 when none */
	ev_timer delay;
	struct server_req *prev, *next;
};

struct server_conn {
	struct auth_server *server;
	int fd;
	ev_io rio, wio;
	struct buf in, out;
	struct server_req *reqs;
	struct server_conn *prev, *next;
};

struct auth_server {
	struct ev_loop *loop;
	struct auth_settings set;
	struct auth *auth;
	struct auth_penalty *penalty;
	int channel_fd; /* the helper's end of the channel (auth_server.h) */
	ev_io channel_io;
	struct server_conn *conns;
};

static void conn_destroy(struct server_conn *conn);

/* --- output --- */

static void conn_flush(struct server_conn *conn)
{
	struct ev_loop *loop = conn->server->loop;

	while (conn->out.len > 0) {
		ssize_t n = send(conn->fd, conn->out.data, conn->out.len,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(loop, &conn->wio);
			return;
		}
		if (n < 0) {
			/* The reader notices the dead peer and cleans up. */
			buf_reset(&conn->out);
			break;
		}
		buf_consume(&conn->out, (size_t)n);
	}
	ev_io_stop(loop, &conn->wio);
}

static void conn_send(struct server_conn *conn, const char *const *fields,
		      size_t n)
{
	if (auth_proto_append(&conn->out, fields, n) < 0) {
		log_error(
			"event=auth_helper_error error=\"reply does not fit\"");
		return;
	}
	conn_flush(conn);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_flush(w->data);
}

/* --- requests --- */

/* The name the client tried (what penalty buckets are keyed by). */
static const char *req_user(const struct server_req *req)
{
	if (req->user == NULL && req->sasl != NULL)
		return auth_sasl_user(req->sasl);
	return req->user;
}

static void sreq_penalty_end(struct server_req *req,
			     enum auth_penalty_outcome outcome)
{
	struct auth_server *server = req->conn->server;

	auth_penalty_end(server->penalty, req->penalty_ticket, req_user(req),
			 outcome, ev_now(server->loop));
	req->penalty_ticket = -1;
}

static void sreq_free(struct server_req *req)
{
	struct server_conn *conn = req->conn;

	/* Dropped while a check runs: it counts as a failure (the check was
	   spent); while it waited for its turn or for the client: nothing. */
	sreq_penalty_end(req, req->state == SREQ_BUSY ? AUTH_PENALTY_FAILED
						      : AUTH_PENALTY_ABANDONED);

	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		conn->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	ev_timer_stop(conn->server->loop, &req->delay);
	auth_request_cancel(&req->areq);
	auth_sasl_free(&req->sasl);
	auth_user_free(&req->scram_user);
	free(req->id);
	free(req->service);
	free(req->mech_asked);
	free(req->ip);
	free(req->user);
	if (req->password != NULL)
		xfree_secret(req->password, strlen(req->password));
	if (req->pending_response != NULL)
		xfree_secret(req->pending_response,
			     strlen(req->pending_response));
	free(req);
}

static struct server_req *sreq_find(struct server_conn *conn, const char *id)
{
	for (struct server_req *r = conn->reqs; r != NULL; r = r->next) {
		if (strcmp(r->id, id) == 0)
			return r;
	}
	return NULL;
}

static const char *req_mech(const struct server_req *req)
{
	if (req->sasl != NULL)
		return auth_sasl_mech(req->sasl);
	return req->mech_asked != NULL ? req->mech_asked : "LOGIN-CMD";
}

static void reply_ok(struct server_req *req, const struct auth_user *user)
{
	const char *f[4 + SERVER_OVERRIDES_MAX];
	size_t n = 0;

	sreq_penalty_end(req, AUTH_PENALTY_SUCCEEDED);
	log_info("event=auth_ok service=%s ip=%s user=%s mech=%s backend=%s",
		 log_q(req->service), log_q(req->ip), log_q(user->name),
		 log_q(req_mech(req)), log_q(user->backend));
	f[n++] = "OK";
	f[n++] = req->id;
	f[n++] = user->name;
	f[n++] = user->mail_root;
	for (char **o = user->overrides;
	     *o != NULL && n < sizeof(f) / sizeof(f[0]); o++)
		f[n++] = *o;
	conn_send(req->conn, f, n);
	sreq_free(req);
}

/* FAIL's class field (auth_proto.h): "malformed" when the client broke
   the exchange itself, "refused" otherwise. */
static void reply_fail_class(struct server_req *req, enum auth_result result,
			     const char *fail_class, const char *client_reason,
			     const char *log_reason);

static void reply_fail(struct server_req *req, enum auth_result result,
		       const char *client_reason, const char *log_reason)
{
	reply_fail_class(req, result,
			 result == AUTH_RESULT_FAIL ? "refused" : "temp",
			 client_reason, log_reason);
}

static void reply_fail_class(struct server_req *req, enum auth_result result,
			     const char *fail_class, const char *client_reason,
			     const char *log_reason)
{
	struct auth_server *server = req->conn->server;
	const char *user = req_user(req);
	const char *f[4];

	if (result == AUTH_RESULT_FAIL) {
		sreq_penalty_end(req, AUTH_PENALTY_FAILED);
		log_info(
			"event=auth_failed service=%s ip=%s user=%s mech=%s reason=%s failures=%u",
			log_q(req->service), log_q(req->ip), log_q(user),
			log_q(req_mech(req)), log_q(log_reason),
			auth_penalty_failures(server->penalty, req->ip,
					      ev_now(server->loop)));
	} else {
		/* an outage tells the client nothing about the password */
		sreq_penalty_end(req, AUTH_PENALTY_ABANDONED);
		log_warn(
			"event=auth_tempfail service=%s ip=%s user=%s mech=%s reason=%s",
			log_q(req->service), log_q(req->ip), log_q(user),
			log_q(req_mech(req)), log_q(log_reason));
	}
	f[0] = result == AUTH_RESULT_FAIL ? "FAIL" : "TEMPFAIL";
	f[1] = req->id;
	f[2] = client_reason;
	f[3] = fail_class;
	conn_send(req->conn, f, 4);
	sreq_free(req);
}

static void verify_cb(enum auth_result result, struct auth_user *user,
		      const char *reason, void *context)
{
	struct server_req *req = context;

	req->areq = NULL;
	switch (result) {
	case AUTH_RESULT_OK:
		reply_ok(req, user);
		break;
	case AUTH_RESULT_FAIL:
		reply_fail(req, result, "Authentication failed", reason);
		break;
	case AUTH_RESULT_TEMPFAIL:
		reply_fail(req, result,
			   "Temporary authentication failure, try again later",
			   reason);
		break;
	}
	auth_user_free(&user);
}

static void sasl_handle(struct server_req *req, enum auth_sasl_status st,
			struct buf *challenge, const char *error);

/* USERDB (LMTP's RCPT): who the user is, without a password. No penalty
   and no auth_ok/auth_failed line: nothing was tried. A chain that cannot
   look users up (checkpassword, PAM only) is a temporary failure, never
   "unknown user", so that no mail is bounced for it. */
static void userdb_cb(enum auth_result result, struct auth_user *user,
		      const char *reason, void *context)
{
	struct server_req *req = context;
	const char *f[4 + SERVER_OVERRIDES_MAX];
	size_t n = 0;

	req->areq = NULL;
	if (result == AUTH_RESULT_OK) {
		f[n++] = "OK";
		f[n++] = req->id;
		f[n++] = user->name;
		f[n++] = user->mail_root;
		for (char **o = user->overrides;
		     *o != NULL && n < sizeof(f) / sizeof(f[0]); o++)
			f[n++] = *o;
	} else {
		bool unsupported =
			result == AUTH_RESULT_FAIL && reason != NULL &&
			strncmp(reason, "lookup not supported", 20) == 0;
		bool fail = result == AUTH_RESULT_FAIL && !unsupported;

		if (!fail)
			log_warn(
				"event=userdb_tempfail service=%s user=%s reason=%s",
				log_q(req->service), log_q(req->user),
				log_q(reason != NULL ? reason : "unknown"));
		f[n++] = fail ? "FAIL" : "TEMPFAIL";
		f[n++] = req->id;
		f[n++] =
			fail ? "Unknown user" : "Temporary user lookup failure";
		f[n++] = fail ? "refused" : "temp";
	}
	conn_send(req->conn, f, n);
	auth_user_free(&user);
	sreq_free(req);
}

static void lookup_cb(enum auth_result result, struct auth_user *user,
		      const char *reason, void *context)
{
	struct server_req *req = context;
	struct buf challenge;
	const char *error = NULL;
	enum auth_sasl_status st;

	req->areq = NULL;
	if (result == AUTH_RESULT_TEMPFAIL) {
		reply_fail(req, result,
			   "Temporary authentication failure, try again later",
			   reason);
		return;
	}
	buf_init(&challenge, AUTH_PROTO_FRAME_MAX / 2);
	if (result == AUTH_RESULT_OK && user->credential != NULL &&
	    auth_hash_scram_data(user->credential) != NULL) {
		st = auth_sasl_set_credential(req->sasl, user->credential,
					      &challenge, &error);
		req->scram_user = user;
	} else {
		/* Unknown, or no SCRAM keys: a fake server-first, so that
		   the exchange fails where a wrong password does and the
		   answer does not tell who exists (RFC 5802 5.1). */
		req->scram_fake = result == AUTH_RESULT_OK
					  ? "user has no SCRAM credential"
					  : "unknown user";
		auth_user_free(&user);
		st = auth_sasl_set_unknown(req->sasl, &challenge, &error);
	}
	sasl_handle(req, st, &challenge, error);
	buf_free_secret(&challenge);
}

static void sasl_handle(struct server_req *req, enum auth_sasl_status st,
			struct buf *challenge, const char *error)
{
	struct auth *auth = req->conn->server->auth;
	struct buf b64;
	const char *f[3];

	switch (st) {
	case AUTH_SASL_CONTINUE:
		buf_init(&b64, AUTH_PROTO_FRAME_MAX);
		base64_encode(&b64, challenge->data, challenge->len);
		f[0] = "CONT";
		f[1] = req->id;
		f[2] = b64.data != NULL ? b64.data : "";
		req->state = SREQ_WAITING;
		conn_send(req->conn, f, 3);
		buf_free(&b64);
		break;
	case AUTH_SASL_VERIFY:
		req->state = SREQ_BUSY;
		req->areq = auth_verify(
			auth, req->service, req->ip, auth_sasl_user(req->sasl),
			auth_sasl_password(req->sasl), verify_cb, req);
		break;
	case AUTH_SASL_LOOKUP:
		req->state = SREQ_BUSY;
		req->areq = auth_lookup(auth, auth_sasl_user(req->sasl),
					lookup_cb, req);
		break;
	case AUTH_SASL_OK:
		if (req->scram_user == NULL) {
			reply_fail(req, AUTH_RESULT_TEMPFAIL,
				   "Temporary authentication failure",
				   "SASL success without a user");
			break;
		}
		req->scram_user->backend = "passwd-file";
		reply_ok(req, req->scram_user);
		break;
	case AUTH_SASL_FAIL:
		reply_fail(req, AUTH_RESULT_FAIL, error,
			   req->scram_fake != NULL ? req->scram_fake : error);
		break;
	}
}

/* Feeds one client response (base64 text, or NULL for none). */
static void sasl_feed(struct server_req *req, const char *b64)
{
	struct buf data, challenge;
	const char *error = NULL;
	enum auth_sasl_status st;

	buf_init(&data, AUTH_SASL_RESPONSE_MAX);
	if (b64 != NULL && strcmp(b64, "=") != 0 &&
	    base64_decode(&data, b64, strlen(b64)) < 0) {
		buf_free_secret(&data);
		reply_fail_class(req, AUTH_RESULT_FAIL, "malformed",
				 "Invalid base64 data in SASL response",
				 "invalid base64");
		return;
	}
	buf_init(&challenge, AUTH_PROTO_FRAME_MAX / 2);
	st = auth_sasl_step(req->sasl,
			    b64 == NULL		? NULL
			    : data.data != NULL ? data.data
						: "",
			    data.len, &challenge, &error);
	buf_free_secret(&data);
	sasl_handle(req, st, &challenge, error);
	buf_free_secret(&challenge);
}

static void sreq_start(struct server_req *req)
{
	struct auth *auth = req->conn->server->auth;

	req->state = SREQ_BUSY;
	if (req->sasl == NULL) {
		req->areq = auth_verify(auth, req->service, req->ip, req->user,
					req->password, verify_cb, req);
		return;
	}
	sasl_feed(req,
		  req->has_pending_response ? req->pending_response : NULL);
}

static void delay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	sreq_start(w->data);
}

static struct server_req *sreq_new(struct server_conn *conn, const char *id,
				   const char *service, const char *ip,
				   const char *secured)
{
	struct server_req *req = xcalloc(1, sizeof(*req));

	req->conn = conn;
	req->id = xstrdup(id);
	req->service = xstrdup(service);
	req->ip = xstrdup(ip);
	req->secured = strcmp(secured, "1") == 0;
	req->penalty_ticket = -1;
	ev_timer_init(&req->delay, delay_cb, 0, 0);
	req->delay.data = req;
	req->next = conn->reqs;
	if (conn->reqs != NULL)
		conn->reqs->prev = req;
	conn->reqs = req;
	return req;
}

/* Starts now, or after the address's penalty; refuses when the address
   has queued attempts for more than AUTH_PENALTY_QUEUE_MAX seconds. */
static void sreq_schedule(struct server_req *req)
{
	struct auth_server *server = req->conn->server;
	double d;

	if (auth_penalty_begin(server->penalty, req->ip, ev_now(server->loop),
			       &d, &req->penalty_ticket) < 0) {
		reply_fail(req, AUTH_RESULT_TEMPFAIL,
			   "Too many login attempts, try again later",
			   "too many attempts in flight from this address");
		return;
	}
	if (d <= 0) {
		sreq_start(req);
		return;
	}
	req->state = SREQ_DELAYED;
	log_debug("event=auth_penalty ip=%s delay=%.1f", log_q(req->ip), d);
	ev_timer_set(&req->delay, d, 0);
	ev_timer_start(server->loop, &req->delay);
}

/* --- messages --- */

static int handle_msg(struct server_conn *conn, const struct auth_proto_msg *m)
{
	const char *cmd = m->f[0];
	struct server_req *req;

	if (m->n < 2)
		return -1;
	if (strcmp(cmd, "VERIFY") == 0 && m->n == 7) {
		if (sreq_find(conn, m->f[1]) != NULL)
			return -1;
		req = sreq_new(conn, m->f[1], m->f[2], m->f[3], m->f[4]);
		req->user = xstrdup(m->f[5]);
		req->password = xstrdup(m->f[6]);
		sreq_schedule(req);
		return 0;
	}
	if (strcmp(cmd, "SASL") == 0 && m->n == 8) {
		if (sreq_find(conn, m->f[1]) != NULL)
			return -1;
		req = sreq_new(conn, m->f[1], m->f[2], m->f[3], m->f[4]);
		req->sasl = auth_sasl_new(m->f[5]);
		if (req->sasl == NULL) {
			req->mech_asked =
				xstrndup(m->f[5], strnlen(m->f[5], 64));
			reply_fail(req, AUTH_RESULT_FAIL,
				   "Unsupported authentication mechanism",
				   "unsupported mechanism");
			return 0;
		}
		if (strcmp(m->f[6], "1") == 0) {
			req->has_pending_response = true;
			req->pending_response = xstrdup(m->f[7]);
		}
		sreq_schedule(req);
		return 0;
	}
	if (strcmp(cmd, "USERDB") == 0 && m->n == 4) {
		if (sreq_find(conn, m->f[1]) != NULL)
			return -1;
		req = sreq_new(conn, m->f[1], m->f[2], "", "0");
		req->user = xstrdup(m->f[3]);
		req->state = SREQ_BUSY;
		req->areq = auth_lookup(conn->server->auth, req->user,
					userdb_cb, req);
		return 0;
	}
	if (strcmp(cmd, "CONT") == 0 && m->n == 3) {
		req = sreq_find(conn, m->f[1]);
		if (req == NULL || req->state != SREQ_WAITING)
			return 0; /* raced with a cancel: ignore */
		if (strcmp(m->f[2], "*") == 0) {
			/* RFC 4422 3.5: the client aborts. No penalty. */
			/* RFC 3501 6.2.2: a cancelled exchange is BAD */
			const char *f[4] = {"FAIL", req->id,
					    "Authentication cancelled",
					    "malformed"};

			conn_send(conn, f, 4);
			sreq_free(req);
			return 0;
		}
		req->state = SREQ_BUSY;
		sasl_feed(req, m->f[2]);
		return 0;
	}
	if (strcmp(cmd, "CANCEL") == 0) {
		req = sreq_find(conn, m->f[1]);
		if (req != NULL)
			sreq_free(req);
		return 0;
	}
	return -1;
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server_conn *conn = w->data;
	struct auth_proto_msg m;
	const char *reason;
	int ret;

	(void)loop;
	(void)revents;
	if (auth_proto_read(conn->fd, &conn->in, &reason) < 0) {
		conn_destroy(conn);
		return;
	}
	while ((ret = auth_proto_parse(&conn->in, &m)) == 1) {
		size_t len = m.frame_len;

		if (handle_msg(conn, &m) < 0) {
			log_error(
				"event=auth_helper_error error=\"protocol violation from client\"");
			conn_destroy(conn);
			return;
		}
		buf_consume(&conn->in, len);
	}
	if (ret < 0) {
		log_error(
			"event=auth_helper_error error=\"malformed frame from client\"");
		conn_destroy(conn);
	}
}

static void conn_destroy(struct server_conn *conn)
{
	struct auth_server *server = conn->server;

	while (conn->reqs != NULL)
		sreq_free(conn->reqs);
	ev_io_stop(server->loop, &conn->rio);
	ev_io_stop(server->loop, &conn->wio);
	close(conn->fd);
	buf_free_secret(&conn->in);
	buf_free_secret(&conn->out);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		server->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	free(conn);
}

/* True when pid is the helper's parent (the master), the helper itself (an
   in-process server), or another child of the master (a worker). */
static bool peer_pid_is_ours(pid_t pid)
{
	char path[64], stat[512], *p;
	long ppid = -1;
	ssize_t n;
	int fd;

	if (pid == getpid() || pid == getppid())
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything but ')' ends
	   at the last one */
	p = strrchr(stat, ')');
	if (p == NULL || sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return false;
	return ppid == (long)getppid();
}

/* SO_PEERCRED of a handed-in connection: the process that made the
   socketpair, which must be root or server.user, and one of ours. */
static bool conn_peer_allowed(const struct auth_server *server, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("event=auth_helper_refused error=\"SO_PEERCRED: %s\"",
			 strerror(errno));
		return false;
	}
	if ((cred.uid != 0 && cred.uid != server->set.peer_uid) ||
	    !peer_pid_is_ours(cred.pid)) {
		log_warn("event=auth_helper_refused pid=%ld uid=%ld",
			 (long)cred.pid, (long)cred.uid);
		return false;
	}
	return true;
}

static void conn_start(struct auth_server *server, int fd)
{
	struct server_conn *conn;
	const char *hello[3] = {"HELLO", "0", auth_mechanisms(server->auth)};
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    !conn_peer_allowed(server, fd)) {
		close(fd);
		return;
	}
	conn = xcalloc(1, sizeof(*conn));
	conn->server = server;
	conn->fd = fd;
	buf_init(&conn->in, AUTH_PROTO_BUF_MAX);
	buf_init(&conn->out, AUTH_PROTO_BUF_MAX);
	ev_io_init(&conn->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&conn->wio, conn_write_cb, fd, EV_WRITE);
	conn->rio.data = conn->wio.data = conn;
	ev_io_start(server->loop, &conn->rio);
	conn->next = server->conns;
	if (server->conns != NULL)
		server->conns->prev = conn;
	server->conns = conn;
	conn_send(conn, hello, 3);
}

/*
 * Receives one handed-in connection from the channel. Returns 1 when a
 * message was taken (whatever it carried), 0 when none is waiting, -1 when
 * every sender is gone.
 */
static int channel_receive(struct auth_server *server)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * AUTH_SERVER_FDS_MAX)];
	} control;

	char byte;
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = &control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm;
	int fds[AUTH_SERVER_FDS_MAX];
	size_t nfds = 0;
	ssize_t n;

	n = recvmsg(server->channel_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
			       ? 0
			       : -1;
	if (n == 0 && msg.msg_controllen == 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < AUTH_SERVER_FDS_MAX; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
	}
	/* exactly one connection per message; anything else is dropped */
	if (nfds != 1 || (msg.msg_flags & MSG_CTRUNC) != 0) {
		log_warn(
			"event=auth_helper_refused error=\"channel message with %zu descriptors\"",
			nfds);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return 1;
	}
	conn_start(server, fds[0]);
	return 1;
}

static void channel_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct auth_server *server = w->data;

	(void)revents;
	for (int i = 0; i < AUTH_SERVER_ACCEPT_BATCH; i++) {
		int ret = channel_receive(server);

		if (ret == 0)
			return;
		if (ret < 0) {
			/* every sender closed the channel: nothing more will
			   come (the master is gone) */
			ev_io_stop(loop, w);
			return;
		}
	}
}

/* --- set-up --- */

struct auth_server *auth_server_new(struct ev_loop *loop,
				    const struct auth_settings *set,
				    int channel_fd, const char **error_r)
{
	struct auth_server *server = xcalloc(1, sizeof(*server));

	server->loop = loop;
	server->set = *set;
	server->channel_fd = channel_fd;
	server->auth = auth_new(loop, set, error_r);
	if (server->auth == NULL) {
		close(channel_fd);
		free(server);
		return NULL;
	}
	server->penalty = auth_penalty_new(set->penalty_max);
	ev_io_init(&server->channel_io, channel_cb, channel_fd, EV_READ);
	server->channel_io.data = server;
	ev_io_start(loop, &server->channel_io);
	return server;
}

void auth_server_free(struct auth_server **serverp)
{
	struct auth_server *server = *serverp;

	if (server == NULL)
		return;
	*serverp = NULL;
	while (server->conns != NULL)
		conn_destroy(server->conns);
	ev_io_stop(server->loop, &server->channel_io);
	close(server->channel_fd);
	auth_free(&server->auth);
	auth_penalty_free(&server->penalty);
	free(server);
}

int auth_server_channel(int *client_fd_r, int *server_fd_r,
			const char **error_r)
{
	int sv[2];

	/* SEQPACKET: one message per handed-in connection, never merged or
	   split, so a helper that dies mid-read leaves the rest intact */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*error_r = "auth channel: socketpair() failed";
		return -1;
	}
	/* only the client end sends, only the server end receives */
	(void)shutdown(sv[0], SHUT_RD);
	(void)shutdown(sv[1], SHUT_WR);
	*client_fd_r = sv[0];
	*server_fd_r = sv[1];
	return 0;
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* the master restarts us instead */
	/* Ctrl-C reaches the whole foreground group: the master stops us
	   with SIGTERM when it stops, not before */
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void __attribute__((noreturn))
helper_main(const struct auth_settings *set, int fd, pid_t parent)
{
	struct ev_loop *loop;
	struct auth_server *server;
	const char *error;

	reset_signals();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0); /* the master died before we asked */
	if (set->child_setup != NULL)
		set->child_setup(set); /* before any thread: see sandbox.h */
	loop = ev_loop_new(EVFLAG_AUTO);
	if (loop == NULL) {
		log_error(
			"event=auth_helper_error error=\"ev_loop_new failed\"");
		_exit(1);
	}
	server = auth_server_new(loop, set, fd, &error);
	if (server == NULL) {
		log_error("event=auth_helper_error error=\"%s\"", error);
		_exit(1);
	}
	log_info("event=auth_helper_started backend=\"%s\" workers=%u",
		 set->backend, set->workers);
	ev_run(loop, 0);
	auth_server_free(&server);
	_exit(0);
}

int auth_server_spawn(const struct auth_settings *set, int channel_fd,
		      pid_t *pid_r, const char **error_r)
{
	pid_t parent = getpid(), pid;
	int fd;

	if (auth_settings_check(set, error_r) < 0)
		return -1;
	/* the helper's own copy: auth_server_new() takes it over, the
	   caller keeps channel_fd for the next helper */
	fd = fcntl(channel_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		*error_r = "auth helper: bad channel descriptor";
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd);
		*error_r = "auth helper: fork() failed";
		return -1;
	}
	if (pid == 0)
		helper_main(set, fd, parent);
	close(fd);
	*pid_r = pid;
	return 0;
}
