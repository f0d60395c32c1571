/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/sdnotify.h"

#include "lib/str.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* more than anyone would list in a socket unit; bounds the loop over them */
#define SDNOTIFY_LISTEN_FDS_MAX 256

static char sdnotify_error[256];

int sdnotify_send(const char *state, const char **error_r)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len, slen = strlen(state);
	socklen_t salen;
	ssize_t n;
	int fd, err;

	if (name == NULL || *name == '\0')
		return 0;
	len = strlen(name);
	if (name[0] != '/' && name[0] != '@') {
		/* newer managers may also name vsock: addresses (VMs) */
		*error_r = "NOTIFY_SOCKET is neither an absolute path nor "
			   "an abstract name (@name)";
		return -1;
	}
	if (len >= sizeof(sa.sun_path) || (name[0] == '@' && len < 2)) {
		*error_r = "NOTIFY_SOCKET does not fit a socket address";
		return -1;
	}
	if (slen > SDNOTIFY_MAX) {
		*error_r = "notification too long";
		return -1;
	}
	memcpy(sa.sun_path, name, len);
	/* an abstract name's length is exact: no trailing NUL */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(sdnotify_error, sizeof(sdnotify_error),
			 "socket(AF_UNIX, SOCK_DGRAM): %s", strerror(errno));
		*error_r = sdnotify_error;
		return -1;
	}
	n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   salen);
	err = errno;
	close(fd);
	if (n < 0 || (size_t)n != slen) {
		snprintf(sdnotify_error, sizeof(sdnotify_error),
			 "sendto(NOTIFY_SOCKET): %s",
			 n < 0 ? strerror(err) : "short datagram");
		*error_r = sdnotify_error;
		return -1;
	}
	return 1;
}

unsigned sdnotify_listen_fds(void)
{
	const char *pid_s = getenv("LISTEN_PID"), *n_s = getenv("LISTEN_FDS");
	uint64_t pid, n;
	unsigned count = 0;

	if (pid_s != NULL && n_s != NULL &&
	    str_to_u64(pid_s, UINT32_MAX, &pid) == 0 &&
	    pid == (uint64_t)getpid() &&
	    str_to_u64(n_s, SDNOTIFY_LISTEN_FDS_MAX, &n) == 0)
		count = (unsigned)n;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return count;
}
