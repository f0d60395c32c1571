/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/conn.h"

#include "lib/xalloc.h"
#include "server/conn_layer.h"
#include "server/conn_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_READ_CHUNK 16384
#define CONN_LINGER_SECONDS 5.0
#define CONN_HANDSHAKE_TIMEOUT 30

enum conn_tls_state {
	CONN_TLS_NONE,
	CONN_TLS_FLUSH_BEFORE, /* STARTTLS accepted: sending the OK in clear */
	CONN_TLS_HANDSHAKE,
	CONN_TLS_ACTIVE,
};

struct conn {
	struct conn *prev, *next; /* all connections of this process */
	struct ev_loop *loop;
	int fd;
	ev_io rio, wio;
	ev_timer idle;	 /* idle timeout, restarted by input */
	ev_timer login;	 /* absolute deadline from accept until login */
	ev_timer kick;	 /* zero-delay: process/flush soon */
	ev_timer linger; /* bounds the final flush after close */
	struct buf in, out;
	struct conn_limits limits;
	const struct conn_handler *handler;
	void *session;

	struct tls_creds *creds; /* NULL: no TLS available */
	/* the transport stack's top (conn_layer.h): all socket I/O */
	struct conn_layer *layer;
	struct conn_layer *tls; /* the TLS layer inside it, or NULL */
	enum conn_tls_state tls_state;
	bool unflushed; /* a layer holds output not on the socket yet */
	/* COMPRESS accepted: the OK is being sent, input held until the
	   deflate layer is on */
	bool compress_pending;
	bool compressed; /* a deflate layer is on the stack */

	unsigned timeout;    /* seconds */
	size_t line_len;     /* bytes of the last peeked line incl. LF */
	unsigned depth;	     /* nesting of our callbacks */
	bool paused;	     /* conn_pause_input() */
	bool output_blocked; /* went above high-water; waiting for low */
	bool skipping_line;  /* dropping an overlong line's remainder */
	bool eof;	     /* peer closed its side; we may still send */
	bool dead;	     /* the socket is unusable: free without flushing */
	bool closing;
	bool opened; /* handler->open() was called */
	bool freed;

	uint64_t id;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	bool loopback;
	char *user;
	char *claimed; /* conn_claim_user()'s user, counted by the hook */
	char prefix[128 + LOG_QUOTE_MAX];
};

static struct conn *conn_list;
static void (*conn_free_hook)(const char *ip);
static int (*conn_claim_hook)(const char *user, const char *ip);
static void (*conn_unclaim_hook)(const char *user, const char *ip);
static unsigned conn_total;
static uint64_t conn_next_id = 1;

static void conn_update_prefix(struct conn *c)
{
	/* IPv6 peers in brackets (RFC 3986 3.2.2): [::1]:143 */
	bool v6 = strchr(c->ip, ':') != NULL;

	snprintf(c->prefix, sizeof(c->prefix),
		 "conn=%llu proto=%s peer=%s%s%s:%u%s%s",
		 (unsigned long long)c->id, c->handler->name, v6 ? "[" : "",
		 c->ip, v6 ? "]" : "", c->port, c->user ? " user=" : "",
		 c->user ? log_q(c->user) : "");
}

void conn_format_addr(const struct sockaddr_storage *ss, char *ip,
		      size_t ip_size, unsigned *port_r)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip,
				  ip_size);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, ip_size);
		*port_r = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, ip_size);
		*port_r = ntohs(s4->sin_port);
	} else {
		snprintf(ip, ip_size, "local");
		*port_r = 0;
	}
}

static bool addr_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

/* --- teardown --- */

static void conn_destroy(struct conn *c)
{
	if (c->freed)
		return;
	c->freed = true;
	if (c->opened && c->handler->free != NULL)
		c->handler->free(c->session);
	ev_io_stop(c->loop, &c->rio);
	ev_io_stop(c->loop, &c->wio);
	ev_timer_stop(c->loop, &c->idle);
	ev_timer_stop(c->loop, &c->login);
	ev_timer_stop(c->loop, &c->kick);
	ev_timer_stop(c->loop, &c->linger);
	if (c->tls_state == CONN_TLS_ACTIVE)
		conn_layer_shutdown(c->layer);
	conn_layer_free(&c->layer);
	c->tls = NULL;
	tls_creds_unref(&c->creds);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conn_list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	conn_total--;
	conn_unclaim_user(c);
	if (conn_free_hook != NULL)
		conn_free_hook(c->ip);
	conn_log_debug(c, "event=freed");
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->user);
	free(c);
}

/* --- low-level I/O --- */

/* The socket failed (what: "recv", "send", ...): nothing more can be sent.
   One disconnect line per connection: none when conn_close() logged one. */
static void conn_fail(struct conn *c, const char *what, const char *error)
{
	if (!c->closing)
		conn_log_info(c, "event=disconnect reason=%s error=\"%s\"",
			      what, error);
	else
		conn_log_debug(c, "event=%s_failed error=\"%s\"", what, error);
	c->closing = true;
	c->dead = true;
}

/* What failed, for the log: "recv"/"send" on the socket, "tls_recv",
   "deflate_send", ... above it. */
static const char *conn_io_what(const struct conn *c, bool send)
{
	const char *name = conn_layer_name(c->layer);

	if (strcmp(name, "tls") == 0)
		return send ? "tls_send" : "tls_recv";
	if (strcmp(name, "deflate") == 0)
		return send ? "deflate_send" : "deflate_recv";
	return send ? "send" : "recv";
}

/* Sends what can be sent, and has the layers flush what they hold.
   Returns 0 (maybe partial), -1 on a fatal error. */
static int conn_flush(struct conn *c)
{
	int ret;

	if (c->tls_state == CONN_TLS_HANDSHAKE)
		return 0; /* the handshake owns both watchers */
	while (c->out.len > 0) {
		ssize_t n = conn_layer_write(c->layer, c->out.data, c->out.len);

		if (n == CONN_LAYER_AGAIN) {
			c->unflushed = true;
			ev_io_start(c->loop, &c->wio);
			return 0;
		}
		if (n < 0) {
			conn_fail(c, conn_io_what(c, true),
				  conn_layer_error(c->layer));
			return -1;
		}
		buf_consume(&c->out, (size_t)n);
	}
	ret = conn_layer_flush(c->layer);
	if (ret < 0) {
		conn_fail(c, conn_io_what(c, true), conn_layer_error(c->layer));
		return -1;
	}
	c->unflushed = ret == 0;
	if (c->unflushed)
		ev_io_start(c->loop, &c->wio);
	else
		ev_io_stop(c->loop, &c->wio);
	return 0;
}

/* True when everything written has left through the socket. */
static bool conn_all_sent(const struct conn *c)
{
	return c->out.len == 0 && !c->unflushed;
}

/* Reads what is there into the input buffer. Returns bytes read, 0 when
   nothing is available (c->eof tells EOF), -1 on an error (conn_fail()). */
static ssize_t conn_read_some(struct conn *c)
{
	size_t total = 0;

	for (;;) {
		size_t avail;
		char *p = buf_reserve(&c->in, CONN_READ_CHUNK, &avail);
		ssize_t n;

		if (p == NULL)
			break; /* input buffer full: stop reading for now */
		n = conn_layer_read(c->layer, p, avail);
		if (n == CONN_LAYER_AGAIN)
			break;
		if (n < 0) {
			conn_fail(c, conn_io_what(c, false),
				  conn_layer_error(c->layer));
			return -1;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		buf_commit(&c->in, (size_t)n);
		total += (size_t)n;
		/* a layer (GnuTLS, zlib) may hold bytes the socket will not
		   announce */
		if (conn_layer_read_pending(c->layer))
			continue;
		if ((size_t)n < avail)
			break;
	}
	return (ssize_t)total;
}

/* Drops the rest of an overlong line as it arrives. */
static void conn_skip_input(struct conn *c)
{
	long lf;

	if (!c->skipping_line)
		return;
	lf = buf_find_byte(&c->in, 0, '\n');
	if (lf < 0) {
		buf_reset(&c->in);
		return;
	}
	buf_consume(&c->in, (size_t)lf + 1);
	c->skipping_line = false;
}

/* --- the driving logic --- */

/* Between STARTTLS or COMPRESS and the new layer nothing is read or
   parsed: bytes on either side of the switch must not mix. */
static bool conn_input_held(const struct conn *c)
{
	return c->tls_state == CONN_TLS_FLUSH_BEFORE ||
	       c->tls_state == CONN_TLS_HANDSHAKE || c->compress_pending;
}

static bool conn_can_process(const struct conn *c)
{
	return !c->closing && !c->paused && !c->output_blocked &&
	       !conn_input_held(c);
}

static void conn_update_read_watcher(struct conn *c)
{
	bool want = !c->closing && !c->eof && !c->dead && !c->output_blocked &&
		    c->tls_state != CONN_TLS_FLUSH_BEFORE &&
		    !c->compress_pending && buf_room(&c->in) > 0;

	if (!want) {
		ev_io_stop(c->loop, &c->rio);
		return;
	}
	ev_io_start(c->loop, &c->rio);
	/* A full input buffer stopped conn_read_some() with bytes left
	   inside a layer (GnuTLS): the socket will not announce them again. */
	if (conn_layer_read_pending(c->layer))
		ev_feed_event(c->loop, &c->rio, EV_READ);
}

static void conn_start_handshake(struct conn *c);

/* The tagged OK of COMPRESS has left uncompressed: stack deflate. */
static void conn_push_deflate(struct conn *c)
{
	c->compress_pending = false;
	if (c->in.len > 0) {
		/* RFC 4978 3: the client compresses only after the OK */
		conn_log_warn(c, "event=compress_injection bytes=%zu",
			      c->in.len);
		buf_reset(&c->in);
		c->dead = true;
		conn_close(c, "data pipelined after COMPRESS");
		return;
	}
	c->layer = conn_layer_deflate_new(c->layer);
	c->compressed = true;
	conn_log_debug(c, "event=compress algorithm=deflate");
	ev_timer_start(c->loop, &c->kick);
}

/* Runs the front-end, flushes, and decides what to wait for next. Called
   at the end of every callback. */
static void conn_settle(struct conn *c)
{
	if (c->freed)
		return;
	if (conn_can_process(c) && c->opened) {
		c->handler->process(c->session);
		if (c->out.len > c->limits.output_high)
			c->output_blocked = true;
	}
	if (conn_flush(c) < 0) {
		conn_destroy(c);
		return;
	}
	if (c->output_blocked && c->out.len <= c->limits.output_low) {
		/* drained: let the producer continue on the next round */
		c->output_blocked = false;
		ev_timer_start(c->loop, &c->kick);
	}
	if (c->tls_state == CONN_TLS_FLUSH_BEFORE && conn_all_sent(c))
		conn_start_handshake(c);
	if (c->compress_pending && conn_all_sent(c) && !c->closing)
		conn_push_deflate(c);
	if (c->freed)
		return;
	if (c->dead && !c->closing)
		conn_close(c, "connection lost");
	/* The peer closed its side: answer what it pipelined before (process
	   ran above), and close only once nothing is pending: not while a
	   login is being checked (paused), a reply is being produced
	   (blocked) or more work is scheduled (kick). */
	if (c->eof && !c->closing && c->tls_state != CONN_TLS_HANDSHAKE &&
	    !c->paused && !c->output_blocked && !ev_is_active(&c->kick)) {
		conn_close(c, "peer closed");
		(void)conn_flush(c);
	}
	if (c->closing) {
		if (conn_all_sent(c) || c->dead) {
			conn_destroy(c);
			return;
		}
		if (!ev_is_active(&c->linger)) {
			ev_timer_set(&c->linger, CONN_LINGER_SECONDS, 0.);
			ev_timer_start(c->loop, &c->linger);
		}
	}
	conn_update_read_watcher(c);
}

static void conn_enter(struct conn *c)
{
	c->depth++;
}

static void conn_leave(struct conn *c)
{
	if (--c->depth == 0)
		conn_settle(c);
}

static void conn_open_session(struct conn *c, void *ctx)
{
	c->opened = true;
	c->session = c->handler->open(c, ctx);
}

static void conn_handshake_step(struct conn *c)
{
	bool want_write;
	int ret = conn_layer_tls_handshake(c->tls, &want_write);

	if (ret == 0) {
		if (want_write) {
			ev_io_start(c->loop, &c->wio);
			ev_io_stop(c->loop, &c->rio);
		} else {
			ev_io_stop(c->loop, &c->wio);
			ev_io_start(c->loop, &c->rio);
		}
		return;
	}
	if (ret < 0) {
		conn_log_info(c, "event=tls_failed error=\"%s\"",
			      conn_layer_error(c->tls));
		c->dead = true; /* nothing can be sent any more */
		conn_close(c, "tls handshake failed");
		return;
	}
	c->tls_state = CONN_TLS_ACTIVE;
	ev_io_stop(c->loop, &c->wio);
	conn_log_info(c, "event=tls tls=%s cipher=%s",
		      conn_layer_tls_version(c->tls),
		      conn_layer_tls_cipher(c->tls));
	ev_timer_set(&c->idle, 0., c->timeout);
	ev_timer_again(c->loop, &c->idle);
	/* the greeting (implicit TLS) or the front-end's next step */
	ev_timer_start(c->loop, &c->kick);
}

static void conn_start_handshake(struct conn *c)
{
	const char *error;

	if (c->in.len > 0) {
		/* RFC 2595 / RFC 3501 6.2.1: nothing may cross from the
		   plaintext phase into TLS (CVE-2011-0411 class) */
		conn_log_warn(c, "event=starttls_injection bytes=%zu",
			      c->in.len);
		buf_reset(&c->in);
		c->dead = true;
		conn_close(c, "plaintext pipelined after STARTTLS");
		return;
	}
	c->tls = conn_layer_tls_new(c->layer, c->creds, &error);
	if (c->tls == NULL) {
		conn_log_error(c, "event=tls_failed error=\"%s\"", error);
		c->dead = true;
		conn_close(c, "tls session");
		return;
	}
	c->layer = c->tls;
	c->tls_state = CONN_TLS_HANDSHAKE;
	ev_timer_set(&c->idle, 0., CONN_HANDSHAKE_TIMEOUT);
	ev_timer_again(c->loop, &c->idle);
	conn_handshake_step(c);
}

static void conn_rio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	conn_enter(c);
	if (c->tls_state == CONN_TLS_HANDSHAKE) {
		conn_handshake_step(c);
		conn_leave(c);
		return;
	}
	n = conn_read_some(c);
	if (n > 0) {
		ev_timer_again(c->loop, &c->idle);
		conn_skip_input(c);
	}
	conn_leave(c);
}

static void conn_wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	conn_enter(c);
	if (c->tls_state == CONN_TLS_HANDSHAKE)
		conn_handshake_step(c);
	conn_leave(c);
}

static void conn_kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	conn_enter(c);
	conn_leave(c);
}

static void conn_timeout(struct conn *c, const char *reason)
{
	conn_enter(c);
	if (!c->closing) {
		if (c->opened && c->handler->bye != NULL &&
		    c->tls_state != CONN_TLS_HANDSHAKE)
			c->handler->bye(c->session, CONN_BYE_TIMEOUT);
		conn_close(c, reason);
	}
	conn_leave(c);
}

static void conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (!c->closing)
		conn_log_info(c, "event=timeout seconds=%u", c->timeout);
	conn_timeout(c, "idle timeout");
}

/* Input resets the idle timer: a client sending NOOP every second would
   hold an unauthenticated slot for ever (slowloris). Before login the
   connection also has this absolute deadline from accept. */
static void conn_login_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (!c->closing)
		conn_log_info(c, "event=timeout seconds=%u deadline=login",
			      c->limits.login_timeout);
	conn_timeout(c, "no login in time");
}

static void conn_linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	/* conn_close() logged the disconnect */
	conn_log_info(c, "event=linger_expired unsent=%zu", c->out.len);
	conn_destroy(c);
}

struct conn *conn_new(struct ev_loop *loop, int fd,
		      const struct sockaddr_storage *peer,
		      const struct conn_handler *handler, void *handler_ctx,
		      struct tls_creds *creds, bool implicit_tls,
		      const struct conn_limits *limits)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->fd = fd;
	c->handler = handler;
	c->limits = *limits;
	c->timeout = limits->login_timeout;
	c->id = conn_next_id++;
	c->creds = creds != NULL ? tls_creds_ref(creds) : NULL;
	conn_format_addr(peer, c->ip, sizeof(c->ip), &c->port);
	c->loopback = addr_is_loopback(c->ip);
	buf_init(&c->in, limits->input_max);
	buf_init(&c->out, BUF_UNLIMITED);
	c->layer = conn_layer_plain_new(fd);
	conn_update_prefix(c);

	ev_io_init(&c->rio, conn_rio_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_wio_cb, fd, EV_WRITE);
	ev_init(&c->idle, conn_idle_cb);
	ev_timer_init(&c->login, conn_login_cb, (double)limits->login_timeout,
		      0.);
	ev_timer_init(&c->kick, conn_kick_cb, 0., 0.);
	ev_init(&c->linger, conn_linger_cb);
	c->rio.data = c->wio.data = c->idle.data = c->login.data =
		c->kick.data = c->linger.data = c;
	ev_timer_set(&c->idle, 0., c->timeout);
	ev_timer_again(loop, &c->idle);
	ev_timer_start(loop, &c->login);

	c->next = conn_list;
	if (conn_list != NULL)
		conn_list->prev = c;
	conn_list = c;
	conn_total++;

	conn_log_info(c, "event=connect tls=%s",
		      implicit_tls ? "implicit" : "no");
	conn_enter(c);
	/* implicit TLS: the greeting is written as a TLS session's (no
	   STARTTLS offered) and sent once the handshake is done */
	if (implicit_tls)
		c->tls_state = CONN_TLS_FLUSH_BEFORE;
	conn_open_session(c, handler_ctx);
	if (implicit_tls && !c->closing)
		conn_start_handshake(c);
	conn_leave(c);
	return c;
}

/* --- the front-end API --- */

struct ev_loop *conn_loop(struct conn *c)
{
	return c->loop;
}

struct buf *conn_input(struct conn *c)
{
	return &c->in;
}

int conn_peek_line(struct conn *c, size_t max, struct strv *line_r)
{
	size_t scan = c->in.len < max + 2 ? c->in.len : max + 2;
	const char *lf = memchr(c->in.data != NULL ? c->in.data : "", '\n',
				c->in.data != NULL ? scan : 0);
	size_t len;

	/* between STARTTLS and the end of the handshake nothing is parsed */
	if (c->skipping_line || conn_input_held(c))
		return 0;
	if (lf == NULL)
		return c->in.len > max + 1 ? -1 : 0;
	len = (size_t)(lf - c->in.data);
	c->line_len = len + 1;
	if (len > 0 && c->in.data[len - 1] == '\r')
		len--;
	if (len > max)
		return -1;
	line_r->p = c->in.data;
	line_r->len = len;
	return 1;
}

void conn_consume_line(struct conn *c)
{
	buf_consume(&c->in, c->line_len);
	c->line_len = 0;
}

size_t conn_peek_bytes(struct conn *c, size_t max, struct strv *chunk_r)
{
	size_t n = c->in.len < max ? c->in.len : max;

	/* as for lines: nothing is handed out while a line is being dropped
	   or between STARTTLS and the end of the handshake */
	if (n == 0 || c->skipping_line || conn_input_held(c))
		return 0;
	chunk_r->p = c->in.data;
	chunk_r->len = n;
	return n;
}

void conn_consume_bytes(struct conn *c, size_t n)
{
	assert(n <= c->in.len);
	buf_consume(&c->in, n);
	c->line_len = 0; /* a line peeked before is gone or moved */
}

void conn_skip_line(struct conn *c)
{
	c->skipping_line = true;
	conn_skip_input(c);
	c->line_len = 0;
}

void conn_pause_input(struct conn *c, bool pause)
{
	c->paused = pause;
	if (!pause)
		conn_kick(c);
}

void conn_kick(struct conn *c)
{
	if (!c->freed)
		ev_timer_start(c->loop, &c->kick);
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->freed)
		return;
	if (buf_append(&c->out, data, len) < 0)
		abort(); /* BUF_UNLIMITED: cannot happen short of OOM */
	if (c->depth == 0)
		conn_kick(c);
}

void conn_write_str(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->freed)
		return;
	va_start(ap, fmt);
	if (buf_vprintf(&c->out, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (c->depth == 0)
		conn_kick(c);
}

bool conn_output_full(const struct conn *c)
{
	return c->out.len > c->limits.output_high;
}

size_t conn_output_pending(const struct conn *c)
{
	return c->out.len;
}

void conn_close(struct conn *c, const char *reason)
{
	if (c->closing || c->freed)
		return;
	c->closing = true;
	conn_log_info(c, "event=disconnect reason=\"%s\"", reason);
	conn_kick(c);
}

bool conn_is_closing(const struct conn *c)
{
	return c->closing;
}

int conn_starttls(struct conn *c)
{
	if (!conn_can_starttls(c))
		return -1;
	c->tls_state = CONN_TLS_FLUSH_BEFORE;
	ev_io_stop(c->loop, &c->rio);
	if (c->depth == 0)
		conn_kick(c);
	return 0;
}

bool conn_can_starttls(const struct conn *c)
{
	return c->creds != NULL && c->tls_state == CONN_TLS_NONE &&
	       !conn_is_compressed(c);
}

int conn_start_compress(struct conn *c)
{
	if (conn_is_compressed(c) || conn_input_held(c))
		return -1;
	c->compress_pending = true;
	if (c->in.len > 0) {
		/* checked now, before the front-end parses them as commands */
		conn_push_deflate(c);
		return 0;
	}
	ev_io_stop(c->loop, &c->rio);
	if (c->depth == 0)
		conn_kick(c);
	return 0;
}

bool conn_is_compressed(const struct conn *c)
{
	return c->compressed || c->compress_pending;
}

bool conn_is_tls(const struct conn *c)
{
	return c->tls_state != CONN_TLS_NONE;
}

bool conn_is_loopback(const struct conn *c)
{
	return c->loopback;
}

const char *conn_peer_ip(const struct conn *c)
{
	return c->ip;
}

unsigned conn_peer_port(const struct conn *c)
{
	return c->port;
}

uint64_t conn_id(const struct conn *c)
{
	return c->id;
}

void conn_set_timeout(struct conn *c, unsigned seconds)
{
	ev_timer_stop(c->loop, &c->login);
	c->timeout = seconds;
	if (c->tls_state == CONN_TLS_HANDSHAKE)
		return;
	ev_timer_set(&c->idle, 0., seconds);
	ev_timer_again(c->loop, &c->idle);
}

void conn_restart_login(struct conn *c)
{
	conn_set_timeout(c, c->limits.login_timeout);
	ev_timer_set(&c->login, (double)c->limits.login_timeout, 0.);
	ev_timer_start(c->loop, &c->login);
}

void conn_set_user(struct conn *c, const char *user)
{
	free(c->user);
	c->user = user != NULL ? xstrdup(user) : NULL;
	conn_update_prefix(c);
}

void conn_unclaim_user(struct conn *c)
{
	if (c->claimed == NULL)
		return;
	if (conn_unclaim_hook != NULL)
		conn_unclaim_hook(c->claimed, c->ip);
	free(c->claimed);
	c->claimed = NULL;
}

int conn_claim_user(struct conn *c, const char *user)
{
	conn_unclaim_user(c);
	if (conn_claim_hook == NULL)
		return 0;
	switch (conn_claim_hook(user, c->ip)) {
	case -1:
		return -1;
	case 0:
		c->claimed = xstrdup(user);
		break;
	default: /* allowed, not counted */
		break;
	}
	return 0;
}

const char *conn_log_prefix(const struct conn *c)
{
	return c->prefix;
}

/* --- all connections --- */

void conn_close_all(enum conn_bye why)
{
	struct conn *c, *next;

	for (c = conn_list; c != NULL; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		conn_enter(c);
		if (c->opened && c->handler->bye != NULL &&
		    c->tls_state != CONN_TLS_HANDSHAKE)
			c->handler->bye(c->session, why);
		conn_close(c, why == CONN_BYE_SHUTDOWN ? "server shutdown"
						       : "timeout");
		conn_leave(c);
	}
}

void conn_set_free_hook(void (*hook)(const char *ip))
{
	conn_free_hook = hook;
}

void conn_set_claim_hooks(int (*claim)(const char *user, const char *ip),
			  void (*unclaim)(const char *user, const char *ip))
{
	conn_claim_hook = claim;
	conn_unclaim_hook = unclaim;
}

unsigned conn_count(void)
{
	return conn_total;
}

unsigned conn_count_from_ip(const char *ip)
{
	unsigned n = 0;

	for (struct conn *c = conn_list; c != NULL; c = c->next) {
		if (strcmp(c->ip, ip) == 0)
			n++;
	}
	return n;
}
