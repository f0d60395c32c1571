/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth: who is this user, and is this their password?
 *
 * One interface for every way a sysadmin keeps users: backends register by
 * name ("passwd-file", "checkpassword", "pam") and the configuration picks
 * one or a chain, tried in order. Every operation is asynchronous: it is
 * started on a libev loop and its callback fires later on the same loop,
 * never from inside the starting call. Slow work (password hashing, PAM)
 * runs on a worker thread pool (lib/thread_pool.h), checkpassword programs run as
 * child processes; the loop never blocks.
 *
 * This module runs inside the privilege-separated auth helper process
 * (auth_server.h) and in `merpati user`. The serving processes never use
 * it directly: they talk to the helper through auth_client.h. The policy
 * helpers at the end (user-name validation, plaintext policy) are pure and
 * used everywhere.
 *
 * Results are OK, FAIL or TEMPFAIL: an outage (unreadable database, PAM
 * module error, checkpassword timeout, helper restart) is TEMPFAIL and is
 * never reported to a client as a wrong password.
 */
#ifndef MERPATI_AUTH_H
#define MERPATI_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ev_loop;

/* The longest user name accepted (RFC 5321 allows 64@255; we take 255). */
#define AUTH_USER_NAME_MAX 255
/* The longest password accepted from a client. */
#define AUTH_PASSWORD_MAX 1024

enum auth_result {
	AUTH_RESULT_OK,
	AUTH_RESULT_FAIL,     /* unknown user or wrong password */
	AUTH_RESULT_TEMPFAIL, /* could not decide now; try again later */
};

/* "ok", "fail", "tempfail". */
const char *auth_result_name(enum auth_result result);

/* Where a serving process may accept plaintext passwords (auth.plaintext). */
enum auth_plaintext {
	AUTH_PLAINTEXT_TLS,		/* only on TLS connections (default) */
	AUTH_PLAINTEXT_TLS_OR_LOOPBACK, /* ... or from 127/8 and ::1 */
	AUTH_PLAINTEXT_ALWAYS,
};

/*
 * True when PLAIN, LOGIN, IMAP LOGIN and POP3 USER/PASS may be used on a
 * connection with these properties. Where false, IMAP advertises
 * LOGINDISABLED and both front-ends answer with AUTH_PLAINTEXT_REFUSED.
 */
bool auth_plaintext_allowed(enum auth_plaintext policy, bool tls,
			    bool loopback);

/* The reason given to clients when plaintext is refused. */
#define AUTH_PLAINTEXT_REFUSED \
	"Plaintext authentication disallowed on non-secure connections, use TLS (STARTTLS/STLS) first"

/*
 * Checks a user name before any backend sees it: 1..AUTH_USER_NAME_MAX
 * bytes, no NUL, CR, LF or other control byte, no '/', no "..", not
 * starting with '.' or '-' or '@'. Returns 0, or -1 with a reason for the
 * client in *error_r (static storage).
 */
int auth_user_name_validate(const char *name, size_t len, const char **error_r);

/*
 * What a successful lookup or verify says about a user. Owned by whoever
 * received it; free with auth_user_free().
 */
struct auth_user {
	char *name;	  /* canonical user name (as the backend spells it) */
	char *home;	  /* home directory, or NULL */
	char *mail_root;  /* the user's Maildir root, expanded */
	char *credential; /* stored password ({SCHEME}...), lookup only; may be
			     NULL; wiped on free */
	char **overrides; /* per-user settings "key=value" (userdb_ prefix
			     removed), NULL-terminated, never NULL */
	bool nopassword;  /* any password is accepted for this user */
	const char *backend; /* the backend that answered (static) */
};

void auth_user_free(struct auth_user **user);

/* Everything the module needs. Strings are borrowed for auth_new()'s life. */
struct auth_settings {
	/* The chain: "passwd-file /etc/merpati/users, pam merpati" —
	   backends separated by ',', each "name [arguments]". */
	const char *backend;
	bool allow_plain_scheme;	/* accept {PLAIN} stored passwords */
	unsigned workers;		/* hashing/PAM threads, >= 1 */
	unsigned penalty_max;		/* seconds; 0 disables the penalty */
	unsigned checkpassword_timeout; /* seconds */
	const char *mail_root; /* template: %u user, %n local part, %d domain,
				  %h home, %% a '%'; "~/" is the home */
	uid_t peer_uid;	       /* besides root, who may use the helper */
	/* run in the helper process before it starts serving, or NULL */
	void (*child_setup)(const struct auth_settings *set);
};

struct auth;
struct auth_request;

/*
 * Checks the settings without starting anything (backend names and
 * arguments, worker count). Returns 0, or -1 with a reason (static).
 */
int auth_settings_check(const struct auth_settings *set, const char **error_r);

/*
 * Creates the module on `loop` and initialises every backend of the chain
 * (a passwd-file that cannot be read now is not an error: requests get
 * TEMPFAIL until it can). Returns NULL with a reason in *error_r (static or
 * settings-lifetime storage) for an unknown backend or bad arguments.
 */
struct auth *auth_new(struct ev_loop *loop, const struct auth_settings *set,
		      const char **error_r);

/* Frees the module; in-flight requests are dropped without callbacks.
   Takes NULL, leaves NULL. */
void auth_free(struct auth **auth);

/*
 * The result of a request. `user` is handed over (the callback owns it, NULL
 * unless result is OK); `reason` is a short text for the log (never the
 * password), valid during the call. After the callback the request handle
 * is gone.
 */
typedef void auth_callback(enum auth_result result, struct auth_user *user,
			   const char *reason, void *context);

/*
 * Checks a password through the chain. service is "imap", "pop3" or
 * "cli"; ip may be NULL. The name is validated first. Returns the request
 * handle (for auth_request_cancel()); never NULL.
 */
struct auth_request *auth_verify(struct auth *auth, const char *service,
				 const char *ip, const char *user,
				 const char *password, auth_callback *callback,
				 void *context);

/*
 * Looks a user up without a password: the first backend of the chain that
 * can look users up and knows the user answers (with `credential` set).
 * Verify-only backends (checkpassword, PAM) are skipped: if only they are
 * configured the answer is FAIL with reason "lookup not supported".
 */
struct auth_request *auth_lookup(struct auth *auth, const char *user,
				 auth_callback *callback, void *context);

/* Cancels a request: its callback will not be called. Takes NULL, leaves
   NULL. */
void auth_request_cancel(struct auth_request **request);

/* The mechanisms the chain can serve, for CAPABILITY: "PLAIN LOGIN" plus
   " SCRAM-SHA-256" when a backend can look credentials up. Static. */
const char *auth_mechanisms(const struct auth *auth);

/*
 * Expands a mail root template for a user (see auth_settings.mail_root).
 * home may be NULL; a template that needs it then fails. Returns a new
 * string, or NULL with a reason.
 */
char *auth_mail_root_expand(const char *template, const char *user,
			    const char *home, const char **error_r);

#endif
