/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static enum log_target log_target = LOG_TARGET_STDERR;
static enum log_level log_min = LOG_LEVEL_INFO;
static const char *log_ident = "merpati";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *ident, enum log_target target, enum log_level min)
{
	if (log_target == LOG_TARGET_SYSLOG)
		closelog();
	log_ident = ident;
	log_target = target;
	log_min = min;
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

enum log_target log_target_current(void)
{
	return log_target;
}

int log_level_parse(const char *s, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

bool log_enabled(enum log_level level)
{
	return level >= log_min;
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG:
		return LOG_DEBUG;
	case LOG_LEVEL_INFO:
		return LOG_INFO;
	case LOG_LEVEL_WARN:
		return LOG_WARNING;
	case LOG_LEVEL_ERROR:
		break;
	}
	return LOG_ERR;
}

void log_vwrite(enum log_level level, const char *prefix, const char *fmt,
		va_list ap)
{
	char msg[LOG_LINE_MAX];
	int n;

	if (level < log_min)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	/* one event, one line: never let a value break the line */
	for (char *p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (log_target == LOG_TARGET_SYSLOG) {
		syslog(syslog_priority(level), "level=%s %s%s%s",
		       level_names[level], prefix ? prefix : "",
		       prefix ? " " : "", msg);
		return;
	}

	struct timeval tv;
	struct tm tm;
	char ts[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%ld]: level=%s %s%s%s\n", ts,
		(long)tv.tv_usec / 1000, log_ident, (long)getpid(),
		level_names[level], prefix ? prefix : "", prefix ? " " : "",
		msg);
}

void log_write(enum log_level level, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, prefix, fmt, ap);
	va_end(ap);
}

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
   forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

static bool bare_ok(const unsigned char *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '"' ||
		    p[i] == '=' || p[i] == '\\')
			return false;
	}
	return true;
}

/* Writes the escaped form of the character at p (n bytes of it valid,
   or 0 for one invalid byte) into unit[]; returns its length. */
static size_t escape_unit(const unsigned char *p, size_t n, char unit[16])
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;
	/* C1 controls (U+0080..U+009F) as UTF-8: 0xc2 0x80..0x9f */
	bool control = n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
		       (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);

	if (!control && n == 1 && (p[0] == '"' || p[0] == '\\')) {
		unit[0] = '\\';
		unit[1] = (char)p[0];
		return 2;
	}
	if (!control) {
		memcpy(unit, p, n);
		return n;
	}
	for (size_t i = 0; i < (n == 0 ? 1 : n); i++) {
		unit[len++] = '\\';
		unit[len++] = 'x';
		unit[len++] = hex[p[i] >> 4];
		unit[len++] = hex[p[i] & 0xf];
	}
	return len;
}

const char *log_quote(char *out, size_t out_size, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;

	if (out_size < 16) {
		if (out_size > 0)
			out[0] = '\0';
		return out;
	}
	if (s == NULL) {
		memcpy(out, "-", 2);
		return out;
	}
	if (len < out_size && bare_ok(p, len)) {
		memcpy(out, s, len);
		out[len] = '\0';
		return out;
	}
	out[o++] = '"';
	while (i < len) {
		char unit[16];
		size_t n = utf8_len(p + i, len - i);
		size_t ulen = escape_unit(p + i, n, unit);

		/* room for this unit, and for `..."` and the NUL after it */
		if (o + ulen + 5 > out_size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, unit, ulen);
		o += ulen;
		i += n == 0 ? 1 : n;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *log_quote_str(char *out, size_t out_size, const char *s)
{
	return log_quote(out, out_size, s, s != NULL ? strlen(s) : 0);
}
