/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/config_check.h"

#include "auth/auth.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "server/listener.h"
#include "server/privdrop.h"
#include "server/tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct check {
	const struct config *config;
	const char *prefix;
	FILE *out;
	unsigned errors;
	bool errors_only; /* leave warnings out */
};

/* One line about the key holding field (see config_line()). */
__attribute__((format(printf, 4, 5))) static void
report(struct check *k, const void *field, bool warning, const char *fmt, ...)
{
	const char *path =
		k->config->path != NULL ? k->config->path : "built-in defaults";
	int line = config_line(k->config, field);
	va_list ap;

	if (!warning)
		k->errors++;
	if (warning && k->errors_only)
		return;
	if (k->prefix != NULL)
		fprintf(k->out, "%s: ", k->prefix);
	if (k->errors_only && k->errors > 1)
		fputs("; ", k->out);
	fputs(path, k->out);
	if (line > 0)
		fprintf(k->out, ":%d", line);
	fputs(warning ? ": warning: " : ": ", k->out);
	va_start(ap, fmt);
	vfprintf(k->out, fmt, ap);
	va_end(ap);
	if (!k->errors_only)
		fputc('\n', k->out);
}

struct seen_addr {
	enum config_listener kind;
	struct sockaddr_storage ss;
	unsigned len;
};

/* Every address parses, and no address is listed for two kinds (the
   second bind would fail). */
static void check_listeners(struct check *k)
{
	const struct config *c = k->config;
	struct seen_addr *seen = NULL;
	size_t n = 0;

	for (int kind = 0; kind < CONFIG_LISTEN_COUNT; kind++) {
		char *copy = xstrdup(c->listen[kind]), *save = NULL;
		const char *name = config_listener_name(kind);

		for (char *a = strtok_r(copy, " \t", &save); a != NULL;
		     a = strtok_r(NULL, " \t", &save)) {
			struct seen_addr s = {.kind = kind};
			const char *error;
			size_t i;

			if (listener_parse_addr(a, &s.ss, &s.len, &error) < 0) {
				report(k, &c->listen[kind], false,
				       "listen.%s: %s: %s", name, a, error);
				continue;
			}
			for (i = 0; i < n; i++) {
				if (seen[i].len == s.len &&
				    memcmp(&seen[i].ss, &s.ss, s.len) == 0)
					break;
			}
			if (i < n && seen[i].kind != s.kind)
				report(k, &c->listen[kind], false,
				       "listen.%s: %s is also in listen.%s",
				       name, a,
				       config_listener_name(seen[i].kind));
			if (i < n)
				continue;
			seen = xrealloc(seen, (n + 1) * sizeof(*seen));
			seen[n++] = s;
		}
		free(copy);
	}
	free(seen);
}

static void check_tls(struct check *k)
{
	const struct config *c = k->config;
	struct tls_creds *creds;
	char *error = NULL;
	struct stat st;

	tls_global_init();
	creds = tls_creds_load(c->tls_cert, c->tls_key, c->tls_priorities,
			       &error);
	if (creds == NULL) {
		report(k,
		       config_line(c, &c->tls_cert) > 0 ? (void *)&c->tls_cert
							: (void *)&c->tls_key,
		       false, "tls: %s", error);
		free(error);
		return;
	}
	tls_creds_unref(&creds);
	if (stat(c->tls_key, &st) == 0 && (st.st_mode & S_IROTH) != 0)
		report(k, &c->tls_key, true,
		       "tls.key: %s is readable by every user (chmod o-r)",
		       c->tls_key);
}

/* The workers drop to server.user and refuse to serve as root. */
static void check_user(struct check *k)
{
	const struct config *c = k->config;
	const char *error;
	uid_t uid;
	gid_t gid;

	if (c->user[0] == '\0') {
		report(k, &c->user, false,
		       "server.user is empty: the workers would run as root");
		return;
	}
	if (privdrop_lookup(c->user, &uid, &gid, &error) < 0) {
		report(k, &c->user, false, "%s", error);
		return;
	}
	if (uid == 0)
		report(k, &c->user, false,
		       "server.user = %s has uid 0: the workers refuse to serve as root",
		       c->user);
}

/* A backend's file: passwd-file must be a readable file, checkpassword an
   executable one. */
static void check_backend_file(struct check *k, const char *name,
			       const char *path)
{
	const struct config *c = k->config;
	bool exec = strcmp(name, "checkpassword") == 0;
	struct stat st;

	if (strcmp(name, "passwd-file") != 0 && !exec)
		return;
	if (stat(path, &st) < 0) {
		report(k, &c->auth_backend, false, "auth.backend: %s %s: %s",
		       name, path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		report(k, &c->auth_backend, false,
		       "auth.backend: %s %s: not a regular file", name, path);
	} else if (access(path, exec ? X_OK : R_OK) < 0) {
		report(k, &c->auth_backend, false,
		       "auth.backend: %s %s: not %s: %s", name, path,
		       exec ? "executable" : "readable", strerror(errno));
	}
}

static void check_auth(struct check *k)
{
	const struct config *c = k->config;
	struct auth_settings set = {
		.backend = c->auth_backend,
		.workers = c->auth_workers,
		.mail_root = c->mail_root,
	};
	const char *error;
	char *copy, *save = NULL, *root;

	if (auth_settings_check(&set, &error) < 0) {
		report(k, &c->auth_backend, false, "%s", error);
		return;
	}
	copy = xstrdup(c->auth_backend);
	for (char *item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *name = str_trim(item);
		size_t nlen = strcspn(name, " \t");
		char *args = str_trim(name + nlen);

		name[nlen] = '\0';
		check_backend_file(k, name, args);
	}
	free(copy);
	/* any user name will do: the template's variables and shape */
	root = auth_mail_root_expand(c->mail_root, "user@example.org",
				     "/home/user", &error);
	if (root == NULL)
		report(k, &c->mail_root, false, "mail.root = %s: %s",
		       c->mail_root, error);
	free(root);
}

static void check_all(struct check *k)
{
	check_listeners(k);
	check_tls(k);
	check_user(k);
	check_auth(k);
}

unsigned config_check(const struct config *config, const char *prefix,
		      FILE *out)
{
	struct check k = {.config = config, .prefix = prefix, .out = out};

	check_all(&k);
	return k.errors;
}

int config_check_text(const struct config *config, char **error_r)
{
	struct check k = {.config = config, .errors_only = true};
	size_t size = 0;

	*error_r = NULL;
	k.out = open_memstream(error_r, &size);
	if (k.out == NULL)
		abort(); /* only when out of memory */
	check_all(&k);
	fclose(k.out);
	if (k.errors == 0) {
		free(*error_r);
		*error_r = NULL;
		return 0;
	}
	return -1;
}
