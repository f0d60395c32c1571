/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls: GnuTLS server credentials.
 *
 * Credentials (certificate chain, key, priority string) are loaded once and
 * shared by every session created while they are current. They are
 * reference counted so that a reload (SIGHUP) can swap in new ones while
 * sessions started under the old ones finish with them.
 */
#ifndef MERPATI_TLS_H
#define MERPATI_TLS_H

#include <gnutls/gnutls.h>

struct tls_creds;

/* Initialises GnuTLS once per process; safe to call again. */
void tls_global_init(void);

/*
 * Loads cert (PEM chain) and key (PEM) and checks the priority string.
 * Returns the credentials with one reference, or NULL with a reason in
 * *error_r (caller frees) naming the file.
 */
struct tls_creds *tls_creds_load(const char *cert, const char *key,
				 const char *priorities, char **error_r);

/* Adds a reference. */
struct tls_creds *tls_creds_ref(struct tls_creds *creds);

/* Drops a reference and frees at zero; takes NULL, leaves *creds NULL. */
void tls_creds_unref(struct tls_creds **creds);

/*
 * A new server session on the non-blocking socket fd, using creds (the
 * session keeps its own reference; see tls_session_free()). Returns 0, or
 * -1 with a reason.
 */
int tls_session_new(struct tls_creds *creds, int fd, gnutls_session_t *sess_r,
		    const char **error_r);

/* Deinitialises the session and drops its reference on the creds. */
void tls_session_free(gnutls_session_t *sess);

/* "1.3" / "1.2" for the log, after the handshake. */
const char *tls_session_version(gnutls_session_t sess);

#endif
