/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_server
/* Unit tests for protocols/imap/imap_date: date, date-time and the
   INTERNALDATE form, with zones and calendar edges. */
#include "protocols/imap/imap_date.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static time_t date_ok(const char *text)
{
	time_t t = 1;

	if (imap_date_parse(strv_from_cstr(text), &t) != 0)
		fail_msg("refused date \"%s\"", text);
	return t;
}

static void test_date(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"1-Jan-70",
		"1-Jan-1970x",
		"1 Jan 1970",
		"0-Jan-2024",
		"32-Jan-2024",
		"29-Feb-2023",
		"30-Feb-2024",
		"1-Foo-2024",
		"1-Ja-2024",
		"001-Jan-2024",
		"1-Jan-0000",
		"1-Jan-20245",
		" 1-Jan-2024",
		"a1-Jan-2024",
		"1--Jan-2024",
		"31-Apr-2024",
		"1-Jan-2024 ",
	};

	assert_int_equal(date_ok("1-Jan-1970"), 0);
	assert_int_equal(date_ok("01-jan-1970"), 0);
	assert_int_equal(date_ok("02-JAN-1970"), 86400);
	assert_int_equal(date_ok("29-Feb-2024"), 1709164800);
	assert_int_equal(date_ok("29-Feb-2000"), 951782400);
	assert_int_equal(date_ok("31-Dec-1969"), -86400);
	assert_int_equal(date_ok("1-Jan-0001"), -62135596800);
	assert_int_equal(date_ok("31-Dec-9999"), 253402214400);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t;

		if (imap_date_parse(strv_from_cstr(bad[i]), &t) != -1)
			fail_msg("accepted date \"%s\"", bad[i]);
	}
}

static void test_date_time(void **state)
{
	(void)state;
	time_t t;
	int zone;
	static const char *const bad[] = {
		"",
		"05-Jul-2024 13:01:02",
		"05-Jul-2024 13:01:02 0200",
		"05-Jul-2024 24:00:00 +0000",
		"05-Jul-2024 23:60:00 +0000",
		"05-Jul-2024 23:00:61 +0000",
		"05-Jul-2024 23:00:00 +2400",
		"05-Jul-2024 23:00:00 +0060",
		"05-Jul-2024 3:00:00 +0000",
		"05-Jul-2024  13:01:02 +0000",
		"05-Jul-2024 13:01:02 +00000",
		"05-Jul-2024 13:01:02 +000",
		"  5-Jul-2024 13:01:02 +0000",
		" 15-Jul-2024 13:01:02 +0000",
		"05-Jul-2024T13:01:02 +0000",
	};

	assert_int_equal(
		imap_date_time_parse(STRV_LIT("05-Jul-2024 13:01:02 +0200"), &t,
				     &zone),
		0);
	assert_int_equal(t, 1720177262);
	assert_int_equal(zone, 120);
	assert_int_equal(
		imap_date_time_parse(STRV_LIT(" 5-Jul-2024 11:01:02 +0000"), &t,
				     &zone),
		0);
	assert_int_equal(t, 1720177262);
	assert_int_equal(zone, 0);
	assert_int_equal(
		imap_date_time_parse(STRV_LIT("5-jul-2024 01:31:02 -0930"), &t,
				     NULL),
		0);
	assert_int_equal(t, 1720177262);
	assert_int_equal(
		imap_date_time_parse(STRV_LIT("31-Dec-1998 23:59:60 +0000"), &t,
				     &zone),
		0);
	assert_int_equal(t, 915148799);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_date_time_parse(strv_from_cstr(bad[i]), &t, &zone) !=
		    -1)
			fail_msg("accepted date-time \"%s\"", bad[i]);
	}
}

static void test_date_time_write(void **state)
{
	(void)state;
	char out[IMAP_DATE_TIME_LEN + 1];
	time_t t;
	int zone;

	assert_int_equal(imap_date_time_write(1720177262, 120, out), 0);
	assert_string_equal(out, "05-Jul-2024 13:01:02 +0200");
	assert_int_equal(strlen(out), IMAP_DATE_TIME_LEN);
	assert_int_equal(imap_date_time_write(1720177262, -570, out), 0);
	assert_string_equal(out, "05-Jul-2024 01:31:02 -0930");
	assert_int_equal(imap_date_time_write(0, 0, out), 0);
	assert_string_equal(out, "01-Jan-1970 00:00:00 +0000");
	assert_int_equal(imap_date_time_write(-1, 0, out), 0);
	assert_string_equal(out, "31-Dec-1969 23:59:59 +0000");
	assert_int_equal(imap_date_time_write(253402300799, 0, out), 0);
	assert_string_equal(out, "31-Dec-9999 23:59:59 +0000");
	assert_int_equal(imap_date_time_write(253402300799, 60, out), -1);
	assert_string_equal(out, "");
	assert_int_equal(imap_date_time_write(0, 1440, out), -1);
	/* round trip through the parser, every zone step of 15 minutes */
	for (int z = -1425; z <= 1425; z += 15) {
		time_t when = 1700000000 + z * 7919;

		assert_int_equal(imap_date_time_write(when, z, out), 0);
		assert_int_equal(
			imap_date_time_parse(strv_from_cstr(out), &t, &zone),
			0);
		assert_int_equal(t, when);
		assert_int_equal(zone, z);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_date_time),
		cmocka_unit_test(test_date_time_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
