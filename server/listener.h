/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener: the listening sockets.
 *
 * The master binds them as root (ports below 1024), keeps them across
 * reloads so that a SIGHUP never refuses a connection, and hands the open
 * descriptors to the workers it forks. Under socket activation it takes
 * the sockets the service manager bound instead (listener_set_adopt()).
 */
#ifndef MERPATI_LISTENER_H
#define MERPATI_LISTENER_H

#include "server/config.h"

#include <stddef.h>

struct listener_set;

/* An empty set. */
struct listener_set *listener_set_new(void);

/* Closes every socket and frees the set; takes NULL, leaves NULL. */
void listener_set_free(struct listener_set **set);

/*
 * Makes the set match the [listen] lists of config: sockets already bound
 * to the same kind and address are kept, new ones are bound, ones no longer
 * listed are closed. On error (bad address, bind failure) returns -1 with
 * "listen.<kind>: <addr>: reason" in *error_r (caller frees) and leaves the
 * set as it was.
 */
int listener_set_update(struct listener_set *set, const struct config *config,
			char **error_r);

/*
 * Socket activation: takes descriptors first_fd .. first_fd + count - 1,
 * which must be listening stream sockets (else -1 with a static reason;
 * none is taken). listener_set_update() then uses one of them for each
 * [listen] address it is bound to instead of binding that address itself.
 */
int listener_set_adopt(struct listener_set *set, int first_fd, unsigned count,
		       const char **error_r);

/* Closes the adopted sockets no [listen] address matched; returns how
   many (after the first update: the rest would queue connections no one
   accepts). */
unsigned listener_set_close_unmatched(struct listener_set *set);

/* Number of sockets, and the kind and descriptor of socket i. */
size_t listener_set_count(const struct listener_set *set);
enum config_listener listener_set_kind(const struct listener_set *set,
				       size_t i);
int listener_set_fd(const struct listener_set *set, size_t i);
const char *listener_set_addr(const struct listener_set *set, size_t i);
/* Whether socket i came from the service manager. */
bool listener_set_is_adopted(const struct listener_set *set, size_t i);

/*
 * Parses "host:port", "[v6]:port" or "*:port" into a socket address.
 * Returns 0, or -1 with a static reason.
 */
struct sockaddr_storage;
int listener_parse_addr(const char *text, struct sockaddr_storage *ss,
			unsigned *len_r, const char **error_r);

#endif
