/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox: what a serving process can still reach once it serves.
 *
 * After the privilege drop each worker restricts itself with Landlock to
 * the fixed directory of mail.root (read, write, create, remove, rename
 * across folders, truncate) and nothing else: no other file can be opened,
 * nothing executed, no TCP port bound or connected to, no process or
 * abstract unix socket outside the sandbox reached. The auth helper, when
 * its chain holds only passwd-file backends, may read the directories of
 * those files and /proc, and nothing else. The rules are inherited by every thread created after the
 * call, and by children; they can never be lifted.
 *
 * Landlock is used through its raw system calls; each rule family is used
 * when the running kernel offers it (ABI 2: rename across directories,
 * 3: truncate, 4: TCP, 5: device ioctls, 6: signal and socket scopes). A kernel
 * without Landlock, or with ABI 1 (which forbids the rename from tmp/ to
 * new/ every delivery needs), leaves the process as it was and says so in
 * one log line. See doc/security.md.
 *
 *   // worker, right after privdrop_to_user():
 *   if (sandbox_enter_worker(config, &error) < 0) fatal(error);
 *
 * The environment variable MERPATI_SANDBOX_PROBE lets tests look from
 * inside: a space-separated list of "read:PATH", "write:PATH" (an existing
 * file, opened for writing and closed unchanged), "tcp:HOST:PORT" (IPv4)
 * and "unshare" (unshare(0): off the worker's seccomp list); each is tried once after the sandbox is entered and logged as
 * `event=sandbox_probe process=P op=O target="T" result=ok|EACCES|...`.
 */
#ifndef MERPATI_SANDBOX_H
#define MERPATI_SANDBOX_H

#include "auth/auth.h"
#include "server/config.h"

enum sandbox_access {
	SANDBOX_READ,	    /* read files, list directories */
	SANDBOX_READ_WRITE, /* also create, write, truncate, remove, rename */
};

struct sandbox;

/*
 * The Landlock ABI version the kernel offers: 0 when it has none (not
 * built, disabled at boot), else 1.. . Asks the kernel once per call.
 */
int sandbox_landlock_abi(void);

/*
 * A rule set to fill with sandbox_allow() and enter with sandbox_apply().
 * When the kernel offers no usable Landlock (see above) the set is inert:
 * sandbox_allow() accepts everything and sandbox_apply() returns 0.
 * restrict_fs false leaves files alone (only TCP and signals are limited).
 */
struct sandbox *sandbox_new(bool restrict_fs);
void sandbox_free(struct sandbox **sb);

/*
 * Allows `access` beneath the directory `path` (which must exist and is
 * opened now: later renames of it do not matter). Returns 0, or -1 with a
 * reason in *error_r (static storage, names the path).
 */
int sandbox_allow(struct sandbox *sb, const char *path,
		  enum sandbox_access access, const char **error_r);

/*
 * Restricts the calling process (and threads and children it creates from
 * now on). scope_abstract also forbids connecting to abstract unix
 * sockets made outside the sandbox. Sets no_new_privs. Returns the ABI
 * used (>= 2), 0 when Landlock is unavailable (nothing changed), or -1
 * with a reason in *error_r (static storage).
 */
int sandbox_apply(struct sandbox *sb, bool scope_abstract,
		  const char **error_r);

/*
 * The directory every mail root of the template lies in: the template up
 * to the last '/' before its first '%' ("/var/vmail/%d/%n" -> "/var/vmail",
 * "/srv/mail" -> "/srv/mail"), or NULL when there is none (a template
 * starting with '~' or '%', or a relative one). Caller frees.
 */
char *sandbox_mail_prefix(const char *mail_root_template);

/*
 * The worker's sandbox, after the privilege drop, before any thread is
 * made: with config->sandbox off it only runs the probes; otherwise it
 * enters it, loads the seccomp filter (sandbox_private.h), logs one line
 * (`event=sandbox process=worker landlock_abi=N ... seccomp=on` or
 * `state=unavailable`) and runs the probes. Returns 0, or -1 with a
 * reason (static storage): the worker must not serve then.
 */
int sandbox_enter_worker(const struct config *config, const char **error_r);

/*
 * The auth helper's sandbox (an auth_settings.child_setup hook): for a
 * chain of passwd-file backends only, read access to their files'
 * directories and /proc (peer checks) and nothing else; other chains (checkpassword, PAM run
 * external code) stay unrestricted, and the log says so. On an error the
 * helper exits (the master restarts it).
 */
void sandbox_enter_auth_helper(const struct auth_settings *set);

/* The helper's hook with server.sandbox = no: only runs the probes. */
void sandbox_auth_helper_unconfined(const struct auth_settings *set);

#endif
