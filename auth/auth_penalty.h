/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_penalty: failed logins cost time, per client address.
 *
 * The auth helper is the one process every login of every worker passes
 * through, so this table sees all attempts. Each attempt reserves a start
 * time before its password is checked:
 *
 *   n = failures of the address + attempts of the address in flight
 *   start = now                                   when n == 0
 *   start = max(now, previous start + min(2^(n-1), max))  otherwise
 *
 * An attempt in flight counts as a failure until it is decided, so
 * parallel connections queue behind each other instead of sharing one
 * delay: consecutive checks of one address are at least 1, 2, 4, ... max
 * seconds apart. In any window of T seconds an address gets at most
 * auth_penalty_bound(max, T) checks (T = 60, max = 8: 10 checks; after the
 * ramp one every max seconds). An attempt that would have to wait more than
 * AUTH_PENALTY_QUEUE_MAX seconds is refused without a check.
 *
 * Failures are counted per address and user (a keyed hash of the name; up
 * to AUTH_PENALTY_USERS users an address, more share one bucket no success
 * clears). A success clears only its own user's failures, so a valid
 * account at the same address does not reset the count of the account
 * under attack. An address quiet for max(4 * max, 300) seconds with nothing
 * in flight is forgotten.
 *
 * IPv6 addresses count by their /64 prefix (one host usually owns a whole
 * /64). The table has AUTH_PENALTY_SLOTS entries; an entry under penalty
 * (failures not yet forgotten, or attempts in flight) is never evicted.
 * When every entry is under penalty, new addresses share one overflow
 * entry, which is penalised like any other: churning through addresses
 * neither clears an attacker's entry nor escapes the limit.
 */
#ifndef MERPATI_AUTH_PENALTY_H
#define MERPATI_AUTH_PENALTY_H

#define AUTH_PENALTY_SLOTS 4096
#define AUTH_PENALTY_USERS 8
#define AUTH_PENALTY_QUEUE_MAX 60.0 /* seconds */

struct auth_penalty;

/* How an attempt ended. */
enum auth_penalty_outcome {
	AUTH_PENALTY_FAILED,	/* checked and refused (or dropped mid-check) */
	AUTH_PENALTY_SUCCEEDED, /* clears the user's failures */
	AUTH_PENALTY_ABANDONED, /* never checked (cancelled while waiting) */
};

/* max_seconds 0 disables the penalty. */
struct auth_penalty *auth_penalty_new(unsigned max_seconds);
void auth_penalty_free(struct auth_penalty **penalty);

/*
 * An attempt from ip (NULL or "" for unknown: not counted) arrives at now.
 * Returns 0 with the seconds to wait before checking in *delay_r and a
 * ticket for auth_penalty_end() in *ticket_r (-1: nothing to end), or -1
 * when the address already has attempts queued for longer than
 * AUTH_PENALTY_QUEUE_MAX (refuse without checking; nothing to end).
 */
int auth_penalty_begin(struct auth_penalty *penalty, const char *ip, double now,
		       double *delay_r, int *ticket_r);

/* Ends the attempt of ticket for user (NULL when unknown). Takes -1. */
void auth_penalty_end(struct auth_penalty *penalty, int ticket,
		      const char *user, enum auth_penalty_outcome outcome,
		      double now);

/* Failures recorded for ip (all users), for logs and tests. */
unsigned auth_penalty_failures(struct auth_penalty *penalty, const char *ip,
			       double now);

/* The most checks one address can get in any window of `seconds`. */
unsigned auth_penalty_bound(unsigned max_seconds, double seconds);

#endif
