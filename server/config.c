/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/config.h"

#include "lib/str.h"
#include "lib/xalloc.h"
#include "storage/mailbox_name.h"
#include "storage/maildir_quota.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_SCAN_LINE_MAX 4096
/* libinih reads a line longer than its buffer in pieces and parses each as
   a line of its own (a value cut short, a tail taken as a key). Its buffer
   is set to CONFIG_SCAN_LINE_MAX at run time (config_load()); a longer
   line is refused. */
#define CONFIG_LINE_MAX (CONFIG_SCAN_LINE_MAX - 2)

enum config_type {
	CONFIG_STRING,
	CONFIG_UINT,
	CONFIG_BOOL,
	CONFIG_ENUM,
	CONFIG_LOG_LEVEL,
	CONFIG_MODE, /* octal permission bits, 0..0777 */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;
	unsigned min, max;	  /* CONFIG_UINT bounds */
	const char *const *names; /* CONFIG_ENUM values, NULL-terminated */
};

static const char *const log_targets[] = {"stderr", "syslog", NULL};
static const char *const plaintext_names[] = {"tls", "tls-or-loopback",
					      "always", NULL};
static const char *const autoconfig_username_names[] = {"address", "localpart",
							NULL};
static const char *const after_download_names[] = {"delete", "seen", "keep",
						   NULL};

#define OFF(field) offsetof(struct config, field)
#define KEY_STR(s, n, f)                                \
	{                                               \
		s, n, CONFIG_STRING, OFF(f), 0, 0, NULL \
	}
#define KEY_UINT(s, n, f, lo, hi)                       \
	{                                               \
		s, n, CONFIG_UINT, OFF(f), lo, hi, NULL \
	}
#define KEY_BOOL(s, n, f)                             \
	{                                             \
		s, n, CONFIG_BOOL, OFF(f), 0, 0, NULL \
	}
#define KEY_ENUM(s, n, f, v)                       \
	{                                          \
		s, n, CONFIG_ENUM, OFF(f), 0, 0, v \
	}

static const struct config_key config_keys[] = {
	KEY_STR("server", "user", user),
	KEY_UINT("server", "workers", workers, 1, 64),
	KEY_ENUM("server", "log", log, log_targets),
	{"server", "log_level", CONFIG_LOG_LEVEL, OFF(log_level), 0, 0, NULL},
	KEY_UINT("server", "login_timeout", login_timeout, 5, 3600),
	KEY_UINT("server", "max_connections", max_connections, 1, 1000000),
	KEY_BOOL("server", "sandbox", sandbox),
	KEY_STR("listen", "imap", listen[CONFIG_LISTEN_IMAP]),
	KEY_STR("listen", "imaps", listen[CONFIG_LISTEN_IMAPS]),
	KEY_STR("listen", "pop3", listen[CONFIG_LISTEN_POP3]),
	KEY_STR("listen", "pop3s", listen[CONFIG_LISTEN_POP3S]),
	KEY_BOOL("listen", "proxy_protocol", proxy_protocol),
	KEY_STR("tls", "cert", tls_cert),
	KEY_STR("tls", "key", tls_key),
	KEY_STR("tls", "priorities", tls_priorities),
	KEY_STR("auth", "backend", auth_backend),
	KEY_ENUM("auth", "plaintext", auth_plaintext, plaintext_names),
	KEY_BOOL("auth", "allow_plain_scheme", auth_allow_plain_scheme),
	KEY_UINT("auth", "workers", auth_workers, 1, 64),
	KEY_UINT("auth", "penalty_max", auth_penalty_max, 0, 300),
	KEY_UINT("auth", "max_connections_per_ip", auth_max_connections_per_ip,
		 1, 100000),
	KEY_UINT("auth", "max_connections_per_user_ip",
		 auth_max_connections_per_user_ip, 0, 100000),
	KEY_UINT("auth", "max_failures", auth_max_failures, 0, 100),
	KEY_UINT("auth", "checkpassword_timeout", auth_checkpassword_timeout, 1,
		 300),
	KEY_STR("auth", "allow_protocols", auth_allow_protocols),
	KEY_STR("mail", "root", mail_root),
	KEY_BOOL("mail", "fsync", mail_fsync),
	KEY_STR("mail", "quota", mail_quota),
	KEY_BOOL("mail", "quota_bounce", mail_quota_bounce),
	KEY_UINT("imap", "timeout", imap_timeout, 1800, 86400),
	KEY_BOOL("imap", "compress", imap_compress),
	KEY_STR("imap", "folder_sent", imap_folder[0]),
	KEY_STR("imap", "folder_drafts", imap_folder[1]),
	KEY_STR("imap", "folder_trash", imap_folder[2]),
	KEY_STR("imap", "folder_junk", imap_folder[3]),
	KEY_STR("imap", "folder_archive", imap_folder[4]),
	KEY_ENUM("pop3", "after_download", pop3_after_download,
		 after_download_names),
	KEY_UINT("pop3", "timeout", pop3_timeout, 600, 86400),
	KEY_UINT("pop3", "login_delay", pop3_login_delay, 0, 86400),
	KEY_STR("lmtp", "listen", listen[CONFIG_LISTEN_LMTP]),
	{"lmtp", "socket_mode", CONFIG_MODE, OFF(lmtp_socket_mode), 0, 0777,
	 NULL},
	KEY_STR("lmtp", "socket_user", lmtp_socket_user),
	KEY_STR("lmtp", "socket_group", lmtp_socket_group),
	KEY_UINT("lmtp", "max_size", lmtp_max_size, 1024, 1024u * 1024 * 1024),
	KEY_STR("autoconfig", "hostname", autoconfig_hostname),
	KEY_STR("autoconfig", "display_name", autoconfig_display_name),
	KEY_ENUM("autoconfig", "username", autoconfig_username,
		 autoconfig_username_names),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const listener_names[CONFIG_LISTEN_COUNT] = {
	"imap", "imaps", "pop3", "pop3s", "lmtp"};

const char *config_listener_name(enum config_listener kind)
{
	return listener_names[kind];
}

struct config *config_new_defaults(void)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->key_lines = xcalloc(N_KEYS, sizeof(*c->key_lines));
	c->user = xstrdup("vmail");
	c->workers = 1;
	c->log = LOG_TARGET_SYSLOG;
	c->log_level = LOG_LEVEL_INFO;
	c->login_timeout = 60;
	c->max_connections = 1000;
	c->sandbox = true;
	c->listen[CONFIG_LISTEN_IMAP] = xstrdup("127.0.0.1:143 [::1]:143");
	c->listen[CONFIG_LISTEN_IMAPS] = xstrdup("0.0.0.0:993");
	c->listen[CONFIG_LISTEN_POP3] = xstrdup("");
	c->listen[CONFIG_LISTEN_POP3S] = xstrdup("0.0.0.0:995");
	c->tls_cert = xstrdup(SYSCONFDIR "/merpati/tls/fullchain.pem");
	c->tls_key = xstrdup(SYSCONFDIR "/merpati/tls/privkey.pem");
	c->tls_priorities =
		xstrdup("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	c->auth_backend = xstrdup("passwd-file " SYSCONFDIR "/merpati/users");
	c->auth_plaintext = CONFIG_PLAINTEXT_TLS;
	c->auth_workers = 2;
	c->auth_penalty_max = 15;
	c->auth_max_connections_per_ip = 200;
	c->auth_max_connections_per_user_ip = 10;
	c->auth_max_failures = 3;
	c->auth_checkpassword_timeout = 10;
	c->auth_allow_protocols = xstrdup("imap,pop3");
	c->mail_root = xstrdup("/var/vmail/%d/%n");
	c->mail_fsync = true;
	c->mail_quota = xstrdup("");
	c->imap_timeout = 1800;
	c->imap_compress = true;
	c->imap_folder[0] = xstrdup("Sent");
	c->imap_folder[1] = xstrdup("Drafts");
	c->imap_folder[2] = xstrdup("Trash");
	c->imap_folder[3] = xstrdup("Junk");
	c->imap_folder[4] = xstrdup("Archive");
	c->pop3_after_download = CONFIG_AFTER_DOWNLOAD_DELETE;
	c->pop3_timeout = 600;
	c->pop3_login_delay = 0;
	c->listen[CONFIG_LISTEN_LMTP] = xstrdup("");
	c->lmtp_socket_mode = 0660;
	c->lmtp_socket_user = xstrdup("");
	c->lmtp_socket_group = xstrdup("");
	c->lmtp_max_size = 100u * 1024 * 1024;
	c->autoconfig_hostname = xstrdup("");
	c->autoconfig_display_name = xstrdup("");
	c->autoconfig_username = CONFIG_AUTOCONFIG_ADDRESS;
	return c;
}

void config_free(struct config **config)
{
	struct config *c = *config;

	if (c == NULL)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (config_keys[i].type == CONFIG_STRING)
			free(*(char **)((char *)c + config_keys[i].offset));
	}
	free(c->path);
	free(c->key_lines);
	free(c);
	*config = NULL;
}

int config_line(const struct config *c, const void *field)
{
	size_t offset;

	if ((const char *)field < (const char *)c ||
	    (const char *)field >= (const char *)(c + 1))
		return 0;
	offset = (size_t)((const char *)field - (const char *)c);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (config_keys[i].offset == offset)
			return c->key_lines[i];
	}
	return 0;
}

struct config_parse {
	struct config *config;
	char *error;	  /* reason of the first error, without location */
	int error_line;	  /* set from ini_parse()'s return */
	char section[64]; /* last section seen, for unknown-section errors */
	bool bad_section;
	int dup_line; /* first key or section given twice, 0: none */
	char dup_why[160];
};

static int set_error(struct config_parse *p, char *msg)
{
	if (p->error == NULL)
		p->error = msg;
	else
		free(msg);
	return 0; /* tells inih: error on this line */
}

/* The value of `line` before an inline "# comment" (space then '#'). */
static void strip_comment(char *value)
{
	for (char *p = value; *p != '\0'; p++) {
		/* ';' too: libinih takes it only after a blank, so "k =;x"
		   would print as "k = ;x", which reads back as "" */
		if ((*p == '#' || *p == ';') &&
		    (p == value || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	/* the same blanks as libinih strips (isspace()), or "a\v # c" would
	   keep a '\v' that config_print() cannot write back */
	for (size_t n = strlen(value);
	     n > 0 && isspace((unsigned char)value[n - 1]);)
		value[--n] = '\0';
	str_trim(value);
}

static int parse_bool(const char *v, bool *b_r)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0 || strcmp(v, "1") == 0) {
		*b_r = true;
		return 0;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0 || strcmp(v, "0") == 0) {
		*b_r = false;
		return 0;
	}
	return -1;
}

static char *enum_choices(const char *const *names)
{
	struct buf b;
	char *s;

	buf_init(&b, 1024);
	for (size_t i = 0; names[i] != NULL; i++)
		buf_printf(&b, "%s%s", i > 0 ? " | " : "", names[i]);
	s = xstrdup(b.data);
	buf_free(&b);
	return s;
}

static int set_value(struct config_parse *p, const struct config_key *k,
		     const char *v)
{
	void *field = (char *)p->config + k->offset;
	char msg[512];
	uint64_t n;

	switch (k->type) {
	case CONFIG_STRING:
		/* config_print() must be able to write it back */
		if (strlen(k->name) + 3 + strlen(v) > CONFIG_LINE_MAX) {
			snprintf(
				msg, sizeof(msg),
				"%s.%s: value too long (\"%s = value\" must fit in %d bytes)",
				k->section, k->name, k->name, CONFIG_LINE_MAX);
			return set_error(p, xstrdup(msg));
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return 1;
	case CONFIG_UINT:
		if (str_to_u64(v, UINT32_MAX, &n) < 0 || n < k->min ||
		    n > k->max) {
			snprintf(msg, sizeof(msg),
				 "%s.%s: '%s' is not a number from %u to %u",
				 k->section, k->name, v, k->min, k->max);
			return set_error(p, xstrdup(msg));
		}
		*(unsigned *)field = (unsigned)n;
		return 1;
	case CONFIG_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(v, &end, 8);
		if (v[0] < '0' || v[0] > '7' || *end != '\0' || errno != 0 ||
		    m > k->max) {
			snprintf(
				msg, sizeof(msg),
				"%s.%s: '%s' is not an octal mode from 0 to 0777",
				k->section, k->name, v);
			return set_error(p, xstrdup(msg));
		}
		*(unsigned *)field = (unsigned)m;
		return 1;
	}
	case CONFIG_BOOL:
		if (parse_bool(v, (bool *)field) < 0) {
			snprintf(msg, sizeof(msg),
				 "%s.%s: '%s' is not yes or no", k->section,
				 k->name, v);
			return set_error(p, xstrdup(msg));
		}
		return 1;
	case CONFIG_ENUM:
		for (int i = 0; k->names[i] != NULL; i++) {
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)field = i;
				return 1;
			}
		}
		char *choices = enum_choices(k->names);
		snprintf(msg, sizeof(msg), "%s.%s: '%s' is not one of %s",
			 k->section, k->name, v, choices);
		free(choices);
		return set_error(p, xstrdup(msg));
	case CONFIG_LOG_LEVEL:
		if (log_level_parse(v, (enum log_level *)field) < 0) {
			snprintf(
				msg, sizeof(msg),
				"server.log_level: '%s' is not one of debug | info | warn | error",
				v);
			return set_error(p, xstrdup(msg));
		}
		return 1;
	}
	return set_error(p, xstrdup("internal: bad key type"));
}

/* auth.allow_protocols: a comma list of imap and pop3 (empty: none) */
static int check_protocols(struct config_parse *p, const char *v)
{
	char msg[512];

	while (*v != '\0') {
		size_t len;

		v += strspn(v, ", \t");
		len = strcspn(v, ", \t");
		if (len == 0 ||
		    (len == 4 && (strncasecmp(v, "imap", 4) == 0 ||
				  strncasecmp(v, "pop3", 4) == 0))) {
			v += len;
			continue;
		}
		snprintf(msg, sizeof(msg),
			 "auth.allow_protocols: '%.*s' is not imap or pop3",
			 (int)(len > 64 ? 64 : len), v);
		return set_error(p, xstrdup(msg));
	}
	return 1;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	}
	return false;
}

static int config_ini_handler(void *user, const char *section, const char *name,
			      const char *value)
{
	struct config_parse *p = user;
	char msg[512];
	char *v;
	int ret;

	if (!section_known(section)) {
		snprintf(msg, sizeof(msg), "unknown section [%s]", section);
		return set_error(p, xstrdup(msg));
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) != 0 ||
		    strcmp(k->name, name) != 0)
			continue;
		v = xstrdup(value);
		strip_comment(v);
		ret = set_value(p, k, v);
		if (ret == 1 && k->offset == OFF(auth_allow_protocols))
			ret = check_protocols(p, v);
		free(v);
		return ret;
	}
	snprintf(msg, sizeof(msg), "unknown key '%s' in section [%s]", name,
		 section);
	return set_error(p, xstrdup(msg));
}

/* Checks that only make sense on the whole file. */
static int config_validate(const struct config *c, char **error_r)
{
	uint64_t quota;
	bool any = false;

	for (int i = 0; i < CONFIG_LISTEN_COUNT; i++) {
		if (c->listen[i][0] != '\0')
			any = true;
	}
	if (!any) {
		*error_r =
			xstrdup("no listener configured ([listen] is empty)");
		return -1;
	}
	if (c->proxy_protocol) {
		*error_r = xstrdup(
			"listen.proxy_protocol = yes is not supported by this version");
		return -1;
	}
	if (maildir_quota_parse_size(c->mail_quota, &quota) < 0) {
		*error_r = xstrdup(
			"mail.quota: a size is expected (digits with k, M, G or T; 0 or empty: no limit)");
		return -1;
	}
	if (strstr(c->mail_root, "%") == NULL &&
	    strstr(c->mail_root, "~") == NULL) {
		*error_r = xstrdup(
			"mail.root must contain %u, %n or %d (every user would share one mail root)");
		return -1;
	}
	for (size_t i = 0; i < 5; i++) {
		const char *name = c->imap_folder[i], *why = NULL;
		char msg[512];

		if (name[0] == '\0')
			continue;
		if (mailbox_name_is_inbox(name))
			why = "INBOX has no special use";
		else if (mailbox_name_validate(name, '/', &why) == 0)
			continue;
		snprintf(msg, sizeof(msg), "imap: invalid folder name '%s': %s",
			 name, why);
		*error_r = xstrdup(msg);
		return -1;
	}
	return 0;
}

static const struct config_key *key_find(const char *section, const char *name,
					 size_t name_len)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) == 0 &&
		    strlen(k->name) == name_len &&
		    memcmp(k->name, name, name_len) == 0)
			return k;
	}
	return NULL;
}

/* A "[section]" line: the section is known and given once. Returns 0, or
   -1 (fatal) with the reason in why; a repeat is noted in p->dup_*. */
static int scan_section(struct config_parse *p, char *name, int lineno,
			int *first_lines, char *why, size_t size)
{
	size_t i;

	if (!section_known(name)) {
		snprintf(why, size, "unknown section [%s]", name);
		return -1;
	}
	snprintf(p->section, sizeof(p->section), "%s", name);
	/* the index of the section's first key stands for the section */
	for (i = 0; strcmp(config_keys[i].section, name) != 0; i++)
		;
	if (first_lines[i] != 0 && p->dup_line == 0) {
		p->dup_line = lineno;
		snprintf(p->dup_why, sizeof(p->dup_why),
			 "section [%s] given twice (first at line %d)", name,
			 first_lines[i]);
	}
	if (first_lines[i] == 0)
		first_lines[i] = lineno;
	return 0;
}

/* A "key = value" line (split as libinih splits it): notes the key's line
   in the config and a key given twice in p->dup_*. */
static void scan_key(struct config_parse *p, const char *line, int lineno)
{
	const char *end = line + strcspn(line, "=:");
	const struct config_key *k;
	size_t len = (size_t)(end - line), i;

	if (*end == '\0')
		return; /* libinih reports the syntax error */
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	k = key_find(p->section, line, len);
	if (k == NULL)
		return; /* unknown: reported by the handler */
	i = (size_t)(k - config_keys);
	if (p->config->key_lines[i] != 0 && p->dup_line == 0) {
		p->dup_line = lineno;
		snprintf(p->dup_why, sizeof(p->dup_why),
			 "%s.%s given twice (first at line %d)", k->section,
			 k->name, p->config->key_lines[i]);
	}
	if (p->config->key_lines[i] == 0)
		p->config->key_lines[i] = lineno;
}

/* inih reports sections only through their keys and merges repeated keys
   and sections: find unknown or repeated sections, repeated keys, and
   lines too long for it, and note the line of every key. Returns the line
   of the first fatal problem with the reason in why, or 0. */
static int config_scan_lines(FILE *f, struct config_parse *p, char *why,
			     size_t size)
{
	char line[CONFIG_SCAN_LINE_MAX];
	int first_lines[N_KEYS] = {0};
	int lineno = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		char *q = line, *end;
		size_t len = strlen(line);

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > CONFIG_LINE_MAX) {
			snprintf(why, size, "line too long (at most %d bytes)",
				 CONFIG_LINE_MAX);
			return lineno;
		}
		line[len] = '\0';
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '\0' || *q == '#' || *q == ';')
			continue;
		if (*q != '[') {
			scan_key(p, q, lineno);
			continue;
		}
		if ((end = strchr(q, ']')) == NULL)
			continue; /* libinih: "no ']' found" */
		*end = '\0';
		if (scan_section(p, q + 1, lineno, first_lines, why, size) < 0)
			return lineno;
	}
	rewind(f);
	p->section[0] = '\0';
	return 0;
}

struct config *config_load(const char *path, char **error_r)
{
	struct config_parse p = {0};
	FILE *f;
	int line;

	f = fopen(path, "r");
	if (f == NULL) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s: cannot open: %s", path,
			 strerror(errno));
		*error_r = xstrdup(msg);
		return NULL;
	}
	char why[128];

	p.config = config_new_defaults();
	p.config->path = xstrdup(path);
	line = config_scan_lines(f, &p, why, sizeof(why));
	if (line > 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s:%d: %s", path, line, why);
		*error_r = xstrdup(msg);
		fclose(f);
		config_free(&p.config);
		return NULL;
	}
	/* Debian's libinih takes these at run time */
	ini_inline_comment_prefixes = ";";
	/* lines up to CONFIG_SCAN_LINE_MAX, not the built-in 200 bytes */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_initial_alloc = CONFIG_SCAN_LINE_MAX;
	ini_max_line = CONFIG_SCAN_LINE_MAX;
	ini_stop_on_first_error = true;
	ini_allow_multiline = false;
	line = ini_parse_file(f, config_ini_handler, &p);
	fclose(f);
	if (p.dup_line > 0 && (line == 0 || p.dup_line < line)) {
		free(p.error);
		p.error = xstrdup(p.dup_why);
		line = p.dup_line;
	}
	if (line != 0) {
		char msg[1024];

		if (line < 0)
			snprintf(msg, sizeof(msg), "%s: cannot read", path);
		else
			snprintf(
				msg, sizeof(msg), "%s:%d: %s", path, line,
				p.error != NULL
					? p.error
					: "syntax error (expected [section] or key = value)");
		*error_r = xstrdup(msg);
		free(p.error);
		config_free(&p.config);
		return NULL;
	}
	if (config_validate(p.config, &p.error) < 0) {
		size_t n = strlen(path) + strlen(p.error) + 3;

		*error_r = xmalloc(n);
		snprintf(*error_r, n, "%s: %s", path, p.error);
		free(p.error);
		config_free(&p.config);
		return NULL;
	}
	return p.config;
}

static void print_value(const struct config *c, const struct config_key *k,
			FILE *out)
{
	const void *field = (const char *)c + k->offset;

	switch (k->type) {
	case CONFIG_STRING:
		fprintf(out, "%s = %s\n", k->name, *(char *const *)field);
		break;
	case CONFIG_UINT:
		fprintf(out, "%s = %u\n", k->name, *(const unsigned *)field);
		break;
	case CONFIG_MODE:
		fprintf(out, "%s = %04o\n", k->name, *(const unsigned *)field);
		break;
	case CONFIG_BOOL:
		fprintf(out, "%s = %s\n", k->name,
			*(const bool *)field ? "yes" : "no");
		break;
	case CONFIG_ENUM:
		fprintf(out, "%s = %s\n", k->name,
			k->names[*(const int *)field]);
		break;
	case CONFIG_LOG_LEVEL:
		fprintf(out, "%s = %s\n", k->name,
			log_level_name(*(const enum log_level *)field));
		break;
	}
}

void config_print(const struct config *c, FILE *out)
{
	const char *section = "";

	fprintf(out, "# effective configuration from %s\n",
		c->path != NULL ? c->path : "built-in defaults");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		print_value(c, k, out);
	}
}

uint64_t config_quota_bytes(const struct config *config)
{
	uint64_t bytes = 0;

	if (maildir_quota_parse_size(config->mail_quota, &bytes) < 0)
		return 0;
	return bytes;
}
