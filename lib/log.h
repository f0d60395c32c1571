/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include <stddef.h>

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

/* Writes one line; prefix may be NULL. Control bytes left in the text
   (values should have gone through log_quote()) become spaces. */
void log_write(enum log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *prefix, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

/* The most bytes log_quote() writes for one value, NUL included: a
   255-byte user name fits even when every byte is escaped. */
#define LOG_QUOTE_MAX 1040

/*
 * Every value that came from outside (user names, mechanism names, client
 * IDs, folder and file names, paths under a mail root, text from helper
 * programs) goes through log_quote(), so that it stays one value: no
 * forged `ip=` fields, no terminal escapes, no broken UTF-8.
 *
 * Writes len bytes of s into out (out_size bytes, at least 16) as one
 * value: as it is when it is non-empty printable ASCII without space, '"',
 * '=' or '\'; otherwise in double quotes, with '"' and '\' escaped by a
 * '\', and control bytes (C0, DEL, and C1 as UTF-8), and bytes that are
 * not valid UTF-8, as \xNN. Valid UTF-8 stays as it is (quoted). A value
 * that does not fit is cut between characters and ends in `..."`. NULL s
 * gives "-". Returns out.
 */
const char *log_quote(char *out, size_t out_size, const char *s, size_t len);

/* log_quote() of a C string (NULL gives "-"). */
const char *log_quote_str(char *out, size_t out_size, const char *s);

/*
 * log_quote_str() into a temporary that lives until the end of the
 * enclosing block, for use in log calls:
 *   log_info("event=login user=%s", log_q(user));
 */
#define log_q(s) log_quote_str((char[LOG_QUOTE_MAX]){0}, LOG_QUOTE_MAX, (s))

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)

#endif
