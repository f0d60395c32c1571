/*
 * auth_glue: the [auth] and [mail] parts of merpati.conf as the auth module
 * wants them (auth/auth.h keeps no knowledge of the config record).
 *
 * The master, at start and on every SIGHUP / helper death:
 *
 *   char name[64];   // once: "merpati-auth-<masterpid>"
 *   snprintf(name, sizeof(name), "merpati-auth-%ld", (long)getpid());
 *   pid_t helper;
 *   if (auth_glue_spawn(config, name, &helper, &error) < 0) fatal;
 *
 * and each worker, after privdrop_to_user() and creating its loop:
 *
 *   struct auth_client *ac = auth_client_new(loop, name);
 *   ... hand ac to imap_settings.auth / pop3_settings.auth ...
 *   auth_client_free(&ac) at exit.
 */
#ifndef MERPATI_AUTH_GLUE_H
#define MERPATI_AUTH_GLUE_H

#include "auth/auth.h"
#include "server/config.h"

#include <sys/types.h>

/*
 * Fills *set from config. Strings are borrowed from config and
 * socket_name: keep both alive while set is used. peer_uid is
 * server.user's uid (the current uid when not running as root). Returns
 * 0, or -1 with a reason (static storage).
 */
int auth_glue_settings(const struct config *config, const char *socket_name,
		       struct auth_settings *set_r, const char **error_r);

/* config's plaintext policy in auth.h's terms. */
enum auth_plaintext auth_glue_plaintext(enum config_plaintext policy);

/* auth_glue_settings() + auth_server_spawn(): forks the auth helper. */
int auth_glue_spawn(const struct config *config, const char *socket_name,
		    pid_t *pid_r, const char **error_r);

#endif
