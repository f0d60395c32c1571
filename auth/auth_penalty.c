#include "auth/auth_penalty.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define PENALTY_SLOTS 4096
#define PENALTY_IP_MAX 64
#define PENALTY_FORGET_MIN 300.0 /* seconds */

struct penalty_entry {
	char ip[PENALTY_IP_MAX];
	unsigned failures;
	double last; /* time of the last failure */
};

struct auth_penalty {
	unsigned max;
	struct penalty_entry *slots;
};

struct auth_penalty *auth_penalty_new(unsigned max_seconds)
{
	struct auth_penalty *p = xcalloc(1, sizeof(*p));

	p->max = max_seconds;
	p->slots = xcalloc(PENALTY_SLOTS, sizeof(*p->slots));
	return p;
}

void auth_penalty_free(struct auth_penalty **pp)
{
	if (*pp == NULL)
		return;
	free((*pp)->slots);
	free(*pp);
	*pp = NULL;
}

static double forget_after(const struct auth_penalty *p)
{
	double t = 4.0 * p->max;

	return t > PENALTY_FORGET_MIN ? t : PENALTY_FORGET_MIN;
}

/* The live entry for ip, or NULL. */
static struct penalty_entry *find(struct auth_penalty *p, const char *ip,
				  double now)
{
	for (size_t i = 0; i < PENALTY_SLOTS; i++) {
		struct penalty_entry *e = &p->slots[i];

		if (e->failures == 0 || strcmp(e->ip, ip) != 0)
			continue;
		if (now - e->last > forget_after(p)) {
			e->failures = 0;
			return NULL;
		}
		return e;
	}
	return NULL;
}

double auth_penalty_delay(struct auth_penalty *p, const char *ip, double now)
{
	struct penalty_entry *e;
	double d;

	if (p->max == 0 || ip == NULL || ip[0] == '\0')
		return 0;
	e = find(p, ip, now);
	if (e == NULL)
		return 0;
	d = e->failures > 16 ? (double)p->max
			     : (double)(1U << (e->failures - 1));
	return d < p->max ? d : p->max;
}

void auth_penalty_failure(struct auth_penalty *p, const char *ip, double now)
{
	struct penalty_entry *e, *victim = NULL;

	if (p->max == 0 || ip == NULL || ip[0] == '\0' ||
	    strlen(ip) >= PENALTY_IP_MAX)
		return;
	e = find(p, ip, now);
	if (e == NULL) {
		for (size_t i = 0; i < PENALTY_SLOTS; i++) {
			struct penalty_entry *s = &p->slots[i];

			if (s->failures == 0) {
				victim = s;
				break;
			}
			if (victim == NULL || s->last < victim->last)
				victim = s;
		}
		e = victim;
		memset(e, 0, sizeof(*e));
		memcpy(e->ip, ip, strlen(ip) + 1); /* length checked above */
	}
	e->failures++;
	e->last = now;
}

void auth_penalty_success(struct auth_penalty *p, const char *ip)
{
	for (size_t i = 0; ip != NULL && i < PENALTY_SLOTS; i++) {
		if (p->slots[i].failures != 0 &&
		    strcmp(p->slots[i].ip, ip) == 0)
			p->slots[i].failures = 0;
	}
}

unsigned auth_penalty_failures(struct auth_penalty *p, const char *ip,
			       double now)
{
	struct penalty_entry *e = find(p, ip, now);

	return e != NULL ? e->failures : 0;
}
