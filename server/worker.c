/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/worker.h"

#include "auth/auth.h"
#include "auth/auth_client.h"
#include "lib/xalloc.h"
#include "protocols/imap/imap.h"
#include "protocols/lmtp/lmtp.h"
#include "protocols/login/login.h"
#include "protocols/pop3/pop3.h"
#include "server/auth_glue.h"
#include "server/conn_server.h"
#include "server/privdrop.h"
#include "server/sandbox.h"
#include "server/tls.h"
#include "storage/storage_pool.h"

#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WORKER_ACCEPT_BATCH 64
/* storage threads per worker (storage_pool.h) */
#define WORKER_STORAGE_THREADS 2
#define WORKER_STOP_SECONDS 3.0
/* seconds an LMTP client may stay idle (RFC 5321 4.5.3.2.7: 5 minutes
   for the next command, 10 for DATA blocks) */
#define WORKER_LMTP_TIMEOUT 600
#define CONN_INPUT_MAX (256 * 1024)
#define CONN_OUTPUT_HIGH (256 * 1024)
#define CONN_OUTPUT_LOW (64 * 1024)

struct worker_listener {
	ev_io io;
	enum config_listener kind;
	const struct conn_handler *handler;
	void *handler_ctx;
	bool implicit_tls;
};

static struct {
	struct ev_loop *loop;
	const struct config *config;
	struct tls_creds *creds;
	struct worker_listener *listeners;
	size_t n_listeners;
	struct imap_context *imap;
	struct pop3_context *pop3;
	struct lmtp_context *lmtp;
	struct auth_client *auth;     /* talks to the master's auth helper */
	struct storage_pool *storage; /* storage work off the loop */
	struct conn_limits limits;
	struct ipcount *ipcount; /* shared with every worker (ipcount.h) */
	int ipcount_column;
	ev_signal sig_term, sig_int, sig_quit, sig_hup;
	ev_timer stop_timer;
	ev_tstamp stop_deadline;
	bool stopping;
} worker;

static void worker_refuse(int fd, const struct worker_listener *l,
			  const char *why, const char *ip)
{
	log_warn("event=refused peer=%s reason=\"%s\"", ip, why);
	if (!l->implicit_tls)
		(void)send(fd, l->handler->refuse, strlen(l->handler->refuse),
			   MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void worker_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct worker_listener *l = (struct worker_listener *)w;

	(void)revents;
	for (int i = 0; i < WORKER_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char ip[64];
		unsigned port;
		int one = 1;
		int fd = accept4(w->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_error(
					"event=accept_failed listener=%s error=\"%s\"",
					config_listener_name(l->kind),
					strerror(errno));
			return;
		}
		conn_format_addr(&ss, ip, sizeof(ip), &port);
		if (conn_count() >= worker.config->max_connections) {
			worker_refuse(fd, l, "server.max_connections reached",
				      ip);
			continue;
		}
		/* counted across every worker and generation: the cap is
		   per address, not per process */
		switch (ipcount_acquire(
			worker.ipcount, worker.ipcount_column, ip,
			worker.config->auth_max_connections_per_ip)) {
		case -1:
			worker_refuse(fd, l,
				      "auth.max_connections_per_ip reached",
				      ip);
			continue;
		case -2:
			worker_refuse(fd, l, "per-address table full", ip);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		conn_new(loop, fd, &ss, l->handler, l->handler_ctx,
			 worker.creds, l->implicit_tls, &worker.limits);
	}
}

/* conn's free hook: the connection ipcount_acquire() counted is gone. */
static void worker_conn_freed(const char *ip)
{
	ipcount_release(worker.ipcount, worker.ipcount_column, ip);
}

/* The per-user-per-address count shares the per-address table: its key
   is the address and the user joined by a byte neither may contain. */
static void worker_user_key(char *key, size_t size, const char *user,
			    const char *ip)
{
	snprintf(key, size, "%s\n%s", ip, user);
}

/* conn_claim_user(): one more logged-in connection of user from ip. */
static int worker_claim_user(const char *user, const char *ip)
{
	char key[AUTH_USER_NAME_MAX + 80];

	worker_user_key(key, sizeof(key), user, ip);
	switch (ipcount_acquire(
		worker.ipcount, worker.ipcount_column, key,
		worker.config->auth_max_connections_per_user_ip)) {
	case -1:
		return -1;
	case -2:
		/* a full table must not lock out a user who knows the
		   password: the per-address cap still holds */
		log_warn("event=user_count_full peer=%s user=%s", log_q(ip),
			 log_q(user));
		return 1;
	}
	return 0;
}

static void worker_unclaim_user(const char *user, const char *ip)
{
	char key[AUTH_USER_NAME_MAX + 80];

	worker_user_key(key, sizeof(key), user, ip);
	ipcount_release(worker.ipcount, worker.ipcount_column, key);
}

static void worker_stop_accepting(void)
{
	for (size_t i = 0; i < worker.n_listeners; i++)
		ev_io_stop(worker.loop, &worker.listeners[i].io);
}

static void worker_stop_check_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	if (conn_count() == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (worker.stop_deadline > 0 && ev_now(loop) >= worker.stop_deadline) {
		log_warn("event=stop_forced connections=%u", conn_count());
		ev_break(loop, EVBREAK_ALL);
	}
}

static void worker_begin_stop(bool say_bye)
{
	worker_stop_accepting();
	if (say_bye) {
		worker.stop_deadline =
			ev_now(worker.loop) + WORKER_STOP_SECONDS;
		conn_close_all(CONN_BYE_SHUTDOWN);
	}
	if (!worker.stopping) {
		worker.stopping = true;
		ev_timer_init(&worker.stop_timer, worker_stop_check_cb, 0.,
			      0.1);
		ev_timer_start(worker.loop, &worker.stop_timer);
	}
}

static void worker_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	if (w->signum == SIGQUIT) {
		log_info("event=retiring connections=%u", conn_count());
		worker_begin_stop(false);
	} else if (w->signum == SIGTERM || w->signum == SIGINT) {
		log_info("event=stopping connections=%u", conn_count());
		worker_begin_stop(true);
	}
	/* SIGHUP: the master reloads; workers of a generation keep theirs */
}

static enum pop3_after_download
worker_after_download(enum config_after_download a)
{
	switch (a) {
	case CONFIG_AFTER_DOWNLOAD_SEEN:
		return POP3_AFTER_DOWNLOAD_SEEN;
	case CONFIG_AFTER_DOWNLOAD_KEEP:
		return POP3_AFTER_DOWNLOAD_KEEP;
	case CONFIG_AFTER_DOWNLOAD_DELETE:
		break;
	}
	return POP3_AFTER_DOWNLOAD_DELETE;
}

static void worker_setup_protocols(const struct worker_params *p)
{
	const struct config *c = p->config;
	struct imap_settings iset = {
		.timeout = c->imap_timeout,
		.plaintext = auth_glue_plaintext(c->auth_plaintext),
		.auth = worker.auth,
		.max_failures = c->auth_max_failures,
		.login_denied_by_default = !login_protocol_listed(
			c->auth_allow_protocols, LOGIN_PROTOCOL_IMAP),
		.fsync = c->mail_fsync,
		.compress = c->imap_compress,
		.special_folders = {c->imap_folder[0], c->imap_folder[1],
				    c->imap_folder[2], c->imap_folder[3],
				    c->imap_folder[4]},
		.quota_bytes = config_quota_bytes(c),
	};
	struct pop3_settings pset = {
		.timeout = c->pop3_timeout,
		.plaintext = auth_glue_plaintext(c->auth_plaintext),
		.after_download = worker_after_download(c->pop3_after_download),
		.login_delay = c->pop3_login_delay,
		.fsync = c->mail_fsync,
		.max_failures = c->auth_max_failures,
		.login_denied_by_default = !login_protocol_listed(
			c->auth_allow_protocols, LOGIN_PROTOCOL_POP3),
		.auth = worker.auth,
		.quota_bytes = config_quota_bytes(c),
	};

	struct lmtp_settings lset = {
		.auth = worker.auth,
		.fsync = c->mail_fsync,
		.max_size = c->lmtp_max_size,
		.quota_bytes = config_quota_bytes(c),
		.quota_bounce = c->mail_quota_bounce,
		.timeout = WORKER_LMTP_TIMEOUT,
	};

	worker.imap = imap_context_new(&iset);
	worker.pop3 = pop3_context_new(&pset);
	worker.lmtp = lmtp_context_new(&lset);
}

static void worker_setup_listeners(const struct worker_params *p)
{
	size_t n = listener_set_count(p->listeners);

	worker.listeners = xcalloc(n, sizeof(*worker.listeners));
	worker.n_listeners = n;
	for (size_t i = 0; i < n; i++) {
		struct worker_listener *l = &worker.listeners[i];

		l->kind = listener_set_kind(p->listeners, i);
		bool imap = l->kind == CONFIG_LISTEN_IMAP ||
			    l->kind == CONFIG_LISTEN_IMAPS;
		l->handler = imap ? &imap_conn_handler : &pop3_conn_handler;
		l->handler_ctx =
			imap ? (void *)worker.imap : (void *)worker.pop3;
		if (l->kind == CONFIG_LISTEN_LMTP) {
			l->handler = &lmtp_conn_handler;
			l->handler_ctx = worker.lmtp;
		}
		l->implicit_tls = l->kind == CONFIG_LISTEN_IMAPS ||
				  l->kind == CONFIG_LISTEN_POP3S;
		ev_io_init(&l->io, worker_accept_cb,
			   listener_set_fd(p->listeners, i), EV_READ);
		ev_io_start(worker.loop, &l->io);
	}
}

void worker_main(const struct worker_params *p)
{
	const char *error;
	char *terror = NULL;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	worker.config = p->config;
	worker.ipcount = p->ipcount;
	worker.ipcount_column = p->ipcount_column;
	conn_set_free_hook(worker_conn_freed);
	if (p->config->auth_max_connections_per_user_ip > 0)
		conn_set_claim_hooks(worker_claim_user, worker_unclaim_user);
	/* every listener offers TLS (implicit or STARTTLS/STLS) */
	worker.creds = tls_creds_load(p->config->tls_cert, p->config->tls_key,
				      p->config->tls_priorities, &terror);
	if (worker.creds == NULL) {
		log_error("event=worker_failed reason=\"%s\"", terror);
		_exit(1);
	}
	/* the local time zone is read now: inside the sandbox
	   /etc/localtime and the zoneinfo files are out of reach, and glibc
	   would silently fall back to UTC for INTERNALDATE and SEARCH */
	tzset();
	if (privdrop_to_user(p->config->user, &error) < 0) {
		log_error("event=worker_failed reason=\"%s\"", error);
		_exit(1);
	}
	/* A worker must not outlive its master (killed with SIGKILL): it
	   would keep the listening sockets and serve with no one to restart
	   it or the auth helper. SIGTERM stops it as the master would. Set
	   after the privilege drop, which clears it (prctl(2)), and checked
	   against the master's pid: it may have died before we asked. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		log_error(
			"event=worker_failed reason=\"prctl(PR_SET_PDEATHSIG): "
			"%s\"",
			strerror(errno));
		_exit(1);
	}
	if (getppid() != p->master)
		_exit(0);
	if (sandbox_enter_worker(p->config, &error) < 0) {
		log_error("event=worker_failed reason=\"%s\"", error);
		_exit(1);
	}
	worker.loop = ev_default_loop(EVFLAG_AUTO);
	worker.limits = (struct conn_limits){
		.input_max = CONN_INPUT_MAX,
		.output_high = CONN_OUTPUT_HIGH,
		.output_low = CONN_OUTPUT_LOW,
		.login_timeout = p->config->login_timeout,
	};
	worker.auth = auth_client_new(worker.loop, p->auth_channel);
	/* storage work that must not hold up the loop (storage_pool.h);
	   threads started inside the sandbox inherit it */
	worker.storage = storage_pool_new(worker.loop, WORKER_STORAGE_THREADS);
	worker_setup_protocols(p);
	worker_setup_listeners(p);
	ev_signal_init(&worker.sig_term, worker_signal_cb, SIGTERM);
	ev_signal_init(&worker.sig_int, worker_signal_cb, SIGINT);
	ev_signal_init(&worker.sig_quit, worker_signal_cb, SIGQUIT);
	ev_signal_init(&worker.sig_hup, worker_signal_cb, SIGHUP);
	ev_signal_start(worker.loop, &worker.sig_term);
	ev_signal_start(worker.loop, &worker.sig_int);
	ev_signal_start(worker.loop, &worker.sig_quit);
	ev_signal_start(worker.loop, &worker.sig_hup);
	log_info("event=worker_started worker=%u user=%s listeners=%zu",
		 p->index, p->config->user, worker.n_listeners);

	ev_run(worker.loop, 0);

	log_info("event=worker_stopped worker=%u", p->index);
	imap_context_free(&worker.imap);
	pop3_context_free(&worker.pop3);
	lmtp_context_free(&worker.lmtp);
	auth_client_free(&worker.auth);
	/* the storage pool is not freed: a thread may be waiting for a
	   folder lock, and exit() must not wait for it (storage survives a
	   crash at any point, so it survives this) */
	tls_creds_unref(&worker.creds);
	free(worker.listeners);
	exit(0);
}
