/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli: the subcommands of the `merpati` admin tool.
 *
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status. Every subcommand that
 * touches mail switches to the configured mail owner first
 * (privdrop_to_user()), so files it creates belong to that user.
 */
#ifndef MERPATI_CLI_H
#define MERPATI_CLI_H

int cli_pw(int argc, char **argv);   /* merpati pw [-s SCHEME] */
int cli_user(int argc, char **argv); /* merpati user [-c FILE] USER */
int cli_deliver(int argc,
		char **argv);	   /* merpati deliver [-c F] [-m FOLDER] USER */
int cli_ls(int argc, char **argv); /* merpati ls [-c FILE] USER [FOLDER] */
int cli_index(int argc,
	      char **argv); /* merpati index [-c FILE] USER [FOLDER] */
int cli_check(int argc, char **argv); /* merpati check [-c FILE] */
/* merpati autoconfig [-c FILE] [--srv] DOMAIN */
int cli_autoconfig(int argc, char **argv);

#endif
