/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/cli.h"

#include "server/config.h"
#include "server/config_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* merpati check [-c FILE]: the configuration as merpatid -t checks it
   (config_check.h): addresses, TLS files, user, auth backends, mail.root. */
int cli_check(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	struct config *config;
	char *error = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "usage: merpati check [-c FILE]\n");
			return 64;
		}
		path = optarg;
	}
	config = config_load(path, &error);
	if (config == NULL) {
		fprintf(stderr, "merpati check: %s\n", error);
		free(error);
		return 1;
	}
	if (config_check(config, "merpati check", stderr) > 0) {
		config_free(&config);
		return 1;
	}
	printf("merpati check: %s: configuration and TLS files are valid\n",
	       path);
	config_free(&config);
	return 0;
}
