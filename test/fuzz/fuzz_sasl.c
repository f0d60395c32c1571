/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for auth/auth_sasl: the server side of PLAIN, LOGIN and
 * SCRAM-SHA-256 against arbitrary client messages.
 *
 * Input: one control byte, then the client messages separated by '\n'.
 * Control bits 0-1 pick the mechanism (3: SCRAM by a lower-case name),
 * bit 2 sends the first message as the initial response (else the
 * exchange starts without one), bit 3 hands SCRAM a broken credential.
 * The only user is "user" with password "pencil" and the RFC 7677 SCRAM
 * credential; the server nonce is fixed so that seeds can complete.
 *
 * Invariants: VERIFY hands out exactly the user and password bytes the
 * client sent (PLAIN: the fields between and after the NULs; LOGIN: the
 * two responses), valid user names and no NUL; OK only from SCRAM, only
 * for "user" after the credential was looked up, and only when the proof
 * in the client-final message is the one computed here from the password
 * over the AuthMessage, with the server signature we expect; FAIL comes
 * with a reason and is final.
 */
#include "fuzz.h"

#include "auth/auth.h"
#include "auth/auth_sasl.h"
#include "lib/base64.h"
#include "lib/buf.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#define USER "user"
#define PASSWORD "pencil"
#define CRED_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define CRED                                                                 \
	"{SCRAM-SHA-256}4096," CRED_SALT                                     \
	",WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2" \
	"KeoiWGPlZqQxSrmfPwDl2dU="
#define SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define MAX_MSGS 8

static unsigned char client_key[32], stored_key[32], server_key[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char salted[32];
	struct buf salt;
	gnutls_datum_t pw = {(unsigned char *)PASSWORD, sizeof(PASSWORD) - 1};
	gnutls_datum_t s;

	(void)argc;
	(void)argv;
	buf_init(&salt, BUF_UNLIMITED);
	FUZZ_CHECK(base64_decode(&salt, CRED_SALT, strlen(CRED_SALT)) == 0);
	s = (gnutls_datum_t){(unsigned char *)salt.data, (unsigned)salt.len};
	FUZZ_CHECK(gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &s, 4096, salted,
				 32) >= 0);
	FUZZ_CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, 32, "Client Key",
				    10, client_key) >= 0);
	FUZZ_CHECK(gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, 32,
				    stored_key) >= 0);
	FUZZ_CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, 32, "Server Key",
				    10, server_key) >= 0);
	buf_free(&salt);
	return 0;
}

struct msg {
	const char *p;
	size_t len;
};

struct exchange {
	int mech;		   /* 0 PLAIN, 1 LOGIN, 2 SCRAM */
	struct msg sent[MAX_MSGS]; /* what each step got; p NULL: none */
	size_t steps;
	struct buf server_first, server_final;
	int lookup_step, final_step; /* SCRAM: the steps that led there */
};

static bool msg_eq(struct msg m, const char *s)
{
	return m.p != NULL && m.len == strlen(s) && memcmp(m.p, s, m.len) == 0;
}

static void check_verify(const struct exchange *x, struct auth_sasl *s)
{
	const char *user = auth_sasl_user(s), *pw = auth_sasl_password(s);
	const char *error;

	FUZZ_CHECK(x->mech != 2);
	FUZZ_CHECK(user != NULL && pw != NULL);
	FUZZ_CHECK(auth_user_name_validate(user, strlen(user), &error) == 0);
	if (x->mech == 0) {
		/* [authzid] NUL authcid NUL passwd, in the last message */
		struct msg m = x->sent[x->steps - 1];
		const char *n1 = memchr(m.p, '\0', m.len), *n2;

		FUZZ_CHECK(n1 != NULL);
		n2 = memchr(n1 + 1, '\0', m.len - (size_t)(n1 + 1 - m.p));
		FUZZ_CHECK(n2 != NULL);
		FUZZ_CHECK((size_t)(n2 - n1 - 1) == strlen(user));
		FUZZ_CHECK(memcmp(n1 + 1, user, strlen(user)) == 0);
		FUZZ_CHECK(msg_eq(
			(struct msg){n2 + 1, m.len - (size_t)(n2 + 1 - m.p)},
			pw));
		FUZZ_CHECK(n1 == m.p || ((size_t)(n1 - m.p) == strlen(user) &&
					 memcmp(m.p, user, strlen(user)) == 0));
	} else {
		FUZZ_CHECK(x->steps >= 2);
		FUZZ_CHECK(msg_eq(x->sent[x->steps - 2], user));
		FUZZ_CHECK(msg_eq(x->sent[x->steps - 1], pw));
	}
}

/* The proof the client had to send, recomputed from the password. */
static void check_scram_ok(const struct exchange *x, struct auth_sasl *s)
{
	struct msg first, final;
	const char *bare, *p_at = NULL, *comma;
	unsigned char sig[32], proof[32], server_sig[32];
	struct buf am, got, want;

	FUZZ_CHECK(x->mech == 2);
	FUZZ_CHECK(strcmp(auth_sasl_user(s), USER) == 0);
	FUZZ_CHECK(x->lookup_step >= 0 && x->final_step > x->lookup_step);
	first = x->sent[x->lookup_step];
	final = x->sent[x->final_step];
	FUZZ_CHECK(first.p != NULL && final.p != NULL);

	/* client-first-message-bare: after "n,[a=...]," */
	FUZZ_CHECK(first.len >= 3 && first.p[1] == ',');
	comma = memchr(first.p + 2, ',', first.len - 2);
	FUZZ_CHECK(comma != NULL);
	bare = comma + 1;
	for (const char *q = final.p; q + 2 < final.p + final.len; q++) {
		if (q[0] == ',' && q[1] == 'p' && q[2] == '=')
			p_at = q;
	}
	FUZZ_CHECK(p_at != NULL);

	buf_init(&am, BUF_UNLIMITED);
	buf_append(&am, bare, (size_t)(first.p + first.len - bare));
	buf_append(&am, ",", 1);
	buf_append(&am, x->server_first.data, x->server_first.len);
	buf_append(&am, ",", 1);
	buf_append(&am, final.p, (size_t)(p_at - final.p));
	FUZZ_CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA256, stored_key, 32, am.data,
				    am.len, sig) >= 0);
	FUZZ_CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA256, server_key, 32, am.data,
				    am.len, server_sig) >= 0);
	for (size_t i = 0; i < 32; i++)
		proof[i] = client_key[i] ^ sig[i];

	buf_init(&got, BUF_UNLIMITED);
	FUZZ_CHECK(base64_decode(&got, p_at + 3,
				 (size_t)(final.p + final.len - p_at - 3)) ==
		   0);
	FUZZ_CHECK(got.len == 32 && memcmp(got.data, proof, 32) == 0);

	buf_init(&want, BUF_UNLIMITED);
	buf_append_str(&want, "v=");
	base64_encode(&want, server_sig, 32);
	FUZZ_CHECK(x->server_final.len == want.len &&
		   memcmp(x->server_final.data, want.data, want.len) == 0);
	buf_free(&want);
	buf_free(&got);
	buf_free(&am);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"PLAIN", "LOGIN", "SCRAM-SHA-256",
					    "scram-sha-256"};
	struct exchange x = {.lookup_step = -1, .final_step = -1};
	struct msg msgs[MAX_MSGS];
	size_t n_msgs = 0, next = 0;
	const char *p, *end, *error = NULL;
	struct auth_sasl *s;
	struct buf ch;
	enum auth_sasl_status st;
	bool with_ir, bad_cred;

	if (size == 0)
		return 0;
	x.mech = data[0] & 3;
	with_ir = (data[0] & 4) != 0;
	bad_cred = (data[0] & 8) != 0;
	s = auth_sasl_new(names[x.mech]);
	FUZZ_CHECK(s != NULL);
	if (x.mech == 3)
		x.mech = 2;
	FUZZ_CHECK(strcmp(auth_sasl_mech(s), names[x.mech]) == 0);
	auth_sasl_set_nonce(s, SNONCE);

	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (n_msgs < MAX_MSGS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		msgs[n_msgs++] = (struct msg){p, len};
		if (nl == NULL)
			break;
		p = nl + 1;
	}

	buf_init(&ch, BUF_UNLIMITED);
	buf_init(&x.server_first, BUF_UNLIMITED);
	buf_init(&x.server_final, BUF_UNLIMITED);
	x.sent[x.steps++] = with_ir ? msgs[next++] : (struct msg){NULL, 0};
	st = auth_sasl_step(s, x.sent[0].p, x.sent[0].len, &ch, &error);
	for (;;) {
		if (st == AUTH_SASL_LOOKUP) {
			FUZZ_CHECK(x.mech == 2 && x.lookup_step < 0);
			x.lookup_step = (int)x.steps - 1;
			buf_reset(&ch);
			st = auth_sasl_set_credential(
				s,
				bad_cred ? "{SCRAM-SHA-256}4096,x,y,z"
				: strcmp(auth_sasl_user(s), USER) == 0 ? CRED
								       : NULL,
				&ch, &error);
			if (st == AUTH_SASL_CONTINUE) {
				FUZZ_CHECK(!bad_cred);
				FUZZ_CHECK(strncmp(ch.data, "r=", 2) == 0);
				buf_append(&x.server_first, ch.data, ch.len);
			}
			continue;
		}
		if (st == AUTH_SASL_VERIFY) {
			check_verify(&x, s);
			break;
		}
		if (st == AUTH_SASL_OK) {
			check_scram_ok(&x, s);
			break;
		}
		if (st == AUTH_SASL_FAIL) {
			FUZZ_CHECK(error != NULL);
			FUZZ_CHECK(auth_sasl_step(s, "", 0, &ch, &error) ==
				   AUTH_SASL_FAIL);
			break;
		}
		FUZZ_CHECK(st == AUTH_SASL_CONTINUE);
		if (x.mech == 2 && x.server_first.len > 0 &&
		    strncmp(ch.data != NULL ? ch.data : "", "v=", 2) == 0) {
			x.final_step = (int)x.steps - 1;
			buf_reset(&x.server_final);
			buf_append(&x.server_final, ch.data, ch.len);
		}
		if (next == n_msgs || x.steps == MAX_MSGS)
			break;
		x.sent[x.steps++] = msgs[next++];
		buf_reset(&ch);
		st = auth_sasl_step(s, x.sent[x.steps - 1].p,
				    x.sent[x.steps - 1].len, &ch, &error);
	}
	buf_free(&x.server_final);
	buf_free(&x.server_first);
	buf_free(&ch);
	auth_sasl_free(&s);
	return 0;
}
