/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checkpassword backend: qmail's interface, as vpopmail and many
 * scripts implement it (https://cr.yp.to/checkpwd/interface.html).
 *
 * The program gets `user\0password\0timestamp\0` on fd 3 and the command
 * to run on success as its arguments (we give it `true`): exit 0 accepts,
 * 1 rejects, 111 (and anything else) is a temporary failure. It runs as a
 * child of the auth helper (root), with the environment Dovecot sets
 * (SERVICE, TCPREMOTEIP, AUTHORIZED unset). The loop learns of its exit
 * through a pidfd, so no SIGCHLD handler competes with anyone's; a timer
 * kills it when it takes too long. Its stdout and stderr go to a pipe, not
 * to our log: the first CHECKPASSWORD_OUTPUT_MAX bytes are kept and logged
 * escaped, the rest is read and counted (so the program never blocks on a
 * full pipe), up to CHECKPASSWORD_DRAIN_MAX, after which the pipe is
 * closed.
 */
#include "auth/auth_private.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECKPASSWORD_POLL 0.05 /* seconds, when pidfds are unavailable */
#define CHECKPASSWORD_OUTPUT_MAX 4096
#define CHECKPASSWORD_DRAIN_MAX (16 * 1024 * 1024)

struct checkpassword {
	char *program;
};

struct checkpassword_child {
	struct auth_backend *backend;
	struct auth_request *req;
	pid_t pid;
	int pidfd;
	ev_io exit_io;
	ev_timer timeout;
	ev_timer poll; /* fallback without pidfd */
	int out_fd;    /* the read end of its stdout + stderr, or -1 */
	ev_io out_io;
	struct buf out;	  /* the first CHECKPASSWORD_OUTPUT_MAX bytes */
	size_t out_total; /* bytes it wrote, kept or not */
};

static int cp_init(struct auth_backend *backend, const char *args,
		   const char **error_r)
{
	struct checkpassword *cp;

	if (args[0] != '/') {
		*error_r = "checkpassword: needs the program's absolute path";
		return -1;
	}
	if (access(args, X_OK) < 0)
		log_warn(
			"event=checkpassword_warning program=%s error=\"access: %s\"",
			args, strerror(errno));
	cp = xcalloc(1, sizeof(*cp));
	cp->program = xstrdup(args);
	backend->state = cp;
	return 0;
}

static void cp_deinit(struct auth_backend *backend)
{
	struct checkpassword *cp = backend->state;

	free(cp->program);
	free(cp);
}

/* Reads what the program wrote so far. Returns false at EOF or error. */
static bool output_read(struct checkpassword_child *child)
{
	char chunk[65536];

	while (child->out_fd >= 0) {
		ssize_t n = read(child->out_fd, chunk, sizeof(chunk));
		size_t keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		if (n == 0)
			return false;
		keep = CHECKPASSWORD_OUTPUT_MAX - child->out.len;
		if (keep > (size_t)n)
			keep = (size_t)n;
		buf_append(&child->out, chunk, keep);
		child->out_total += (size_t)n;
		if (child->out_total > CHECKPASSWORD_DRAIN_MAX)
			return false;
	}
	return false;
}

static void output_close(struct checkpassword_child *child)
{
	if (child->out_fd < 0)
		return;
	ev_io_stop(child->backend->auth->loop, &child->out_io);
	close(child->out_fd);
	child->out_fd = -1;
}

static void child_output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	if (!output_read(w->data))
		output_close(w->data);
}

/* Logs (escaped, truncated) what the program wrote, if anything. */
static void output_log(struct checkpassword_child *child)
{
	struct checkpassword *cp = child->backend->state;

	(void)output_read(child); /* it has exited: take what is left */
	output_close(child);
	if (child->out_total == 0)
		return;
	log_warn(
		"event=checkpassword_output program=%s user=%s bytes=%zu truncated=%s output=%s",
		log_q(cp->program), log_q(child->req->user), child->out_total,
		child->out_total > child->out.len ? "yes" : "no",
		log_quote((char[LOG_QUOTE_MAX]){0}, LOG_QUOTE_MAX,
			  child->out.data, child->out.len));
	buf_free(&child->out);
}

static void child_finish(struct checkpassword_child *child, int status)
{
	struct ev_loop *loop = child->backend->auth->loop;
	struct auth_request *req = child->req;
	struct checkpassword *cp = child->backend->state;
	struct auth_user *user;
	const char *error;

	output_log(child);
	buf_free(&child->out);
	ev_io_stop(loop, &child->exit_io);
	ev_timer_stop(loop, &child->timeout);
	ev_timer_stop(loop, &child->poll);
	if (child->pidfd >= 0)
		close(child->pidfd);
	free(child);

	if (status < 0) {
		auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL, NULL,
					  "checkpassword timed out");
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		user = auth_user_new(req->auth, req->user, NULL, NULL, &error);
		if (user == NULL) {
			log_error("event=checkpassword_error user=%s error=%s",
				  log_q(req->user), log_q(error));
			auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL,
						  NULL, error);
			return;
		}
		user->backend = "checkpassword";
		auth_request_backend_done(req, AUTH_RESULT_OK, user, "");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
		auth_request_backend_done(req, AUTH_RESULT_FAIL, NULL,
					  "rejected by checkpassword");
	} else {
		log_warn(
			"event=checkpassword_tempfail program=%s user=%s status=%s%d",
			log_q(cp->program), log_q(req->user),
			WIFSIGNALED(status) ? "signal:" : "",
			WIFSIGNALED(status) ? WTERMSIG(status)
					    : WEXITSTATUS(status));
		auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL, NULL,
					  "checkpassword temporary failure");
	}
}

static void child_try_reap(struct checkpassword_child *child)
{
	int status;
	pid_t ret = waitpid(child->pid, &status, WNOHANG);

	if (ret == child->pid || (ret < 0 && errno == ECHILD))
		child_finish(child, ret == child->pid ? status : (111 << 8));
}

static void child_exit_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	child_try_reap(w->data);
}

static void child_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	child_try_reap(w->data);
}

static void child_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct checkpassword_child *child = w->data;
	int status;

	(void)loop;
	(void)revents;
	log_warn("event=checkpassword_timeout pid=%ld user=%s",
		 (long)child->pid, log_q(child->req->user));
	kill(child->pid, SIGKILL);
	/* SIGKILL cannot be ignored: the reap is immediate in practice. */
	while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR)
		;
	child_finish(child, -1);
}

static int feed_pipe(struct auth_request *req, int fds[2])
{
	struct buf b;
	ssize_t n;
	int ret = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	/* user + password + timestamp fit far inside a pipe's buffer, so
	   writing it all before the fork cannot block. */
	buf_init(&b, AUTH_USER_NAME_MAX + AUTH_PASSWORD_MAX + 64);
	buf_append_str(&b, req->user);
	buf_append(&b, "", 1);
	buf_append_str(&b, req->password);
	buf_append(&b, "", 1);
	buf_printf(&b, "%ld", (long)time(NULL));
	buf_append(&b, "", 1);
	n = write(fds[1], b.data, b.len);
	if (n < 0 || (size_t)n != b.len)
		ret = -1;
	buf_free_secret(&b);
	close(fds[1]);
	if (ret < 0)
		close(fds[0]);
	return ret;
}

static void cp_verify(struct auth_backend *backend, struct auth_request *req)
{
	struct checkpassword *cp = backend->state;
	struct ev_loop *loop = backend->auth->loop;
	struct checkpassword_child *child;
	char env_service[64], env_ip[128];
	char *argv[] = {cp->program, "/bin/true", NULL};
	char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", env_service,
			env_ip, "PROTO=TCP", NULL};
	int fds[2], out[2];
	pid_t pid;

	snprintf(env_service, sizeof(env_service), "SERVICE=%s", req->service);
	snprintf(env_ip, sizeof(env_ip), "TCPREMOTEIP=%s", req->ip);
	if (feed_pipe(req, fds) < 0) {
		log_error("event=checkpassword_error error=\"pipe: %s\"",
			  strerror(errno));
		auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL, NULL,
					  "cannot run checkpassword");
		return;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		log_error("event=checkpassword_error error=\"pipe: %s\"",
			  strerror(errno));
		close(fds[0]);
		auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL, NULL,
					  "cannot run checkpassword");
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* The helper is multi-threaded: only async-signal-safe calls
		   from here to exec. */
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(fds[0], 3) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(out[1], 2) < 0)
			_exit(111);
		execve(cp->program, argv, envp);
		_exit(111);
	}
	close(fds[0]);
	close(out[1]);
	if (pid < 0) {
		close(out[0]);
		log_error("event=checkpassword_error error=\"fork: %s\"",
			  strerror(errno));
		auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL, NULL,
					  "cannot run checkpassword");
		return;
	}
	child = xcalloc(1, sizeof(*child));
	child->backend = backend;
	child->req = req;
	child->pid = pid;
	child->out_fd = out[0];
	buf_init(&child->out, CHECKPASSWORD_OUTPUT_MAX);
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	ev_io_init(&child->out_io, child_output_cb, out[0], EV_READ);
	child->out_io.data = child;
	ev_io_start(loop, &child->out_io);
	child->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (child->pidfd >= 0) {
		ev_io_init(&child->exit_io, child_exit_cb, child->pidfd,
			   EV_READ);
		child->exit_io.data = child;
		ev_io_start(loop, &child->exit_io);
	} else {
		ev_timer_init(&child->poll, child_poll_cb, CHECKPASSWORD_POLL,
			      CHECKPASSWORD_POLL);
		child->poll.data = child;
		ev_timer_start(loop, &child->poll);
	}
	ev_timer_init(&child->timeout, child_timeout_cb,
		      backend->auth->set.checkpassword_timeout > 0
			      ? backend->auth->set.checkpassword_timeout
			      : 30,
		      0);
	child->timeout.data = child;
	ev_timer_start(loop, &child->timeout);
}

const struct auth_backend_ops auth_backend_checkpassword = {
	.name = "checkpassword",
	.init = cp_init,
	.deinit = cp_deinit,
	.verify = cp_verify,
	.lookup = NULL,
};
