/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xalloc: allocation that cannot fail.
 *
 * Allocation failure is fatal in exactly this one place: the process logs
 * and aborts. Limits elsewhere keep us far from exhausting memory, so callers
 * never check for NULL.
 */
#ifndef MERPATI_XALLOC_H
#define MERPATI_XALLOC_H

#include <stddef.h>

/* malloc()/calloc()/realloc() that abort on failure; size 0 gives a valid pointer. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);

/* Copies of C strings and of byte ranges, NUL-terminated; caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

/* Wipes len bytes at p (explicit_bzero) and frees p; takes NULL. */
void xfree_secret(void *p, size_t len);

#endif
