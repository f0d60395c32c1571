/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/listener.h"

#include "lib/str.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 511

struct listener {
	enum config_listener kind;
	char *addr; /* as written in the config */
	int fd;
	bool keep;    /* mark during an update */
	bool adopted; /* bound by the service manager */
};

struct listener_set {
	struct listener *items;
	size_t count;
	int *adopted; /* socket activation: not matched to an address yet */
	size_t n_adopted;
};

struct listener_set *listener_set_new(void)
{
	return xcalloc(1, sizeof(struct listener_set));
}

void listener_set_free(struct listener_set **setp)
{
	struct listener_set *set = *setp;

	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++) {
		close(set->items[i].fd);
		free(set->items[i].addr);
	}
	listener_set_close_unmatched(set);
	free(set->items);
	free(set);
	*setp = NULL;
}

int listener_parse_addr(const char *text, struct sockaddr_storage *ss,
			unsigned *len_r, const char **error_r)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_s;
	uint64_t port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '/') {
		struct sockaddr_un *su = (struct sockaddr_un *)ss;
		size_t plen = strlen(text);

		if (plen >= sizeof(su->sun_path)) {
			*error_r = "UNIX socket path too long";
			return -1;
		}
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, text, plen + 1);
		*len_r = (unsigned)(offsetof(struct sockaddr_un, sun_path) +
				    plen + 1);
		return 0;
	}
	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL || end[1] != ':') {
			*error_r = "expected [IPv6]:port";
			return -1;
		}
		hlen = (size_t)(end - text - 1);
		if (hlen >= sizeof(host)) {
			*error_r = "address too long";
			return -1;
		}
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		port_s = end + 2;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL) {
			*error_r = "expected host:port";
			return -1;
		}
		hlen = (size_t)(colon - text);
		if (hlen >= sizeof(host)) {
			*error_r = "address too long";
			return -1;
		}
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		if (strchr(host, ':') != NULL) {
			*error_r = "IPv6 addresses need brackets: [::1]:143";
			return -1;
		}
		port_s = colon + 1;
	}
	if (str_to_u64(port_s, 65535, &port) < 0 || port == 0) {
		*error_r = "bad port (1-65535)";
		return -1;
	}
	if (strcmp(host, "*") == 0)
		strcpy(host, "::");
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len_r = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len_r = sizeof(*s6);
		return 0;
	}
	*error_r = "not a numeric IPv4 or IPv6 address";
	return -1;
}

static bool listener_addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	}
	return false;
}

/*
 * A UNIX socket path: a stale socket left by an earlier run is removed
 * (anything else at the path is refused), and after bind the socket gets
 * the configured mode and owner so that the MTA's user (Postfix's
 * "postfix") can connect.
 */
static int listener_unix_prepare(const char *path, const char **error_r)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (*error_r = strerror(errno), -1);
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = "exists and is not a socket";
		return -1;
	}
	if (unlink(path) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

static int listener_unix_own(const char *path, const struct config *config,
			     const char **error_r)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (config->lmtp_socket_user[0] != '\0') {
		struct passwd *pw = getpwnam(config->lmtp_socket_user);

		if (pw == NULL) {
			*error_r = "lmtp.socket_user: no such user";
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (config->lmtp_socket_group[0] != '\0') {
		struct group *gr = getgrnam(config->lmtp_socket_group);

		if (gr == NULL) {
			*error_r = "lmtp.socket_group: no such group";
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (chmod(path, (mode_t)config->lmtp_socket_mode) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

static int listener_bind(const char *addr, enum config_listener kind,
			 const struct config *config, int *fd_r,
			 const char **error_r)
{
	struct sockaddr_storage ss;
	unsigned len;
	int fd, one = 1;

	if (listener_parse_addr(addr, &ss, &len, error_r) < 0)
		return -1;
	if (ss.ss_family == AF_UNIX && kind != CONFIG_LISTEN_LMTP) {
		*error_r = "UNIX socket paths are for LMTP only";
		return -1;
	}
	/* LMTP has no authentication: whoever connects delivers to anyone */
	if (kind == CONFIG_LISTEN_LMTP && ss.ss_family != AF_UNIX &&
	    !listener_addr_is_loopback(&ss)) {
		*error_r = "LMTP over TCP only on a loopback address";
		return -1;
	}
	if (ss.ss_family == AF_UNIX && listener_unix_prepare(addr, error_r) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && strcmp(addr, "*") != 0 &&
	    strncmp(addr, "*:", 2) != 0)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		*error_r = strerror(errno);
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_UNIX &&
	    listener_unix_own(addr, config, error_r) < 0) {
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int listener_set_adopt(struct listener_set *set, int first_fd, unsigned count,
		       const char **error_r)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = first_fd + (int)i, type = 0, listening = 0;
		socklen_t len = sizeof(type), len2 = sizeof(listening);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
			       &len2) < 0 ||
		    !listening) {
			*error_r = "LISTEN_FDS: a descriptor is not a "
				   "listening stream socket";
			return -1;
		}
	}
	set->adopted =
		xrealloc(set->adopted, (set->n_adopted + count) * sizeof(int));
	for (unsigned i = 0; i < count; i++) {
		int fd = first_fd + (int)i;

		/* ours now: not for the programs the auth helper runs */
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		set->adopted[set->n_adopted++] = fd;
	}
	return 0;
}

unsigned listener_set_close_unmatched(struct listener_set *set)
{
	unsigned n = (unsigned)set->n_adopted;

	for (size_t i = 0; i < set->n_adopted; i++)
		close(set->adopted[i]);
	free(set->adopted);
	set->adopted = NULL;
	set->n_adopted = 0;
	return n;
}

/* An adopted socket bound to `addr`, taken out of the pool; -1 if none. */
static int listener_take_adopted(struct listener_set *set, const char *addr)
{
	struct sockaddr_storage want, got;
	unsigned wlen;
	const char *error;

	if (set->n_adopted == 0 ||
	    listener_parse_addr(addr, &want, &wlen, &error) < 0)
		return -1;
	for (size_t i = 0; i < set->n_adopted; i++) {
		socklen_t glen = sizeof(got);
		int fd = set->adopted[i];
		bool same = false;

		memset(&got, 0, sizeof(got));
		if (getsockname(fd, (struct sockaddr *)&got, &glen) < 0 ||
		    got.ss_family != want.ss_family)
			continue;
		if (want.ss_family == AF_INET) {
			struct sockaddr_in *w = (struct sockaddr_in *)&want;
			struct sockaddr_in *g = (struct sockaddr_in *)&got;

			same = w->sin_port == g->sin_port &&
			       w->sin_addr.s_addr == g->sin_addr.s_addr;
		} else if (want.ss_family == AF_UNIX) {
			struct sockaddr_un *w = (struct sockaddr_un *)&want;
			struct sockaddr_un *g = (struct sockaddr_un *)&got;

			same = strncmp(w->sun_path, g->sun_path,
				       sizeof(w->sun_path)) == 0;
		} else {
			struct sockaddr_in6 *w = (struct sockaddr_in6 *)&want;
			struct sockaddr_in6 *g = (struct sockaddr_in6 *)&got;

			same = w->sin6_port == g->sin6_port &&
			       memcmp(&w->sin6_addr, &g->sin6_addr,
				      sizeof(w->sin6_addr)) == 0;
		}
		if (same) {
			set->adopted[i] = set->adopted[--set->n_adopted];
			return fd;
		}
	}
	return -1;
}

static struct listener *listener_find(struct listener_set *set,
				      enum config_listener kind,
				      const char *addr)
{
	for (size_t i = 0; i < set->count; i++) {
		if (set->items[i].kind == kind &&
		    strcmp(set->items[i].addr, addr) == 0)
			return &set->items[i];
	}
	return NULL;
}

/* Binds the new addresses of one kind into `fresh`. */
static int update_kind(struct listener_set *set, struct listener_set *fresh,
		       enum config_listener kind, const struct config *config,
		       char **error_r)
{
	char *copy = xstrdup(config->listen[kind]), *save = NULL;

	for (char *a = strtok_r(copy, " \t", &save); a != NULL;
	     a = strtok_r(NULL, " \t", &save)) {
		struct listener *old = listener_find(set, kind, a);
		const char *error;
		bool adopted;
		int fd;

		if (old != NULL) {
			old->keep = true;
			continue;
		}
		if (listener_find(fresh, kind, a) != NULL)
			continue;
		fd = listener_take_adopted(set, a);
		adopted = fd >= 0;
		if (!adopted &&
		    listener_bind(a, kind, config, &fd, &error) < 0) {
			char msg[512];

			snprintf(msg, sizeof(msg), "listen.%s: %s: %s",
				 config_listener_name(kind), a, error);
			*error_r = xstrdup(msg);
			free(copy);
			return -1;
		}
		fresh->items =
			xrealloc(fresh->items,
				 (fresh->count + 1) * sizeof(*fresh->items));
		fresh->items[fresh->count++] =
			(struct listener){kind, xstrdup(a), fd, true, adopted};
	}
	free(copy);
	return 0;
}

int listener_set_update(struct listener_set *set, const struct config *config,
			char **error_r)
{
	struct listener_set *fresh = listener_set_new();
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++)
		set->items[i].keep = false;
	for (int k = 0; k < CONFIG_LISTEN_COUNT; k++) {
		if (update_kind(set, fresh, (enum config_listener)k, config,
				error_r) < 0) {
			listener_set_free(&fresh);
			return -1;
		}
	}
	/* commit: drop what is no longer listed, add what is new */
	for (size_t i = 0; i < set->count; i++) {
		if (set->items[i].keep) {
			set->items[n++] = set->items[i];
		} else {
			close(set->items[i].fd);
			free(set->items[i].addr);
		}
	}
	set->items =
		xrealloc(set->items, (n + fresh->count) * sizeof(*set->items));
	if (fresh->count > 0)
		memcpy(set->items + n, fresh->items,
		       fresh->count * sizeof(*set->items));
	set->count = n + fresh->count;
	fresh->count = 0;
	listener_set_free(&fresh);
	return 0;
}

size_t listener_set_count(const struct listener_set *set)
{
	return set->count;
}

enum config_listener listener_set_kind(const struct listener_set *set, size_t i)
{
	return set->items[i].kind;
}

int listener_set_fd(const struct listener_set *set, size_t i)
{
	return set->items[i].fd;
}

const char *listener_set_addr(const struct listener_set *set, size_t i)
{
	return set->items[i].addr;
}

bool listener_set_is_adopted(const struct listener_set *set, size_t i)
{
	return set->items[i].adopted;
}
