/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privdrop: becoming the mail owner.
 *
 * The daemon binds its ports and reads its keys as root, then drops to
 * server.user before it serves; the admin tool does the same before it
 * touches mail.
 */
#ifndef MERPATI_PRIVDROP_H
#define MERPATI_PRIVDROP_H

#include <sys/types.h>

/*
 * Switches the process to `user` (its uid, primary gid and supplementary
 * groups) for good. When not running as root this only checks that the
 * current uid already is that user's, or accepts any user when the process
 * is not root and `user` is NULL or empty. Returns 0, or -1 with a reason
 * in *error_r (static storage).
 */
int privdrop_to_user(const char *user, const char **error_r);

/* Looks up user's uid and gid. Returns 0, or -1 with a reason. */
int privdrop_lookup(const char *user, uid_t *uid_r, gid_t *gid_r,
		    const char **error_r);

#endif
