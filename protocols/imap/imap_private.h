/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_private: what the IMAP front-end's files share.
 *
 * A session reads commands through imap_parser (one at a time: commands
 * pipelined behind a running one wait in the input buffer and are answered
 * in order, which RFC 3501 5.5 allows), looks the name up in the command
 * table and runs it. A command lives in struct imap_cmd: its tag, name and
 * argument tree stay valid until it ends, because the parser is not fed
 * again before that. A command that cannot finish at once (a login waiting
 * for the auth helper, a FETCH stopped at the output high-water mark) sets
 * cmd->resume and returns IMAP_CMD_PENDING; process() calls resume again
 * until it returns IMAP_CMD_DONE.
 *
 * Replies: a command ends with imap_cmd_done() (or imap_cmd_ok/no/bad),
 * which first reports the selected folder's changes where RFC 3501 7.4.1
 * allows (imap_sync.c), then writes the tagged line.
 */
#ifndef MERPATI_IMAP_PRIVATE_H
#define MERPATI_IMAP_PRIVATE_H

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "protocols/imap/imap.h"
#include "protocols/imap/imap_arg.h"
#include "storage/maildir.h"

#include <stdbool.h>
#include <stdint.h>

struct imap_parser;
struct maildir;
struct mail_user;
struct mailbox;
struct mailbox_changes;
struct imap_seqset;
struct imap_sync_job;
struct imap_recent;

enum imap_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* Longest tag accepted: replies must echo it whole. */
#define IMAP_TAG_MAX 128

/* Bit masks of the states a command is valid in. */
#define IMAP_IN_NOAUTH (1u << IMAP_STATE_NOT_AUTHENTICATED)
#define IMAP_IN_AUTH (1u << IMAP_STATE_AUTHENTICATED)
#define IMAP_IN_SELECTED (1u << IMAP_STATE_SELECTED)
#define IMAP_IN_ANY (IMAP_IN_NOAUTH | IMAP_IN_AUTH | IMAP_IN_SELECTED)
#define IMAP_IN_LOGGED_IN (IMAP_IN_AUTH | IMAP_IN_SELECTED)

/* Command properties (struct imap_command.flags). */
enum imap_command_flags {
	/* takes message sequence numbers: RFC 3501 7.4.1 forbids EXPUNGE
	   responses while it runs and at its end (FETCH, STORE, SEARCH and
	   COPY without the UID prefix) */
	IMAP_CMDF_SEQ = 1u << 0,
	/* may follow "UID" (UID FETCH, UID STORE, ...); then it takes UIDs
	   and EXPUNGE responses are allowed at its end */
	IMAP_CMDF_UID = 1u << 1,
	/* only after "UID" (UID EXPUNGE) */
	IMAP_CMDF_UID_ONLY = 1u << 2,
};

/* ENABLEd extensions (RFC 5161), bits of imap_session.enabled. */
enum imap_enabled {
	IMAP_ENABLED_CONDSTORE = 1u << 0,
	IMAP_ENABLED_QRESYNC = 1u << 1,
	IMAP_ENABLED_IMAP4REV2 = 1u << 2,
	IMAP_ENABLED_UTF8 = 1u << 3,
};

/* The folder of the SELECTED state. */
struct imap_selected {
	struct mailbox *box;
	char *name;    /* UTF-8 with '/', as the storage API takes it */
	bool readonly; /* EXAMINE */
	/* changes not reported yet that must wait for a command that may
	   report expunges (the snapshot is only synced then) */
	bool sync_pending;
	/* a storage job synced the folder already (imap_job.h): the next
	   imap_sync() reports these changes instead of syncing again */
	bool presynced;
	const struct mailbox_changes *presync_changes;
	/* SEARCHRES (imap_searchres.h): the saved UIDs, NULL = empty */
	struct imap_seqset *searchres;
	struct imap_recent *recent; /* \Recent (imap_recent.h) */
};

struct imap_context {
	struct imap_settings set;
};

struct imap_session;

/* Result of a command handler. */
enum imap_cmd_result {
	IMAP_CMD_DONE,	  /* the tagged reply is written */
	IMAP_CMD_PENDING, /* cmd->resume is set; call again later */
};

/* One running command; see the top of this file. */
struct imap_cmd {
	struct imap_session *s;
	const struct imap_command *def;
	struct strv tag;	     /* as sent */
	struct strv name;	     /* as sent, e.g. "fetch" */
	const struct imap_arg *argv; /* the parser's argument list */
	size_t first;		     /* argv index of argument 0 (UID ...) */
	struct arena *arena;	     /* command lifetime (parser's) */
	bool uid;		     /* run as UID <name> */
	enum imap_cmd_result (*resume)(struct imap_cmd *cmd);
	void *state; /* the handler's own, usually in arena */
	/* called when the command ends or the session is freed while it
	   runs (cancel a login, drop an APPEND's tmp file) */
	void (*cleanup)(struct imap_cmd *cmd);
};

struct imap_command {
	const char *name;
	unsigned states; /* IMAP_IN_* mask */
	unsigned flags;	 /* enum imap_command_flags */
	enum imap_cmd_result (*run)(struct imap_cmd *cmd);
};

struct imap_session {
	struct conn *conn;
	struct imap_context *ctx;
	enum imap_state state;
	struct imap_parser *parser;
	struct imap_cmd *cmd;	   /* running, or NULL */
	char *user;		   /* logged-in user, NULL before login */
	char *mail_root;	   /* the user's Maildir root, after login */
	struct maildir *store;	   /* opened at login */
	struct imap_selected *sel; /* SELECTED state only */
	unsigned enabled;	   /* enum imap_enabled */
	struct imap_auth *auth;	   /* imap_auth.c, NULL until first used */
	/* imap_append.c: messages of an APPEND being streamed to tmp/ */
	struct imap_append *append;
	/* imap_job.c: the sync of a command's end running on a thread */
	struct imap_sync_job *sync_job;
	/* STARTTLS: nothing is read until the handshake is done */
	bool starttls_pending;
	bool stop_reading; /* LOGOUT, fatal parser error */
};

/* The command table (imap_commands.c); NULL-name terminated. */
extern const struct imap_command imap_commands[];

/* The settings of the session's context. */
const struct imap_settings *imap_session_settings(const struct imap_session *s);

/* --- arguments of the running command (index 0 = first after the
   command name, or after "UID <name>") --- */
size_t imap_cmd_argc(const struct imap_cmd *cmd);
const struct imap_arg *imap_cmd_arg(const struct imap_cmd *cmd, size_t i);

/* --- replies --- */

/* Writes "<tag> <status> <text>\r\n" without syncing (before login, and
   for BAD). */
void imap_reply(struct imap_cmd *cmd, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Ends the command: reports pending folder changes where allowed (not
 * for BAD), then writes the tagged "<status> <text>" line. Always returns
 * IMAP_CMD_DONE, so handlers can `return imap_cmd_done(...)`.
 */
enum imap_cmd_result imap_cmd_done(struct imap_cmd *cmd, const char *status,
				   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define imap_cmd_ok(cmd, ...) imap_cmd_done((cmd), "OK", __VA_ARGS__)
#define imap_cmd_no(cmd, ...) imap_cmd_done((cmd), "NO", __VA_ARGS__)
#define imap_cmd_bad(cmd, ...) imap_cmd_done((cmd), "BAD", __VA_ARGS__)

/* Appends the capability list (without "CAPABILITY ") for this state. */
void imap_capabilities(struct imap_session *s, struct buf *out);

/* True when LOGIN / AUTHENTICATE PLAIN may be used on this connection. */
bool imap_plaintext_allowed(const struct imap_session *s);

/* --- session state changes (imap.c) --- */

/* After a successful login: opens the user's store, switches the parser
   to the post-login limits and the timer to imap.timeout. Returns 0, or
   -1 with a client-safe reason (the session stays unauthenticated). */
int imap_session_login(struct imap_session *s, const struct mail_user *user,
		       const char **error_r);

/* UNAUTHENTICATE (RFC 8437): back to the not-authenticated state. Closes
   the selected folder (no expunge) and the store, forgets the user and
   the ENABLEd extensions, gives back the per-user connection count,
   restores the pre-login parser limits and login deadline. TLS and
   COMPRESS stay. State a command adds to the session for the logged-in
   user must be released here too. */
void imap_session_unauthenticate(struct imap_session *s);

/* Leaves the SELECTED state (CLOSE, UNSELECT, a failed SELECT). */
void imap_session_unselect(struct imap_session *s);

/* The "NO [code] reason" response code for the store's last error. */
const char *imap_storage_code(struct imap_session *s);
/* The same for an error kind a storage job kept (maildir.h). */
const char *imap_storage_code_of(enum maildir_error kind);

#endif
