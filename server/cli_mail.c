/* Placeholder until the storage layer lands; replaced by the storage work. */
#include "server/cli.h"

#include <stdio.h>

static int not_yet(const char *name)
{
	fprintf(stderr, "merpati %s: not available in this build yet\n", name);
	return 69;
}

int cli_deliver(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int cli_ls(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int cli_index(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}
