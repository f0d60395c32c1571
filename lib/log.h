/*
 * log: one line per event, key=value pairs, to stderr or syslog.
 *
 * Every line reads `level=<lvl> <prefix> <message>`; the prefix carries the
 * context (the connection adds `conn=<id> proto=<p> peer=<addr>`), the
 * message starts with `event=<name>` for events. Under stderr each line
 * also starts with an ISO 8601 timestamp and the process id.
 * Never log passwords or message bodies.
 */
#ifndef MERPATI_LOG_H
#define MERPATI_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSLOG,
};

/* Sets where lines go and the lowest level written. Safe to call again. */
void log_init(const char *ident, enum log_target target, enum log_level min);

/* The target set by the last log_init(). */
enum log_target log_target_current(void);

/* Parses "debug", "info", "warn" or "error". Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *level_r);
const char *log_level_name(enum log_level level);

/* True when lines of this level are written (to skip costly formatting). */
bool log_enabled(enum log_level level);

/* Writes one line; prefix may be NULL. Newlines in the text become spaces. */
void log_write(enum log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *prefix, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)

#endif
