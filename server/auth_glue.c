/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/auth_glue.h"

#include "auth/auth_server.h"
#include "server/privdrop.h"
#include "server/sandbox.h"

#include <string.h>
#include <unistd.h>

int auth_glue_settings(const struct config *config, struct auth_settings *set_r,
		       const char **error_r)
{
	uid_t uid = getuid();
	gid_t gid;

	memset(set_r, 0, sizeof(*set_r));
	/* As root, workers run as server.user; otherwise as we do. */
	if (uid == 0 && config->user != NULL && config->user[0] != '\0' &&
	    privdrop_lookup(config->user, &uid, &gid, error_r) < 0)
		return -1;
	set_r->backend = config->auth_backend;
	set_r->allow_plain_scheme = config->auth_allow_plain_scheme;
	set_r->workers = config->auth_workers > 0 ? config->auth_workers : 1;
	set_r->penalty_max = config->auth_penalty_max;
	set_r->checkpassword_timeout = config->auth_checkpassword_timeout;
	set_r->mail_root = config->mail_root;
	set_r->peer_uid = uid;
	set_r->child_setup = config->sandbox ? sandbox_enter_auth_helper
					     : sandbox_auth_helper_unconfined;
	return auth_settings_check(set_r, error_r);
}

enum auth_plaintext auth_glue_plaintext(enum config_plaintext policy)
{
	switch (policy) {
	case CONFIG_PLAINTEXT_ALWAYS:
		return AUTH_PLAINTEXT_ALWAYS;
	case CONFIG_PLAINTEXT_TLS_OR_LOOPBACK:
		return AUTH_PLAINTEXT_TLS_OR_LOOPBACK;
	case CONFIG_PLAINTEXT_TLS:
		break;
	}
	return AUTH_PLAINTEXT_TLS;
}

int auth_glue_spawn(const struct config *config, int channel_fd, pid_t *pid_r,
		    const char **error_r)
{
	struct auth_settings set;

	if (auth_glue_settings(config, &set, error_r) < 0)
		return -1;
	return auth_server_spawn(&set, channel_fd, pid_r, error_r);
}
