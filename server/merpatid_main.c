/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merpatid: the POP3 and IMAP daemon. See merpatid(8). */
#include "lib/log.h"
#include "server/config.h"
#include "server/config_check.h"
#include "server/master.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: merpatid [-c FILE] [-f] [-n] [-t]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground and log to stderr\n"
		"  -n       print the effective configuration and exit\n"
		"  -t       check the configuration and exit\n"
		"  -V       print the version and exit\n",
		CONFIG_DEFAULT_PATH);
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	bool foreground = false, print = false, test = false;
	struct config *config;
	char *error = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "c:fntVh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			print = true;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("merpatid %s\n", MERPATI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	config = config_load(path, &error);
	if (config == NULL) {
		fprintf(stderr, "merpatid: %s\n", error);
		free(error);
		return 1;
	}
	if (print) {
		config_print(config, stdout);
		config_free(&config);
		return 0;
	}
	/* -t and the start run the same checks (config_check.h) */
	if (config_check(config, "merpatid", stderr) > 0) {
		config_free(&config);
		return 1;
	}
	if (test) {
		printf("merpatid: %s: configuration is valid\n", path);
		config_free(&config);
		return 0;
	}
	if (!foreground && daemonize() < 0) {
		perror("merpatid: daemonize");
		return 1;
	}
	log_init("merpatid", foreground ? LOG_TARGET_STDERR : config->log,
		 config->log_level);
	return master_run(config, path);
}
