/*
 * imap_private: what the IMAP front-end's files share.
 */
#ifndef MERPATI_IMAP_PRIVATE_H
#define MERPATI_IMAP_PRIVATE_H

#include "lib/buf.h"
#include "lib/str.h"
#include "protocols/imap/imap.h"

#include <stdbool.h>

enum imap_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* Longest tag accepted: replies must echo it whole, and a command that
   consumes its line keeps a copy (imap_auth.c). */
#define IMAP_TAG_MAX 128

/* Bit masks of the states a command is valid in. */
#define IMAP_IN_NOAUTH (1u << IMAP_STATE_NOT_AUTHENTICATED)
#define IMAP_IN_AUTH (1u << IMAP_STATE_AUTHENTICATED)
#define IMAP_IN_SELECTED (1u << IMAP_STATE_SELECTED)
#define IMAP_IN_ANY (IMAP_IN_NOAUTH | IMAP_IN_AUTH | IMAP_IN_SELECTED)

struct imap_context {
	struct imap_settings set;
};

struct imap_session {
	struct conn *conn;
	struct imap_context *ctx;
	enum imap_state state;
	/* the command being run: valid during its handler */
	struct strv tag;
	struct strv args; /* everything after "tag SP name SP" */
	char *user;	  /* logged-in user, NULL before login */
	/* imap_auth.c (LOGIN/AUTHENTICATE): */
	char *mail_root;	/* the user's Maildir root, after login */
	struct imap_auth *auth; /* login state, NULL until first used */
	/* a command still running (waiting for auth, producing output):
	   process() calls it again instead of reading the next command */
	void (*resume)(struct imap_session *s);
	bool stop_reading; /* STARTTLS/LOGOUT: no more commands on this line */
};

/* Result of a command handler. */
enum imap_cmd_result {
	IMAP_CMD_DONE,	  /* replied; read the next command */
	IMAP_CMD_PENDING, /* set s->resume or paused input; do not read on */
};

struct imap_command {
	const char *name;
	unsigned states; /* IMAP_IN_* mask */
	enum imap_cmd_result (*run)(struct imap_session *s);
};

/* The command table (imap_commands.c); NULL-name terminated. */
extern const struct imap_command imap_commands[];

/* Writes a tagged reply: "<tag> <status> <text>\r\n". */
void imap_reply(struct imap_session *s, const char *status, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

/* Appends the capability list (without "CAPABILITY ") for this state. */
void imap_capabilities(struct imap_session *s, struct buf *out);

/* True when LOGIN / AUTHENTICATE PLAIN may be used on this connection. */
bool imap_plaintext_allowed(const struct imap_session *s);

#endif
