/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config: merpati.conf, the one INI file (parsed with libinih).
 *
 * Every key has a safe default; an unknown section or key, a key or section
 * given twice, a bad value or an unreadable file is an error reported as
 * "FILE:LINE: reason". What only makes sense against the system (addresses,
 * files, users) is checked by config_check.h. The record is
 * a plain value: the server hands the parts each module needs to that module
 * in the module's own settings struct (storage and auth never see this one).
 */
#ifndef MERPATI_CONFIG_H
#define MERPATI_CONFIG_H

#include "lib/buf.h"
#include "lib/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum config_plaintext {
	CONFIG_PLAINTEXT_TLS,
	CONFIG_PLAINTEXT_TLS_OR_LOOPBACK,
	CONFIG_PLAINTEXT_ALWAYS,
};

enum config_after_download {
	CONFIG_AFTER_DOWNLOAD_DELETE,
	CONFIG_AFTER_DOWNLOAD_SEEN,
	CONFIG_AFTER_DOWNLOAD_KEEP,
};

/* Which login name a client autoconfiguration tells clients to use. */
enum config_autoconfig_username {
	CONFIG_AUTOCONFIG_ADDRESS,   /* the whole address, user@domain */
	CONFIG_AUTOCONFIG_LOCALPART, /* the part before '@' */
};

/* A listener kind; the array config.listen[] is indexed by it. */
enum config_listener {
	CONFIG_LISTEN_IMAP,
	CONFIG_LISTEN_IMAPS,
	CONFIG_LISTEN_POP3,
	CONFIG_LISTEN_POP3S,
	CONFIG_LISTEN_LMTP, /* [lmtp] listen: socket paths or host:port */
	CONFIG_LISTEN_COUNT,
};

struct config {
	char *path;	/* the file read, or NULL for built-in defaults */
	int *key_lines; /* the line of each key; use config_line() */

	/* [server] */
	char *user;	     /* mail owner, dropped to after binding */
	unsigned workers;    /* event-loop processes, 1..64 */
	enum log_target log; /* stderr | syslog */
	enum log_level log_level;
	unsigned login_timeout;	  /* seconds before login */
	unsigned max_connections; /* per worker process */
	bool sandbox;		  /* Landlock workers and auth helper */

	/* [listen]: space-separated host:port lists, "" disables; the LMTP
	   entry is [lmtp] listen, where an entry starting with '/' is a UNIX
	   socket path */
	char *listen[CONFIG_LISTEN_COUNT];
	bool proxy_protocol;

	/* [tls] */
	char *tls_cert;
	char *tls_key;
	char *tls_priorities;

	/* [auth] */
	char *auth_backend; /* "passwd-file PATH", chain split by ',' */
	enum config_plaintext auth_plaintext;
	bool auth_allow_plain_scheme; /* accept {PLAIN} stored passwords */
	unsigned auth_workers;	      /* hashing threads in the auth helper */
	unsigned auth_penalty_max;    /* seconds: cap of the per-IP delay */
	unsigned auth_max_connections_per_ip;
	/* logged-in connections of one user from one address; 0: no cap */
	unsigned auth_max_connections_per_user_ip;
	unsigned auth_max_failures; /* failed attempts per connection */
	unsigned auth_checkpassword_timeout; /* seconds */
	/* protocols users may log in with unless their userdb entry says
	   (allow_protocols=): comma list of imap, pop3 */
	char *auth_allow_protocols;

	/* [mail] */
	char *mail_root; /* template: %u user, %n local part, %d domain */
	bool mail_fsync;
	char *mail_quota;	/* default Maildir++ limit ("1G"), "" none */
	bool mail_quota_bounce; /* deliver over quota: 77 (bounce), not 75 */

	/* [imap] */
	unsigned imap_timeout; /* seconds idle after login, >= 1800 */
	bool imap_compress;    /* offer COMPRESS=DEFLATE (RFC 4978) */
	/* special-use folder names: sent drafts trash junk archive */
	char *imap_folder[5];

	/* [pop3] */
	enum config_after_download pop3_after_download;
	unsigned pop3_timeout;	   /* seconds idle after login */
	unsigned pop3_login_delay; /* seconds advertised as LOGIN-DELAY */

	/* [lmtp] (listen is listen[CONFIG_LISTEN_LMTP]) */
	unsigned lmtp_socket_mode; /* permission bits of UNIX sockets */
	char *lmtp_socket_user;	   /* owner of UNIX sockets, "": root */
	char *lmtp_socket_group;   /* group of UNIX sockets, "": root's */
	unsigned lmtp_max_size;	   /* bytes of one message (SIZE) */

	/* [autoconfig]: what `merpati autoconfig` tells mail clients */
	char *autoconfig_hostname;     /* "": the domain asked for */
	char *autoconfig_display_name; /* "": the domain asked for */
	enum config_autoconfig_username autoconfig_username;
};

/* The built-in defaults; free with config_free(). */
struct config *config_new_defaults(void);

/*
 * Reads FILE over the defaults. Returns the config, or NULL with
 * "FILE:LINE: reason" (or "FILE: reason") in *error_r (caller frees).
 */
struct config *config_load(const char *path, char **error_r);

/*
 * The line of the file that set the field (a pointer into config, e.g.
 * &config->tls_key or &config->listen[kind]), or 0 when it kept its default
 * or is not a configuration key.
 */
int config_line(const struct config *config, const void *field);

/* Frees the config; takes NULL, leaves NULL. */
void config_free(struct config **config);

/* Writes the effective configuration in the file's own format. */
void config_print(const struct config *config, FILE *out);

/* The listener kind's key name ("imap", "imaps", "pop3", "pop3s",
   "lmtp"). */
const char *config_listener_name(enum config_listener kind);

/* The default config file path. */
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/merpati/merpati.conf"

/* mail.quota in bytes (validated at load; 0: no limit). */
uint64_t config_quota_bytes(const struct config *config);

#endif
