/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_auth mp_lib
/* passwd-file parsing: good files, damaged files, reloads. */
#include "auth/auth_passwd_file.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const char good[] =
	"# users\n"
	"\n"
	"alice@example.org:{SHA512-CRYPT}$6$x$y:1000:1000:Alice A:/home/alice:/bin/false:userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G\n"
	"bob:{PLAIN}pw\n"
	"carol:{PLAIN}pw::::::\r\n"
	"dave:::::::nopassword\n"
	"erin:{PLAIN}x:::::: nopassword mail=/srv/mail/erin allow_nets=127.0.0.1\n"
	"   frank:{PLAIN}y\n"
	"last@Example.ORG:{PLAIN}z"; /* no final newline */

static void test_good(void **state)
{
	struct auth_passwd_file *f = auth_passwd_file_new("/test/good");
	const struct auth_passwd_entry *e;

	(void)state;
	assert_int_equal(auth_passwd_file_parse(f, good, strlen(good)), 0);
	assert_int_equal(auth_passwd_file_count(f), 7);

	e = auth_passwd_file_find(f, "alice@example.org");
	assert_non_null(e);
	assert_string_equal(e->password, "{SHA512-CRYPT}$6$x$y");
	assert_string_equal(e->uid, "1000");
	assert_string_equal(e->gecos, "Alice A");
	assert_string_equal(e->home, "/home/alice");
	assert_string_equal(e->shell, "/bin/false");
	assert_string_equal(e->mail, "maildir:~/Maildir");
	assert_string_equal(e->extra[0], "quota_rule=*:storage=1G");
	assert_null(e->extra[1]);
	assert_int_equal(e->line, 3);
	assert_false(e->nopassword);

	e = auth_passwd_file_find(f, "bob");
	assert_non_null(e);
	assert_string_equal(e->password, "{PLAIN}pw");
	assert_string_equal(e->home, "");
	assert_null(e->mail);

	e = auth_passwd_file_find(f, "carol");
	assert_non_null(e);
	assert_string_equal(e->password, "{PLAIN}pw");

	e = auth_passwd_file_find(f, "dave");
	assert_non_null(e);
	assert_true(e->nopassword);

	/* nopassword with a password set is ignored */
	e = auth_passwd_file_find(f, "erin");
	assert_non_null(e);
	assert_false(e->nopassword);
	assert_string_equal(e->mail, "/srv/mail/erin");
	assert_string_equal(e->extra[0], "allow_nets=127.0.0.1");

	assert_non_null(auth_passwd_file_find(f, "frank"));
	/* domain part is case-insensitive, local part is not */
	assert_non_null(auth_passwd_file_find(f, "alice@EXAMPLE.org"));
	assert_null(auth_passwd_file_find(f, "Alice@example.org"));
	assert_null(auth_passwd_file_find(f, "nobody"));
	assert_null(auth_passwd_file_find(f, ""));
	auth_passwd_file_free(&f);
	assert_null(f);
}

static const char damaged[] = "ok1:{PLAIN}a\n"
			      "no-colon-here\n"
			      "bad/name:{PLAIN}b\n"
			      "../x:{PLAIN}b\n"
			      "badid:{PLAIN}c:abc:1\n"
			      "relhome:{PLAIN}c:1:1::home\n"
			      ":{PLAIN}empty-user\n"
			      "ok2:{PLAIN}d\n"
			      "ok1:{PLAIN}duplicate\n"
			      "nul\0byte:{PLAIN}e\n"
			      "ok3:{PLAIN}f\n";

static void test_damaged(void **state)
{
	struct auth_passwd_file *f = auth_passwd_file_new("/test/damaged");
	const struct auth_passwd_entry *e;

	(void)state;
	/* 8 bad lines, each logged with file and line, none fatal */
	assert_int_equal(
		auth_passwd_file_parse(f, damaged, sizeof(damaged) - 1), 8);
	assert_int_equal(auth_passwd_file_count(f), 3);
	e = auth_passwd_file_find(f, "ok1");
	assert_non_null(e);
	assert_string_equal(e->password, "{PLAIN}a"); /* first one wins */
	assert_non_null(auth_passwd_file_find(f, "ok2"));
	assert_non_null(auth_passwd_file_find(f, "ok3"));
	assert_null(auth_passwd_file_find(f, "badid"));
	auth_passwd_file_free(&f);
}

/* Every prefix of the file parses without crashing. */
static void test_truncations(void **state)
{
	struct auth_passwd_file *f = auth_passwd_file_new("/test/trunc");

	(void)state;
	for (size_t i = 0; i <= sizeof(good) - 1; i++)
		(void)auth_passwd_file_parse(f, good, i);
	for (size_t i = 0; i <= sizeof(damaged) - 1; i++)
		(void)auth_passwd_file_parse(f, damaged, i);
	auth_passwd_file_free(&f);
}

static void test_refresh(void **state)
{
	char path[] = "/tmp/merpati-pwf-XXXXXX";
	int fd = mkstemp(path);
	struct auth_passwd_file *f;
	const char *error = NULL;
	FILE *fp;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a:{PLAIN}1\n", 11), 11);
	close(fd);
	f = auth_passwd_file_new(path);
	assert_int_equal(auth_passwd_file_refresh(f, &error), 0);
	assert_non_null(auth_passwd_file_find(f, "a"));
	assert_null(auth_passwd_file_find(f, "b"));
	/* a change of size is noticed on the next refresh */
	fp = fopen(path, "a");
	fputs("b:{PLAIN}22\n", fp);
	fclose(fp);
	assert_int_equal(auth_passwd_file_refresh(f, &error), 0);
	assert_non_null(auth_passwd_file_find(f, "b"));
	/* a vanished file: an error (TEMPFAIL for callers), empty table */
	unlink(path);
	assert_int_equal(auth_passwd_file_refresh(f, &error), -1);
	assert_int_equal(auth_passwd_file_count(f), 0);
	auth_passwd_file_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_refresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
