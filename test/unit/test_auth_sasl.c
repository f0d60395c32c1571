/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_auth mp_lib
/* SASL mechanisms against RFC 4616 / RFC 5802 / RFC 7677 exchanges. */
#include "auth/auth_sasl.h"

#include "lib/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RFC7677_CRED \
	"{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC7677_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC7677_FULL_NONCE "rOprNGfwEbeRWgbNEkqO" RFC7677_SNONCE

static enum auth_sasl_status step(struct auth_sasl *s, const char *data,
				  size_t len, struct buf *ch,
				  const char **error)
{
	buf_reset(ch);
	return auth_sasl_step(s, data, len, ch, error);
}

static void test_plain(void **state)
{
	struct auth_sasl *s = auth_sasl_new("plain");
	struct buf ch;
	const char *error = NULL;

	(void)state;
	buf_init(&ch, 4096);
	/* no initial response: an empty challenge */
	assert_int_equal(step(s, NULL, 0, &ch, &error), AUTH_SASL_CONTINUE);
	assert_int_equal(ch.len, 0);
	assert_int_equal(step(s, "\0tim\0tanstaaftanstaaf", 21, &ch, &error),
			 AUTH_SASL_VERIFY);
	assert_string_equal(auth_sasl_user(s), "tim");
	assert_string_equal(auth_sasl_password(s), "tanstaaftanstaaf");
	assert_string_equal(auth_sasl_mech(s), "PLAIN");
	auth_sasl_free(&s);
	assert_null(s);

	/* authzid equal to the user is fine (RFC 4616 example 2 form) */
	s = auth_sasl_new("PLAIN");
	assert_int_equal(step(s, "Ursel\0Ursel\0kurt", 16, &ch, &error),
			 AUTH_SASL_VERIFY);
	auth_sasl_free(&s);

	/* a different authzid is proxy auth: refused */
	s = auth_sasl_new("PLAIN");
	assert_int_equal(step(s, "Ursel\0Kurt\0xipj3plmq", 20, &ch, &error),
			 AUTH_SASL_FAIL);
	auth_sasl_free(&s);

	/* malformed */
	s = auth_sasl_new("PLAIN");
	assert_int_equal(step(s, "nonul", 5, &ch, &error), AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	s = auth_sasl_new("PLAIN");
	assert_int_equal(step(s, "\0a/b\0x", 6, &ch, &error), AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	s = auth_sasl_new("PLAIN");
	assert_int_equal(step(s, "\0a\0x\0y", 6, &ch, &error), AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	buf_free(&ch);
}

static void test_login(void **state)
{
	struct auth_sasl *s = auth_sasl_new("LOGIN");
	struct buf ch;
	const char *error = NULL;

	(void)state;
	buf_init(&ch, 4096);
	assert_int_equal(step(s, NULL, 0, &ch, &error), AUTH_SASL_CONTINUE);
	assert_memory_equal(ch.data, "Username:", 9);
	assert_int_equal(step(s, "alice", 5, &ch, &error), AUTH_SASL_CONTINUE);
	assert_memory_equal(ch.data, "Password:", 9);
	assert_int_equal(step(s, "s3cret", 6, &ch, &error), AUTH_SASL_VERIFY);
	assert_string_equal(auth_sasl_user(s), "alice");
	assert_string_equal(auth_sasl_password(s), "s3cret");
	assert_int_equal(step(s, "more", 4, &ch, &error), AUTH_SASL_FAIL);
	auth_sasl_free(&s);

	/* initial response carries the user name */
	s = auth_sasl_new("login");
	assert_int_equal(step(s, "bob", 3, &ch, &error), AUTH_SASL_CONTINUE);
	assert_memory_equal(ch.data, "Password:", 9);
	assert_int_equal(step(s, "pw", 2, &ch, &error), AUTH_SASL_VERIFY);
	assert_string_equal(auth_sasl_user(s), "bob");
	auth_sasl_free(&s);

	s = auth_sasl_new("LOGIN");
	assert_int_equal(step(s, "../etc", 6, &ch, &error), AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	assert_null(auth_sasl_new("CRAM-MD5"));
	assert_false(auth_sasl_mech_known("GSSAPI"));
	assert_true(auth_sasl_mech_known("scram-sha-256"));
	buf_free(&ch);
}

/* RFC 7677 section 3, the whole exchange. */
static void test_scram_rfc7677(void **state)
{
	struct auth_sasl *s = auth_sasl_new("SCRAM-SHA-256");
	struct buf ch;
	const char *error = NULL;
	const char *cf = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
	const char *cfinal = "c=biws,r=" RFC7677_FULL_NONCE
			     ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	const char *sfirst =
		"r=" RFC7677_FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	const char *sfinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

	(void)state;
	buf_init(&ch, 4096);
	auth_sasl_set_nonce(s, RFC7677_SNONCE);
	assert_int_equal(step(s, cf, strlen(cf), &ch, &error),
			 AUTH_SASL_LOOKUP);
	assert_string_equal(auth_sasl_user(s), "user");
	buf_reset(&ch);
	assert_int_equal(auth_sasl_set_credential(s, RFC7677_CRED, &ch, &error),
			 AUTH_SASL_CONTINUE);
	assert_int_equal(ch.len, strlen(sfirst));
	assert_memory_equal(ch.data, sfirst, ch.len);
	assert_int_equal(step(s, cfinal, strlen(cfinal), &ch, &error),
			 AUTH_SASL_CONTINUE);
	assert_int_equal(ch.len, strlen(sfinal));
	assert_memory_equal(ch.data, sfinal, ch.len);
	assert_int_equal(step(s, "", 0, &ch, &error), AUTH_SASL_OK);
	auth_sasl_free(&s);
	buf_free(&ch);
}

static void test_scram_failures(void **state)
{
	struct auth_sasl *s;
	struct buf ch;
	const char *error = NULL;
	const char *cf = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
	/* proof with one flipped character */
	const char *bad = "c=biws,r=" RFC7677_FULL_NONCE
			  ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=";
	const char *badnonce =
		"c=biws,r=rOprNGfwEbeRWgbNEkqOxx,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	const char *badcb = "c=eSws,r=" RFC7677_FULL_NONCE
			    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	const char *finals[] = {bad, badnonce, badcb};

	(void)state;
	buf_init(&ch, 4096);
	for (size_t i = 0; i < 3; i++) {
		s = auth_sasl_new("SCRAM-SHA-256");
		auth_sasl_set_nonce(s, RFC7677_SNONCE);
		assert_int_equal(step(s, cf, strlen(cf), &ch, &error),
				 AUTH_SASL_LOOKUP);
		assert_int_equal(
			auth_sasl_set_credential(s, RFC7677_CRED, &ch, &error),
			AUTH_SASL_CONTINUE);
		assert_int_equal(
			step(s, finals[i], strlen(finals[i]), &ch, &error),
			AUTH_SASL_FAIL);
		auth_sasl_free(&s);
	}
	/* a user without SCRAM keys */
	s = auth_sasl_new("SCRAM-SHA-256");
	assert_int_equal(step(s, cf, strlen(cf), &ch, &error),
			 AUTH_SASL_LOOKUP);
	assert_int_equal(auth_sasl_set_credential(s, "{PLAIN}x", &ch, &error),
			 AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	/* channel binding, bad header, mandatory extension, escaped name */
	static const char *const firsts[] = {
		"p=tls-unique,,n=user,r=abc",
		"x,,n=user,r=abc",
		"n,,m=ext,n=user,r=abc",
		"n,,n=us=41er,r=abc",
		"n,a=other,n=user,r=abc",
		"n,,n=user,r=",
		"n,,n=..,r=abc",
	};
	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		s = auth_sasl_new("SCRAM-SHA-256");
		assert_int_equal(
			step(s, firsts[i], strlen(firsts[i]), &ch, &error),
			AUTH_SASL_FAIL);
		auth_sasl_free(&s);
	}
	/* escaped ',' and '=' in the name; authzid equal to the user */
	s = auth_sasl_new("SCRAM-SHA-256");
	assert_int_equal(
		step(s, "y,a=a=2Cb=3D,n=a=2Cb=3D,r=abc", 29, &ch, &error),
		AUTH_SASL_LOOKUP);
	assert_string_equal(auth_sasl_user(s), "a,b=");
	auth_sasl_free(&s);
	s = auth_sasl_new("SCRAM-SHA-256");
	assert_int_equal(step(s, "y,a=b=3Dc,n=b=3Dc,r=abc", 23, &ch, &error),
			 AUTH_SASL_LOOKUP);
	assert_string_equal(auth_sasl_user(s), "b=c");
	auth_sasl_free(&s);
	/* no initial response: empty challenge first */
	s = auth_sasl_new("SCRAM-SHA-256");
	assert_int_equal(step(s, NULL, 0, &ch, &error), AUTH_SASL_CONTINUE);
	assert_int_equal(ch.len, 0);
	assert_int_equal(step(s, cf, strlen(cf), &ch, &error),
			 AUTH_SASL_LOOKUP);
	auth_sasl_free(&s);
	buf_free(&ch);
}

/* The server-first for user with no SCRAM credential (fake). */
static char *fake_first(const char *user, struct buf *ch)
{
	struct auth_sasl *s = auth_sasl_new("SCRAM-SHA-256");
	const char *error = NULL;
	char cf[128], *first;

	snprintf(cf, sizeof(cf), "n,,n=%s,r=rOprNGfwEbeRWgbNEkqO", user);
	auth_sasl_set_nonce(s, RFC7677_SNONCE);
	assert_int_equal(step(s, cf, strlen(cf), ch, &error), AUTH_SASL_LOOKUP);
	buf_reset(ch);
	assert_int_equal(auth_sasl_set_unknown(s, ch, &error),
			 AUTH_SASL_CONTINUE);
	first = strndup(ch->data, ch->len);
	auth_sasl_free(&s);
	return first;
}

/* RFC 5802 5.1: an unknown user gets a server-first message like a known
   one, with a salt stable per user, and fails where a wrong password does. */
static void test_scram_unknown_user(void **state)
{
	struct auth_sasl *s;
	struct buf ch;
	const char *error = NULL, *wrong_error = NULL;
	const char *cf = "n,,n=nobody,r=rOprNGfwEbeRWgbNEkqO";
	const char *cfinal = "c=biws,r=" RFC7677_FULL_NONCE
			     ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	const char *bad = "c=biws,r=" RFC7677_FULL_NONCE
			  ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=";
	char *a1, *a2, *b1;

	(void)state;
	buf_init(&ch, 4096);
	a1 = fake_first("nobody", &ch);
	a2 = fake_first("nobody", &ch);
	b1 = fake_first("somebody", &ch);
	/* r=<client nonce><server nonce>,s=<16 bytes base64>,i=4096 */
	assert_true(strncmp(a1, "r=" RFC7677_FULL_NONCE ",s=",
			    strlen("r=" RFC7677_FULL_NONCE ",s=")) == 0);
	assert_non_null(strstr(a1, ",i=4096"));
	assert_int_equal(strlen(a1),
			 strlen("r=" RFC7677_FULL_NONCE
				",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
	assert_string_equal(a1, a2);	 /* stable per user */
	assert_string_not_equal(a1, b1); /* but not the same for everyone */
	free(a1);
	free(a2);
	free(b1);

	/* the exchange fails at client-final, with a wrong password's error */
	s = auth_sasl_new("SCRAM-SHA-256");
	auth_sasl_set_nonce(s, RFC7677_SNONCE);
	assert_int_equal(step(s, cf, strlen(cf), &ch, &error),
			 AUTH_SASL_LOOKUP);
	assert_int_equal(auth_sasl_set_unknown(s, &ch, &error),
			 AUTH_SASL_CONTINUE);
	assert_int_equal(step(s, cfinal, strlen(cfinal), &ch, &error),
			 AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	s = auth_sasl_new("SCRAM-SHA-256");
	auth_sasl_set_nonce(s, RFC7677_SNONCE);
	step(s, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", 32, &ch, &wrong_error);
	auth_sasl_set_credential(s, RFC7677_CRED, &ch, &wrong_error);
	assert_int_equal(step(s, bad, strlen(bad), &ch, &wrong_error),
			 AUTH_SASL_FAIL);
	assert_string_equal(error, wrong_error);
	auth_sasl_free(&s);
	/* only after a LOOKUP */
	s = auth_sasl_new("SCRAM-SHA-256");
	assert_int_equal(auth_sasl_set_unknown(s, &ch, &error), AUTH_SASL_FAIL);
	auth_sasl_free(&s);
	buf_free(&ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_scram_rfc7677),
		cmocka_unit_test(test_scram_failures),
		cmocka_unit_test(test_scram_unknown_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
