/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ipcount: how many connections each client address holds, counted across
 * every worker process and every reload generation (auth.max_connections_
 * per_ip is a limit per address, not per process).
 *
 * The table lives in shared anonymous memory the master maps once, before
 * it forks anything, and keeps for its whole life; every worker of every
 * generation inherits the same mapping. Slots are updated with atomic
 * compare-and-swap, so workers never lock and the cap is exact. Each worker
 * process also records what it holds in a column of its own, so that the
 * master can give back the counts of a worker that died (or stopped with
 * connections still open) without knowing what it served.
 *
 *   master, at start:   t = ipcount_new(slots);
 *   master, per fork:   col = ipcount_column_take(t);  // -1: none free
 *   worker, per accept: if (ipcount_acquire(t, col, ip, max) < 0) refuse;
 *   worker, per close:  ipcount_release(t, col, ip);
 *   master, per reap:   ipcount_column_release(t, col);
 *
 * The table is bounded: an address is looked for in a window of
 * IPCOUNT_PROBE slots from its hash (keyed with a random seed drawn at
 * creation, so clients cannot aim at one window); a slot whose count fell
 * to zero is reused by the next address that needs one.
 *
 * An IPv6 address counts by its /64 (as the auth penalty groups them):
 * 2001:db8::1 and 2001:db8::2 share one count. Other text (IPv4) counts
 * by the whole address.
 */
#ifndef MERPATI_IPCOUNT_H
#define MERPATI_IPCOUNT_H

#include <stddef.h>

#define IPCOUNT_PROBE 32
#define IPCOUNT_COLUMNS 128 /* worker processes that may hold a column */
#define IPCOUNT_SLOTS_MIN 1024
#define IPCOUNT_SLOTS_MAX 32768

struct ipcount;

/*
 * Maps a table of at least `slots` slots (rounded up to a power of two and
 * clamped to IPCOUNT_SLOTS_MIN..IPCOUNT_SLOTS_MAX) shared with every
 * process forked afterwards. Returns NULL when mmap() fails.
 */
struct ipcount *ipcount_new(size_t slots);

/* Unmaps the table (in this process). Takes NULL, leaves NULL. */
void ipcount_free(struct ipcount **table);

/* Master: a free column for a new worker process, or -1 when all
   IPCOUNT_COLUMNS are taken (the worker then counts without one: what it
   holds when it dies is not given back). */
int ipcount_column_take(struct ipcount *table);

/* Master: the worker that had column is gone: gives back every count it
   still held and frees the column. Takes -1 (does nothing). */
void ipcount_column_release(struct ipcount *table, int column);

/*
 * Counts one more connection from ip (any text, e.g. conn_peer_ip()) for
 * the worker with column, unless max are counted already. Returns 0
 * (counted: call ipcount_release() when the connection ends), -1 (ip is at
 * max) or -2 (no free slot in ip's window: the table is full).
 */
int ipcount_acquire(struct ipcount *table, int column, const char *ip,
		    unsigned max);

/* The connection counted by ipcount_acquire() ended. */
void ipcount_release(struct ipcount *table, int column, const char *ip);

/* Connections counted for ip now, by every process. */
unsigned ipcount_get(const struct ipcount *table, const char *ip);

#endif
