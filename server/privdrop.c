/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static char privdrop_error[256];

int privdrop_lookup(const char *user, uid_t *uid_r, gid_t *gid_r,
		    const char **error_r)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(privdrop_error, sizeof(privdrop_error),
			 "unknown user '%s' (server.user)", user);
		*error_r = privdrop_error;
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

int privdrop_to_user(const char *user, const char **error_r)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0) {
		if (user == NULL || *user == '\0')
			return 0;
		if (privdrop_lookup(user, &uid, &gid, error_r) < 0)
			return -1;
		if (uid != geteuid()) {
			snprintf(
				privdrop_error, sizeof(privdrop_error),
				"not running as root and not as server.user '%s'",
				user);
			*error_r = privdrop_error;
			return -1;
		}
		return 0;
	}
	if (user == NULL || *user == '\0') {
		*error_r = "server.user is empty: refusing to run as root";
		return -1;
	}
	if (privdrop_lookup(user, &uid, &gid, error_r) < 0)
		return -1;
	if (uid == 0) {
		*error_r = "server.user is root: refusing to serve as root";
		return -1;
	}
	if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		snprintf(privdrop_error, sizeof(privdrop_error),
			 "dropping privileges to '%s': %s", user,
			 strerror(errno));
		*error_r = privdrop_error;
		return -1;
	}
	/* make sure there is no way back */
	if (setuid(0) == 0) {
		*error_r = "privilege drop did not stick";
		return -1;
	}
	/* allow core dumps of the dropped process for debugging */
	(void)prctl(PR_SET_DUMPABLE, 1);
	return 0;
}
