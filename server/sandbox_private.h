/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What sandbox.c and sandbox_seccomp.c share. */
#ifndef MERPATI_SANDBOX_PRIVATE_H
#define MERPATI_SANDBOX_PRIVATE_H

/* Sanitizer runtimes need system calls and files a worker does not. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif

/*
 * Loads the worker's system call filter (an allow list; anything else
 * fails with ENOSYS, other architectures' calls kill the process). Sets
 * no_new_privs. Returns 1 when loaded, 0 when not built in or in a
 * sanitizer build (*why_r says which), -1 with a reason in *error_r.
 */
int sandbox_seccomp_worker(const char **why_r, const char **error_r);

#endif
