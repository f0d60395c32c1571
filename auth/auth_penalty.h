/*
 * auth_penalty: failed logins cost time, per client address.
 *
 * Each address that failed n times in a row (and has not succeeded since)
 * waits min(2^(n-1), max) seconds before its next request is even looked
 * at — every request, so parallel connections do not dodge it and a quick
 * answer never gives a failure away. A success resets the count; an address
 * quiet for a while is forgotten. The table is bounded (the oldest entry
 * makes room). The helper applies the delay on a timer, never by sleeping.
 */
#ifndef MERPATI_AUTH_PENALTY_H
#define MERPATI_AUTH_PENALTY_H

struct auth_penalty;

/* max_seconds 0 disables the penalty. */
struct auth_penalty *auth_penalty_new(unsigned max_seconds);
void auth_penalty_free(struct auth_penalty **penalty);

/* Seconds a request from ip must wait now (0 for none). */
double auth_penalty_delay(struct auth_penalty *penalty, const char *ip,
			  double now);

/* Records a failed / successful login from ip. */
void auth_penalty_failure(struct auth_penalty *penalty, const char *ip,
			  double now);
void auth_penalty_success(struct auth_penalty *penalty, const char *ip);

/* Failures recorded for ip (for tests and logs). */
unsigned auth_penalty_failures(struct auth_penalty *penalty, const char *ip,
			       double now);

#endif
