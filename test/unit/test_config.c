// links: mp_server
/* config: defaults, parsing, every error path with its line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_conf(const char *text)
{
	char *path = strdup("/tmp/merpati-test-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static struct config *load(const char *text, char **error_r)
{
	char *path = write_conf(text);
	struct config *c = config_load(path, error_r);

	unlink(path);
	free(path);
	return c;
}

/* Loads text, expects an error ending in ":<line>: <reason>". */
static void expect_error(const char *text, int line, const char *reason)
{
	char *error = NULL, want[512];
	struct config *c = load(text, &error);

	assert_null(c);
	assert_non_null(error);
	snprintf(want, sizeof(want), ":%d: %s", line, reason);
	if (strstr(error, want) == NULL)
		fail_msg("error '%s' lacks '%s'", error, want);
	free(error);
}

static void test_defaults(void **state)
{
	struct config *c = config_new_defaults();

	(void)state;
	assert_string_equal(c->user, "vmail");
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->auth_plaintext, CONFIG_PLAINTEXT_TLS);
	assert_int_equal(c->pop3_after_download, CONFIG_AFTER_DOWNLOAD_DELETE);
	assert_true(c->mail_fsync);
	assert_int_equal(c->imap_timeout, 1800);
	assert_string_equal(c->listen[CONFIG_LISTEN_POP3], "");
	assert_string_equal(c->tls_priorities,
			    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	config_free(&c);
	assert_null(c);
	config_free(&c); /* takes NULL */
}

static void test_values_and_comments(void **state)
{
	char *error = NULL;
	struct config *c = load("# comment\n"
				"; another\n"
				"[server]\n"
				"user = mail   # the owner\n"
				"workers=4\n"
				"log_level = debug\n"
				"[listen]\n"
				"imap = 127.0.0.1:1143 [::1]:1143\n"
				"pop3s =\n"
				"[auth]\n"
				"plaintext = tls-or-loopback\n"
				"[mail]\n"
				"fsync = no\n"
				"root = /srv/mail/%d/%n\n"
				"[pop3]\n"
				"after_download = seen\n",
				&error);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->user, "mail");
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c->listen[CONFIG_LISTEN_IMAP],
			    "127.0.0.1:1143 [::1]:1143");
	assert_string_equal(c->listen[CONFIG_LISTEN_POP3S], "");
	assert_int_equal(c->auth_plaintext, CONFIG_PLAINTEXT_TLS_OR_LOOPBACK);
	assert_false(c->mail_fsync);
	assert_string_equal(c->mail_root, "/srv/mail/%d/%n");
	assert_int_equal(c->pop3_after_download, CONFIG_AFTER_DOWNLOAD_SEEN);
	config_free(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[server]\nbogus = 1\n", 2,
		     "unknown key 'bogus' in section [server]");
	expect_error("\n\n[frob]\nx = 1\n", 3, "unknown section [frob]");
	expect_error("[server]\n[empty]\n", 2, "unknown section [empty]");
	expect_error("[server]\nworkers = 0\n", 2,
		     "server.workers: '0' is not a number from 1 to 64");
	expect_error("[server]\nworkers = 65\n", 2,
		     "server.workers: '65' is not a number from 1 to 64");
	expect_error("[server]\nworkers = -1\n", 2,
		     "server.workers: '-1' is not a number from 1 to 64");
	expect_error(
		"[server]\nworkers = 99999999999999999999\n", 2,
		"server.workers: '99999999999999999999' is not a number from 1 to 64");
	expect_error("[server]\nlog = file\n", 2,
		     "server.log: 'file' is not one of stderr | syslog");
	expect_error(
		"[server]\nlog_level = loud\n", 2,
		"server.log_level: 'loud' is not one of debug | info | warn | error");
	expect_error("[mail]\nfsync = maybe\n", 2,
		     "mail.fsync: 'maybe' is not yes or no");
	expect_error(
		"[auth]\nplaintext = never\n", 2,
		"auth.plaintext: 'never' is not one of tls | tls-or-loopback | always");
	expect_error("[server]\nno equals sign\n", 2, "syntax error");
	expect_error("key = before section\n", 1, "unknown section []");
}

/* libinih splits lines over 198 bytes and parses the pieces as lines. */
static void test_long_lines(void **state)
{
	char text[9000], value[8000];
	char *error = NULL;
	struct config *c;

	(void)state;
	memset(value, 'u', sizeof(value));
	snprintf(text, sizeof(text), "[server]\nuser=%.4090s\n", value);
	expect_error(text, 2, "line too long (at most 4094 bytes)");
	snprintf(text, sizeof(text), "[server]\nuser=%.4088s\n", value);
	expect_error(text, 2, "server.user: value too long");
	/* "user = " + 4087 bytes is the longest value printed back whole */
	snprintf(text, sizeof(text), "[server]\nuser=%.4087s\n", value);
	c = load(text, &error);
	assert_non_null(c);
	assert_int_equal(strlen(c->user), 4087);
	config_free(&c);
	snprintf(text, sizeof(text), "[listen]\nimap = %.7000s\n", value);
	expect_error(text, 2, "line too long");
	/* a long listen list well past libinih's built-in 200 bytes */
	snprintf(text, sizeof(text), "[listen]\nimap =");
	for (int i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " 127.0.0.%d:143", i + 1);
	strcat(text, "\n[server]\nworkers = 2\n");
	c = load(text, &error);
	assert_non_null(c);
	assert_true(strlen(c->listen[CONFIG_LISTEN_IMAP]) > 500);
	assert_string_equal(c->listen[CONFIG_LISTEN_IMAP] +
				    strlen(c->listen[CONFIG_LISTEN_IMAP]) - 14,
			    "127.0.0.40:143");
	assert_int_equal(c->workers, 2);
	config_free(&c);
}

static void test_whole_file_checks(void **state)
{
	char *error = NULL;
	struct config *c;

	(void)state;
	c = load("[listen]\nimap =\nimaps =\npop3 =\npop3s =\n", &error);
	assert_null(c);
	assert_non_null(strstr(error, "no listener configured"));
	free(error);
	c = load("[mail]\nroot = /var/mail/shared\n", &error);
	assert_null(c);
	assert_non_null(strstr(error, "mail.root must contain"));
	free(error);
}

static void test_missing_file(void **state)
{
	char *error = NULL;

	(void)state;
	assert_null(config_load("/nonexistent/merpati.conf", &error));
	assert_string_equal(
		error,
		"/nonexistent/merpati.conf: cannot open: No such file or directory");
	free(error);
}

static void test_print_round_trip(void **state)
{
	char *error = NULL, *text = NULL, *path;
	size_t size = 0;
	struct config *
		c = load(
		       "[server]\nworkers = 3\n[pop3]\nafter_download = keep\n",
		       &error),
	       *c2;
	FILE *out = open_memstream(&text, &size);

	(void)state;
	assert_non_null(c);
	config_print(c, out);
	fclose(out);
	path = write_conf(text);
	c2 = config_load(path, &error);
	assert_non_null(c2);
	assert_int_equal(c2->workers, 3);
	assert_int_equal(c2->pop3_after_download, CONFIG_AFTER_DOWNLOAD_KEEP);
	assert_string_equal(c2->mail_root, c->mail_root);
	unlink(path);
	free(path);
	free(text);
	config_free(&c);
	config_free(&c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_comments),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_whole_file_checks),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_print_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
