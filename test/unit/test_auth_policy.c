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
}

static void test_penalty(void **state)
{
	struct auth_penalty *p = auth_penalty_new(8);
	struct auth_penalty *off = auth_penalty_new(0);

	(void)state;
	assert_true(auth_penalty_delay(p, "192.0.2.1", 100) == 0);
	auth_penalty_failure(p, "192.0.2.1", 100);
	assert_true(auth_penalty_delay(p, "192.0.2.1", 100) == 1);
	auth_penalty_failure(p, "192.0.2.1", 101);
	assert_true(auth_penalty_delay(p, "192.0.2.1", 101) == 2);
	auth_penalty_failure(p, "192.0.2.1", 102);
	auth_penalty_failure(p, "192.0.2.1", 103);
	assert_true(auth_penalty_delay(p, "192.0.2.1", 103) == 8);
	for (int i = 0; i < 40; i++)
		auth_penalty_failure(p, "192.0.2.1", 104);
	assert_true(auth_penalty_delay(p, "192.0.2.1", 104) == 8); /* capped */
	/* other addresses are not affected */
	assert_true(auth_penalty_delay(p, "192.0.2.2", 104) == 0);
	/* success resets */
	auth_penalty_success(p, "192.0.2.1");
	assert_true(auth_penalty_delay(p, "192.0.2.1", 105) == 0);
	/* forgotten after a quiet while */
	auth_penalty_failure(p, "192.0.2.3", 100);
	assert_int_equal(auth_penalty_failures(p, "192.0.2.3", 100), 1);
	assert_true(auth_penalty_delay(p, "192.0.2.3", 100000) == 0);
	/* the table stays bounded */
	for (int i = 0; i < 10000; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		auth_penalty_failure(p, ip, 200 + i);
	}
	assert_int_equal(auth_penalty_failures(p, "10.0.39.15", 10200), 1);
	/* disabled */
	auth_penalty_failure(off, "192.0.2.1", 1);
	assert_true(auth_penalty_delay(off, "192.0.2.1", 1) == 0);
	auth_penalty_free(&p);
	auth_penalty_free(&off);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_names),
		cmocka_unit_test(test_plaintext_policy),
		cmocka_unit_test(test_mail_root),
		cmocka_unit_test(test_penalty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
