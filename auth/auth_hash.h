/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_hash: stored password schemes — verifying and making hashes.
 *
 * Stored passwords are Dovecot's `{SCHEME}data` or a bare crypt(3) hash:
 *   $y$ yescrypt, $6$ SHA512-CRYPT, $5$ SHA256-CRYPT, $2b$/$2y$ bcrypt,
 *   verified with libxcrypt's crypt_rn() (reentrant: safe on the worker
 *   pool); prefixes {CRYPT}, {YESCRYPT}, {SHA512-CRYPT}, {SHA256-CRYPT},
 *   {BLF-CRYPT}, {MD5-CRYPT} all mean "a crypt(3) hash follows";
 *   {PLAIN} / {CLEAR} the password itself, only when allowed;
 *   {SCRAM-SHA-256}<iter>,<salt b64>,<StoredKey b64>,<ServerKey b64>
 *   (Dovecot's format), which also verifies plaintext passwords.
 * Comparisons are constant-time. These calls are slow on purpose (that is
 * the point of yescrypt): call them from pool threads (lib/thread_pool.h), not the loop.
 */
#ifndef MERPATI_AUTH_HASH_H
#define MERPATI_AUTH_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_DEFAULT_SCHEME "YESCRYPT"
#define AUTH_SCRAM_DEFAULT_ITERATIONS 4096

/*
 * Checks password against a stored value. Returns 1 when it matches, 0
 * when it does not, -1 when the stored value cannot be used (unknown or
 * disallowed scheme, malformed hash) with a reason for the log.
 */
int auth_hash_verify(const char *stored, const char *password, bool allow_plain,
		     const char **error_r);

/*
 * Makes a stored value for password in `scheme` (YESCRYPT, SHA512-CRYPT,
 * SHA256-CRYPT, BLF-CRYPT, PLAIN, SCRAM-SHA-256; case-insensitive).
 * rounds 0 means the scheme's default, otherwise the crypt cost (yescrypt
 * 1..11, bcrypt 4..31, SHA-crypt rounds) or the SCRAM iteration count.
 * Output carries the {SCHEME} prefix (yescrypt as {CRYPT}$y$..., which
 * Dovecot on libxcrypt verifies too). Returns a new string, or NULL with a
 * reason.
 */
char *auth_hash_make(const char *scheme, const char *password,
		     unsigned long rounds, const char **error_r);

/* The parts of a {SCRAM-SHA-256} credential. */
struct auth_scram_keys {
	unsigned iterations;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char stored_key[32];
	unsigned char server_key[32];
};

/* Parses "<iter>,<salt>,<StoredKey>,<ServerKey>" (without the prefix).
   Returns 0 or -1. */
int auth_scram_keys_parse(const char *data, struct auth_scram_keys *keys_r);

/* Derives keys from a password. Returns 0 or -1 (crypto failure). */
int auth_scram_keys_derive(const char *password, const unsigned char *salt,
			   size_t salt_len, unsigned iterations,
			   struct auth_scram_keys *keys_r);

/* If stored is "{SCRAM-SHA-256}...", the part after the prefix; else NULL. */
const char *auth_hash_scram_data(const char *stored);

#endif
