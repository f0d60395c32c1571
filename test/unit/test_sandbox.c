/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server mp_storage mp_auth mp_lib
/* Unit tests for server/sandbox: the mail-root prefix of a template, and
   what a process can still do once it entered a sandbox (each case in a
   child process: a sandbox is for life). Needs a kernel with Landlock
   ABI >= 2; features of later ABIs are checked against the ABI the kernel
   reports (denied where it offers them, allowed where it does not). */
#include "server/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/test_sandbox.XXXXXX";

static void path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static int setup(void **state)
{
	char p[256];
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/test_sandbox.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path(p, sizeof(p), "mail");
	mkdir(p, 0700);
	path(p, sizeof(p), "mail/tmp");
	mkdir(p, 0700);
	path(p, sizeof(p), "mail/new");
	mkdir(p, 0700);
	path(p, sizeof(p), "outside.txt");
	f = fopen(p, "w");
	if (f == NULL)
		return -1;
	fputs("secret\n", f);
	fclose(f);
	path(p, sizeof(p), "ro");
	mkdir(p, 0700);
	path(p, sizeof(p), "ro/file");
	f = fopen(p, "w");
	if (f == NULL)
		return -1;
	fclose(f);
	path(p, sizeof(p), "outside.txt");
	char link[256];

	path(link, sizeof(link), "mail/new/planted");
	return symlink(p, link);
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_mail_prefix(void **state)
{
	static const struct {
		const char *template, *prefix;
	} cases[] = {
		{"/var/vmail/%d/%n", "/var/vmail"},
		{"/var/vmail/%u", "/var/vmail"},
		{"/srv/mail%u/Maildir", "/srv"},
		{"/var/mail/shared", "/var/mail/shared"},
		{"/var/mail/shared/", "/var/mail/shared"},
		{"/%u", "/"},
		{"/", "/"},
		{"~/Maildir", NULL},
		{"%h/Maildir", NULL},
		{"mail/%u", NULL},
		{"", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = sandbox_mail_prefix(cases[i].template);

		if (cases[i].prefix == NULL)
			assert_null(p);
		else
			assert_string_equal(p, cases[i].prefix);
		free(p);
	}
	assert_null(sandbox_mail_prefix(NULL));
}

/* In the child: a result other than `want` (0 or an errno) names the step
   and ends the child with 1. ret < 0 means failed with errno. */
static void expect(const char *step, long ret, int want)
{
	int got = ret < 0 ? errno : 0;

	if (got != want) {
		fprintf(stderr, "%s: got %s, want %s\n", step,
			got != 0 ? strerror(got) : "success",
			want != 0 ? strerror(want) : "success");
		_exit(1);
	}
}

/* expect() for open(): closes what was opened. */
static void expect_open(const char *step, int fd, int want)
{
	expect(step, fd, want);
	if (fd >= 0)
		close(fd);
}

#define EXPECT(step, call, want)                  \
	do {                                      \
		errno = 0;                        \
		expect(step, (long)(call), want); \
	} while (0)
#define EXPECT_OPEN(step, call, want)                 \
	do {                                          \
		errno = 0;                            \
		expect_open(step, (int)(call), want); \
	} while (0)

static int listen_tcp(uint16_t *port_r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static int connect_tcp(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ret;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ret = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return ret;
}

static int bind_tcp(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ret;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ret = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return ret;
}

static socklen_t abstract_addr(struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
		 "test-sandbox-%ld", (long)getpid());
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(sun->sun_path + 1));
}

static int connect_abstract(pid_t owner)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ret;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "test-sandbox-%ld",
		 (long)owner);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  strlen(sun.sun_path + 1));
	ret = connect(fd, (struct sockaddr *)&sun, len);
	close(fd);
	return ret;
}

static struct sockaddr_un path_socket;

static int connect_path(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ret;

	ret = connect(fd, (struct sockaddr *)&path_socket, sizeof(path_socket));
	close(fd);
	return ret;
}

/* Runs fn in a child; asserts it exited 0. */
static void in_child(void (*fn)(int abi), int abi)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(abi);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static uint16_t tcp_port;

static void enter(bool restrict_fs, bool scope_abstract, int abi)
{
	struct sandbox *sb = sandbox_new(restrict_fs);
	const char *error = NULL;
	char p[256];

	char ro[256];

	path(p, sizeof(p), "mail");
	path(ro, sizeof(ro), "ro");
	if (sandbox_allow(sb, p, SANDBOX_READ_WRITE, &error) < 0 ||
	    sandbox_allow(sb, ro, SANDBOX_READ, &error) < 0 ||
	    sandbox_apply(sb, scope_abstract, &error) != abi) {
		fprintf(stderr, "entering the sandbox: %s\n",
			error != NULL ? error : "wrong ABI");
		_exit(1);
	}
	sandbox_free(&sb);
}

static void child_mail_root(int abi)
{
	char a[256], b[256], c[256];

	enter(true, false, abi);
	/* a Maildir delivery: tmp/ -> new/, a link, a truncate, folders */
	path(a, sizeof(a), "mail/tmp/1.msg");
	path(b, sizeof(b), "mail/new/1.msg");
	path(c, sizeof(c), "mail/new/2.msg");
	EXPECT_OPEN("open tmp/ for writing",
		    open(a, O_WRONLY | O_CREAT | O_EXCL, 0600), 0);
	EXPECT("rename tmp/ to new/", rename(a, b), 0);
	EXPECT("link in new/", link(b, c), 0);
	EXPECT("truncate", truncate(c, 0), 0);
	EXPECT_OPEN("open new/ for reading", open(b, O_RDONLY), 0);
	path(a, sizeof(a), "mail/new");
	EXPECT_OPEN("open the directory", open(a, O_RDONLY | O_DIRECTORY), 0);
	path(a, sizeof(a), "mail/.Folder");
	EXPECT("mkdir a folder", mkdir(a, 0700), 0);
	EXPECT("rmdir a folder", rmdir(a), 0);
	EXPECT("unlink", unlink(c), 0);
	/* a rule for reading only */
	path(a, sizeof(a), "ro/file");
	EXPECT_OPEN("open beneath read-only rule", open(a, O_RDONLY), 0);
	EXPECT_OPEN("open beneath read-only rule for writing",
		    open(a, O_WRONLY), EACCES);
	path(a, sizeof(a), "ro/new");
	EXPECT("mkdir beneath read-only rule", mkdir(a, 0700), EACCES);
	/* everything else */
	EXPECT_OPEN("open /etc/passwd", open("/etc/passwd", O_RDONLY), EACCES);
	path(a, sizeof(a), "outside.txt");
	EXPECT_OPEN("open outside", open(a, O_RDONLY), EACCES);
	EXPECT_OPEN("open outside for writing", open(a, O_WRONLY), EACCES);
	path(a, sizeof(a), "mail/new/planted");
	EXPECT_OPEN("open symlink to outside", open(a, O_RDONLY), EACCES);
	path(a, sizeof(a), "newdir");
	EXPECT("mkdir outside", mkdir(a, 0700), EACCES);
	path(a, sizeof(a), "moved");
	EXPECT("rename out of the mail root", rename(b, a), EACCES);
	path(a, sizeof(a), "mail/new/sym");
	EXPECT("make a symlink", symlink("/etc/passwd", a), EACCES);
	path(a, sizeof(a), "mail/new/fifo");
	EXPECT("make a fifo", mkfifo(a, 0600), EACCES);
	EXPECT("execute", execl("/bin/true", "true", (char *)NULL), EACCES);
	EXPECT("connect TCP", connect_tcp(tcp_port), abi >= 4 ? EACCES : 0);
	EXPECT("bind TCP", bind_tcp(), abi >= 4 ? EACCES : 0);
	EXPECT("signal the parent", kill(getppid(), 0), abi >= 6 ? EPERM : 0);
	EXPECT("connect to the parent's abstract socket",
	       connect_abstract(getppid()), 0);
	/* how syslog() reconnects to /dev/log */
	EXPECT("connect to a unix socket outside", connect_path(), 0);
}

static void child_files_unrestricted(int abi)
{
	enter(false, true, abi);
	EXPECT_OPEN("open /etc/passwd", open("/etc/passwd", O_RDONLY), 0);
	EXPECT("connect TCP", connect_tcp(tcp_port), EACCES);
	EXPECT("connect to the parent's abstract socket",
	       connect_abstract(getppid()), abi >= 6 ? EPERM : 0);
}

static void test_enforced(void **state)
{
	struct sockaddr_un sun;
	int abi = sandbox_landlock_abi();
	int tcp, unx, pathunx;

	(void)state;
	/* the kernel must offer Landlock for this test to mean anything */
	assert_true(abi >= 2);
	tcp = listen_tcp(&tcp_port);
	unx = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(
		bind(unx, (struct sockaddr *)&sun, abstract_addr(&sun)), 0);
	assert_int_equal(listen(unx, 4), 0);
	path_socket.sun_family = AF_UNIX;
	snprintf(path_socket.sun_path, sizeof(path_socket.sun_path), "%s/log",
		 dir);
	pathunx = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(pathunx, (struct sockaddr *)&path_socket,
			      sizeof(path_socket)),
			 0);
	assert_int_equal(listen(pathunx, 4), 0);
	in_child(child_mail_root, abi);
	if (abi >= 4)
		in_child(child_files_unrestricted, abi);
	close(tcp);
	close(unx);
	close(pathunx);
}

/* Below ABI 4 a sandbox that leaves files alone has nothing to do. */
static void test_unrestricted_files_need_abi4(void **state)
{
	struct sandbox *sb = sandbox_new(false);
	const char *error = NULL;
	int abi = sandbox_landlock_abi();

	(void)state;
	assert_int_equal(
		sandbox_allow(sb, "/nonexistent", SANDBOX_READ, &error), 0);
	sandbox_free(&sb);
	assert_null(sb);
	sandbox_free(&sb); /* takes NULL */
	sb = sandbox_new(true);
	assert_int_equal(
		sandbox_allow(sb, "/nonexistent", SANDBOX_READ, &error),
		abi >= 2 ? -1 : 0);
	if (abi >= 2)
		assert_non_null(strstr(error, "/nonexistent"));
	sandbox_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_prefix),
		cmocka_unit_test_setup_teardown(test_enforced, setup, teardown),
		cmocka_unit_test(test_unrestricted_files_need_abi4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
