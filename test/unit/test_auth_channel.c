/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_auth mp_lib
/*
 * The channel between the workers and the auth helper (auth_server.h):
 * connections wait in it while no helper runs; the helper serves only
 * connections made by root or server.user processes of ours (SO_PEERCRED);
 * the client trusts only answers from the channel maker's uid (root).
 * Runs as root (the checks are about other uids).
 */
#include "auth/auth.h"
#include "auth/auth_client.h"
#include "auth/auth_proto.h"
#include "auth/auth_server.h"
#include "lib/buf.h"

#include <errno.h>
#include <ev.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

struct result {
	int calls;
	enum auth_client_status status;
	char user[256];
};

static void cb(const struct auth_client_reply *r, void *context)
{
	struct result *res = context;

	res->calls++;
	res->status = r->status;
	snprintf(res->user, sizeof(res->user), "%s", r->user ? r->user : "");
}

struct fixture {
	struct ev_loop *loop;
	char dir[64], users[128];
	struct auth_settings set;
	char backend[256];
	int channel[2];
};

static const struct auth_client_info info = {"imap", "192.0.2.7", true};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *error = NULL;
	FILE *f;

	assert_int_equal(geteuid(), 0);
	strcpy(fx->dir, "/tmp/merpati-chan-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->users, sizeof(fx->users), "%s/users", fx->dir);
	f = fopen(fx->users, "w");
	assert_non_null(f);
	fputs("alice:{PLAIN}secret::::::\n", f);
	fclose(f);
	snprintf(fx->backend, sizeof(fx->backend), "passwd-file %s", fx->users);
	fx->set = (struct auth_settings){
		.backend = fx->backend,
		.allow_plain_scheme = true,
		.workers = 1,
		.penalty_max = 0,
		.checkpassword_timeout = 1,
		.mail_root = "/var/vmail/%d/%n",
		.peer_uid = 4242, /* server.user: nobody here */
	};
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(
		auth_server_channel(&fx->channel[0], &fx->channel[1], &error),
		0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	close(fx->channel[0]);
	close(fx->channel[1]);
	ev_loop_destroy(fx->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void run_for(struct fixture *fx, double seconds)
{
	double end = ev_time() + seconds;

	while (ev_time() < end)
		ev_run(fx->loop, EVRUN_NOWAIT);
}

static void wait_for(struct fixture *fx, const int *calls, double max)
{
	double end = ev_time() + max;

	while (*calls < 1 && ev_time() < end)
		ev_run(fx->loop, EVRUN_ONCE);
}

/* Runs the loop until child exits; returns its exit status. */
static int wait_child(struct fixture *fx, pid_t pid)
{
	int status;

	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
		run_for(fx, 0.01);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 98;
}

static void become_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");

	if (pw == NULL || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		_exit(90);
}

static int send_fd(int channel_fd, int fd)
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
	return sendmsg(channel_fd, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int channel_fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} control;

	char byte;
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = &control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(channel_fd, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* A request made while no helper runs waits in the channel and is
   answered by the helper that starts next. */
static void test_waits_for_next_helper(void **state)
{
	struct fixture *fx = *state;
	struct auth_client *cl = auth_client_new(fx->loop, fx->channel[0]);
	struct auth_server *srv;
	struct result res = {0};
	const char *error;

	(void)auth_client_verify(cl, &info, "alice", "secret", cb, &res);
	run_for(fx, 0.5);
	assert_int_equal(res.calls, 0);
	srv = auth_server_new(fx->loop, &fx->set, dup(fx->channel[1]), &error);
	assert_non_null(srv);
	wait_for(fx, &res.calls, 5);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.user, "alice");
	auth_client_free(&cl);
	auth_server_free(&srv);
}

/* With no helper at all, a request fails (TEMPFAIL) after the grace
   period instead of hanging until the request timeout. */
static void test_no_helper_tempfails(void **state)
{
	struct fixture *fx = *state;
	struct auth_client *cl = auth_client_new(fx->loop, fx->channel[0]);
	struct result res = {0};
	double t0 = ev_time();

	(void)auth_client_verify(cl, &info, "alice", "secret", cb, &res);
	wait_for(fx, &res.calls, AUTH_CLIENT_CONNECT_GRACE + 5);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, AUTH_CLIENT_TEMPFAIL);
	assert_true(ev_time() - t0 < AUTH_CLIENT_CONNECT_GRACE + 2);
	auth_client_free(&cl);
}

/* A connection handed in by a process that is not ours (another uid, or
   root but no child of the master) is closed before a byte is sent. */
static void try_foreign_connection(struct fixture *fx, bool as_nobody)
{
	struct auth_server *srv;
	const char *error;
	pid_t pid;

	srv = auth_server_new(fx->loop, &fx->set, dup(fx->channel[1]), &error);
	assert_non_null(srv);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int sv[2];
		char buf[64];
		struct pollfd p;

		if (as_nobody)
			become_nobody();
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
		    send_fd(fx->channel[0], sv[1]) < 0)
			_exit(91);
		close(sv[1]);
		p = (struct pollfd){.fd = sv[0], .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			_exit(92); /* neither closed nor answered */
		_exit(read(sv[0], buf, sizeof(buf)) == 0 ? 0 : 1);
	}
	assert_int_equal(wait_child(fx, pid), 0);
	auth_server_free(&srv);
}

static void test_helper_refuses_other_uid(void **state)
{
	try_foreign_connection(*state, true);
}

static void test_helper_refuses_foreign_pid(void **state)
{
	try_foreign_connection(*state, false);
}

/* Whoever answers must be the channel's maker's uid (root): a helper
   running as nobody cannot log anyone in. */
static void test_client_refuses_non_root_helper(void **state)
{
	struct fixture *fx = *state;
	struct auth_client *cl;
	struct result res = {0};
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		const char *hello[3] = {"HELLO", "0", "PLAIN"};
		const char *ok[4] = {"OK", "1", "alice", "/tmp"};
		struct buf out;
		int fd;

		become_nobody();
		fd = recv_fd(fx->channel[1]);
		if (fd < 0)
			_exit(93);
		buf_init(&out, 4096);
		auth_proto_append(&out, hello, 3);
		auth_proto_append(&out, ok, 4);
		if (write(fd, out.data, out.len) != (ssize_t)out.len)
			_exit(94);
		sleep(1);
		_exit(0);
	}
	cl = auth_client_new(fx->loop, fx->channel[0]);
	(void)auth_client_verify(cl, &info, "alice", "wrong", cb, &res);
	wait_for(fx, &res.calls, 5);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, AUTH_CLIENT_TEMPFAIL);
	assert_int_equal(wait_child(fx, pid), 0);
	auth_client_free(&cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_waits_for_next_helper,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_helper_tempfails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_helper_refuses_other_uid,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_refuses_foreign_pid,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_client_refuses_non_root_helper, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
