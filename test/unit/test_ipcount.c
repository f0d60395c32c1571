/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/*
 * ipcount: the per-address cap is exact within a process and across forked
 * processes racing for the same address, counts come back on release and
 * when the master releases a dead worker's column, addresses are counted
 * apart, and the bounded table survives churn (many addresses coming and
 * going) and says "full" instead of miscounting.
 */
#include "server/ipcount.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void test_cap_and_release(void **state)
{
	struct ipcount *t = ipcount_new(0);
	int col = ipcount_column_take(t);

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ipcount_acquire(t, col, "192.0.2.1", 5), 0);
	assert_int_equal(ipcount_acquire(t, col, "192.0.2.1", 5), -1);
	assert_int_equal(ipcount_get(t, "192.0.2.1"), 5);
	/* another address, and the same digits as IPv6, count apart */
	assert_int_equal(ipcount_acquire(t, col, "192.0.2.10", 5), 0);
	assert_int_equal(ipcount_acquire(t, col, "::ffff:192.0.2.1", 5), 0);
	assert_int_equal(ipcount_get(t, "192.0.2.10"), 1);
	ipcount_release(t, col, "192.0.2.1");
	assert_int_equal(ipcount_get(t, "192.0.2.1"), 4);
	assert_int_equal(ipcount_acquire(t, col, "192.0.2.1", 5), 0);
	assert_int_equal(ipcount_acquire(t, col, "192.0.2.1", 5), -1);
	/* a lower cap (after a reload) applies to what is already held */
	assert_int_equal(ipcount_acquire(t, col, "192.0.2.1", 3), -1);
	for (int i = 0; i < 5; i++)
		ipcount_release(t, col, "192.0.2.1");
	assert_int_equal(ipcount_get(t, "192.0.2.1"), 0);
	ipcount_free(&t);
	assert_null(t);
	ipcount_free(&t);
}

/* Four processes (workers) race for one address with a cap of 5: exactly
   5 connections are counted, whatever the interleaving. */
static void test_cap_across_processes(void **state)
{
	struct ipcount *t = ipcount_new(0);

	(void)state;
	for (int round = 0; round < 50; round++) {
		int go[2], res[2], cols[4], total = 0;
		pid_t pids[4];

		assert_int_equal(pipe(go), 0);
		assert_int_equal(pipe(res), 0);
		for (int w = 0; w < 4; w++) {
			cols[w] = ipcount_column_take(t);
			pids[w] = fork();
			assert_true(pids[w] >= 0);
			if (pids[w] == 0) {
				char c, n = 0;

				close(go[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(2);
				for (int i = 0; i < 10; i++)
					n += ipcount_acquire(t, cols[w],
							     "198.51.100.7",
							     5) == 0;
				_exit(write(res[1], &n, 1) == 1 ? 0 : 3);
			}
		}
		close(go[0]);
		close(go[1]); /* all start at once */
		for (int w = 0; w < 4; w++) {
			char n;
			int status;

			assert_int_equal(read(res[0], &n, 1), 1);
			total += n;
			waitpid(pids[w], &status, 0);
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		close(res[0]);
		close(res[1]);
		assert_int_equal(total, 5);
		assert_int_equal(ipcount_get(t, "198.51.100.7"), 5);
		/* the workers are gone without releasing: the master gives
		   their counts back */
		for (int w = 0; w < 4; w++)
			ipcount_column_release(t, cols[w]);
		assert_int_equal(ipcount_get(t, "198.51.100.7"), 0);
	}
	ipcount_free(&t);
}

/* A dead worker's column gives back only what that worker held. */
static void test_column_release(void **state)
{
	struct ipcount *t = ipcount_new(0);
	int a = ipcount_column_take(t), b = ipcount_column_take(t);

	(void)state;
	assert_int_not_equal(a, b);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ipcount_acquire(t, a, "203.0.113.5", 10), 0);
	assert_int_equal(ipcount_acquire(t, b, "203.0.113.5", 10), 0);
	assert_int_equal(ipcount_acquire(t, a, "203.0.113.6", 10), 0);
	ipcount_release(t, a, "203.0.113.5");
	ipcount_column_release(t, a);
	assert_int_equal(ipcount_get(t, "203.0.113.5"), 1);
	assert_int_equal(ipcount_get(t, "203.0.113.6"), 0);
	/* the column is free again and starts empty */
	assert_int_equal(ipcount_column_take(t), a);
	ipcount_column_release(t, a);
	ipcount_release(t, b, "203.0.113.5");
	assert_int_equal(ipcount_get(t, "203.0.113.5"), 0);
	ipcount_column_release(t, -1);
	ipcount_free(&t);
}

/* Many addresses come and go: slots are reused, nothing leaks; holding
   more addresses than the table has slots ends in "full", never in a
   wrong count. */
static void test_churn_and_full(void **state)
{
	struct ipcount *t = ipcount_new(IPCOUNT_SLOTS_MIN);
	int col = ipcount_column_take(t);
	char ip[64];
	int full = 0, held = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		assert_int_equal(ipcount_acquire(t, col, ip, 1), 0);
		assert_int_equal(ipcount_acquire(t, col, ip, 1), -1);
		ipcount_release(t, col, ip);
	}
	for (int i = 0; i < 2 * IPCOUNT_SLOTS_MIN; i++) {
		int r;

		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		r = ipcount_acquire(t, col, ip, 1);
		assert_true(r == 0 || r == -2);
		full += r == -2;
		held += r == 0;
	}
	printf("%d of %d addresses held in %d slots, %d refused as full\n",
	       held, 2 * IPCOUNT_SLOTS_MIN, IPCOUNT_SLOTS_MIN, full);
	assert_true(held <= IPCOUNT_SLOTS_MIN);
	assert_true(held > IPCOUNT_SLOTS_MIN * 9 / 10);
	for (int i = 0; i < 2 * IPCOUNT_SLOTS_MIN; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		assert_true(ipcount_get(t, ip) <= 1);
	}
	ipcount_column_release(t, col);
	for (int i = 0; i < 2 * IPCOUNT_SLOTS_MIN; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		assert_int_equal(ipcount_get(t, ip), 0);
	}
	/* everything is free again */
	col = ipcount_column_take(t);
	assert_int_equal(ipcount_acquire(t, col, "10.0.0.1", 1), 0);
	ipcount_free(&t);
}

/* IPv6 counts by /64, as the auth penalty groups addresses: a host that
   can pick any of 2^64 addresses holds one count, not one per address. */
static void test_ipv6_by_64(void **state)
{
	struct ipcount *t = ipcount_new(0);
	int col = ipcount_column_take(t);

	(void)state;
	assert_int_equal(ipcount_acquire(t, col, "2001:db8:1:2::1", 3), 0);
	assert_int_equal(ipcount_acquire(t, col, "2001:db8:1:2::2", 3), 0);
	/* another spelling of an address in the same /64 */
	assert_int_equal(
		ipcount_acquire(t, col,
				"2001:0db8:0001:0002:ffff:ffff:ffff:ffff", 3),
		0);
	assert_int_equal(ipcount_acquire(t, col, "2001:db8:1:2:abcd::9", 3),
			 -1);
	assert_int_equal(ipcount_get(t, "2001:db8:1:2::77"), 3);
	/* the next /64 counts apart */
	assert_int_equal(ipcount_acquire(t, col, "2001:db8:1:3::1", 3), 0);
	assert_int_equal(ipcount_get(t, "2001:db8:1:3::1"), 1);
	/* a release from any address of the /64 gives its count back */
	ipcount_release(t, col, "2001:db8:1:2::2");
	assert_int_equal(ipcount_get(t, "2001:db8:1:2::1"), 2);
	assert_int_equal(ipcount_acquire(t, col, "2001:db8:1:2::5", 3), 0);
	/* IPv4-mapped addresses keep every bit: two IPv4 hosts apart */
	assert_int_equal(ipcount_acquire(t, col, "::ffff:192.0.2.1", 1), 0);
	assert_int_equal(ipcount_acquire(t, col, "::ffff:192.0.2.2", 1), 0);
	assert_int_equal(ipcount_acquire(t, col, "::ffff:192.0.2.1", 1), -1);
	/* ::1 is in ::/64 like any other ::x; text that is no address
	   counts by itself */
	assert_int_equal(ipcount_acquire(t, col, "::1", 1), 0);
	assert_int_equal(ipcount_acquire(t, col, "::2", 1), -1);
	assert_int_equal(ipcount_acquire(t, col, "not:an:address", 1), 0);
	assert_int_equal(ipcount_acquire(t, col, "not:an:address", 1), -1);
	ipcount_column_release(t, col);
	assert_int_equal(ipcount_get(t, "2001:db8:1:2::1"), 0);
	ipcount_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_and_release),
		cmocka_unit_test(test_cap_across_processes),
		cmocka_unit_test(test_column_release),
		cmocka_unit_test(test_churn_and_full),
		cmocka_unit_test(test_ipv6_by_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
