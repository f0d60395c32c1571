/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3_lock.h"

#include "lib/buf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pop3_lock {
	int fd;
};

int pop3_lock_acquire(const char *root, struct pop3_lock **lock_r,
		      const char **error_r)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
	};
	struct buf path;
	int fd;

	buf_init(&path, BUF_UNLIMITED);
	buf_printf(&path, "%s/%s", root, POP3_LOCK_FILE);
	fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	buf_free(&path);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	/* OFD locks, not POSIX ones: two sessions in one worker process
	   must exclude each other too */
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;

		close(fd);
		if (err == EAGAIN || err == EACCES)
			return 0;
		*error_r = strerror(err);
		return -1;
	}
	*lock_r = xcalloc(1, sizeof(**lock_r));
	(*lock_r)->fd = fd;
	return 1;
}

void pop3_lock_release(struct pop3_lock **lock)
{
	if (*lock == NULL)
		return;
	close((*lock)->fd);
	free(*lock);
	*lock = NULL;
}

time_t pop3_lock_last_login(struct pop3_lock *lock)
{
	char text[32];
	ssize_t n = pread(lock->fd, text, sizeof(text) - 1, 0);
	uint64_t value;
	size_t len = 0;

	if (n <= 0)
		return 0;
	while (len < (size_t)n && text[len] >= '0' && text[len] <= '9')
		len++;
	if (strv_to_u64((struct strv){text, len}, INT32_MAX, &value) < 0)
		return 0;
	return (time_t)value;
}

void pop3_lock_set_login(struct pop3_lock *lock, time_t now)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%lld\n", (long long)now);

	if (ftruncate(lock->fd, 0) == 0)
		(void)!pwrite(lock->fd, text, (size_t)len, 0);
}
