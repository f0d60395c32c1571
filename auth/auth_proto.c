/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_proto.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

int auth_proto_append(struct buf *out, const char *const *fields, size_t n)
{
	size_t total = 0, old = out->len;
	unsigned char hdr[4];

	for (size_t i = 0; i < n; i++)
		total += strlen(fields[i]) + 1;
	if (total > AUTH_PROTO_FRAME_MAX)
		return -1;
	hdr[0] = (unsigned char)(total >> 24);
	hdr[1] = (unsigned char)(total >> 16);
	hdr[2] = (unsigned char)(total >> 8);
	hdr[3] = (unsigned char)total;
	if (buf_append(out, hdr, 4) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (buf_append(out, fields[i], strlen(fields[i]) + 1) < 0) {
			buf_truncate(out, old);
			return -1;
		}
	}
	return 0;
}

int auth_proto_parse(struct buf *in, struct auth_proto_msg *msg_r)
{
	const unsigned char *p = (const unsigned char *)in->data;
	size_t len, pos;

	if (in->len < 4)
		return 0;
	len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	      (size_t)p[3];
	if (len == 0 || len > AUTH_PROTO_FRAME_MAX)
		return -1;
	if (in->len - 4 < len)
		return 0;
	if (p[4 + len - 1] != '\0')
		return -1;
	msg_r->n = 0;
	for (pos = 4; pos < 4 + len;) {
		const char *f = (const char *)p + pos;

		if (msg_r->n == AUTH_PROTO_FIELDS_MAX)
			return -1;
		msg_r->f[msg_r->n++] = f;
		pos += strlen(f) + 1;
	}
	msg_r->frame_len = 4 + len;
	return 1;
}

int auth_proto_read(int fd, struct buf *in, const char **error_r)
{
	for (;;) {
		size_t avail;
		char *dst = buf_reserve(in, 16384, &avail);
		ssize_t n;

		if (dst == NULL) {
			*error_r = "input overflow";
			return -1;
		}
		n = read(fd, dst, avail);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			*error_r = n == 0 ? "peer closed the connection"
					  : strerror(errno);
			return -1;
		}
		buf_commit(in, (size_t)n);
	}
}
