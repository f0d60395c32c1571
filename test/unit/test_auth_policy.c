/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_auth mp_lib
/* User-name validation, the plaintext policy, mail root templates, and
   the per-IP penalty schedule. */
#include "auth/auth.h"
#include "auth/auth_penalty.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int validate(const char *s, size_t len)
{
	const char *error = NULL;
	int ret = auth_user_name_validate(s, len, &error);

	if (ret < 0)
		assert_non_null(error);
	return ret;
}

static void test_user_names(void **state)
{
	char longname[300];

	(void)state;
	assert_int_equal(validate("alice", 5), 0);
	assert_int_equal(validate("alice@example.org", 17), 0);
	assert_int_equal(validate("a.b+tag@x.y", 11), 0);
	assert_int_equal(validate("", 0), -1);
	assert_int_equal(validate("a\0b", 3), -1);
	assert_int_equal(validate("a\rb", 3), -1);
	assert_int_equal(validate("a\nb", 3), -1);
	assert_int_equal(validate("a\tb", 3), -1);
	assert_int_equal(validate("a/b", 3), -1);
	assert_int_equal(validate("a\\b", 3), -1);
	assert_int_equal(validate("..", 2), -1);
	assert_int_equal(validate("a..b", 4), -1);
	assert_int_equal(validate(".hidden", 7), -1);
	assert_int_equal(validate("-rf", 3), -1);
	assert_int_equal(validate("a:b", 3), -1);
	assert_int_equal(validate("a\x7f", 2), -1);
	memset(longname, 'a', sizeof(longname));
	assert_int_equal(validate(longname, 255), 0);
	assert_int_equal(validate(longname, 256), -1);
}

static void test_plaintext_policy(void **state)
{
	(void)state;
	assert_true(auth_plaintext_allowed(AUTH_PLAINTEXT_TLS, true, false));
	assert_false(auth_plaintext_allowed(AUTH_PLAINTEXT_TLS, false, true));
	assert_false(auth_plaintext_allowed(AUTH_PLAINTEXT_TLS, false, false));
	assert_true(auth_plaintext_allowed(AUTH_PLAINTEXT_TLS_OR_LOOPBACK,
					   false, true));
	assert_false(auth_plaintext_allowed(AUTH_PLAINTEXT_TLS_OR_LOOPBACK,
					    false, false));
	assert_true(auth_plaintext_allowed(AUTH_PLAINTEXT_TLS_OR_LOOPBACK, true,
					   false));
	assert_true(
		auth_plaintext_allowed(AUTH_PLAINTEXT_ALWAYS, false, false));
	assert_non_null(strstr(AUTH_PLAINTEXT_REFUSED, "TLS"));
}

static void test_mail_root(void **state)
{
	const char *error = NULL;
	char *s;

	(void)state;
	s = auth_mail_root_expand("/var/vmail/%d/%n", "bob@ex.org", NULL,
				  &error);
	assert_string_equal(s, "/var/vmail/ex.org/bob");
	free(s);
	s = auth_mail_root_expand("/m/%u/%%", "bob", NULL, &error);
	assert_string_equal(s, "/m/bob/%");
	free(s);
	s = auth_mail_root_expand("~/Maildir", "bob", "/home/bob", &error);
	assert_string_equal(s, "/home/bob/Maildir");
	free(s);
	s = auth_mail_root_expand("%h/Mail", "bob", "/home/bob", &error);
	assert_string_equal(s, "/home/bob/Mail");
	free(s);
	assert_null(auth_mail_root_expand("~/Maildir", "bob", NULL, &error));
	assert_null(auth_mail_root_expand("/m/%x", "bob", NULL, &error));
	assert_null(auth_mail_root_expand("/m/%", "bob", NULL, &error));
	assert_null(auth_mail_root_expand("relative/%u", "bob", NULL, &error));
	/* no expansion lands inside another user's Maildir */
	assert_null(
		auth_mail_root_expand("/v/%d/%n", "cur@alice", NULL, &error));
	assert_null(auth_mail_root_expand("/v/%d/%n", "x@new", NULL, &error));
	assert_null(auth_mail_root_expand("/v/%n", "tmp@x", NULL, &error));
	assert_null(auth_mail_root_expand("/v/%n", ".a@b", NULL, &error));
	/* the admin's own text may say cur; an empty %d stays allowed */
	s = auth_mail_root_expand("/cur/%d/%n", "bob", NULL, &error);
	assert_string_equal(s, "/cur//bob");
	free(s);
}

/* Begins and ends one attempt that fails now; returns its delay. */
static double fail_once(struct auth_penalty *p, const char *ip,
			const char *user, double now)
{
	double delay;
	int ticket;

	assert_int_equal(auth_penalty_begin(p, ip, now, &delay, &ticket), 0);
	auth_penalty_end(p, ticket, user, AUTH_PENALTY_FAILED, now + delay);
	return delay;
}

static void test_penalty(void **state)
{
	struct auth_penalty *p = auth_penalty_new(8);
	struct auth_penalty *off = auth_penalty_new(0);
	double delay;
	int ticket;

	(void)state;
	/* sequential failures: 1, 2, 4, 8, 8 seconds after the last start */
	assert_true(fail_once(p, "192.0.2.1", "u", 100) == 0);
	assert_true(fail_once(p, "192.0.2.1", "u", 100) == 1);
	assert_true(fail_once(p, "192.0.2.1", "u", 101) == 2);
	assert_true(fail_once(p, "192.0.2.1", "u", 103) == 4);
	assert_true(fail_once(p, "192.0.2.1", "u", 107) == 8);
	assert_true(fail_once(p, "192.0.2.1", "u", 115) == 8); /* capped */
	assert_int_equal(auth_penalty_failures(p, "192.0.2.1", 123), 6);
	/* waiting out the delay costs nothing extra */
	assert_true(fail_once(p, "192.0.2.1", "u", 200) == 0);
	/* other addresses are not affected */
	assert_true(fail_once(p, "192.0.2.2", "u", 200) == 0);
	/* forgotten after a quiet while */
	assert_int_equal(auth_penalty_failures(p, "192.0.2.2", 200), 1);
	assert_int_equal(auth_penalty_failures(p, "192.0.2.2", 100000), 0);
	assert_true(fail_once(p, "192.0.2.2", "u", 100000) == 0);
	/* IPv6 counts by /64 */
	assert_true(fail_once(p, "2001:db8::1", "u", 300) == 0);
	assert_true(fail_once(p, "2001:db8::2:3", "u", 300) == 1);
	assert_true(fail_once(p, "2001:db8:0:1::1", "u", 300) == 0);
	/* unknown address, disabled penalty: never delayed, nothing to end */
	assert_int_equal(auth_penalty_begin(p, "", 1, &delay, &ticket), 0);
	assert_int_equal(ticket, -1);
	for (int i = 0; i < 10; i++)
		assert_true(fail_once(off, "192.0.2.1", "u", 1) == 0);
	assert_int_equal(auth_penalty_bound(8, 60), 10);
	assert_int_equal(auth_penalty_bound(15, 60), 8);
	assert_int_equal(auth_penalty_bound(8, 20), 5);
	auth_penalty_free(&p);
	auth_penalty_free(&off);
	assert_null(p);
}

/* 20 attempts at once from one address queue one behind the other. */
static void test_penalty_in_flight(void **state)
{
	struct auth_penalty *p = auth_penalty_new(8);
	double delays[20], expect = 0, step = 1;
	int tickets[20], started = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		if (auth_penalty_begin(p, "192.0.2.9", 10, &delays[i],
				       &tickets[i]) < 0)
			break;
		started++;
	}
	/* 0, 1, 3, 7, 15, 23, ... 55: the rest would wait over a minute */
	assert_int_equal(started, 10);
	for (int i = 0; i < started; i++) {
		assert_true(delays[i] == expect);
		expect += step;
		step = step * 2 > 8 ? 8 : step * 2;
	}
	/* in any minute: no more than the documented bound */
	assert_true((unsigned)started <= auth_penalty_bound(8, 60));
	for (int i = 0; i < started; i++)
		auth_penalty_end(p, tickets[i], "victim", AUTH_PENALTY_FAILED,
				 10 + delays[i]);
	assert_int_equal(auth_penalty_failures(p, "192.0.2.9", 70), 10);
	/* abandoned attempts (never checked) add no failure */
	assert_int_equal(auth_penalty_begin(p, "192.0.2.9", 200, &delays[0],
					    &tickets[0]),
			 0);
	auth_penalty_end(p, tickets[0], NULL, AUTH_PENALTY_ABANDONED, 201);
	assert_int_equal(auth_penalty_failures(p, "192.0.2.9", 201), 10);
	auth_penalty_free(&p);
}

/* A success clears its own user's failures only. */
static void test_penalty_success_per_user(void **state)
{
	struct auth_penalty *p = auth_penalty_new(8);
	double delay;
	int ticket;

	(void)state;
	fail_once(p, "192.0.2.5", "bob", 10);
	fail_once(p, "192.0.2.5", "bob", 11);
	fail_once(p, "192.0.2.5", "bob", 13);
	fail_once(p, "192.0.2.5", "alice", 17);
	assert_int_equal(
		auth_penalty_begin(p, "192.0.2.5", 30, &delay, &ticket), 0);
	auth_penalty_end(p, ticket, "alice", AUTH_PENALTY_SUCCEEDED, 30);
	/* alice's failure is gone, bob's three stay */
	assert_int_equal(auth_penalty_failures(p, "192.0.2.5", 31), 3);
	assert_int_equal(
		auth_penalty_begin(p, "192.0.2.5", 31, &delay, &ticket), 0);
	assert_true(delay == 3); /* 4 s after the last start (30) */
	auth_penalty_end(p, ticket, "bob", AUTH_PENALTY_SUCCEEDED, 34);
	assert_int_equal(auth_penalty_failures(p, "192.0.2.5", 34), 0);
	assert_true(fail_once(p, "192.0.2.5", "bob", 35) == 0);
	auth_penalty_free(&p);
}

/* An attempt that fails now; its delay, or -1 when it was refused. */
static double try_fail(struct auth_penalty *p, const char *ip, double now)
{
	double delay;
	int ticket;

	if (auth_penalty_begin(p, ip, now, &delay, &ticket) < 0)
		return -1;
	auth_penalty_end(p, ticket, "victim", AUTH_PENALTY_FAILED, now + delay);
	return delay;
}

/* Address churn neither evicts an entry under penalty nor escapes it. */
static void test_penalty_churn(void **state)
{
	struct auth_penalty *p = auth_penalty_new(8);
	char ip[32];
	int refused = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		fail_once(p, "198.51.100.7", "victim", 40); /* starts 40..47 */
	for (int i = 0; i < 3 * AUTH_PENALTY_SLOTS; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 65536,
			 i / 256 % 256, i % 256);
		if (try_fail(p, ip, 50) < 0)
			refused++;
	}
	/* once the table is full, newcomers share one entry and queue */
	assert_true(refused > AUTH_PENALTY_SLOTS);
	assert_int_equal(auth_penalty_failures(p, "198.51.100.7", 50), 4);
	assert_true(try_fail(p, "198.51.100.7", 50) == 5); /* 47 + 8 */
	assert_true(try_fail(p, "203.0.113.1", 51) != 0);
	assert_true(try_fail(p, "203.0.113.2", 51) != 0);
	/* once entries are forgotten, new addresses get their own again */
	assert_true(try_fail(p, "203.0.113.3", 10000) == 0);
	auth_penalty_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_names),
		cmocka_unit_test(test_plaintext_policy),
		cmocka_unit_test(test_mail_root),
		cmocka_unit_test(test_penalty),
		cmocka_unit_test(test_penalty_in_flight),
		cmocka_unit_test(test_penalty_success_per_user),
		cmocka_unit_test(test_penalty_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
