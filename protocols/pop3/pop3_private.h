/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the POP3 front-end's own files share: the session and its parts. */
#ifndef MERPATI_POP3_PRIVATE_H
#define MERPATI_POP3_PRIVATE_H

#include "protocols/pop3/pop3.h"

#include "lib/buf.h"
#include "protocols/login/login.h"
#include "protocols/pop3/pop3_stream.h"
#include "storage/msg_stream.h"

#include <stdbool.h>
#include <stdint.h>

struct maildir;
struct mailbox;
struct pop3_lock;
struct mail_user;
struct pop3_storage_job;

enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
	POP3_STATE_UPDATE,
};

/* Work that spans several `process` calls; while one runs no input is
   read, so pipelined commands wait and are answered in order. */
enum pop3_job {
	POP3_JOB_NONE,
	POP3_JOB_STORAGE, /* login's open or QUIT's update on a storage thread */
	POP3_JOB_LIST,	  /* LIST without argument */
	POP3_JOB_UIDL,	  /* UIDL without argument */
	POP3_JOB_SEND,	  /* RETR / TOP: the message through pop3_stream */
};

#define POP3_MARK_DELETED 0x1u	 /* DELE: expunged at QUIT */
#define POP3_MARK_RETRIEVED 0x2u /* RETR: after_download applies */

/* One message of the session's fixed view; numbers are index + 1. */
struct pop3_msg {
	unsigned idx;	/* index in the mailbox snapshot */
	uint32_t uid;	/* for UIDL and the UPDATE step */
	unsigned marks; /* POP3_MARK_* */
	uint64_t vsize; /* octets with CRLF line ends (LIST, STAT, RETR) */
};

struct pop3_context {
	struct pop3_settings set;
};

struct pop3_session {
	struct conn *conn;
	struct pop3_context *ctx;
	enum pop3_state state;
	enum pop3_job job;

	/* AUTHORIZATION */
	char *user;	       /* USER's argument, until PASS */
	struct login *login;   /* the exchange (protocols/login/login.h) */
	unsigned bad_commands; /* unknown or misplaced commands */

	/* TRANSACTION: the maildrop, fixed at login */
	struct maildir *store;
	struct mailbox *box;
	struct pop3_lock *lock;
	struct pop3_storage_job *storage; /* running, or NULL */
	struct pop3_msg *msgs;
	unsigned count;	       /* messages in the view */
	unsigned deleted;      /* of them marked deleted */
	uint64_t total_size;   /* vsize of all */
	uint64_t deleted_size; /* vsize of those marked deleted */

	/* jobs */
	unsigned job_pos;	   /* LOAD: snapshot index; LIST/UIDL: msg */
	struct msg_stream *msg;	   /* SEND: the message, CRLF-converted */
	struct pop3_stream stream; /* SEND: dot-stuffing */
	struct buf chunk;	   /* SEND: framed bytes */
};

/* Writes a whole response line: status "+OK"/"-ERR", then text; CRLF is
   added. */
void pop3_reply(struct pop3_session *s, const char *status, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

/* True when v is printable ASCII without spaces: safe to echo back. */
bool pop3_printable(struct strv v);

/* True when USER/PASS and AUTH PLAIN/LOGIN may be used on this
   connection now (auth.plaintext, TLS, loopback). */
bool pop3_plaintext_allowed(const struct pop3_session *s);

/* CAPA (RFC 2449 5). */
void pop3_cmd_capa(struct pop3_session *s);

/* pop3_auth.c: AUTHORIZATION-state commands; each returns false when
   reading input must stop. */
bool pop3_cmd_user(struct pop3_session *s, struct strv args);
bool pop3_cmd_pass(struct pop3_session *s, struct strv args);
bool pop3_cmd_auth(struct pop3_session *s, struct strv args);
bool pop3_cmd_apop(struct pop3_session *s, struct strv args);
/* The client's line during an AUTH exchange. */
bool pop3_sasl_line(struct pop3_session *s, struct strv line);
/* The session's login state (created at the session's start). */
struct login *pop3_auth_login_new(struct pop3_session *s);

/* pop3_maildrop.c: login (lock, open, view) and the UPDATE step, both
   on a storage thread (storage_pool.h) while the session waits in
   POP3_JOB_STORAGE. */
/* Starts opening user's maildrop at mail_root; the job answers the login.
   Returns false when the login failed at once (answer written). */
bool pop3_maildrop_open(struct pop3_session *s, const struct mail_user *user);
/* QUIT in TRANSACTION: hands the maildrop to the UPDATE job, which
   answers and closes the connection. */
void pop3_maildrop_quit(struct pop3_session *s);
/* The session ends while a job runs: its result is dropped. */
void pop3_maildrop_cancel(struct pop3_session *s);
/* Releases the maildrop (lock, mailbox, store). */
void pop3_maildrop_close(struct pop3_session *s);

/* pop3_commands.c: TRANSACTION-state commands. */
bool pop3_cmd_stat(struct pop3_session *s, struct strv args);
bool pop3_cmd_list(struct pop3_session *s, struct strv args);
bool pop3_cmd_uidl(struct pop3_session *s, struct strv args);
bool pop3_cmd_retr(struct pop3_session *s, struct strv args);
bool pop3_cmd_top(struct pop3_session *s, struct strv args);
bool pop3_cmd_dele(struct pop3_session *s, struct strv args);
bool pop3_cmd_rset(struct pop3_session *s, struct strv args);
bool pop3_cmd_noop(struct pop3_session *s, struct strv args);
/* QUIT in TRANSACTION: UPDATE, answer, close. */
bool pop3_cmd_quit_transaction(struct pop3_session *s);
/* Runs a LIST/UIDL/SEND job; returns true when it finished. */
bool pop3_job_list_run(struct pop3_session *s);
bool pop3_job_send_run(struct pop3_session *s);
/* Ends a SEND job early (session end). */
void pop3_job_send_abort(struct pop3_session *s);

#endif
