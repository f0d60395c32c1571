/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_date.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const date_months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static bool date_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int date_days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	return m == 2 && date_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
   days_from_civil); independent of the C library's time zone. */
static int64_t date_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void date_civil_from_days(int64_t z, int64_t *y_r, int *m_r, int *d_r)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

/* Exactly n digits at *pos. */
static int date_digits(struct strv s, size_t *pos, size_t n, int *value_r)
{
	int v = 0;

	if (s.len - *pos < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s.p[*pos + i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*pos += n;
	*value_r = v;
	return 0;
}

static int date_expect(struct strv s, size_t *pos, char c)
{
	if (*pos >= s.len || s.p[*pos] != c)
		return -1;
	(*pos)++;
	return 0;
}

/* date-text after the day: "-" date-month "-" date-year */
static int date_month_year(struct strv s, size_t *pos, int day, int64_t *days_r)
{
	int month = 0, year;

	if (date_expect(s, pos, '-') < 0 || s.len - *pos < 3)
		return -1;
	for (int i = 0; i < 12; i++) {
		struct strv name = {s.p + *pos, 3};

		if (strv_eq_cstr_ci(name, date_months[i]))
			month = i + 1;
	}
	*pos += 3;
	if (month == 0 || date_expect(s, pos, '-') < 0 ||
	    date_digits(s, pos, 4, &year) < 0 || year == 0)
		return -1;
	if (day < 1 || day > date_days_in_month(year, month))
		return -1;
	*days_r = date_days_from_civil(year, month, day);
	return 0;
}

int imap_date_parse(struct strv text, time_t *t_r)
{
	size_t pos = 0;
	int day, d2;
	int64_t days;

	/* date-day = 1*2DIGIT */
	if (date_digits(text, &pos, 1, &day) < 0)
		return -1;
	if (date_digits(text, &pos, 1, &d2) == 0)
		day = day * 10 + d2;
	if (date_month_year(text, &pos, day, &days) < 0 || pos != text.len)
		return -1;
	*t_r = (time_t)(days * 86400);
	return 0;
}

int imap_date_time_parse(struct strv text, time_t *t_r, int *zone_min_r)
{
	size_t pos = 0;
	int day, d2, hh, mm, ss, zh, zm, sign;
	int64_t days, t;

	/* date-day-fixed = (SP DIGIT) / 2DIGIT; a lone digit is accepted */
	if (text.len > 0 && text.p[0] == ' ')
		pos++;
	if (date_digits(text, &pos, 1, &day) < 0)
		return -1;
	if (pos == 1 && date_digits(text, &pos, 1, &d2) == 0)
		day = day * 10 + d2;
	if (date_month_year(text, &pos, day, &days) < 0 ||
	    date_expect(text, &pos, ' ') < 0 ||
	    date_digits(text, &pos, 2, &hh) < 0 ||
	    date_expect(text, &pos, ':') < 0 ||
	    date_digits(text, &pos, 2, &mm) < 0 ||
	    date_expect(text, &pos, ':') < 0 ||
	    date_digits(text, &pos, 2, &ss) < 0 ||
	    date_expect(text, &pos, ' ') < 0 || pos >= text.len)
		return -1;
	if (text.p[pos] != '+' && text.p[pos] != '-')
		return -1;
	sign = text.p[pos++] == '-' ? -1 : 1;
	if (date_digits(text, &pos, 2, &zh) < 0 ||
	    date_digits(text, &pos, 2, &zm) < 0 || pos != text.len)
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return -1;
	if (ss == 60)
		ss = 59;
	t = days * 86400 + hh * 3600 + mm * 60 + ss;
	t -= sign * (zh * 60 + zm) * 60;
	*t_r = (time_t)t;
	if (zone_min_r != NULL)
		*zone_min_r = sign * (zh * 60 + zm);
	return 0;
}

int imap_date_time_write(time_t t, int zone_min,
			 char out[IMAP_DATE_TIME_LEN + 1])
{
	int64_t local, days, secs, y;
	int m, d, zabs;
	char tmp[64];

	out[0] = '\0';
	/* outside years 1..9999 in any zone; keeps the sums below in range */
	if (zone_min < -1439 || zone_min > 1439 || t < -62135596800 - 86400 ||
	    t > 253402300799 + 86400)
		return -1;
	local = (int64_t)t + (int64_t)zone_min * 60;
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	secs = local - days * 86400;
	date_civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return -1;
	zabs = zone_min < 0 ? -zone_min : zone_min;
	/* every field is in range here: the text is exactly 26 bytes */
	snprintf(tmp, sizeof(tmp), "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", d,
		 date_months[m - 1], (int)y, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60),
		 zone_min < 0 ? '-' : '+', zabs / 60, zabs % 60);
	memcpy(out, tmp, IMAP_DATE_TIME_LEN + 1);
	return 0;
}
