/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pop3_lock: one POP3 session per maildrop at a time (RFC 1939 8: the
 * server "acquires an exclusive-access lock on the maildrop").
 *
 * The lock is an open file description lock (fcntl F_OFD_SETLK) on
 * `<mail root>/merpati-pop3.lock`: exclusive between processes and between
 * sessions of one process, released by the kernel when the session ends
 * for any reason, so a crash never leaves a stale lock behind. The file
 * also remembers when the user last logged in, for LOGIN-DELAY (RFC 2449
 * 8.1.2). The file stays in place; only the lock comes and goes.
 */
#ifndef MERPATI_POP3_LOCK_H
#define MERPATI_POP3_LOCK_H

#include <time.h>

#define POP3_LOCK_FILE "merpati-pop3.lock"

struct pop3_lock;

/*
 * Locks the maildrop whose mail root is root (which must exist). Returns 1
 * with *lock_r, 0 when another session holds it, or -1 with a reason for
 * the log in *error_r (static or errno text).
 */
int pop3_lock_acquire(const char *root, struct pop3_lock **lock_r,
		      const char **error_r);

/* Releases the lock; takes NULL, leaves NULL. */
void pop3_lock_release(struct pop3_lock **lock);

/* When the user last logged in (as recorded by pop3_lock_set_login()),
   or 0 when never. */
time_t pop3_lock_last_login(struct pop3_lock *lock);

/* Records a login at time now. Failures are ignored (a missed record only
   relaxes LOGIN-DELAY). */
void pop3_lock_set_login(struct pop3_lock *lock, time_t now);

#endif
