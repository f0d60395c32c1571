/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/sandbox.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/sandbox_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's <linux/landlock.h> stops at ABI 2: the later parts of the
   kernel's interface, as include/uapi/linux/landlock.h defines them. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes the longer
   struct from older headers' callers as long as unknown fields are 0. */
struct sandbox_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define SANDBOX_FS_READ \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define SANDBOX_FS_WRITE                                                 \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |  \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER |        \
	 LANDLOCK_ACCESS_FS_TRUNCATE)
#define SANDBOX_PROBE_ENV "MERPATI_SANDBOX_PROBE"

#define SANDBOX_PROBES_MAX 16

/* Rules are collected before the ruleset exists (its scopes are only
   known at apply time), each as an O_PATH descriptor opened when added. */
struct sandbox_rule {
	int fd;
	uint64_t access;
};

struct sandbox {
	int abi;	  /* 0: inert (no usable Landlock) */
	uint64_t fs_mask; /* what this kernel knows and we handle */
	bool restrict_fs;
	struct sandbox_rule *rules;
	size_t n_rules;
};

static char sandbox_error[512];

static long landlock_create_ruleset(const struct sandbox_ruleset_attr *attr,
				    size_t size, uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static long landlock_add_rule(int fd, int type, const void *attr,
			      uint32_t flags)
{
	return syscall(SYS_landlock_add_rule, fd, type, attr, flags);
}

static long landlock_restrict_self(int fd, uint32_t flags)
{
	return syscall(SYS_landlock_restrict_self, fd, flags);
}

int sandbox_landlock_abi(void)
{
	long abi = landlock_create_ruleset(NULL, 0,
					   LANDLOCK_CREATE_RULESET_VERSION);

	return abi > 0 && abi < 1000 ? (int)abi : 0;
}

/* Every file right this ABI knows: what is handled is denied unless a
   rule allows it, so handling all of them denies everything else. */
static uint64_t sandbox_fs_mask(int abi)
{
	uint64_t mask = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */

	if (abi >= 2)
		mask |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		mask |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		mask |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return mask;
}

struct sandbox *sandbox_new(bool restrict_fs)
{
	struct sandbox *sb = xcalloc(1, sizeof(*sb));
	int abi = sandbox_landlock_abi();

	sb->restrict_fs = restrict_fs;
	/* ABI 1 refuses every rename or link across directories (EXDEV),
	   which Maildir delivery is made of: treat it as unavailable. Below
	   ABI 4 there is nothing but files to restrict. */
	if (abi < 2 || (!restrict_fs && abi < 4))
		return sb;
	sb->abi = abi;
	sb->fs_mask = sandbox_fs_mask(abi);
	return sb;
}

void sandbox_free(struct sandbox **sbp)
{
	struct sandbox *sb = *sbp;

	if (sb == NULL)
		return;
	for (size_t i = 0; i < sb->n_rules; i++)
		close(sb->rules[i].fd);
	free(sb->rules);
	free(sb);
	*sbp = NULL;
}

static int sandbox_fail(const char **error_r, const char *what,
			const char *path, int err)
{
	snprintf(sandbox_error, sizeof(sandbox_error), "%s(%s): %s", what,
		 path != NULL ? path : "", strerror(err));
	*error_r = sandbox_error;
	return -1;
}

int sandbox_allow(struct sandbox *sb, const char *path,
		  enum sandbox_access access, const char **error_r)
{
	struct stat st;
	int fd;

	if (sb->abi == 0 || !sb->restrict_fs)
		return 0;
	fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (fd < 0)
		return sandbox_fail(error_r, "open", path, errno);
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return sandbox_fail(error_r, "fstat", path, err);
	}
	sb->rules = xrealloc(sb->rules, (sb->n_rules + 1) * sizeof(*sb->rules));
	sb->rules[sb->n_rules].fd = fd;
	sb->rules[sb->n_rules].access =
		(access == SANDBOX_READ_WRITE
			 ? SANDBOX_FS_READ | SANDBOX_FS_WRITE
			 : SANDBOX_FS_READ) &
		sb->fs_mask;
	sb->n_rules++;
	return 0;
}

static int sandbox_add_rules(const struct sandbox *sb, int ruleset_fd,
			     const char **error_r)
{
	for (size_t i = 0; i < sb->n_rules; i++) {
		struct landlock_path_beneath_attr pb = {
			.allowed_access = sb->rules[i].access,
			.parent_fd = sb->rules[i].fd,
		};

		if (landlock_add_rule(ruleset_fd, LANDLOCK_RULE_PATH_BENEATH,
				      &pb, 0) < 0)
			return sandbox_fail(error_r, "landlock_add_rule",
					    "path_beneath", errno);
	}
	return 0;
}

int sandbox_apply(struct sandbox *sb, bool scope_abstract, const char **error_r)
{
	struct sandbox_ruleset_attr attr = {0};
	int fd, ret = -1;

	if (sb->abi == 0)
		return 0;
	if (sb->restrict_fs)
		attr.handled_access_fs = sb->fs_mask;
	if (sb->abi >= 4)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
					  LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (sb->abi >= 6)
		attr.scoped =
			LANDLOCK_SCOPE_SIGNAL |
			(scope_abstract ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
					: 0);
	fd = (int)landlock_create_ruleset(&attr, sizeof(attr), 0);
	if (fd < 0)
		return sandbox_fail(error_r, "landlock_create_ruleset", "",
				    errno);
	if (sandbox_add_rules(sb, fd, error_r) < 0)
		goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		sandbox_fail(error_r, "prctl", "PR_SET_NO_NEW_PRIVS", errno);
		goto out;
	}
	if (landlock_restrict_self(fd, 0) < 0) {
		sandbox_fail(error_r, "landlock_restrict_self", "", errno);
		goto out;
	}
	ret = sb->abi;
out:
	close(fd);
	return ret;
}

char *sandbox_mail_prefix(const char *template)
{
	const char *pct, *slash;
	size_t len;

	if (template == NULL || template[0] != '/')
		return NULL;
	pct = strchr(template, '%');
	len = pct != NULL ? (size_t)(pct - template) : strlen(template);
	if (pct != NULL) {
		/* "/var/vmail/%d" -> "/var/vmail/", "/srv/m%u" -> "/srv/" */
		slash = memrchr(template, '/', len);
		len = (size_t)(slash - template) + 1;
	}
	while (len > 1 && template[len - 1] == '/')
		len--;
	return xstrndup(template, len);
}

/* --- logging and probes --- */

/* Writes s for a "..." log value: quotes, backslashes and controls
   escaped, cut at a sane length. */
static const char *sandbox_quote(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

static const char *sandbox_errno_name(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case ELOOP:
		return "ELOOP";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EXDEV:
		return "EXDEV";
	case ENOSYS:
		return "ENOSYS";
	default:
		return "error";
	}
}

static int sandbox_probe_tcp(const char *target)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	const char *colon = strrchr(target, ':');
	char host[64];
	int fd, err = 0;

	if (colon == NULL || (size_t)(colon - target) >= sizeof(host))
		return EINVAL;
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	sin.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		err = errno;
	close(fd);
	return err;
}

static void sandbox_probe_one(const char *process, const char *item)
{
	char quoted[256];
	const char *op, *target;
	int fd, err = 0;

	if (strncmp(item, "read:", 5) == 0) {
		op = "read";
		target = item + 5;
		fd = open(target, O_RDONLY | O_CLOEXEC);
	} else if (strncmp(item, "write:", 6) == 0) {
		op = "write";
		target = item + 6;
		/* no O_CREAT, no O_TRUNC: opened and closed unchanged */
		fd = open(target, O_WRONLY | O_APPEND | O_CLOEXEC);
	} else if (strcmp(item, "unshare") == 0 ||
		   strcmp(item, "unshare:") == 0) {
		/* unshare(0) changes nothing; the worker's seccomp filter
		   refuses the call */
		op = "unshare";
		target = "";
		fd = -1;
		err = unshare(0) < 0 ? errno : 0;
	} else if (strncmp(item, "tcp:", 4) == 0) {
		op = "tcp";
		target = item + 4;
		fd = -1;
		err = sandbox_probe_tcp(target);
	} else {
		log_warn(
			"event=sandbox_probe process=%s error=\"unknown probe\" item=\"%s\"",
			process, sandbox_quote(item, quoted, sizeof(quoted)));
		return;
	}
	if (fd >= 0)
		close(fd);
	else if (strcmp(op, "read") == 0 || strcmp(op, "write") == 0)
		err = errno;
	log_info("event=sandbox_probe process=%s op=%s target=\"%s\" result=%s",
		 process, op, sandbox_quote(target, quoted, sizeof(quoted)),
		 sandbox_errno_name(err));
}

/* Tests look from inside a sandboxed process (see sandbox.h); harmless
   elsewhere: it opens and closes, never creates or changes a file. */
static void sandbox_probe(const char *process)
{
	const char *env = getenv(SANDBOX_PROBE_ENV);
	char *copy, *save = NULL;
	int n = 0;

	if (env == NULL || env[0] == '\0')
		return;
	copy = xstrdup(env);
	for (char *item = strtok_r(copy, " ", &save);
	     item != NULL && n < SANDBOX_PROBES_MAX;
	     item = strtok_r(NULL, " ", &save), n++)
		sandbox_probe_one(process, item);
	free(copy);
}

/* The mail prefix, or its nearest existing ancestor when it is not there
   yet (the first delivery makes it). NULL: none exists (relative). */
static char *sandbox_existing_dir(const char *path)
{
	char *dir = xstrdup(path);
	struct stat st;

	while (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		char *slash = strrchr(dir, '/');

		if (slash == NULL) {
			free(dir);
			return NULL;
		}
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return dir;
}

/* LeakSanitizer's check at exit reads /proc/self (maps, task/): allowed
   in sanitizer builds only. */
static int sandbox_allow_sanitizer(struct sandbox *sb, const char **error_r)
{
#ifdef SANDBOX_SANITIZED
	return sandbox_allow(sb, "/proc/self", SANDBOX_READ, error_r);
#else
	(void)sb;
	(void)error_r;
	return 0;
#endif
}

/* iconv loads a charset's module on first use (SEARCH converts bodies and
   encoded words to UTF-8): glibc's gconv directories, read-only. */
static int sandbox_allow_gconv(struct sandbox *sb, const char **error_r)
{
	static const char *const dirs[] = {
		"/usr/lib/x86_64-linux-gnu/gconv",
		"/usr/lib/aarch64-linux-gnu/gconv",
		"/usr/lib/i386-linux-gnu/gconv",
		"/usr/lib64/gconv",
		"/usr/lib/gconv",
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode) &&
		    sandbox_allow(sb, dirs[i], SANDBOX_READ, error_r) < 0)
			return -1;
	return 0;
}

int sandbox_enter_worker(const struct config *config, const char **error_r)
{
	char *prefix, *dir = NULL, quoted[256], seccomp[64];
	const char *why = "";
	struct sandbox *sb;
	int abi, sc;

	if (!config->sandbox) {
		sandbox_probe("worker");
		return 0;
	}
	prefix = sandbox_mail_prefix(config->mail_root);
	if (prefix != NULL)
		dir = sandbox_existing_dir(prefix);
	sb = sandbox_new(dir != NULL);
	if ((dir != NULL &&
	     sandbox_allow(sb, dir, SANDBOX_READ_WRITE, error_r) < 0) ||
	    sandbox_allow_gconv(sb, error_r) < 0 ||
	    sandbox_allow_sanitizer(sb, error_r) < 0) {
		abi = -1;
		goto out;
	}
	/* the auth channel is an inherited socket pair: no abstract names */
	abi = sandbox_apply(sb, true, error_r);
	if (abi < 0)
		goto out;
	sc = sandbox_seccomp_worker(&why, error_r);
	if (sc < 0) {
		abi = -1;
		goto out;
	}
	snprintf(seccomp, sizeof(seccomp), "seccomp=%s%s%s%s",
		 sc > 0 ? "on" : "off", sc > 0 ? "" : " seccomp_reason=\"", why,
		 sc > 0 ? "" : "\"");
	if (abi == 0)
		log_warn(
			"event=sandbox process=worker state=unavailable landlock_abi=%d reason=\"%s\" %s",
			sandbox_landlock_abi(),
			sandbox_landlock_abi() == 1
				? "Landlock ABI 1 forbids renames across directories"
				: "kernel without Landlock",
			seccomp);
	else if (dir == NULL)
		log_warn(
			"event=sandbox process=worker landlock_abi=%d files=unrestricted reason=\"mail.root has no fixed directory\" tcp=%s %s",
			abi, abi >= 4 ? "denied" : "unrestricted", seccomp);
	else
		log_info(
			"event=sandbox process=worker landlock_abi=%d mail=\"%s\" tcp=%s scoped=%s %s",
			abi, sandbox_quote(dir, quoted, sizeof(quoted)),
			abi >= 4 ? "denied" : "unrestricted",
			abi >= 6 ? "signals,abstract_unix" : "none", seccomp);
	sandbox_probe("worker");
out:
	sandbox_free(&sb);
	free(prefix);
	free(dir);
	return abi < 0 ? -1 : 0;
}

/* The directory of each passwd-file of the chain into `sb`. Returns 1 when
   the chain is passwd-file only, 0 when a backend runs external code. */
static int sandbox_auth_dirs(struct sandbox *sb, const char *chain,
			     const char **skip_r, const char **error_r)
{
	char *copy = xstrdup(chain), *save = NULL;
	int ret = 1;

	for (char *part = strtok_r(copy, ",", &save); part != NULL && ret > 0;
	     part = strtok_r(NULL, ",", &save)) {
		char *name = part + strspn(part, " \t");
		char *arg = name + strcspn(name, " \t");
		char *end, *slash, *dir;

		if (*arg != '\0')
			*arg++ = '\0';
		arg += strspn(arg, " \t");
		end = arg + strcspn(arg, " \t");
		*end = '\0';
		if (strcmp(name, "passwd-file") != 0) {
			snprintf(sandbox_error, sizeof(sandbox_error),
				 "backend %s runs external code", name);
			*skip_r = sandbox_error;
			ret = 0;
		} else if ((slash = strrchr(arg, '/')) == NULL) {
			ret = sandbox_fail(error_r, "passwd-file", arg, EINVAL);
		} else {
			/* the directory, so a file replaced by rename (as
			   vipw and editors do) is still readable */
			*(slash == arg ? slash + 1 : slash) = '\0';
			dir = sandbox_existing_dir(arg);
			if (dir == NULL ||
			    sandbox_allow(sb, dir, SANDBOX_READ, error_r) < 0)
				ret = dir == NULL
					      ? sandbox_fail(error_r, "stat",
							     arg, ENOENT)
					      : -1;
			free(dir);
		}
	}
	free(copy);
	return ret;
}

void sandbox_enter_auth_helper(const struct auth_settings *set)
{
	const char *error = NULL, *skip = NULL;
	struct sandbox *sb = sandbox_new(true);
	int abi, ret;

	ret = sandbox_auth_dirs(sb, set->backend, &skip, &error);
	/* /proc/<pid>/stat tells whether a handed-in connection's peer is
	   one of ours (auth_server.c); other processes' mem, environ and
	   maps stay closed: Landlock denies ptrace access outside */
	if (ret > 0 && sandbox_allow(sb, "/proc", SANDBOX_READ, &error) < 0)
		ret = -1;
	if (ret > 0 && sandbox_allow_sanitizer(sb, &error) < 0)
		ret = -1;
	if (ret == 0) {
		log_warn("event=sandbox process=auth state=off reason=\"%s\"",
			 skip);
		sandbox_free(&sb);
		sandbox_probe("auth");
		return;
	}
	abi = ret < 0 ? -1 : sandbox_apply(sb, true, &error);
	sandbox_free(&sb);
	if (abi < 0) {
		log_error("event=auth_helper_error error=\"sandbox: %s\"",
			  error);
		_exit(1);
	}
	if (abi == 0)
		log_warn(
			"event=sandbox process=auth state=unavailable landlock_abi=%d",
			sandbox_landlock_abi());
	else
		log_info(
			"event=sandbox process=auth landlock_abi=%d files=passwd-file,proc tcp=%s",
			abi, abi >= 4 ? "denied" : "unrestricted");
	sandbox_probe("auth");
}

void sandbox_auth_helper_unconfined(const struct auth_settings *set)
{
	(void)set;
	sandbox_probe("auth");
}
