/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_date: IMAP dates (RFC 3501 9 "date", "date-time").
 *
 * date      = "5-Jul-2024" or "05-Jul-2024" (SEARCH BEFORE/ON/SINCE...)
 * date-time = "05-Jul-2024 13:01:02 +0200"  (APPEND, INTERNALDATE)
 *             (the day may also be " 5", RFC 3501 date-day-fixed)
 *
 * The functions take the text without the surrounding DQUOTEs (the
 * parser has already removed them from a quoted string). Month names are
 * case-insensitive. Years 1..9999; the day must exist in its month
 * (31-Feb is refused); hours 0..23, minutes 0..59, seconds 0..60 (a leap
 * second counts as :59); zone +-HHMM with HH 0..23, MM 0..59.
 *
 * Written form: imap_date_time_write() gives the INTERNALDATE text
 * "05-Jul-2024 13:01:02 +0200" (two-digit day, as Dovecot writes it),
 * IMAP_DATE_TIME_LEN bytes plus a NUL, without DQUOTEs.
 */
#ifndef MERPATI_IMAP_DATE_H
#define MERPATI_IMAP_DATE_H

#include "lib/str.h"

#include <time.h>

/* strlen("05-Jul-2024 13:01:02 +0200") */
#define IMAP_DATE_TIME_LEN 26

/*
 * Parses a date. *t_r is that day's 00:00:00 UTC. SEARCH compares days
 * "disregarding time and timezone" (RFC 3501 6.4.4), so the caller
 * compares against the message date shifted by its own zone. Returns 0,
 * or -1 when the text is not a valid date.
 */
int imap_date_parse(struct strv text, time_t *t_r);

/*
 * Parses a date-time. *t_r is the instant (UTC seconds); *zone_min_r the
 * zone offset in minutes east of UTC (+0200 -> 120), may be NULL.
 * Returns 0 or -1.
 */
int imap_date_time_parse(struct strv text, time_t *t_r, int *zone_min_r);

/*
 * Writes the instant t as seen in zone zone_min (minutes east of UTC,
 * -1439..1439) into out (IMAP_DATE_TIME_LEN + 1 bytes, NUL-terminated).
 * Returns 0, or -1 when the year falls outside 1..9999 (out is then "").
 */
int imap_date_time_write(time_t t, int zone_min,
			 char out[IMAP_DATE_TIME_LEN + 1]);

#endif
