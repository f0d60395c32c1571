/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_glue: the [auth] and [mail] parts of merpati.conf as the auth module
 * wants them (auth/auth.h keeps no knowledge of the config record).
 *
 * The master, once at start, then at every SIGHUP / helper death:
 *
 *   int cfd, sfd;    // once: the channel (auth_server.h), kept for life
 *   if (auth_server_channel(&cfd, &sfd, &error) < 0) fatal;
 *   pid_t helper;
 *   if (auth_glue_spawn(config, sfd, &helper, &error) < 0) retry later;
 *
 * and each worker, after closing sfd, privdrop_to_user() and creating its
 * loop:
 *
 *   struct auth_client *ac = auth_client_new(loop, cfd);
 *   ... hand ac to imap_settings.auth / pop3_settings.auth ...
 *   auth_client_free(&ac) at exit.
 */
#ifndef MERPATI_AUTH_GLUE_H
#define MERPATI_AUTH_GLUE_H

#include "auth/auth.h"
#include "server/config.h"

#include <sys/types.h>

/*
 * Fills *set from config. Strings are borrowed from config: keep it alive
 * while set is used. peer_uid is
 * server.user's uid (the current uid when not running as root). Returns
 * 0, or -1 with a reason (static storage).
 */
int auth_glue_settings(const struct config *config, struct auth_settings *set_r,
		       const char **error_r);

/* config's plaintext policy in auth.h's terms. */
enum auth_plaintext auth_glue_plaintext(enum config_plaintext policy);

/* auth_glue_settings() + auth_server_spawn(): forks the auth helper on
   the channel's server end channel_fd. */
int auth_glue_spawn(const struct config *config, int channel_fd, pid_t *pid_r,
		    const char **error_r);

#endif
