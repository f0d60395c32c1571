/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for protocols/imap/imap_date.c: the date ("5-Jul-2024") and
 * date-time ("05-Jul-2024 13:01:02 +0200") parsers and the writer.
 *
 * Input: the text. Checked: a date that parses is a day's 00:00:00 UTC
 * in years 1..9999 and has the shape d[d]-Mon-yyyy; a date-time that
 * parses has a zone within +-23:59 and is 26 bytes (or 25 with a
 * one-digit day); writing it in its own zone gives back the same text
 * (the day two digits, the month capitalised, a leap second as :59,
 * -0000 as +0000) and
 * parsing that gives the same instant and zone.
 */
#include "fuzz.h"

#include "lib/str.h"
#include "protocols/imap/imap_date.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv text = {(const char *)data, size};
	char out[IMAP_DATE_TIME_LEN + 1];
	time_t t, t2;
	int zone, zone2;

	if (imap_date_parse(text, &t) == 0) {
		FUZZ_CHECK(size == 10 || size == 11);
		FUZZ_CHECK(t % 86400 == 0);
		/* 0001-01-01 .. 9999-12-31 */
		FUZZ_CHECK(t >= -62135596800LL && t <= 253402214400LL);
		FUZZ_CHECK(data[size - 5] == '-' && data[size - 9] == '-');
	}
	if (imap_date_time_parse(text, &t, &zone) < 0)
		return 0;
	FUZZ_CHECK(size == IMAP_DATE_TIME_LEN ||
		   size == IMAP_DATE_TIME_LEN - 1);
	FUZZ_CHECK(zone >= -(23 * 60 + 59) && zone <= 23 * 60 + 59);
	FUZZ_CHECK(imap_date_time_parse(text, &t2, NULL) == 0 && t2 == t);
	if (imap_date_time_write(t, zone, out) < 0) {
		/* the zone moved the instant out of years 1..9999 */
		FUZZ_CHECK(out[0] == '\0');
		return 0;
	}
	FUZZ_CHECK(strlen(out) == IMAP_DATE_TIME_LEN);
	{
		/* the input with a two-digit day and :59 for :60 */
		char want[IMAP_DATE_TIME_LEN + 1];
		size_t off = size == IMAP_DATE_TIME_LEN ? 0 : 1;

		want[0] = off == 1 ? '0' : (char)data[0];
		memcpy(want + 1, data + 1 - off, IMAP_DATE_TIME_LEN - 1);
		want[IMAP_DATE_TIME_LEN] = '\0';
		if (want[0] == ' ')
			want[0] = '0';
		if (memcmp(want + 18, "60", 2) == 0)
			memcpy(want + 18, "59", 2);
		if (zone == 0)
			want[21] = '+'; /* -0000 is written +0000 */
		FUZZ_CHECK(strncasecmp(want, out, IMAP_DATE_TIME_LEN) == 0);
		FUZZ_CHECK(isupper((unsigned char)out[3]) &&
			   islower((unsigned char)out[4]) &&
			   islower((unsigned char)out[5]));
	}
	text.p = out;
	text.len = IMAP_DATE_TIME_LEN;
	FUZZ_CHECK(imap_date_time_parse(text, &t2, &zone2) == 0);
	FUZZ_CHECK(zone2 == zone);
	/* a leap second was read as :59 */
	FUZZ_CHECK(t2 == t);
	return 0;
}
