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
		if (*p == '\n' || *p == '\r')
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
