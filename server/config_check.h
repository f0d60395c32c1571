/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config_check: what merpatid checks before it serves, without starting
 * anything: listener addresses, the TLS files, server.user, the auth
 * backends and their files, mail.root.
 *
 * merpatid -t, merpati check and merpatid's start-up all run it, so a file
 * that passes does not fail at start (or leave a worker dying every second)
 * for a reason the check could have seen. Only the moment can still fail:
 * a port another process holds, a file that changes afterwards.
 */
#ifndef MERPATI_CONFIG_CHECK_H
#define MERPATI_CONFIG_CHECK_H

#include "server/config.h"

#include <stdio.h>

/*
 * Checks a loaded configuration. Writes every problem to out, one a line:
 * "<prefix>: FILE:LINE: reason" (without LINE when the value is a default),
 * and what works but should not be so (a TLS key other users can read) as
 * "<prefix>: FILE:LINE: warning: reason". Returns the number of errors;
 * warnings are not counted.
 */
unsigned config_check(const struct config *config, const char *prefix,
		      FILE *out);

/*
 * The same checks for a reload (SIGHUP): returns 0, or -1 with the errors
 * ("FILE:LINE: reason", several joined by "; ") in *error_r (caller frees).
 * Warnings are left out.
 */
int config_check_text(const struct config *config, char **error_r);

#endif
