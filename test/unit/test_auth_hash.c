/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_auth mp_lib
/* Password schemes: known hashes verify, wrong passwords do not, and
   `auth_hash_make` output verifies. */
#include "auth/auth_hash.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct vector {
	const char *stored;
	const char *password;
};

/* Published vectors (Drepper's SHA-crypt spec, OpenBSD's bcrypt tests)
   and libxcrypt output for yescrypt. */
static const struct vector vectors[] = {
	{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
	 "Hello world!"},
	{"{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
	 "Hello world!"},
	{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
	 "Hello world!"},
	{"{SHA256-CRYPT}$5$rounds=1000$saltsalt$eKLZU9t9OoPWrqOQsoTIKG0aYkZ5rGOoOQhiIvoSWX2",
	 "secret"},
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"{BLF-CRYPT}$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW",
	 "secret"},
	{"$y$j75$abcdefghijklmnopqrstu.$cQjAYfMwB51ACkjNBqV7OEAUemp/TRZgJmoQ3b5QsN8",
	 "secret"},
	{"{CRYPT}$y$j75$abcdefghijklmnopqrstu.$cQjAYfMwB51ACkjNBqV7OEAUemp/TRZgJmoQ3b5QsN8",
	 "secret"},
	/* RFC 7677's example user */
	{"{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
	 "pencil"},
};

static void test_known_vectors(void **state)
{
	const char *error = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		assert_int_equal(auth_hash_verify(vectors[i].stored,
						  vectors[i].password, false,
						  &error),
				 1);
		assert_int_equal(auth_hash_verify(vectors[i].stored, "wrong",
						  false, &error),
				 0);
		assert_int_equal(
			auth_hash_verify(vectors[i].stored, "", false, &error),
			0);
	}
}

static void test_plain(void **state)
{
	const char *error = NULL;

	(void)state;
	assert_int_equal(
		auth_hash_verify("{PLAIN}secret", "secret", true, &error), 1);
	assert_int_equal(
		auth_hash_verify("{PLAIN}secret", "secre", true, &error), 0);
	assert_int_equal(
		auth_hash_verify("{PLAIN}secret", "secret!", true, &error), 0);
	/* disabled by default: an error, never a match */
	assert_int_equal(
		auth_hash_verify("{PLAIN}secret", "secret", false, &error), -1);
	assert_non_null(strstr(error, "PLAIN"));
}

static void test_malformed(void **state)
{
	const char *error = NULL;

	(void)state;
	assert_int_equal(auth_hash_verify("{MD4}abc", "x", true, &error), -1);
	assert_int_equal(auth_hash_verify("{SHA512-CRYPT", "x", true, &error),
			 -1);
	assert_int_equal(auth_hash_verify("nohash", "x", true, &error), -1);
	assert_int_equal(auth_hash_verify("!locked", "x", true, &error), -1);
	assert_int_equal(auth_hash_verify("{CRYPT}*", "x", true, &error), -1);
	assert_int_equal(auth_hash_verify("$6$", "x", true, &error) == 1, 0);
	assert_int_equal(
		auth_hash_verify("{SCRAM-SHA-256}4096,abc", "x", true, &error),
		-1);
	assert_int_equal(
		auth_hash_verify(
			"{SCRAM-SHA-256}0,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
			"pencil", true, &error),
		-1);
}

static void test_make(void **state)
{
	static const struct {
		const char *scheme;
		unsigned long rounds;
		const char *prefix;
	} schemes[] = {
		{"YESCRYPT", 1, "{CRYPT}$y$"},
		{"SHA512-CRYPT", 1000, "{SHA512-CRYPT}$6$"},
		{"sha256-crypt", 1000, "{SHA256-CRYPT}$5$"},
		{"BLF-CRYPT", 4, "{BLF-CRYPT}$2y$"},
		{"SCRAM-SHA-256", 64, "{SCRAM-SHA-256}64,"},
		{"PLAIN", 0, "{PLAIN}"},
	};

	const char *error = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		char *h = auth_hash_make(schemes[i].scheme, "p4ss:word",
					 schemes[i].rounds, &error);

		assert_non_null(h);
		assert_memory_equal(h, schemes[i].prefix,
				    strlen(schemes[i].prefix));
		assert_int_equal(auth_hash_verify(h, "p4ss:word", true, &error),
				 1);
		assert_int_equal(auth_hash_verify(h, "p4ss:wore", true, &error),
				 0);
		free(h);
	}
	assert_null(auth_hash_make("MD4", "x", 0, &error));
	assert_null(auth_hash_make("MD5-CRYPT", "x", 0, &error));
}

static void test_scram_keys(void **state)
{
	struct auth_scram_keys keys;

	(void)state;
	assert_int_equal(
		auth_scram_keys_parse(
			"4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
			&keys),
		0);
	assert_int_equal(keys.iterations, 4096);
	assert_int_equal(keys.salt_len, 16);
	assert_int_equal(
		auth_scram_keys_parse("4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d,wfPL",
				      &keys),
		-1);
	assert_int_equal(auth_scram_keys_parse("x,a,b,c", &keys), -1);
	assert_int_equal(auth_scram_keys_parse("1,2,3,4,5", &keys), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_scram_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
