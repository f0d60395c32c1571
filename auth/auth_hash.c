/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_hash.h"

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCRAM_SALT_LEN 16
#define SCRAM_ITERATIONS_MAX 10000000U

struct crypt_scheme {
	const char *name;   /* Dovecot's scheme name */
	const char *prefix; /* crypt_gensalt prefix */
	const char *label;  /* output prefix */
};

static const struct crypt_scheme crypt_schemes[] = {
	{"YESCRYPT", "$y$", "{CRYPT}"},
	{"CRYPT", "$y$", "{CRYPT}"},
	{"SHA512-CRYPT", "$6$", "{SHA512-CRYPT}"},
	{"SHA256-CRYPT", "$5$", "{SHA256-CRYPT}"},
	{"BLF-CRYPT", "$2y$", "{BLF-CRYPT}"},
	{"MD5-CRYPT", NULL, NULL}, /* verify only */
};

static const struct crypt_scheme *crypt_scheme_find(const char *name,
						    size_t len)
{
	for (size_t i = 0; i < sizeof(crypt_schemes) / sizeof(crypt_schemes[0]);
	     i++) {
		if (strlen(crypt_schemes[i].name) == len &&
		    strncasecmp(crypt_schemes[i].name, name, len) == 0)
			return &crypt_schemes[i];
	}
	return NULL;
}

static int verify_crypt(const char *hash, const char *password,
			const char **error_r)
{
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *out;
	size_t len = strlen(hash);
	int ret;

	if (len == 0 || hash[0] == '*' || hash[0] == '!') {
		/* A locked or disabled account. */
		free(data);
		*error_r = "account locked (no usable hash)";
		return -1;
	}
	out = crypt_rn(password, hash, data, sizeof(*data));
	if (out == NULL || out[0] == '*') {
		xfree_secret(data, sizeof(*data));
		*error_r = "unsupported or malformed crypt hash";
		return -1;
	}
	ret = strlen(out) == len && str_secure_eq(out, hash, len) ? 1 : 0;
	xfree_secret(data, sizeof(*data));
	return ret;
}

static int verify_plain(const char *stored, const char *password)
{
	size_t a = strlen(stored), b = strlen(password);
	/* Compare over the stored length always, so timing shows only that. */
	bool same = str_secure_eq(stored, password, a < b ? a : b);

	return same && a == b ? 1 : 0;
}

static int b64_decode_to(const char *in, size_t len, unsigned char *out,
			 size_t out_max, size_t *len_r)
{
	struct buf b;
	int ret = -1;

	buf_init(&b, out_max);
	if (base64_decode(&b, in, len) == 0) {
		memcpy(out, b.data, b.len);
		*len_r = b.len;
		ret = 0;
	}
	buf_free_secret(&b);
	return ret;
}

int auth_scram_keys_parse(const char *data, struct auth_scram_keys *keys_r)
{
	const char *p[4];
	size_t plen[4], n;
	const char *s = data;
	uint64_t iter;

	memset(keys_r, 0, sizeof(*keys_r));
	for (int i = 0; i < 4; i++) {
		const char *end = strchr(s, ',');

		if (i < 3 && end == NULL)
			return -1;
		if (i == 3) {
			if (end != NULL)
				return -1;
			end = s + strlen(s);
		}
		p[i] = s;
		plen[i] = (size_t)(end - s);
		s = end + 1;
	}
	if (strv_to_u64((struct strv){p[0], plen[0]}, SCRAM_ITERATIONS_MAX,
			&iter) < 0 ||
	    iter == 0)
		return -1;
	keys_r->iterations = (unsigned)iter;
	if (b64_decode_to(p[1], plen[1], keys_r->salt, sizeof(keys_r->salt),
			  &keys_r->salt_len) < 0 ||
	    keys_r->salt_len == 0)
		return -1;
	if (b64_decode_to(p[2], plen[2], keys_r->stored_key, 32, &n) < 0 ||
	    n != 32)
		return -1;
	if (b64_decode_to(p[3], plen[3], keys_r->server_key, 32, &n) < 0 ||
	    n != 32)
		return -1;
	return 0;
}

int auth_scram_keys_derive(const char *password, const unsigned char *salt,
			   size_t salt_len, unsigned iterations,
			   struct auth_scram_keys *keys_r)
{
	unsigned char salted[32], client_key[32];
	gnutls_datum_t key = {(unsigned char *)password,
			      (unsigned)strlen(password)};
	gnutls_datum_t salt_d = {(unsigned char *)salt, (unsigned)salt_len};
	int ret = -1;

	if (salt_len > sizeof(keys_r->salt))
		return -1;
	memset(keys_r, 0, sizeof(*keys_r));
	keys_r->iterations = iterations;
	memcpy(keys_r->salt, salt, salt_len);
	keys_r->salt_len = salt_len;
	/* RFC 5802 3: SaltedPassword := Hi(Normalize(password), salt, i).
	   Normalize (SASLprep) is the identity for ASCII passwords; we do not
	   apply it to non-ASCII ones (as Dovecot). */
	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &salt_d, iterations, salted,
			  sizeof(salted)) < 0)
		goto out;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, sizeof(salted),
			     "Client Key", 10, client_key) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, sizeof(client_key),
			     keys_r->stored_key) < 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, sizeof(salted),
			     "Server Key", 10, keys_r->server_key) < 0)
		goto out;
	ret = 0;
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	return ret;
}

const char *auth_hash_scram_data(const char *stored)
{
	static const char prefix[] = "{SCRAM-SHA-256}";

	if (strncasecmp(stored, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	return stored + sizeof(prefix) - 1;
}

static int verify_scram(const char *data, const char *password,
			const char **error_r)
{
	struct auth_scram_keys stored, derived;
	int ret;

	if (auth_scram_keys_parse(data, &stored) < 0) {
		*error_r = "malformed SCRAM-SHA-256 credential";
		return -1;
	}
	if (auth_scram_keys_derive(password, stored.salt, stored.salt_len,
				   stored.iterations, &derived) < 0) {
		*error_r = "PBKDF2 failed";
		return -1;
	}
	ret = str_secure_eq(stored.stored_key, derived.stored_key, 32) ? 1 : 0;
	explicit_bzero(&derived, sizeof(derived));
	return ret;
}

int auth_hash_verify(const char *stored, const char *password, bool allow_plain,
		     const char **error_r)
{
	const char *end, *data;
	size_t len;

	if (stored[0] != '{') {
		if (stored[0] == '$')
			return verify_crypt(stored, password, error_r);
		*error_r = "stored password has no {SCHEME} prefix";
		return -1;
	}
	end = strchr(stored, '}');
	if (end == NULL) {
		*error_r = "stored password has an unterminated {SCHEME}";
		return -1;
	}
	data = end + 1;
	len = (size_t)(end - stored - 1);
	if (crypt_scheme_find(stored + 1, len) != NULL)
		return verify_crypt(data, password, error_r);
	if ((len == 5 && strncasecmp(stored + 1, "PLAIN", 5) == 0) ||
	    (len == 5 && strncasecmp(stored + 1, "CLEAR", 5) == 0)) {
		if (!allow_plain) {
			*error_r =
				"{PLAIN} stored passwords are disabled (auth.allow_plain_scheme)";
			return -1;
		}
		return verify_plain(data, password);
	}
	if (auth_hash_scram_data(stored) != NULL)
		return verify_scram(data, password, error_r);
	*error_r = "unknown password scheme";
	return -1;
}

static char *make_crypt(const struct crypt_scheme *scheme, const char *password,
			unsigned long rounds, const char **error_r)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *out;
	struct buf b;

	if (scheme->prefix == NULL) {
		*error_r = "scheme can only be verified, not made";
		return NULL;
	}
	if (crypt_gensalt_rn(scheme->prefix, rounds, NULL, 0, setting,
			     sizeof(setting)) == NULL) {
		*error_r = "crypt_gensalt failed (bad rounds for this scheme?)";
		return NULL;
	}
	data = xcalloc(1, sizeof(*data));
	out = crypt_rn(password, setting, data, sizeof(*data));
	if (out == NULL || out[0] == '*') {
		xfree_secret(data, sizeof(*data));
		*error_r = "crypt failed";
		return NULL;
	}
	buf_init(&b, BUF_UNLIMITED);
	buf_printf(&b, "%s%s", scheme->label, out);
	xfree_secret(data, sizeof(*data));
	return b.data;
}

static char *make_scram(const char *password, unsigned long rounds,
			const char **error_r)
{
	unsigned char salt[SCRAM_SALT_LEN];
	struct auth_scram_keys keys;
	struct buf b;

	if (rounds == 0)
		rounds = AUTH_SCRAM_DEFAULT_ITERATIONS;
	if (rounds > SCRAM_ITERATIONS_MAX) {
		*error_r = "too many iterations";
		return NULL;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof(salt)) < 0 ||
	    auth_scram_keys_derive(password, salt, sizeof(salt),
				   (unsigned)rounds, &keys) < 0) {
		*error_r = "SCRAM key derivation failed";
		return NULL;
	}
	buf_init(&b, BUF_UNLIMITED);
	buf_printf(&b, "{SCRAM-SHA-256}%u,", keys.iterations);
	base64_encode(&b, keys.salt, keys.salt_len);
	buf_append_str(&b, ",");
	base64_encode(&b, keys.stored_key, 32);
	buf_append_str(&b, ",");
	base64_encode(&b, keys.server_key, 32);
	explicit_bzero(&keys, sizeof(keys));
	return b.data;
}

char *auth_hash_make(const char *scheme, const char *password,
		     unsigned long rounds, const char **error_r)
{
	const struct crypt_scheme *cs =
		crypt_scheme_find(scheme, strlen(scheme));
	struct buf b;

	if (cs != NULL)
		return make_crypt(cs, password, rounds, error_r);
	if (strcasecmp(scheme, "SCRAM-SHA-256") == 0)
		return make_scram(password, rounds, error_r);
	if (strcasecmp(scheme, "PLAIN") == 0) {
		buf_init(&b, BUF_UNLIMITED);
		buf_printf(&b, "{PLAIN}%s", password);
		return b.data;
	}
	*error_r =
		"unknown scheme (YESCRYPT, SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, SCRAM-SHA-256, PLAIN)";
	return NULL;
}
