/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_passwd_file: Dovecot's passwd-file format.
 *
 *   user:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
 *
 * One user per line; '#' starts a comment line; blank lines are skipped.
 * Only user and password are required; missing trailing fields are empty.
 * Everything after the seventh ':' is the extra fields, separated by
 * spaces (so they may contain ':', as in `userdb_mail=maildir:~/Maildir`).
 * Known extra fields: `nopassword` (any password is accepted; honoured only
 * when the password field is empty), `userdb_mail=` / `mail=` (the mail
 * root); every other `userdb_KEY=VALUE` becomes a per-user override
 * `KEY=VALUE`, and bare `KEY=VALUE` passdb fields are kept as they are.
 *
 * A malformed line (no ':', a bad user name, a non-numeric uid/gid, a
 * duplicate user) is logged with file and line and skipped; the rest of
 * the file still works. The backend re-reads the file when its inode, size
 * or mtime changed (checked on every request).
 */
#ifndef MERPATI_AUTH_PASSWD_FILE_H
#define MERPATI_AUTH_PASSWD_FILE_H

#include <stddef.h>

struct auth_passwd_entry {
	const char *user;
	const char *password;			      /* "" when none */
	const char *uid, *gid, *gecos, *home, *shell; /* "" when absent */
	const char *mail;   /* from userdb_mail= or mail=, or NULL */
	const char **extra; /* other extra fields, NULL-terminated */
	unsigned line;
	int nopassword; /* nopassword given and password empty */
};

struct auth_passwd_file;

/* A passwd file at path (not read yet). */
struct auth_passwd_file *auth_passwd_file_new(const char *path);
void auth_passwd_file_free(struct auth_passwd_file **file);

/*
 * Re-reads the file if it changed since the last read. Returns 0 (the
 * table is current), or -1 with a reason when the file cannot be read (the
 * table is then empty: lookups must answer TEMPFAIL, not FAIL).
 */
int auth_passwd_file_refresh(struct auth_passwd_file *file,
			     const char **error_r);

/*
 * Replaces the table with the parse of data (for refresh and tests).
 * Returns the number of malformed lines skipped (each one logged).
 */
unsigned auth_passwd_file_parse(struct auth_passwd_file *file, const char *data,
				size_t len);

/* The entry for user (exact match, then with the domain lower-cased), or
   NULL. Valid until the next refresh or parse. */
const struct auth_passwd_entry *
auth_passwd_file_find(const struct auth_passwd_file *file, const char *user);

/* Number of users in the table. */
size_t auth_passwd_file_count(const struct auth_passwd_file *file);

#endif
