/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server mp_storage mp_auth mp_lib
/* Unit tests for protocols/pop3/pop3_lock: exclusive between two sessions
   of one process, released on release, login time round trip. */
#include "protocols/pop3/pop3_lock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/test_pop3_lock.XXXXXX";

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_pop3_lock.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, POP3_LOCK_FILE);
	unlink(path);
	return rmdir(dir);
}

static void test_exclusive_in_one_process(void **state)
{
	struct pop3_lock *a = NULL, *b = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(pop3_lock_acquire(dir, &a, &error), 1);
	assert_non_null(a);
	/* OFD locks: a second session of the same process is refused */
	assert_int_equal(pop3_lock_acquire(dir, &b, &error), 0);
	assert_null(b);
	pop3_lock_release(&a);
	assert_null(a);
	assert_int_equal(pop3_lock_acquire(dir, &b, &error), 1);
	pop3_lock_release(&b);
	pop3_lock_release(&b); /* takes NULL */
}

static void test_exclusive_across_processes(void **state)
{
	struct pop3_lock *a = NULL;
	const char *error = NULL;
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(pop3_lock_acquire(dir, &a, &error), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pop3_lock *b = NULL;

		_exit(pop3_lock_acquire(dir, &b, &error) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pop3_lock_release(&a);
}

static void test_released_when_holder_dies(void **state)
{
	struct pop3_lock *a = NULL;
	const char *error = NULL;
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pop3_lock *b = NULL;

		if (pop3_lock_acquire(dir, &b, &error) != 1)
			_exit(1);
		_exit(0); /* "crash" with the lock held */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(pop3_lock_acquire(dir, &a, &error), 1);
	pop3_lock_release(&a);
}

static void test_last_login(void **state)
{
	struct pop3_lock *a = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(pop3_lock_acquire(dir, &a, &error), 1);
	assert_int_equal(pop3_lock_last_login(a), 0);
	pop3_lock_set_login(a, 1700000123);
	assert_int_equal(pop3_lock_last_login(a), 1700000123);
	pop3_lock_set_login(a, 5);
	assert_int_equal(pop3_lock_last_login(a), 5);
	pop3_lock_release(&a);
	assert_int_equal(pop3_lock_acquire(dir, &a, &error), 1);
	assert_int_equal(pop3_lock_last_login(a), 5);
	pop3_lock_release(&a);
}

static void test_missing_root(void **state)
{
	struct pop3_lock *a = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(
		pop3_lock_acquire("/nonexistent/merpati/root", &a, &error), -1);
	assert_non_null(error);
	assert_null(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exclusive_in_one_process,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_across_processes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_released_when_holder_dies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_login, setup,
						teardown),
		cmocka_unit_test(test_missing_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
