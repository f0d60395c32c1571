/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merpati pw: make password hashes; merpati user: show how the configured
 * auth resolves a user. See merpati(1) and doc/auth.md.
 */
#include "server/cli.h"

#include "auth/auth.h"
#include "auth/auth_hash.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth_glue.h"
#include "server/config.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PW_LINE_MAX (AUTH_PASSWORD_MAX + 2)

/* Reads one line from f without its line end. Returns 0 or -1. */
static int read_line(FILE *f, char *buf, size_t size)
{
	size_t len;

	if (fgets(buf, (int)size, f) == NULL)
		return -1;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && !feof(f))
		return -1; /* too long */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return 0;
}

/* Prompts on the terminal with echo off. Returns 0 or -1. */
static int prompt(FILE *tty, const char *text, char *buf, size_t size)
{
	struct termios old, quiet;
	int fd = fileno(tty), ret;

	fputs(text, stderr);
	fflush(stderr);
	if (tcgetattr(fd, &old) < 0)
		return read_line(tty, buf, size);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	ret = read_line(tty, buf, size);
	tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", stderr);
	return ret;
}

static int read_password(char *pw, size_t size)
{
	char again[PW_LINE_MAX];
	FILE *tty;
	int ret = 0;

	if (!isatty(STDIN_FILENO)) {
		if (read_line(stdin, pw, size) < 0) {
			fprintf(stderr,
				"merpati pw: no password on stdin (or longer than %d bytes)\n",
				AUTH_PASSWORD_MAX);
			return -1;
		}
		return 0;
	}
	tty = fopen("/dev/tty", "r+");
	if (tty == NULL)
		tty = stdin;
	if (prompt(tty, "Enter new password: ", pw, size) < 0 ||
	    prompt(tty, "Retype new password: ", again, sizeof(again)) < 0) {
		fprintf(stderr, "merpati pw: no password read\n");
		ret = -1;
	} else if (strcmp(pw, again) != 0) {
		fprintf(stderr, "merpati pw: passwords do not match\n");
		ret = -1;
	}
	explicit_bzero(again, sizeof(again));
	if (tty != stdin)
		fclose(tty);
	return ret;
}

/* merpati pw [-s SCHEME] [-r ROUNDS] [-t HASH] */
int cli_pw(int argc, char **argv)
{
	const char *scheme = AUTH_HASH_DEFAULT_SCHEME, *test = NULL;
	const char *error = NULL;
	unsigned long rounds = 0;
	char pw[PW_LINE_MAX], *hash;
	int opt, ret;

	while ((opt = getopt(argc, argv, "s:r:t:")) != -1) {
		switch (opt) {
		case 's':
			scheme = optarg;
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 't':
			test = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: merpati pw [-s SCHEME] [-r ROUNDS] [-t HASH]\n"
				"schemes: YESCRYPT (default), SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, SCRAM-SHA-256, PLAIN\n");
			return 64;
		}
	}
	if (read_password(pw, sizeof(pw)) < 0) {
		explicit_bzero(pw, sizeof(pw));
		return 1;
	}
	if (test != NULL) {
		ret = auth_hash_verify(test, pw, true, &error);
		explicit_bzero(pw, sizeof(pw));
		if (ret < 0) {
			fprintf(stderr, "merpati pw: %s\n", error);
			return 1;
		}
		printf("%s\n", ret == 1 ? "verified" : "does not match");
		return ret == 1 ? 0 : 1;
	}
	hash = auth_hash_make(scheme, pw, rounds, &error);
	explicit_bzero(pw, sizeof(pw));
	if (hash == NULL) {
		fprintf(stderr, "merpati pw: %s\n", error);
		return 64;
	}
	printf("%s\n", hash);
	free(hash);
	return 0;
}

struct user_result {
	bool done;
	enum auth_result result;
	struct auth_user *user;
	char reason[256];
};

static void user_cb(enum auth_result result, struct auth_user *user,
		    const char *reason, void *context)
{
	struct user_result *r = context;

	r->done = true;
	r->result = result;
	r->user = user;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

static void print_user(const struct auth_user *u)
{
	const char *cred = u->credential;
	const char *end = cred != NULL ? strchr(cred, '}') : NULL;

	printf("user      %s\n", u->name);
	printf("backend   %s\n", u->backend != NULL ? u->backend : "-");
	printf("mail_root %s\n", u->mail_root);
	printf("home      %s\n", u->home != NULL ? u->home : "-");
	/* the scheme, never the hash */
	if (cred == NULL || cred[0] == '\0')
		printf("password  %s\n",
		       u->nopassword ? "(nopassword: any)" : "(none)");
	else if (cred[0] == '{' && end != NULL)
		printf("password  %.*s\n", (int)(end - cred + 1), cred);
	else if (cred[0] == '$')
		printf("password  {CRYPT} (%.*s)\n",
		       (int)strcspn(cred + 1, "$") + 2, cred);
	else
		printf("password  (unrecognised scheme)\n");
	for (char **o = u->overrides; *o != NULL; o++)
		printf("override  %s\n", *o);
}

/* merpati user [-c FILE] USER */
int cli_user(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH, *error = NULL;
	struct user_result r = {0};
	struct auth_settings set;
	struct config *config;
	struct ev_loop *loop;
	struct auth *auth;
	char *cerror = NULL, *root;
	int opt, status;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "usage: merpati user [-c FILE] USER\n");
			return 64;
		}
		path = optarg;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: merpati user [-c FILE] USER\n");
		return 64;
	}
	config = config_load(path, &cerror);
	if (config == NULL) {
		fprintf(stderr, "merpati user: %s\n", cerror);
		free(cerror);
		return 78;
	}
	log_init("merpati", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	if (auth_glue_settings(config, &set, &error) < 0) {
		fprintf(stderr, "merpati user: %s\n", error);
		config_free(&config);
		return 78;
	}
	loop = ev_loop_new(EVFLAG_AUTO);
	auth = auth_new(loop, &set, &error);
	if (auth == NULL) {
		fprintf(stderr, "merpati user: %s\n", error);
		ev_loop_destroy(loop);
		config_free(&config);
		return 78;
	}
	(void)auth_lookup(auth, argv[optind], user_cb, &r);
	while (!r.done)
		ev_run(loop, EVRUN_ONCE);
	switch (r.result) {
	case AUTH_RESULT_OK:
		print_user(r.user);
		status = 0;
		break;
	case AUTH_RESULT_FAIL:
		if (strstr(r.reason, "not supported") != NULL) {
			/* checkpassword / PAM: only a login can tell. */
			root = auth_mail_root_expand(
				config->mail_root, argv[optind], NULL, &error);
			printf("user      %s\nbackend   %s (verify-only: cannot look users up)\nmail_root %s\n",
			       argv[optind], config->auth_backend,
			       root != NULL ? root : error);
			free(root);
			status = 0;
			break;
		}
		fprintf(stderr, "merpati user: %s: %s\n", argv[optind],
			r.reason);
		status = 67; /* EX_NOUSER */
		break;
	default:
		fprintf(stderr, "merpati user: %s: temporary failure: %s\n",
			argv[optind], r.reason);
		status = 75; /* EX_TEMPFAIL */
		break;
	}
	auth_user_free(&r.user);
	auth_free(&auth);
	ev_loop_destroy(loop);
	config_free(&config);
	return status;
}
