/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_sasl.h"

#include "auth/auth.h"
#include "auth/auth_hash.h"
#include "lib/base64.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define SCRAM_NONCE_BYTES 18
#define SCRAM_NONCE_MAX 256
#define SCRAM_FAKE_SALT_LEN 16 /* as `merpati pw -s SCRAM-SHA-256` makes */

/* Keys fake SCRAM salts. Made before main() runs, so in merpatid's master:
   every auth helper it forks (restarts included) shares it. */
static unsigned char scram_fake_secret[32];

static void __attribute__((constructor)) scram_fake_secret_init(void)
{
	size_t got = 0;

	while (got < sizeof(scram_fake_secret)) {
		ssize_t n = getrandom(scram_fake_secret + got,
				      sizeof(scram_fake_secret) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
}

enum sasl_mech {
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_SCRAM,
};

enum sasl_state {
	STATE_START,
	STATE_LOGIN_USER,     /* LOGIN: asked for the user name */
	STATE_LOGIN_PASSWORD, /* LOGIN: asked for the password */
	STATE_SCRAM_LOOKUP,   /* waiting for the credential */
	STATE_SCRAM_FINAL,    /* sent server-first, want client-final */
	STATE_SCRAM_ACK,      /* sent server-final, want an empty response */
	STATE_DONE,
};

struct auth_sasl {
	enum sasl_mech mech;
	enum sasl_state state;
	char *user;
	char *password;
	/* SCRAM */
	char *gs2_header;	 /* "n,," or "n,a=...," */
	char *client_first_bare; /* "n=user,r=cnonce" */
	char *server_first;
	char *nonce;	    /* client nonce + server nonce */
	char *server_nonce; /* set by tests */
	struct auth_scram_keys keys;
};

static const char *const mech_names[] = {"PLAIN", "LOGIN", "SCRAM-SHA-256"};

static void free_secret_str(char **s)
{
	if (*s != NULL)
		xfree_secret(*s, strlen(*s));
	*s = NULL;
}

bool auth_sasl_mech_known(const char *mech)
{
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(mech, mech_names[i]) == 0)
			return true;
	}
	return false;
}

struct auth_sasl *auth_sasl_new(const char *mech)
{
	struct auth_sasl *sasl;

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(mech, mech_names[i]) == 0) {
			sasl = xcalloc(1, sizeof(*sasl));
			sasl->mech = (enum sasl_mech)i;
			return sasl;
		}
	}
	return NULL;
}

void auth_sasl_free(struct auth_sasl **saslp)
{
	struct auth_sasl *sasl = *saslp;

	if (sasl == NULL)
		return;
	*saslp = NULL;
	free_secret_str(&sasl->user);
	free_secret_str(&sasl->password);
	free(sasl->gs2_header);
	free(sasl->client_first_bare);
	free(sasl->server_first);
	free(sasl->nonce);
	free(sasl->server_nonce);
	explicit_bzero(&sasl->keys, sizeof(sasl->keys));
	free(sasl);
}

const char *auth_sasl_mech(const struct auth_sasl *sasl)
{
	return mech_names[sasl->mech];
}

const char *auth_sasl_user(const struct auth_sasl *sasl)
{
	return sasl->user;
}

const char *auth_sasl_password(const struct auth_sasl *sasl)
{
	return sasl->password;
}

void auth_sasl_set_nonce(struct auth_sasl *sasl, const char *nonce)
{
	free(sasl->server_nonce);
	sasl->server_nonce = xstrdup(nonce);
}

static enum auth_sasl_status fail(struct auth_sasl *sasl, const char *why,
				  const char **error_r)
{
	sasl->state = STATE_DONE;
	*error_r = why;
	return AUTH_SASL_FAIL;
}

static bool has_nul(const char *p, size_t len)
{
	return memchr(p, '\0', len) != NULL;
}

/* --- PLAIN: [authzid] NUL authcid NUL passwd (RFC 4616 2) --- */

static enum auth_sasl_status plain_step(struct auth_sasl *sasl,
					const char *data, size_t len,
					const char **error_r)
{
	const char *authzid = data, *authcid, *passwd, *end = data + len;
	const char *nul1 = memchr(data, '\0', len), *nul2;
	const char *error;

	if (nul1 == NULL)
		return fail(sasl, "Invalid PLAIN message", error_r);
	authcid = nul1 + 1;
	nul2 = memchr(authcid, '\0', (size_t)(end - authcid));
	if (nul2 == NULL)
		return fail(sasl, "Invalid PLAIN message", error_r);
	passwd = nul2 + 1;
	if (has_nul(passwd, (size_t)(end - passwd)))
		return fail(sasl, "Invalid PLAIN message", error_r);
	if (auth_user_name_validate(authcid, (size_t)(nul2 - authcid), &error) <
	    0)
		return fail(sasl, error, error_r);
	if (nul1 != authzid &&
	    ((size_t)(nul1 - authzid) != (size_t)(nul2 - authcid) ||
	     memcmp(authzid, authcid, (size_t)(nul1 - authzid)) != 0))
		return fail(sasl,
			    "Proxy authentication (authzid) not supported",
			    error_r);
	if ((size_t)(end - passwd) > AUTH_PASSWORD_MAX)
		return fail(sasl, "Password too long", error_r);
	sasl->user = xstrndup(authcid, (size_t)(nul2 - authcid));
	sasl->password = xstrndup(passwd, (size_t)(end - passwd));
	sasl->state = STATE_DONE;
	return AUTH_SASL_VERIFY;
}

/* --- LOGIN: "Username:", "Password:" --- */

static enum auth_sasl_status login_step(struct auth_sasl *sasl,
					const char *data, size_t len,
					struct buf *challenge,
					const char **error_r)
{
	const char *error;

	switch (sasl->state) {
	case STATE_START:
		if (data == NULL) {
			sasl->state = STATE_LOGIN_USER;
			buf_append_str(challenge, "Username:");
			return AUTH_SASL_CONTINUE;
		}
		/* An initial response is the user name. */
		/* fall through */
	case STATE_LOGIN_USER:
		if (has_nul(data, len) ||
		    auth_user_name_validate(data, len, &error) < 0)
			return fail(sasl,
				    has_nul(data, len) ? "Invalid user name"
						       : error,
				    error_r);
		sasl->user = xstrndup(data, len);
		sasl->state = STATE_LOGIN_PASSWORD;
		buf_append_str(challenge, "Password:");
		return AUTH_SASL_CONTINUE;
	case STATE_LOGIN_PASSWORD:
		if (has_nul(data, len) || len > AUTH_PASSWORD_MAX)
			return fail(sasl, "Invalid password", error_r);
		sasl->password = xstrndup(data, len);
		sasl->state = STATE_DONE;
		return AUTH_SASL_VERIFY;
	default:
		return fail(sasl, "Unexpected response", error_r);
	}
}

/* --- SCRAM-SHA-256 (RFC 5802 5, 7) --- */

/* saslname: "=2C" is ',' and "=3D" is '='; any other '=' is an error. */
static char *scram_unescape(const char *p, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != '=') {
			*o++ = p[i];
		} else if (i + 2 < len && p[i + 1] == '2' && p[i + 2] == 'C') {
			*o++ = ',';
			i += 2;
		} else if (i + 2 < len && p[i + 1] == '3' && p[i + 2] == 'D') {
			*o++ = '=';
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	*o = '\0';
	return out;
}

/* The value of attribute `a` at the start of *p ("a=value,"), advancing
   *p past it. Returns false when *p does not start with "a=". */
static bool scram_attr(const char **p, const char *end, char a,
		       const char **value_r, size_t *len_r)
{
	const char *s = *p, *comma;

	if (end - s < 2 || s[0] != a || s[1] != '=')
		return false;
	s += 2;
	comma = memchr(s, ',', (size_t)(end - s));
	*value_r = s;
	*len_r = comma != NULL ? (size_t)(comma - s) : (size_t)(end - s);
	*p = comma != NULL ? comma + 1 : end;
	return true;
}

static bool printable_nonce(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	}
	return len > 0 && len <= SCRAM_NONCE_MAX;
}

static enum auth_sasl_status scram_client_first(struct auth_sasl *sasl,
						const char *data, size_t len,
						struct buf *challenge,
						const char **error_r)
{
	const char *p, *end, *v, *bare;
	size_t vlen;
	char *authzid = NULL;
	const char *error;

	if (data == NULL) {
		/* No initial response: an empty challenge asks for it. */
		(void)challenge;
		return AUTH_SASL_CONTINUE;
	}
	p = data;
	end = data + len; /* not before: NULL + 0 is undefined */
	if (has_nul(data, len))
		return fail(sasl, "Invalid SCRAM message", error_r);
	/* gs2-header = gs2-cbind-flag "," [ authzid ] "," */
	if (len >= 2 && data[0] == 'p' && data[1] == '=')
		return fail(sasl, "Channel binding not supported", error_r);
	if (len < 3 || (data[0] != 'n' && data[0] != 'y') || data[1] != ',')
		return fail(sasl, "Invalid SCRAM GS2 header", error_r);
	p = data + 2;
	if (scram_attr(&p, end, 'a', &v, &vlen)) {
		authzid = scram_unescape(v, vlen);
		if (authzid == NULL)
			return fail(sasl, "Invalid SCRAM authzid", error_r);
	} else if (p < end && *p == ',') {
		p++;
	} else {
		return fail(sasl, "Invalid SCRAM GS2 header", error_r);
	}
	sasl->gs2_header = xstrndup(data, (size_t)(p - data));
	bare = p;
	if (end - p >= 2 && p[0] == 'm' && p[1] == '=') {
		free(authzid);
		return fail(sasl, "Unsupported SCRAM extension", error_r);
	}
	if (!scram_attr(&p, end, 'n', &v, &vlen) ||
	    (sasl->user = scram_unescape(v, vlen)) == NULL) {
		free(authzid);
		return fail(sasl, "Invalid SCRAM user name", error_r);
	}
	if (authzid != NULL && strcmp(authzid, sasl->user) != 0) {
		free(authzid);
		return fail(sasl,
			    "Proxy authentication (authzid) not supported",
			    error_r);
	}
	free(authzid);
	if (auth_user_name_validate(sasl->user, strlen(sasl->user), &error) < 0)
		return fail(sasl, error, error_r);
	if (!scram_attr(&p, end, 'r', &v, &vlen) || !printable_nonce(v, vlen))
		return fail(sasl, "Invalid SCRAM nonce", error_r);
	sasl->nonce = xstrndup(v, vlen);
	sasl->client_first_bare = xstrndup(bare, (size_t)(end - bare));
	sasl->state = STATE_SCRAM_LOOKUP;
	return AUTH_SASL_LOOKUP;
}

static enum auth_sasl_status scram_server_first(struct auth_sasl *sasl,
						struct buf *challenge,
						const char **error_r);

enum auth_sasl_status auth_sasl_set_credential(struct auth_sasl *sasl,
					       const char *stored,
					       struct buf *challenge,
					       const char **error_r)
{
	const char *data = stored != NULL ? auth_hash_scram_data(stored) : NULL;

	if (sasl->state != STATE_SCRAM_LOOKUP)
		return fail(sasl, "Unexpected credential", error_r);
	if (data == NULL || auth_scram_keys_parse(data, &sasl->keys) < 0)
		return fail(sasl, "Authentication failed", error_r);
	return scram_server_first(sasl, challenge, error_r);
}

enum auth_sasl_status auth_sasl_set_unknown(struct auth_sasl *sasl,
					    struct buf *challenge,
					    const char **error_r)
{
	unsigned char mac[32];
	struct auth_scram_keys *k = &sasl->keys;

	if (sasl->state != STATE_SCRAM_LOOKUP)
		return fail(sasl, "Unexpected credential", error_r);
	memset(k, 0, sizeof(*k));
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, scram_fake_secret,
			     sizeof(scram_fake_secret), sasl->user,
			     strlen(sasl->user), mac) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, k->stored_key, sizeof(k->stored_key)) <
		    0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, k->server_key, sizeof(k->server_key)) <
		    0)
		return fail(sasl, "Internal error", error_r);
	memcpy(k->salt, mac, SCRAM_FAKE_SALT_LEN);
	k->salt_len = SCRAM_FAKE_SALT_LEN;
	k->iterations = AUTH_SCRAM_DEFAULT_ITERATIONS;
	return scram_server_first(sasl, challenge, error_r);
}

/* Sends server-first for sasl->keys (RFC 5802 5.1). */
static enum auth_sasl_status scram_server_first(struct auth_sasl *sasl,
						struct buf *challenge,
						const char **error_r)
{
	unsigned char rnd[SCRAM_NONCE_BYTES];
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_append_str(&b, sasl->nonce);
	if (sasl->server_nonce != NULL) {
		buf_append_str(&b, sasl->server_nonce);
	} else {
		/* base64 is printable and has no ',' */
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0) {
			buf_free(&b);
			return fail(sasl, "Internal error", error_r);
		}
		base64_encode(&b, rnd, sizeof(rnd));
	}
	free(sasl->nonce);
	sasl->nonce = b.data;
	buf_init(&b, BUF_UNLIMITED);
	buf_printf(&b, "r=%s,s=", sasl->nonce);
	base64_encode(&b, sasl->keys.salt, sasl->keys.salt_len);
	buf_printf(&b, ",i=%u", sasl->keys.iterations);
	sasl->server_first = b.data;
	buf_append_str(challenge, sasl->server_first);
	sasl->state = STATE_SCRAM_FINAL;
	return AUTH_SASL_CONTINUE;
}

static enum auth_sasl_status scram_client_final(struct auth_sasl *sasl,
						const char *data, size_t len,
						struct buf *challenge,
						const char **error_r)
{
	const char *p = data, *end = data + len, *v, *proof_at;
	size_t vlen, n;
	struct buf b, cb;
	unsigned char sig[32], client_key[32], stored[32], proof[32];
	unsigned char server_sig[32];
	int ok;

	if (data == NULL || has_nul(data, len))
		return fail(sasl, "Invalid SCRAM message", error_r);
	/* c=base64(gs2-header) */
	if (!scram_attr(&p, end, 'c', &v, &vlen))
		return fail(sasl, "Invalid SCRAM channel binding", error_r);
	buf_init(&cb, 1024);
	if (base64_decode(&cb, v, vlen) < 0 ||
	    cb.len != strlen(sasl->gs2_header) ||
	    memcmp(cb.data, sasl->gs2_header, cb.len) != 0) {
		buf_free(&cb);
		return fail(sasl, "SCRAM channel binding mismatch", error_r);
	}
	buf_free(&cb);
	if (!scram_attr(&p, end, 'r', &v, &vlen) ||
	    vlen != strlen(sasl->nonce) || memcmp(v, sasl->nonce, vlen) != 0)
		return fail(sasl, "SCRAM nonce mismatch", error_r);
	/* p= is the last attribute; extensions before it are ignored. */
	proof_at = NULL;
	for (const char *q = p; q < end; q++) {
		if ((q == data || q[-1] == ',') && end - q >= 2 &&
		    q[0] == 'p' && q[1] == '=')
			proof_at = q;
	}
	if (proof_at == NULL)
		return fail(sasl, "SCRAM proof missing", error_r);
	buf_init(&b, 64);
	n = (size_t)(end - proof_at - 2);
	if (base64_decode(&b, proof_at + 2, n) < 0 || b.len != 32) {
		buf_free(&b);
		return fail(sasl, "Invalid SCRAM proof", error_r);
	}
	memcpy(proof, b.data, 32);
	buf_free(&b);

	/* AuthMessage := client-first-message-bare + "," +
	   server-first-message + "," + client-final-message-without-proof */
	buf_init(&b, BUF_UNLIMITED);
	buf_printf(&b, "%s,%s,", sasl->client_first_bare, sasl->server_first);
	buf_append(&b, data, (size_t)(proof_at - 1 - data));
	ok = gnutls_hmac_fast(GNUTLS_MAC_SHA256, sasl->keys.stored_key, 32,
			      b.data, b.len, sig) >= 0 &&
	     gnutls_hmac_fast(GNUTLS_MAC_SHA256, sasl->keys.server_key, 32,
			      b.data, b.len, server_sig) >= 0;
	buf_free(&b);
	if (!ok)
		return fail(sasl, "Internal error", error_r);
	for (size_t i = 0; i < 32; i++)
		client_key[i] = proof[i] ^ sig[i];
	ok = gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, 32, stored) >= 0 &&
	     str_secure_eq(stored, sasl->keys.stored_key, 32);
	explicit_bzero(client_key, sizeof(client_key));
	if (!ok)
		return fail(sasl, "Authentication failed", error_r);
	buf_append_str(challenge, "v=");
	base64_encode(challenge, server_sig, sizeof(server_sig));
	sasl->state = STATE_SCRAM_ACK;
	return AUTH_SASL_CONTINUE;
}

static enum auth_sasl_status scram_step(struct auth_sasl *sasl,
					const char *data, size_t len,
					struct buf *challenge,
					const char **error_r)
{
	switch (sasl->state) {
	case STATE_START:
		return scram_client_first(sasl, data, len, challenge, error_r);
	case STATE_SCRAM_FINAL:
		return scram_client_final(sasl, data, len, challenge, error_r);
	case STATE_SCRAM_ACK:
		/* RFC 5802 5.1: the client acknowledges server-final with an
		   empty response (protocols without additional data in the
		   success reply, like IMAP and POP3). */
		sasl->state = STATE_DONE;
		if (data != NULL && len != 0)
			return fail(sasl, "Unexpected SCRAM response", error_r);
		return AUTH_SASL_OK;
	default:
		return fail(sasl, "Unexpected response", error_r);
	}
}

enum auth_sasl_status auth_sasl_step(struct auth_sasl *sasl, const void *data,
				     size_t len, struct buf *challenge,
				     const char **error_r)
{
	if (data != NULL && len > AUTH_SASL_RESPONSE_MAX)
		return fail(sasl, "SASL response too long", error_r);
	if (sasl->state == STATE_DONE)
		return fail(sasl, "Unexpected response", error_r);
	if (data == NULL && sasl->state != STATE_START)
		data = "";
	switch (sasl->mech) {
	case SASL_PLAIN:
		if (data == NULL)
			return AUTH_SASL_CONTINUE; /* empty challenge */
		return plain_step(sasl, data, len, error_r);
	case SASL_LOGIN:
		return login_step(sasl, data, len, challenge, error_r);
	case SASL_SCRAM:
		return scram_step(sasl, data, len, challenge, error_r);
	}
	return fail(sasl, "Unknown mechanism", error_r);
}
