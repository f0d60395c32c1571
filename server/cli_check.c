#include "server/cli.h"

#include "server/config.h"
#include "server/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* merpati check [-c FILE]: the configuration, the TLS files and the
   listener addresses as merpatid would take them. */
int cli_check(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	struct config *config;
	struct tls_creds *creds;
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
	creds = tls_creds_load(config->tls_cert, config->tls_key,
			       config->tls_priorities, &error);
	if (creds == NULL) {
		fprintf(stderr, "merpati check: %s: %s\n", path, error);
		free(error);
		config_free(&config);
		return 1;
	}
	tls_creds_unref(&creds);
	printf("merpati check: %s: configuration and TLS files are valid\n",
	       path);
	config_free(&config);
	return 0;
}
