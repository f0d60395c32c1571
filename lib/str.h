/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * str: string slices and small string helpers.
 *
 * A `struct strv` is a view into bytes owned by someone else (usually an
 * input buffer or an arena); it is not NUL-terminated and is valid only as
 * long as its owner keeps the bytes.
 */
#ifndef MERPATI_STR_H
#define MERPATI_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strv {
	const char *p;
	size_t len;
};

#define STRV_LIT(s) ((struct strv){(s), sizeof(s) - 1})

/* A view of a C string. */
struct strv strv_from_cstr(const char *s);

/* Byte-wise and ASCII case-insensitive equality. */
bool strv_eq(struct strv a, struct strv b);
bool strv_eq_ci(struct strv a, struct strv b);
bool strv_eq_cstr_ci(struct strv a, const char *s);

/* True when `s` starts with `prefix`, ASCII case-insensitive. */
bool strv_has_prefix_ci(struct strv s, const char *prefix);

/*
 * Splits the next token off the front of *s at the first space (RFC-style
 * command arguments). Skips nothing else; returns false when *s is empty.
 */
bool strv_next_token(struct strv *s, struct strv *token_r);

/*
 * Parses a decimal number without sign, leading '+' or spaces; every byte of
 * s must be a digit. Returns 0, or -1 when empty, not a number or > max.
 */
int strv_to_u64(struct strv s, uint64_t max, uint64_t *value_r);
int strv_to_u32(struct strv s, uint32_t *value_r);

/* C-string version of strv_to_u64(). */
int str_to_u64(const char *s, uint64_t max, uint64_t *value_r);

/* ASCII case-insensitive comparison of C strings (locale-independent). */
int str_cmp_ci(const char *a, const char *b);

/* True when s contains a control byte (< 0x20, or 0x7f). */
bool strv_has_ctl(struct strv s);

/* Constant-time equality of two byte ranges of equal length. */
bool str_secure_eq(const void *a, const void *b, size_t len);

/* Trims ASCII spaces and tabs from both ends of a C string in place. */
char *str_trim(char *s);

#endif
