/* Placeholder until the auth module lands; replaced by the auth work. */
#include "server/cli.h"

#include <stdio.h>

static int not_yet(const char *name)
{
	fprintf(stderr, "merpati %s: not available in this build yet\n", name);
	return 69;
}

int cli_pw(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int cli_user(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}
