/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_client.h"

#include "auth/auth.h"
#include "auth/auth_proto.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <ev.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_RETRY_INTERVAL 0.1
#define CLIENT_DEFAULT_MECHS "PLAIN LOGIN SCRAM-SHA-256"

struct auth_client_request {
	struct auth_client *client;
	unsigned id;
	auth_client_callback *callback;
	void *context;
	bool failing; /* being failed by a connection loss */
	/* a locally decided result (frame too large), delivered from timer */
	bool local_fail;
	ev_timer timer; /* local result, or the request timeout */
	struct auth_client_request *prev, *next;
};

struct auth_client {
	struct ev_loop *loop;
	int channel_fd;	  /* the channel's client end (borrowed) */
	uid_t master_uid; /* who made the channel: the helper must be them */
	const char *channel_error; /* the channel is unusable: why */
	int fd;			   /* our end of the current connection */
	bool helper_checked;	   /* the helper's credentials were seen */
	ev_io rio, wio;
	ev_timer retry;
	ev_timer hello;	    /* bounds the wait for the helper's first bytes */
	double retry_until; /* give up connecting after this (0: not trying) */
	struct buf in, out;
	struct auth_client_request *reqs;
	unsigned next_id;
	char *mechs;	     /* from the helper's HELLO */
	char mechs_out[128]; /* auth_client_mechanisms() result */
};

static void client_disconnect(struct auth_client *c, const char *why);
static int client_check_helper(struct auth_client *c, const char **why_r);

bool auth_client_mech_is_plaintext(const char *mech)
{
	return strcasecmp(mech, "PLAIN") == 0 || strcasecmp(mech, "LOGIN") == 0;
}

bool auth_client_is_connected(const struct auth_client *c)
{
	return c->fd >= 0;
}

const char *auth_client_mechanisms(struct auth_client *c,
				   bool plaintext_allowed)
{
	const char *all = c->mechs != NULL ? c->mechs : CLIENT_DEFAULT_MECHS;
	char copy[128], *save = NULL;
	size_t used = 0;

	snprintf(copy, sizeof(copy), "%s", all);
	c->mechs_out[0] = '\0';
	for (char *m = strtok_r(copy, " ", &save); m != NULL;
	     m = strtok_r(NULL, " ", &save)) {
		int n;

		if (!plaintext_allowed && auth_client_mech_is_plaintext(m))
			continue;
		n = snprintf(c->mechs_out + used, sizeof(c->mechs_out) - used,
			     "%s%s", used > 0 ? " " : "", m);
		if (n < 0 || (size_t)n >= sizeof(c->mechs_out) - used)
			break;
		used += (size_t)n;
	}
	return c->mechs_out;
}

/* --- requests --- */

static void req_unlink(struct auth_client_request *req)
{
	struct auth_client *c = req->client;

	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		c->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	ev_timer_stop(c->loop, &req->timer);
}

/* Delivers a final reply: the request is gone afterwards. */
static void req_finish(struct auth_client_request *req,
		       const struct auth_client_reply *reply)
{
	req_unlink(req);
	req->callback(reply, req->context);
	free(req);
}

static void req_finish_simple(struct auth_client_request *req,
			      enum auth_client_status status,
			      const char *reason)
{
	static const char *const none[] = {NULL};
	struct auth_client_reply r = {
		.status = status,
		.error = status == AUTH_CLIENT_FAIL ? AUTH_CLIENT_ERROR_REFUSED
						    : AUTH_CLIENT_ERROR_TEMP,
		.overrides = none,
		.reason = reason};

	req_finish(req, &r);
}

static struct auth_client_request *req_find(struct auth_client *c, unsigned id)
{
	for (struct auth_client_request *r = c->reqs; r != NULL; r = r->next) {
		if (r->id == id)
			return r;
	}
	return NULL;
}

static void req_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct auth_client_request *req = w->data;
	struct auth_client *c = req->client;
	char id[16];
	const char *f[2] = {"CANCEL", id};

	(void)loop;
	(void)revents;
	if (req->local_fail) {
		req_finish_simple(req, AUTH_CLIENT_FAIL,
				  "Authentication failed (input too long)");
		return;
	}
	log_warn("event=auth_timeout id=%u", req->id);
	snprintf(id, sizeof(id), "%u", req->id);
	if (c->fd >= 0)
		auth_proto_append(&c->out, f, 2);
	req_finish_simple(req, AUTH_CLIENT_TEMPFAIL,
			  "Temporary authentication failure, try again later");
}

/* Fails every current request with TEMPFAIL (the helper is gone). */
static void fail_all(struct auth_client *c, const char *reason)
{
	struct auth_client_request *r;

	for (r = c->reqs; r != NULL; r = r->next)
		r->failing = true;
	/* Callbacks may cancel or start requests: rescan each time. */
	for (;;) {
		for (r = c->reqs; r != NULL && !r->failing; r = r->next)
			;
		if (r == NULL)
			break;
		req_finish_simple(r, AUTH_CLIENT_TEMPFAIL, reason);
	}
}

/* --- the socket --- */

static void client_flush(struct auth_client *c)
{
	while (c->fd >= 0 && c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(c->loop, &c->wio);
			return;
		}
		if (n < 0) {
			/* The read watcher sees the EOF and fails requests
			   from the loop, never inside a caller's call. */
			buf_reset(&c->out);
			break;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->fd >= 0)
		ev_io_stop(c->loop, &c->wio);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	client_flush(w->data);
}

static void handle_reply(struct auth_client *c, const struct auth_proto_msg *m)
{
	static const char *const none[] = {NULL};
	struct auth_client_reply r = {.overrides = none};
	struct auth_client_request *req;
	uint32_t id;

	if (strcmp(m->f[0], "HELLO") == 0) {
		ev_timer_stop(c->loop, &c->hello);
		free(c->mechs);
		c->mechs = xstrdup(m->n >= 3 ? m->f[2] : CLIENT_DEFAULT_MECHS);
		return;
	}
	if (m->n < 3 || strv_to_u32(strv_from_cstr(m->f[1]), &id) < 0)
		return;
	req = req_find(c, id);
	if (req == NULL)
		return; /* cancelled meanwhile */
	if (strcmp(m->f[0], "CONT") == 0) {
		r.status = AUTH_CLIENT_CONTINUE;
		r.challenge = m->f[2];
		ev_timer_again(c->loop, &req->timer);
		req->callback(&r, req->context);
		return;
	}
	if (strcmp(m->f[0], "OK") == 0 && m->n >= 4) {
		r.status = AUTH_CLIENT_OK;
		r.user = m->f[2];
		r.mail_root = m->f[3];
		/* The fields after mail_root, then the NULL: m->f has room
		   (AUTH_PROTO_FIELDS_MAX) and we own a copy of the struct. */
		struct auth_proto_msg copy = *m;

		if (copy.n < AUTH_PROTO_FIELDS_MAX)
			copy.f[copy.n] = NULL;
		else
			copy.f[AUTH_PROTO_FIELDS_MAX - 1] = NULL;
		r.overrides = &copy.f[4];
		req_finish(req, &r);
		return;
	}
	r.status = strcmp(m->f[0], "FAIL") == 0 ? AUTH_CLIENT_FAIL
						: AUTH_CLIENT_TEMPFAIL;
	r.error = r.status == AUTH_CLIENT_TEMPFAIL ? AUTH_CLIENT_ERROR_TEMP
		  : m->n >= 4 && strcmp(m->f[3], "malformed") == 0
			  ? AUTH_CLIENT_ERROR_MALFORMED
			  : AUTH_CLIENT_ERROR_REFUSED;
	r.reason = m->f[2];
	req_finish(req, &r);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct auth_client *c = w->data;
	struct auth_proto_msg m;
	const char *reason;
	int ret;

	(void)loop;
	(void)revents;
	if (!c->helper_checked) {
		ret = client_check_helper(c, &reason);
		if (ret == 0)
			return;
		if (ret < 0) {
			log_error("event=auth_helper_rejected error=\"%s\"",
				  reason);
			client_disconnect(c, reason);
			return;
		}
	}
	if (auth_proto_read(c->fd, &c->in, &reason) < 0) {
		client_disconnect(c, reason);
		return;
	}
	while (c->fd >= 0 && (ret = auth_proto_parse(&c->in, &m)) == 1) {
		size_t len = m.frame_len;
		/* A callback may disconnect (and reset c->in): copy first. */
		char *frame = xmalloc(len);
		struct auth_proto_msg own = m;

		memcpy(frame, c->in.data, len);
		for (size_t i = 0; i < own.n; i++)
			own.f[i] = frame + (m.f[i] - c->in.data);
		buf_consume(&c->in, len);
		handle_reply(c, &own);
		xfree_secret(frame, len);
	}
	if (c->fd >= 0 && ret < 0)
		client_disconnect(c, "malformed frame from helper");
}

/*
 * The helper's first bytes: SO_PASSCRED makes the kernel attach the
 * sender's credentials, which must be the channel maker's uid (root when
 * the master runs as root). Returns 1 (checked), 0 (nothing yet) or -1
 * with a reason.
 */
static int client_check_helper(struct auth_client *c, const char **why_r)
{
	static char why[96];

	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} control;

	char byte;
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = &control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm;
	struct ucred cred;
	int off = 0;
	ssize_t n = recvmsg(c->fd, &msg, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0) {
		*why_r =
			n == 0 ? "peer closed the connection" : strerror(errno);
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(cred)))
			break;
	}
	if (cm == NULL) {
		*why_r = "no credentials on the helper's reply";
		return -1;
	}
	memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
	if (cred.uid != c->master_uid) {
		snprintf(why, sizeof(why),
			 "helper pid %ld runs as uid %ld, not %ld",
			 (long)cred.pid, (long)cred.uid, (long)c->master_uid);
		*why_r = why;
		return -1;
	}
	(void)setsockopt(c->fd, SOL_SOCKET, SO_PASSCRED, &off, sizeof(off));
	c->helper_checked = true;
	return 1;
}

/* Hands fd to whichever helper reads the channel. */
static int channel_send(int channel_fd, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} control;

	char byte = 'C';
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = &control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm;

	memset(&control, 0, sizeof(control));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(channel_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0
									   : -1;
}

/*
 * A connection is a fresh socketpair: we keep one end and send the other
 * down the channel. No name is involved, so no one else can listen in.
 */
static int client_connect(struct auth_client *c)
{
	int sv[2], one = 1, saved;

	if (c->channel_error != NULL) {
		errno = EPERM;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		return -1;
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    channel_send(c->channel_fd, sv[1]) < 0) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	close(sv[1]);
	c->fd = sv[0];
	c->helper_checked = false;
	buf_reset(&c->in);
	ev_io_init(&c->rio, read_cb, c->fd, EV_READ);
	ev_io_init(&c->wio, write_cb, c->fd, EV_WRITE);
	c->rio.data = c->wio.data = c;
	ev_io_start(c->loop, &c->rio);
	ev_timer_set(&c->hello, AUTH_CLIENT_CONNECT_GRACE, 0);
	ev_timer_start(c->loop, &c->hello);
	return 0;
}

static void hello_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct auth_client *c = w->data;

	(void)loop;
	(void)revents;
	log_error(
		"event=auth_unavailable error=\"no auth helper answered within %.0f seconds\"",
		AUTH_CLIENT_CONNECT_GRACE);
	client_disconnect(c, "no answer from the auth helper");
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct auth_client *c = w->data;

	(void)revents;
	if (client_connect(c) == 0) {
		c->retry_until = 0;
		client_flush(c);
		return;
	}
	if (ev_now(loop) >= c->retry_until) {
		c->retry_until = 0;
		buf_reset(&c->out);
		log_error("event=auth_unavailable error=\"%s\"",
			  c->channel_error != NULL ? c->channel_error
						   : strerror(errno));
		fail_all(c,
			 "Temporary authentication failure, try again later");
		return;
	}
	ev_timer_set(w, CLIENT_RETRY_INTERVAL, 0);
	ev_timer_start(loop, w);
}

/* Makes sure queued output will go out: now, or after (re)connecting. */
static void client_kick(struct auth_client *c)
{
	if (c->fd >= 0) {
		client_flush(c);
		return;
	}
	if (c->retry_until > 0)
		return; /* already retrying */
	if (client_connect(c) == 0) {
		client_flush(c);
		return;
	}
	c->retry_until = ev_now(c->loop) + AUTH_CLIENT_CONNECT_GRACE;
	ev_timer_set(&c->retry, CLIENT_RETRY_INTERVAL, 0);
	ev_timer_start(c->loop, &c->retry);
}

static void client_disconnect(struct auth_client *c, const char *why)
{
	if (c->fd < 0)
		return;
	log_warn("event=auth_disconnected error=\"%s\"", why);
	ev_timer_stop(c->loop, &c->hello);
	ev_io_stop(c->loop, &c->rio);
	ev_io_stop(c->loop, &c->wio);
	close(c->fd);
	c->fd = -1;
	buf_free_secret(&c->in);
	buf_free_secret(&c->out);
	buf_init(&c->in, AUTH_PROTO_BUF_MAX);
	buf_init(&c->out, AUTH_PROTO_BUF_MAX);
	/* SASL state lived in the helper: every exchange is lost. */
	fail_all(c, "Temporary authentication failure, try again later");
}

/* SO_PEERCRED of the channel names its maker, the master: root, or our
   own uid when nothing runs as root. */
static void client_check_channel(struct auth_client *c)
{
	static char why[96];
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(c->channel_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) <
	    0) {
		snprintf(why, sizeof(why), "auth channel: SO_PEERCRED: %s",
			 strerror(errno));
		c->channel_error = why;
	} else if (cred.uid != 0 && cred.uid != geteuid()) {
		snprintf(why, sizeof(why),
			 "auth channel made by uid %ld, not root",
			 (long)cred.uid);
		c->channel_error = why;
	} else {
		c->master_uid = cred.uid;
	}
	if (c->channel_error != NULL)
		log_error("event=auth_unavailable error=\"%s\"",
			  c->channel_error);
}

struct auth_client *auth_client_new(struct ev_loop *loop, int channel_fd)
{
	struct auth_client *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->channel_fd = channel_fd;
	c->fd = -1;
	c->next_id = 1;
	buf_init(&c->in, AUTH_PROTO_BUF_MAX);
	buf_init(&c->out, AUTH_PROTO_BUF_MAX);
	ev_timer_init(&c->retry, retry_cb, CLIENT_RETRY_INTERVAL, 0);
	c->retry.data = c;
	ev_timer_init(&c->hello, hello_cb, AUTH_CLIENT_CONNECT_GRACE, 0);
	c->hello.data = c;
	client_check_channel(c);
	/* Connect early so the mechanism list is known for CAPABILITY. */
	(void)client_connect(c);
	return c;
}

void auth_client_free(struct auth_client **cp)
{
	struct auth_client *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	while (c->reqs != NULL) {
		struct auth_client_request *r = c->reqs;

		req_unlink(r);
		free(r);
	}
	ev_timer_stop(c->loop, &c->retry);
	ev_timer_stop(c->loop, &c->hello);
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->rio);
		ev_io_stop(c->loop, &c->wio);
		close(c->fd);
	}
	buf_free_secret(&c->in);
	buf_free_secret(&c->out);
	free(c->mechs);
	free(c);
}

static struct auth_client_request *
req_new(struct auth_client *c, auth_client_callback *callback, void *context)
{
	struct auth_client_request *req = xcalloc(1, sizeof(*req));

	req->client = c;
	req->id = c->next_id++;
	if (c->next_id == 0)
		c->next_id = 1;
	req->callback = callback;
	req->context = context;
	ev_init(&req->timer, req_timer_cb);
	req->timer.repeat = AUTH_CLIENT_REQUEST_TIMEOUT;
	req->timer.data = req;
	req->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = req;
	c->reqs = req;
	return req;
}

/* Queues a frame for req; a frame that cannot be sent fails locally. */
static void req_send(struct auth_client_request *req, const char *const *f,
		     size_t n)
{
	struct auth_client *c = req->client;

	if (auth_proto_append(&c->out, f, n) < 0) {
		req->local_fail = true;
		ev_timer_set(&req->timer, 0, 0);
		ev_timer_start(c->loop, &req->timer);
		return;
	}
	ev_timer_again(c->loop, &req->timer);
	client_kick(c);
}

struct auth_client_request *
auth_client_verify(struct auth_client *c, const struct auth_client_info *info,
		   const char *user, const char *password,
		   auth_client_callback *callback, void *context)
{
	struct auth_client_request *req = req_new(c, callback, context);
	char id[16];
	const char *f[7];

	snprintf(id, sizeof(id), "%u", req->id);
	f[0] = "VERIFY";
	f[1] = id;
	f[2] = info->service;
	f[3] = info->ip != NULL ? info->ip : "";
	f[4] = info->secured ? "1" : "0";
	f[5] = user;
	f[6] = password;
	if (strlen(user) > AUTH_USER_NAME_MAX + 1 ||
	    strlen(password) > AUTH_PASSWORD_MAX + 1) {
		/* Too long to be valid: do not ship it, fail it. */
		req->local_fail = true;
		ev_timer_set(&req->timer, 0, 0);
		ev_timer_start(c->loop, &req->timer);
		return req;
	}
	req_send(req, f, 7);
	return req;
}

struct auth_client_request *
auth_client_sasl_start(struct auth_client *c,
		       const struct auth_client_info *info, const char *mech,
		       const char *initial_response,
		       auth_client_callback *callback, void *context)
{
	struct auth_client_request *req = req_new(c, callback, context);
	char id[16];
	const char *f[8];

	snprintf(id, sizeof(id), "%u", req->id);
	f[0] = "SASL";
	f[1] = id;
	f[2] = info->service;
	f[3] = info->ip != NULL ? info->ip : "";
	f[4] = info->secured ? "1" : "0";
	f[5] = mech;
	f[6] = initial_response != NULL ? "1" : "0";
	f[7] = initial_response != NULL ? initial_response : "";
	req_send(req, f, 8);
	return req;
}

struct auth_client_request *
auth_client_userdb(struct auth_client *c, const char *service, const char *user,
		   auth_client_callback *callback, void *context)
{
	struct auth_client_request *req = req_new(c, callback, context);
	char id[16];
	const char *f[4];

	snprintf(id, sizeof(id), "%u", req->id);
	f[0] = "USERDB";
	f[1] = id;
	f[2] = service;
	f[3] = user;
	if (strlen(user) > AUTH_USER_NAME_MAX + 1) {
		req->local_fail = true;
		ev_timer_set(&req->timer, 0, 0);
		ev_timer_start(c->loop, &req->timer);
		return req;
	}
	req_send(req, f, 4);
	return req;
}

void auth_client_sasl_continue(struct auth_client_request *req,
			       const char *response)
{
	char id[16];
	const char *f[3] = {"CONT", id, response};

	snprintf(id, sizeof(id), "%u", req->id);
	req_send(req, f, 3);
}

void auth_client_request_cancel(struct auth_client_request **reqp)
{
	struct auth_client_request *req = *reqp;
	struct auth_client *c;
	char id[16];
	const char *f[2] = {"CANCEL", id};

	if (req == NULL)
		return;
	*reqp = NULL;
	c = req->client;
	req_unlink(req);
	if (c->fd >= 0) {
		snprintf(id, sizeof(id), "%u", req->id);
		if (auth_proto_append(&c->out, f, 2) == 0)
			client_flush(c);
	}
	free(req);
}
