/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* config: defaults, parsing, every error path with its line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first */
#include <cmocka.h>

#include "server/config.h"
#include "server/config_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* [lmtp]: socket paths in listen, the socket mode read as octal. */
static void test_lmtp(void **state)
{
	char *error = NULL;
	struct config *c;

	(void)state;
	c = load("[lmtp]\nlisten = /run/merpati/lmtp 127.0.0.1:24\n"
		 "socket_mode = 0600\nsocket_user = postfix\n",
		 &error);
	assert_non_null(c);
	assert_string_equal(c->listen[CONFIG_LISTEN_LMTP],
			    "/run/merpati/lmtp 127.0.0.1:24");
	assert_int_equal(c->lmtp_socket_mode, 0600);
	assert_string_equal(c->lmtp_socket_user, "postfix");
	assert_string_equal(config_listener_name(CONFIG_LISTEN_LMTP), "lmtp");
	config_free(&c);
	c = load("[server]\n", &error);
	assert_non_null(c);
	assert_string_equal(c->listen[CONFIG_LISTEN_LMTP], "");
	assert_int_equal(c->lmtp_socket_mode, 0660);
	config_free(&c);
	expect_error(
		"[lmtp]\nsocket_mode = 0778\n", 2,
		"lmtp.socket_mode: '0778' is not an octal mode from 0 to 0777");
	expect_error(
		"[lmtp]\nsocket_mode = 1777\n", 2,
		"lmtp.socket_mode: '1777' is not an octal mode from 0 to 0777");
	expect_error(
		"[lmtp]\nsocket_mode = rw\n", 2,
		"lmtp.socket_mode: 'rw' is not an octal mode from 0 to 0777");
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

/* libinih merges a repeated key or section silently: both are errors,
   reported where they repeat, and the first problem in the file wins. */
static void test_duplicates(void **state)
{
	char *error = NULL;
	struct config *c;

	(void)state;
	expect_error("[server]\nworkers = 2\nlog = stderr\nworkers = 3\n", 4,
		     "server.workers given twice (first at line 2)");
	expect_error("[server]\nworkers = 2\n[mail]\nfsync = no\n[server]\n"
		     "log = stderr\n",
		     5, "section [server] given twice (first at line 1)");
	expect_error("[server]\nworkers = x\nworkers = 3\n", 2,
		     "server.workers: 'x' is not a number");
	expect_error("[server]\nworkers = 2\nworkers = 3\nbogus = 1\n", 3,
		     "server.workers given twice");
	expect_error("[server]\nworkers = 2\nworkers: 3\n", 3,
		     "server.workers given twice");
	/* the same name in two sections is two keys */
	c = load("[imap]\ntimeout = 1800\n[pop3]\ntimeout = 600\n", &error);
	assert_non_null(c);
	config_free(&c);
}

static void test_key_lines(void **state)
{
	char *error = NULL;
	struct config *c = load("# comment\n[server]\n\n  workers = 2\n"
				"[listen]\npop3 = 127.0.0.1:110\n"
				"[tls]\nkey: /k.pem\n",
				&error);

	(void)state;
	assert_non_null(c);
	assert_int_equal(config_line(c, &c->workers), 4);
	assert_int_equal(config_line(c, &c->listen[CONFIG_LISTEN_POP3]), 6);
	assert_int_equal(config_line(c, &c->tls_key), 8);
	assert_int_equal(config_line(c, &c->user), 0); /* default */
	assert_int_equal(config_line(c, &c->listen[CONFIG_LISTEN_IMAP]), 0);
	assert_int_equal(config_line(c, &c->path), 0); /* not a key */
	config_free(&c);
	c = config_new_defaults();
	assert_int_equal(config_line(c, &c->workers), 0);
	config_free(&c);
}

/* --- config_check() --- */

static char check_key[64] = "/tmp/merpati-test-key-XXXXXX";
static char check_users[64] = "/tmp/merpati-test-users-XXXXXX";

/* A key file readable by its owner only and an empty passwd-file. */
static int check_setup(void **state)
{
	char path[1024], data[8192];
	const char *src = getenv("MERPATI_SRC");
	FILE *in;
	size_t n;
	int fd;

	(void)state;
	assert_non_null(src);
	snprintf(check_key, sizeof(check_key), "/tmp/merpati-test-key-XXXXXX");
	snprintf(check_users, sizeof(check_users),
		 "/tmp/merpati-test-users-XXXXXX");
	snprintf(path, sizeof(path), "%s/test/integration/certs/key1.pem", src);
	in = fopen(path, "r");
	assert_non_null(in);
	n = fread(data, 1, sizeof(data), in);
	fclose(in);
	fd = mkstemp(check_key);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	fd = mkstemp(check_users);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int check_teardown(void **state)
{
	(void)state;
	unlink(check_key);
	unlink(check_users);
	return 0;
}

/*
 * Runs config_check() on a config that passes every check, with the line
 * starting with `key` replaced by `line` (NULL: none). Lines:
 * 2 user, 4 imap, 5 imaps, 6 pop3, 9 cert, 10 key, 12 backend, 14 root.
 * Returns the error count; *out_r gets what it wrote.
 */
static unsigned check_with(const char *key, const char *line, char **out_r,
			   char **path_r)
{
	char lines[14][1024], text[16384] = "", *error = NULL;
	const char *src = getenv("MERPATI_SRC");
	struct config *c;
	size_t size = 0;
	FILE *out;
	unsigned n;

	snprintf(lines[0], 1024, "[server]");
	snprintf(lines[1], 1024, "user = nobody");
	snprintf(lines[2], 1024, "[listen]");
	snprintf(lines[3], 1024, "imap = 127.0.0.1:1143");
	snprintf(lines[4], 1024, "imaps = 127.0.0.1:1993");
	snprintf(lines[5], 1024, "pop3 =");
	snprintf(lines[6], 1024, "pop3s =");
	snprintf(lines[7], 1024, "[tls]");
	snprintf(lines[8], 1024, "cert = %s/test/integration/certs/cert1.pem",
		 src);
	snprintf(lines[9], 1024, "key = %s", check_key);
	snprintf(lines[10], 1024, "[auth]");
	snprintf(lines[11], 1024, "backend = passwd-file %s", check_users);
	snprintf(lines[12], 1024, "[mail]");
	snprintf(lines[13], 1024, "root = /var/mail/%%u");
	for (int i = 0; i < 14; i++) {
		if (key != NULL && strncmp(lines[i], key, strlen(key)) == 0)
			snprintf(lines[i], 1024, "%s", line);
		strcat(text, lines[i]);
		strcat(text, "\n");
	}
	*path_r = write_conf(text);
	c = config_load(*path_r, &error);
	if (c == NULL)
		fail_msg("%s", error);
	out = open_memstream(out_r, &size);
	n = config_check(c, "test", out);
	fclose(out);
	config_free(&c);
	return n;
}

static void expect_checked(const char *key, const char *line, unsigned errors,
			   int at, const char *reason)
{
	char *out, *path, want[2048];
	unsigned n = check_with(key, line, &out, &path);

	snprintf(want, sizeof(want), "test: %s:%d: %s", path, at, reason);
	if (n != errors || strstr(out, want) == NULL)
		fail_msg("%u errors (want %u); output '%s' lacks '%s'", n,
			 errors, out, want);
	unlink(path);
	free(path);
	free(out);
}

static void test_check_good(void **state)
{
	char *out, *path;

	(void)state;
	assert_int_equal(check_with(NULL, NULL, &out, &path), 0);
	assert_string_equal(out, "");
	unlink(path);
	free(path);
	free(out);
}

static void test_check_errors(void **state)
{
	char line[1024], want[1024];

	(void)state;
	expect_checked("imap =", "imap = 127.0.0.1:99999", 1, 4,
		       "listen.imap: 127.0.0.1:99999: bad port (1-65535)");
	expect_checked("imap =", "imap = 127.0.0.1", 1, 4,
		       "listen.imap: 127.0.0.1: expected host:port");
	expect_checked("pop3 =", "pop3 = 127.0.0.1:1143", 1, 6,
		       "listen.pop3: 127.0.0.1:1143 is also in listen.imap");
	expect_checked(
		"user =", "user = root", 1, 2,
		"server.user = root has uid 0: the workers refuse to serve as root");
	expect_checked("user =", "user =", 1, 2, "server.user is empty");
	expect_checked("backend =", "backend = ldap foo", 1, 12,
		       "auth.backend: unknown backend");
	expect_checked(
		"backend =", "backend = passwd-file /nonexistent/users", 1, 12,
		"auth.backend: passwd-file /nonexistent/users: No such file or directory");
	expect_checked("backend =", "backend = passwd-file /tmp", 1, 12,
		       "auth.backend: passwd-file /tmp: not a regular file");
	snprintf(line, sizeof(line), "backend = checkpassword %s", check_users);
	snprintf(want, sizeof(want),
		 "auth.backend: checkpassword %s: not executable", check_users);
	expect_checked("backend =", line, 1, 12, want);
	expect_checked("root =", "root = /srv/%z", 1, 14,
		       "mail.root = /srv/%z: unknown %-variable in mail root");
	expect_checked("root =", "root = srv/%u", 1, 14,
		       "mail.root = srv/%u: mail root is not an absolute path");
	expect_checked("cert =", "cert = /nonexistent/cert.pem", 1, 9, "tls: ");
}

/* The reload's form: errors only, joined, no warnings. */
static void test_check_text(void **state)
{
	char *out, *path, *error = (char *)"x";
	struct config *c;

	(void)state;
	chmod(check_key, 0644); /* a warning only: still fine */
	assert_int_equal(check_with("root =", "root = /srv/%z", &out, &path),
			 1);
	free(out);
	c = config_load(path, &error);
	assert_non_null(c);
	free(c->user);
	c->user = strdup("root");
	assert_int_equal(config_check_text(c, &error), -1);
	if (strstr(error, ": server.user = root has uid 0") == NULL ||
	    strstr(error, "; ") == NULL ||
	    strstr(error, ":14: mail.root = /srv/%z: unknown") == NULL ||
	    strstr(error, "warning") != NULL || strchr(error, '\n') != NULL)
		fail_msg("%s", error);
	free(error);
	config_free(&c);
	unlink(path);
	free(path);
	assert_int_equal(check_with(NULL, NULL, &out, &path), 0);
	free(out);
	c = config_load(path, &error);
	assert_non_null(c);
	assert_int_equal(config_check_text(c, &error), 0);
	assert_null(error);
	config_free(&c);
	unlink(path);
	free(path);
}

static void test_check_key_mode(void **state)
{
	char want[1024];

	(void)state;
	char *out, *path;

	chmod(check_key, 0640); /* group-readable (ssl-cert) is normal */
	assert_int_equal(check_with(NULL, NULL, &out, &path), 0);
	assert_string_equal(out, "");
	unlink(path);
	free(path);
	free(out);
	chmod(check_key, 0644);
	snprintf(want, sizeof(want),
		 "warning: tls.key: %s is readable by every user (chmod o-r)",
		 check_key);
	expect_checked(NULL, NULL, 0, 10, want);
	chmod(check_key, 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_comments),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lmtp),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_whole_file_checks),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_key_lines),
		cmocka_unit_test_setup_teardown(test_check_good, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_errors, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_text, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_key_mode,
						check_setup, check_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
