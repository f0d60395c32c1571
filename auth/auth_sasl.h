/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_sasl: the server side of the SASL mechanisms PLAIN (RFC 4616),
 * LOGIN (draft-murchison-sasl-login) and SCRAM-SHA-256 (RFC 5802, 7677),
 * as pure state machines: no I/O, no backends. The auth helper drives them
 * (auth_server.c): it feeds decoded client responses in, sends challenges
 * out, and does the password check or credential lookup a step asks for.
 *
 * A session:
 *   s = auth_sasl_new("PLAIN");
 *   st = auth_sasl_step(s, ir, ir_len, challenge, &error);  (ir NULL: none)
 *   while st == CONTINUE: send challenge, st = auth_sasl_step(s, resp...)
 *   VERIFY: check auth_sasl_user() + auth_sasl_password(), done.
 *   LOOKUP: find auth_sasl_user()'s stored credential, then
 *           st = auth_sasl_set_credential(s, stored, challenge, &error)
 *   OK: authenticated as auth_sasl_user(). FAIL: error says why.
 * SCRAM without channel binding only ("n" or "y" GS2 flag); an authzid
 * different from the user is refused (no proxy authentication).
 */
#ifndef MERPATI_AUTH_SASL_H
#define MERPATI_AUTH_SASL_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>

enum auth_sasl_status {
	AUTH_SASL_CONTINUE, /* send the challenge, wait for a response */
	AUTH_SASL_VERIFY,   /* check the plaintext password */
	AUTH_SASL_LOOKUP,   /* fetch the stored credential */
	AUTH_SASL_OK,
	AUTH_SASL_FAIL,
};

/* The largest decoded client response accepted. */
#define AUTH_SASL_RESPONSE_MAX 8192

struct auth_sasl;

/* A session for mech (case-insensitive), or NULL if we do not have it. */
struct auth_sasl *auth_sasl_new(const char *mech);

/* Wipes and frees. Takes NULL, leaves NULL. */
void auth_sasl_free(struct auth_sasl **sasl);

/* True when mech is one we implement. */
bool auth_sasl_mech_known(const char *mech);

/* The mechanism's canonical name ("PLAIN"...). */
const char *auth_sasl_mech(const struct auth_sasl *sasl);

/*
 * One client response (decoded), or data NULL for "no initial response".
 * The challenge (raw, not base64) is appended to `challenge` for CONTINUE.
 * For FAIL, *error_r is a reason safe to show the client.
 */
enum auth_sasl_status auth_sasl_step(struct auth_sasl *sasl, const void *data,
				     size_t len, struct buf *challenge,
				     const char **error_r);

/*
 * After LOOKUP: the user's stored password ({SCRAM-SHA-256}..., or
 * anything else / NULL when the user has no SCRAM credential). Returns
 * CONTINUE with the server-first message, or FAIL.
 */
enum auth_sasl_status auth_sasl_set_credential(struct auth_sasl *sasl,
					       const char *stored,
					       struct buf *challenge,
					       const char **error_r);

/*
 * After LOOKUP found no SCRAM credential (an unknown user, or one without
 * SCRAM keys): answers as if there were one (RFC 5802 5.1), so the client
 * cannot tell. The salt is HMAC-SHA-256(secret, user name) cut to 16
 * bytes, the iteration count AUTH_SCRAM_DEFAULT_ITERATIONS; the secret is
 * random, made once when the program starts, so a user's fake salt stays
 * the same for the daemon's life (auth helper restarts included). The keys
 * are random: the exchange fails at client-final with "Authentication
 * failed", as a wrong password does. Returns CONTINUE with the
 * server-first message, or FAIL.
 */
enum auth_sasl_status auth_sasl_set_unknown(struct auth_sasl *sasl,
					    struct buf *challenge,
					    const char **error_r);

/* The authentication identity, once known (NULL before). */
const char *auth_sasl_user(const struct auth_sasl *sasl);

/* The password (PLAIN, LOGIN) for VERIFY. */
const char *auth_sasl_password(const struct auth_sasl *sasl);

/* Tests: use this server nonce instead of a random one. */
void auth_sasl_set_nonce(struct auth_sasl *sasl, const char *nonce);

#endif
