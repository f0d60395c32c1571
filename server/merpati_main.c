/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merpati: the admin tool. See merpati(1). */
#include "server/cli.h"

#include <stdio.h>
#include <string.h>

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct cli_command commands[] = {
	{"pw", cli_pw,
	 "pw [-s SCHEME]            hash a password read from stdin or a prompt"},
	{"user", cli_user,
	 "user [-c FILE] USER       show how the configured auth resolves USER"},
	{"deliver", cli_deliver,
	 "deliver [-c FILE] [-m FOLDER] USER < message   store one message"},
	{"ls", cli_ls,
	 "ls [-c FILE] USER [FOLDER] list messages: UID FLAGS SIZE BASENAME"},
	{"index", cli_index, "index [-c FILE] USER [FOLDER]  rebuild caches"},
	{"check", cli_check,
	 "check [-c FILE]           validate a configuration file"},
	{"autoconfig", cli_autoconfig,
	 "autoconfig [-c FILE] [--srv] DOMAIN  client autoconfig XML or SRV"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: merpati COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  merpati %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 64;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("merpati %s\n", MERPATI_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "merpati: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 64;
}
