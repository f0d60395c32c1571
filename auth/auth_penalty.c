/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_penalty.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENALTY_KEY_MAX 64
#define PENALTY_FORGET_MIN 300.0  /* seconds */
#define PENALTY_OVERFLOW_LOG 60.0 /* seconds between "table full" lines */
#define PENALTY_OVERFLOW AUTH_PENALTY_SLOTS /* the overflow entry's ticket */

struct penalty_user {
	uint64_t hash; /* keyed hash of the name; 0 = free */
	unsigned failures;
};

struct penalty_entry {
	char key[PENALTY_KEY_MAX]; /* "" = free */
	struct penalty_user users[AUTH_PENALTY_USERS];
	unsigned others;   /* failures no success clears */
	unsigned inflight; /* attempts begun and not ended */
	double last_start; /* start reserved for the latest attempt */
	double last;	   /* last begin or end (forgetting, LRU) */
};

struct auth_penalty {
	unsigned max;
	unsigned char hash_key[32];
	struct penalty_entry *slots; /* AUTH_PENALTY_SLOTS + the overflow */
	double overflow_logged;
};

struct auth_penalty *auth_penalty_new(unsigned max_seconds)
{
	struct auth_penalty *p = xcalloc(1, sizeof(*p));

	p->max = max_seconds;
	p->slots = xcalloc(AUTH_PENALTY_SLOTS + 1, sizeof(*p->slots));
	snprintf(p->slots[PENALTY_OVERFLOW].key, PENALTY_KEY_MAX, "overflow");
	p->overflow_logged = -PENALTY_OVERFLOW_LOG;
	if (gnutls_rnd(GNUTLS_RND_NONCE, p->hash_key, sizeof(p->hash_key)) < 0)
		memset(p->hash_key, 0x5a, sizeof(p->hash_key));
	return p;
}

void auth_penalty_free(struct auth_penalty **pp)
{
	if (*pp == NULL)
		return;
	free((*pp)->slots);
	explicit_bzero((*pp)->hash_key, sizeof((*pp)->hash_key));
	free(*pp);
	*pp = NULL;
}

static double forget_after(const struct auth_penalty *p)
{
	double t = 4.0 * p->max;

	return t > PENALTY_FORGET_MIN ? t : PENALTY_FORGET_MIN;
}

static double step(const struct auth_penalty *p, unsigned n)
{
	double d = n > 16 ? (double)p->max : (double)(1U << (n - 1));

	return d < p->max ? d : p->max;
}

unsigned auth_penalty_bound(unsigned max_seconds, double seconds)
{
	struct auth_penalty p = {.max = max_seconds};
	double t = 0;
	unsigned n = 1;

	if (max_seconds == 0)
		return UINT_MAX;
	/* The densest window starts with the first check of a fresh
	   address: the spacing only grows from there. */
	while ((t += step(&p, n)) <= seconds)
		n++;
	return n;
}

static unsigned entry_failures(const struct penalty_entry *e)
{
	unsigned n = e->others;

	for (size_t i = 0; i < AUTH_PENALTY_USERS; i++)
		n += e->users[i].failures;
	return n;
}

/* Forgets an entry's failures after a quiet while. */
static void entry_expire(const struct auth_penalty *p, struct penalty_entry *e,
			 double now)
{
	if (e->inflight == 0 && now - e->last > forget_after(p)) {
		memset(e->users, 0, sizeof(e->users));
		e->others = 0;
	}
}

static bool entry_penalised(const struct auth_penalty *p,
			    struct penalty_entry *e, double now)
{
	if (e->key[0] == '\0')
		return false;
	entry_expire(p, e, now);
	return e->inflight > 0 || entry_failures(e) > 0;
}

/* The table key for an address: IPv6 by its /64. */
static void penalty_key(const char *ip, char key[PENALTY_KEY_MAX])
{
	unsigned char a6[16];
	char text[INET6_ADDRSTRLEN];

	if (strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, a6) == 1 &&
	    inet_ntop(AF_INET6, a6, text, sizeof(text)) != NULL) {
		memset(a6 + 8, 0, 8);
		inet_ntop(AF_INET6, a6, text, sizeof(text));
		snprintf(key, PENALTY_KEY_MAX, "%s/64", text);
		return;
	}
	snprintf(key, PENALTY_KEY_MAX, "%s", ip);
}

static int find(struct auth_penalty *p, const char *key)
{
	for (int i = 0; i < AUTH_PENALTY_SLOTS; i++) {
		if (strcmp(p->slots[i].key, key) == 0)
			return i;
	}
	return -1;
}

/* A slot for a new key: a free one, else the least recently used entry
   not under penalty, else the overflow entry. */
static int allocate(struct auth_penalty *p, const char *key, double now)
{
	int victim = -1;

	for (int i = 0; i < AUTH_PENALTY_SLOTS; i++) {
		struct penalty_entry *e = &p->slots[i];

		if (e->key[0] == '\0') {
			victim = i;
			break;
		}
		if (!entry_penalised(p, e, now) &&
		    (victim < 0 || e->last < p->slots[victim].last))
			victim = i;
	}
	if (victim < 0) {
		if (now - p->overflow_logged >= PENALTY_OVERFLOW_LOG) {
			log_warn(
				"event=auth_penalty_full slots=%d error=\"every entry is under penalty; new addresses share one\"",
				AUTH_PENALTY_SLOTS);
			p->overflow_logged = now;
		}
		return PENALTY_OVERFLOW;
	}
	memset(&p->slots[victim], 0, sizeof(p->slots[victim]));
	snprintf(p->slots[victim].key, PENALTY_KEY_MAX, "%s", key);
	return victim;
}

int auth_penalty_begin(struct auth_penalty *p, const char *ip, double now,
		       double *delay_r, int *ticket_r)
{
	char key[PENALTY_KEY_MAX];
	struct penalty_entry *e;
	unsigned n;
	double start;
	int slot;

	*delay_r = 0;
	*ticket_r = -1;
	if (p->max == 0 || ip == NULL || ip[0] == '\0')
		return 0;
	penalty_key(ip, key);
	slot = find(p, key);
	if (slot < 0)
		slot = allocate(p, key, now);
	e = &p->slots[slot];
	entry_expire(p, e, now);
	n = entry_failures(e) + e->inflight;
	start = now;
	if (n > 0 && e->last_start + step(p, n) > now)
		start = e->last_start + step(p, n);
	if (start - now > AUTH_PENALTY_QUEUE_MAX)
		return -1;
	e->last_start = start;
	e->inflight++;
	e->last = now;
	*delay_r = start - now;
	*ticket_r = slot;
	return 0;
}

static uint64_t user_hash(const struct auth_penalty *p, const char *user)
{
	unsigned char mac[32];
	uint64_t h;

	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, p->hash_key,
			     sizeof(p->hash_key), user, strlen(user), mac) < 0)
		return 0;
	memcpy(&h, mac, sizeof(h));
	return h != 0 ? h : 1;
}

static void entry_failed(const struct auth_penalty *p, struct penalty_entry *e,
			 const char *user)
{
	uint64_t h = user != NULL && user[0] != '\0' ? user_hash(p, user) : 0;
	struct penalty_user *free_slot = NULL;

	for (size_t i = 0; h != 0 && i < AUTH_PENALTY_USERS; i++) {
		struct penalty_user *u = &e->users[i];

		if (u->hash == h) {
			u->failures++;
			return;
		}
		if (free_slot == NULL && u->failures == 0)
			free_slot = u;
	}
	if (h == 0 || free_slot == NULL) {
		e->others++;
		return;
	}
	free_slot->hash = h;
	free_slot->failures = 1;
}

static void entry_succeeded(const struct auth_penalty *p,
			    struct penalty_entry *e, const char *user)
{
	uint64_t h = user != NULL && user[0] != '\0' ? user_hash(p, user) : 0;

	for (size_t i = 0; h != 0 && i < AUTH_PENALTY_USERS; i++) {
		if (e->users[i].hash == h)
			e->users[i].failures = 0;
	}
}

void auth_penalty_end(struct auth_penalty *p, int ticket, const char *user,
		      enum auth_penalty_outcome outcome, double now)
{
	struct penalty_entry *e;

	if (ticket < 0 || ticket > PENALTY_OVERFLOW)
		return;
	e = &p->slots[ticket];
	if (e->inflight > 0)
		e->inflight--;
	e->last = now;
	switch (outcome) {
	case AUTH_PENALTY_FAILED:
		entry_failed(p, e, user);
		break;
	case AUTH_PENALTY_SUCCEEDED:
		entry_succeeded(p, e, user);
		break;
	case AUTH_PENALTY_ABANDONED:
		break;
	}
}

unsigned auth_penalty_failures(struct auth_penalty *p, const char *ip,
			       double now)
{
	char key[PENALTY_KEY_MAX];
	int slot;

	if (ip == NULL || ip[0] == '\0')
		return 0;
	penalty_key(ip, key);
	slot = find(p, key);
	if (slot < 0)
		return 0;
	entry_expire(p, &p->slots[slot], now);
	return entry_failures(&p->slots[slot]);
}
